"""LogArchive planner: observed bucket/key -> the exact AWS writes, table-driven; every S3 write but
CreateBucket names the log-archive account as ExpectedBucketOwner; the key is created tagged with its
owner, and a key found by its tags without its alias gets the alias (CreateAlias)."""

import json

import pytest

from vigil.api.logarchive import LogArchiveSpec
from vigil.planning.logarchive import LogArchiveTarget, desired_bucket_settings, desired_key_settings, plan_bucket, plan_key
from vigil.planning.ownership import Owner
from vigil.state.logarchive import BucketEncryption, BucketState, KeyState, LifecycleRule, PublicAccessBlock

OWNER = Owner("baseline", "LogArchive", "central", "default", "uid-3")
TARGET = LogArchiveTarget("222222222222", "ca-central-1", "o-abc123", OWNER)
KEY = "arn:aws:kms:ca-central-1:222222222222:key/k1"
SPEC = LogArchiveSpec.model_validate({
    "organizationRef": {"name": "acme"}, "bucketName": "acme-log-archive",
    "retention": {"expireAfterDays": 2555, "transitionToGlacierAfterDays": 90},
    "objectLock": {"mode": "GOVERNANCE", "days": 365}})


def compliant_bucket(spec=SPEC):
    return BucketState(exists=True, account_id=TARGET.account_id, region=TARGET.region,
                       settings=desired_bucket_settings(spec, TARGET, KEY))


def ops(actions):
    return [a.operation for a in actions]


def test_new_bucket_is_created_locked_down_in_a_safe_order():
    actions = plan_bucket(SPEC, TARGET, KEY, BucketState(exists=False))
    assert ops(actions) == ["CreateBucket", "PutPublicAccessBlock", "PutBucketVersioning",
                            "PutBucketEncryption", "PutBucketPolicy", "PutObjectLockConfiguration",
                            "PutBucketLifecycleConfiguration"]
    create = actions[0].params
    assert create["ObjectLockEnabledForBucket"] is True
    # Tagged by the create itself: never a moment when the bucket exists without its owner.
    assert create["CreateBucketConfiguration"] == {"LocationConstraint": "ca-central-1", "Tags": [
        {"Key": "vigil.dev/owner", "Value": "baseline/LogArchive/central"},
        {"Key": "vigil.dev/installation", "Value": "default"}, {"Key": "vigil.dev/uid", "Value": "uid-3"}]}
    assert all(a.creates for a in actions), "building a new bucket is not drift"


def test_every_s3_write_but_create_names_the_expected_bucket_owner():
    """A bucket of the same name in another account refuses the write instead of taking the settings."""
    spec = SPEC.model_copy(update={"retention": None})
    for actions in (plan_bucket(SPEC, TARGET, KEY, BucketState(exists=False)),
                    plan_bucket(spec, TARGET, KEY, compliant_bucket())):  # the latter: DeleteBucketLifecycle
        create = [a for a in actions if a.operation == "CreateBucket"]
        assert all("ExpectedBucketOwner" not in a.params for a in create)
        rest = [a for a in actions if a.operation != "CreateBucket"]
        assert rest and all(a.params["ExpectedBucketOwner"] == "222222222222" and
                            a.params["Bucket"] == "acme-log-archive" for a in rest), ops(rest)


def test_us_east_1_gets_no_location_constraint():
    target = LogArchiveTarget("222222222222", "us-east-1", "o-abc123", Owner("ns", "LogArchive", "n"))
    configuration = plan_bucket(SPEC, target, KEY, BucketState(exists=False))[0].params["CreateBucketConfiguration"]
    assert "LocationConstraint" not in configuration and configuration["Tags"]


def test_compliant_bucket_needs_nothing():
    assert plan_bucket(SPEC, TARGET, KEY, compliant_bucket()) == []


