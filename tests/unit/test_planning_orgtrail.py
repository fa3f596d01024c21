"""OrgTrail planner: the trail, its event selectors and CloudWatch delivery, table-driven."""

import pytest

from vigil.api.orgtrail import OrgTrailSpec
from vigil.planning.orgtrail import (TrailTarget, canonical_event_selectors, desired_event_selectors,
                                     desired_trail_settings, plan_log_group, plan_trail)
from vigil.planning.ownership import Owner
from vigil.state.cloudtrail import LogGroupState, TrailState

TARGET = TrailTarget("123456789012", "ca-central-1", "acme-log-archive",
                     "arn:aws:kms:ca-central-1:222222222222:key/k1", Owner("baseline", "OrgTrail", "org-trail"))
SPEC = OrgTrailSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"}})


def healthy(spec=SPEC):
    return TrailState(exists=True, arn="arn:aws:cloudtrail:ca-central-1:123456789012:trail/vigil-org-trail",
                      settings=desired_trail_settings(spec, TARGET), is_logging=True,
                      event_selectors=desired_event_selectors(spec))


def test_missing_trail_is_created_as_an_organization_trail_and_started():
    actions = plan_trail(SPEC, TARGET, TrailState(exists=False))
    assert [a.operation for a in actions] == ["CreateTrail", "PutEventSelectors", "StartLogging"]
    create = actions[0].params
    assert create["IsOrganizationTrail"] and create["IsMultiRegionTrail"] and create["EnableLogFileValidation"]
    assert create["KmsKeyId"] == TARGET.kms_key_arn and create["S3BucketName"] == "acme-log-archive"
    assert "CloudWatchLogsLogGroupArn" not in create


def test_healthy_trail_needs_nothing():
    assert plan_trail(SPEC, TARGET, healthy()) == []


@pytest.mark.parametrize("update, param", [
    ({"enable_log_file_validation": False}, "EnableLogFileValidation"),
    ({"is_multi_region_trail": False}, "IsMultiRegionTrail"),
    ({"s3_bucket_name": "elsewhere"}, "S3BucketName"),
    ({"kms_key_id": None}, "KmsKeyId"),
])
def test_drifted_setting_is_one_update(update, param):
    trail = healthy()
    trail = trail.model_copy(update={"settings": trail.settings.model_copy(update=update)})
    actions = plan_trail(SPEC, TARGET, trail)
    assert [a.operation for a in actions] == ["UpdateTrail"]
    assert set(actions[0].params) == {"Name", param} and not actions[0].creates


def test_stopped_logging_is_restarted():
    actions = plan_trail(SPEC, TARGET, healthy().model_copy(update={"is_logging": False}))
    assert [a.operation for a in actions] == ["StartLogging"]


def test_event_selectors_follow_the_spec():
    spec = OrgTrailSpec.model_validate({**SPEC.model_dump(by_alias=True), "managementEvents": {
        "readWriteType": "WriteOnly", "excludeKmsEvents": True},
        "dataEvents": {"s3": {"enabled": True, "bucketArns": ["arn:aws:s3:::b01"]}}})
    actions = plan_trail(spec, TARGET, healthy())
    assert [a.operation for a in actions] == ["PutEventSelectors"]
    mgmt, data = actions[0].params["EventSelectors"]
    assert mgmt["ReadWriteType"] == "WriteOnly" and mgmt["ExcludeManagementEventSources"] == ["kms.amazonaws.com"]
    assert data["DataResources"] == [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::b01/"]}]


def test_selectors_compare_with_aws_defaults_filled_in():
    aws_answer = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    assert canonical_event_selectors(aws_answer) == canonical_event_selectors(desired_event_selectors(SPEC))


def test_cloudwatch_delivery_attaches_and_detaches():
    spec = OrgTrailSpec.model_validate({**SPEC.model_dump(by_alias=True), "cloudWatchLogs": {"enabled": True}})
    group, role = "arn:aws:logs:ca-central-1:123456789012:log-group:/vigil/cloudtrail:*", "arn:aws:iam::1:role/r"
    attach = plan_trail(spec, TARGET, healthy(), group, role)
    assert attach[0].params["CloudWatchLogsLogGroupArn"] == group and attach[0].params["CloudWatchLogsRoleArn"] == role
    attached = healthy(spec).model_copy(update={"settings": desired_trail_settings(spec, TARGET, group, role)})
    detach = plan_trail(SPEC, TARGET, attached)
    assert detach[0].params["CloudWatchLogsLogGroupArn"] == "" and detach[0].params["CloudWatchLogsRoleArn"] == ""


def test_log_group_created_with_retention_and_retention_drift_corrected():
    spec = OrgTrailSpec.model_validate({**SPEC.model_dump(by_alias=True), "cloudWatchLogs": {"enabled": True}})
    assert [a.operation for a in plan_log_group(spec, TARGET, LogGroupState(exists=False))] == [
        "CreateLogGroup", "PutRetentionPolicy"]
    drift = plan_log_group(spec, TARGET, LogGroupState(exists=True, arn="a", retention_days=7))
    assert [(a.operation, a.params["retentionInDays"], a.creates) for a in drift] == [("PutRetentionPolicy", 365, False)]
    assert plan_log_group(SPEC, TARGET, LogGroupState(exists=False)) == [], "disabled: nothing to manage"


def test_cloudtrail_trusted_access_is_enabled_once():
    from vigil.planning.organization import plan_trusted_access
    from vigil.planning.orgtrail import CLOUDTRAIL_PRINCIPAL

    def plan(trusted):
        return plan_trusted_access(CLOUDTRAIL_PRINCIPAL, trusted, TARGET.label("organizations"), TARGET.account_id,
                                   TARGET.region)
    assert [a.params for a in plan({"config.amazonaws.com"})] == [{"ServicePrincipal": "cloudtrail.amazonaws.com"}]
    assert plan({"cloudtrail.amazonaws.com"}) == []
