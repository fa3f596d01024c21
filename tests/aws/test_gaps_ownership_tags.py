"""The tags Vigil records its ownership in, where moto keeps none: GuardDuty's TagResource on a
detector (GetDetector shows them, as AWS's does) and Security Hub's TagResource and
ListTagsForResource on a hub. Each refuses another account's resource, and plain moto has none
of them (so the tests of ownership would prove nothing without these gaps)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from vigil_sandbox.gaps import without_gaps

REGION = "ap-southeast-2"  # a region no other test touches: the detector and hub are this file's
OWNER = {"vigil.dev/owner": "team-a/GuardDutyOrg/guardduty", "vigil.dev/installation": "default"}


def test_a_guardduty_detector_carries_the_tags_tagresource_gives(aws, organization):
    guardduty = aws.client("guardduty", organization.security, REGION)
    detector = guardduty.create_detector(Enable=True)["DetectorId"]
    arn = f"arn:aws:guardduty:{REGION}:{organization.security}:detector/{detector}"
    guardduty.tag_resource(ResourceArn=arn, Tags=OWNER)
    assert guardduty.get_detector(DetectorId=detector)["Tags"] == OWNER
    others = arn.replace(organization.security, organization.log_archive)
    with pytest.raises(ClientError, match="BadRequestException"):
        guardduty.tag_resource(ResourceArn=others, Tags=OWNER)
    with without_gaps(), pytest.raises(ClientError):
        guardduty.tag_resource(ResourceArn=arn, Tags=OWNER)


def test_a_security_hub_hub_carries_its_tags(aws, organization):
    hub = aws.client("securityhub", organization.security, REGION)
    hub.enable_security_hub(EnableDefaultStandards=False, Tags={"team": "security"})
    arn = f"arn:aws:securityhub:{REGION}:{organization.security}:hub/default"
    assert hub.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "security"}
    hub.tag_resource(ResourceArn=arn, Tags=OWNER)
    assert hub.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "security", **OWNER}
    others = arn.replace(organization.security, organization.log_archive)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        hub.list_tags_for_resource(ResourceArn=others)
    with without_gaps(), pytest.raises(ClientError):
        hub.list_tags_for_resource(ResourceArn=arn)