@pytest.mark.parametrize("change, operation, path", [
    ({"versioning": "Suspended"}, "PutBucketVersioning", "versioning"),
    ({"public_access_block": PublicAccessBlock(block_public_acls=True)}, "PutPublicAccessBlock",
     "public_access_block.ignore_public_acls"),
    ({"encryption": BucketEncryption(sse_algorithm="AES256")}, "PutBucketEncryption", "encryption.sse_algorithm"),
    ({"policy": None}, "PutBucketPolicy", "policy"),
    ({"lifecycle": LifecycleRule(expire_after_days=30)}, "PutBucketLifecycleConfiguration", "lifecycle"),
])
def test_each_drift_is_one_targeted_correction(change, operation, path):
    observed = compliant_bucket()
    observed = observed.model_copy(update={"settings": observed.settings.model_copy(update=change)})
    actions = plan_bucket(SPEC, TARGET, KEY, observed)
    assert ops(actions) == [operation]
    assert not actions[0].creates
    assert actions[0].params["ExpectedBucketOwner"] == TARGET.account_id
    assert path in [c.path for c in actions[0].changes]


def test_bucket_policy_denies_plain_http_and_scopes_delivery_to_the_organization():
    action = plan_bucket(SPEC, TARGET, KEY, compliant_bucket().model_copy(
        update={"settings": compliant_bucket().settings.model_copy(update={"policy": None})}))[0]
    statements = {s["Sid"]: s for s in json.loads(action.params["Policy"])["Statement"]}
    assert statements["VigilDenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statements["VigilDeliveryWrite"]["Condition"]["StringEquals"]["aws:SourceOrgID"] == "o-abc123"


def test_users_lifecycle_rules_are_carried_over():
    observed = compliant_bucket()
    observed = observed.model_copy(update={
        "settings": observed.settings.model_copy(update={"lifecycle": None}),
        "other_lifecycle_rules": ({"ID": "theirs", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}},)})
    rules = plan_bucket(SPEC, TARGET, KEY, observed)[0].params["LifecycleConfiguration"]["Rules"]
    assert [r["ID"] for r in rules] == ["theirs", "vigil-retention"]
    assert rules[1]["Expiration"] == {"Days": 2555}


def test_dropping_retention_removes_only_vigils_rule():
    spec = SPEC.model_copy(update={"retention": None})
    observed = compliant_bucket()  # still has Vigil's rule from before
    actions = plan_bucket(spec, TARGET, KEY, observed)
    assert ops(actions) == ["DeleteBucketLifecycle"]


def test_existing_bucket_is_adopted_never_recreated_and_object_lock_left_alone():
    observed = BucketState(exists=True, settings=compliant_bucket().settings.model_copy(update={"versioning": None}))
    assert ops(plan_bucket(SPEC, TARGET, KEY, observed)) == ["PutBucketVersioning"]


def test_key_created_with_alias_then_only_drift_is_corrected():
    created = plan_key(SPEC, TARGET, KeyState(exists=False))
    assert ops(created) == ["CreateKeyWithAlias"] and created[0].params["AliasName"] == "alias/vigil-log-archive"
    good = KeyState(exists=True, arn=KEY, key_id="k1", settings=desired_key_settings(TARGET))
    assert plan_key(SPEC, TARGET, good) == []
    rotated_off = good.model_copy(update={"settings": good.settings.model_copy(update={"rotation_enabled": False})})
    assert ops(plan_key(SPEC, TARGET, rotated_off)) == ["EnableKeyRotation"]
    assert created[0].params["Tags"] == [
        {"TagKey": "vigil.dev/owner", "TagValue": "baseline/LogArchive/central"},
        {"TagKey": "vigil.dev/installation", "TagValue": "default"}, {"TagKey": "vigil.dev/uid", "TagValue": "uid-3"}]


def test_a_key_found_by_its_tags_without_its_alias_gets_the_alias_not_a_second_key():
    unaliased = KeyState(exists=True, arn=KEY, key_id="k1", aliased=False, settings=desired_key_settings(TARGET))
    [alias] = plan_key(SPEC, TARGET, unaliased)
    assert alias.operation == "CreateAlias" and alias.creates, "finishing Vigil's own creation is not drift"
    assert alias.params == {"AliasName": "alias/vigil-log-archive", "TargetKeyId": "k1"}
    drifted = unaliased.model_copy(update={"settings": unaliased.settings.model_copy(update={"rotation_enabled": False})})
    assert ops(plan_key(SPEC, TARGET, drifted)) == ["CreateAlias", "EnableKeyRotation"]


def test_a_key_the_user_brings_is_never_touched():
    spec = SPEC.model_copy(update={"kms": SPEC.kms.model_copy(update={"create": False, "key_arn": KEY})})
    assert plan_key(spec, TARGET, KeyState(exists=False)) == []
