"""The API models: defaults a security team expects, and specs refused with a message naming the field."""

import pytest
from pydantic import ValidationError

from vigil.api.common import parse_duration
from vigil.api.logarchive import LogArchiveSpec
from vigil.api.organization import OrganizationSpec
from vigil.api.orgtrail import OrgTrailSpec
from vigil.controls.reconciler import validation_message

ORG = {"accounts": {"logArchive": "222222222222", "security": "333333333333"},
       "regions": {"home": "ca-central-1", "governed": ["ca-central-1"]}}


def test_defaults_follow_the_secure_baseline():
    trail = OrgTrailSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "c"}})
    assert trail.management_policy == "Enforce" and trail.deletion_policy == "Retain"
    assert trail.management_events.read_write_type == "All" and trail.integrity.verify is True
    org = OrganizationSpec.model_validate(ORG)
    assert org.access.role_name == "OrganizationAccountAccessRole" and org.workloads.all is True


@pytest.mark.parametrize("spec, field", [
    ({**ORG, "accounts": {"logArchive": "2222", "security": "333333333333"}}, "spec.accounts.logArchive"),
    ({**ORG, "regions": {"home": "eu-west-1", "governed": ["ca-central-1"]}}, "spec.regions"),
    ({**ORG, "workloads": {"all": True, "accountIds": ["555555555555"]}}, "spec.workloads"),
    ({**ORG, "access": {"sessionDurationSeconds": 60}}, "spec.access.sessionDurationSeconds"),
    ({**ORG, "acounts": {}}, "spec.acounts"),
])
def test_invalid_organization_names_the_field(spec, field):
    with pytest.raises(ValidationError) as caught:
        OrganizationSpec.model_validate(spec)
    assert field in validation_message(caught.value)


@pytest.mark.parametrize("kms, message", [
    ({"create": True, "keyArn": "arn:aws:kms:ca-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
     "set create: false"),
    ({"create": False}, "give keyArn"),
])
def test_kms_is_created_or_brought_not_both(kms, message):
    with pytest.raises(ValidationError, match=message):
        LogArchiveSpec.model_validate({"organizationRef": {"name": "a"}, "bucketName": "logs-bucket", "kms": kms})


def test_durations_parse_like_go():
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("90s").total_seconds() == 90
    with pytest.raises(ValueError):
        parse_duration("5 minutes")
    with pytest.raises(ValidationError):
        OrgTrailSpec.model_validate({"organizationRef": {"name": "a"}, "logArchiveRef": {"name": "c"},
                                     "resyncInterval": "0s"})


def test_every_kind_but_organization_has_a_control():
    from vigil.api import KINDS
    from vigil.controls.reconciler import CONTROLS

    assert set(CONTROLS) == set(KINDS) - {"Organization"}
