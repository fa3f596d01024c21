"""LogArchive planner: observed bucket/key -> the exact AWS writes, table-driven; every S3 write but
CreateBucket names the log-archive account as ExpectedBucketOwner; the key is created tagged with its
owner, and a key found by its tags without its alias gets the alias (CreateAlias); Object Lock on a
bucket that exists: turned on only with enableOnExistingBucket (else reported), its retention held to
the spec with weakening waiting, and COMPLIANCE only when acknowledged."""

import json

import pytest

from vigil.api.logarchive import LogArchiveSpec, ObjectLock
from vigil.planning.logarchive import (LogArchiveTarget, desired_bucket_settings, desired_key_settings,
                                       object_lock_refusal, plan_bucket, plan_key)
from vigil.planning.ownership import Owner
from vigil.planning.weakening import classify
from vigil.state.logarchive import (BucketEncryption, BucketState, KeyState, LifecycleRule, ObjectLockState,
                                    PublicAccessBlock)

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


# --- Object Lock on a bucket that exists ----------------------------------------------------------

def locked(enabled: bool = True, mode: str | None = "GOVERNANCE", days: int | None = 365) -> BucketState:
    return compliant_bucket().model_copy(update={"object_lock": ObjectLockState(enabled=enabled, mode=mode, days=days)})


def with_lock(**lock) -> LogArchiveSpec:
    return SPEC.model_copy(update={"object_lock": ObjectLock.model_validate({"mode": "GOVERNANCE", "days": 365,
                                                                             **lock})})


def test_a_bucket_found_without_object_lock_is_reported_never_locked_as_a_side_effect():
    unlocked = locked(enabled=False, mode=None, days=None)
    assert plan_bucket(SPEC, TARGET, KEY, unlocked) == []
    refusal = object_lock_refusal(SPEC, unlocked)
    assert refusal and "spec.objectLock.enableOnExistingBucket: true" in refusal and "never off" in refusal
    assert object_lock_refusal(SPEC, locked()) is None
    assert object_lock_refusal(SPEC.model_copy(update={"object_lock": None}), unlocked) is None
    assert object_lock_refusal(SPEC, BucketState(exists=False)) is None, "a bucket Vigil creates is locked at creation"


def test_enable_on_existing_bucket_turns_the_lock_on_after_versioning():
    spec = with_lock(enableOnExistingBucket=True)
    unversioned = locked(enabled=False, mode=None, days=None)
    unversioned = unversioned.model_copy(update={"settings": unversioned.settings.model_copy(
        update={"versioning": "Suspended"})})
    actions = plan_bucket(spec, TARGET, KEY, unversioned)
    assert ops(actions) == ["PutBucketVersioning", "PutObjectLockConfiguration"], "S3 asks for versioning first"
    lock = actions[1]
    assert lock.params["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}}}
    assert lock.params["ExpectedBucketOwner"] == TARGET.account_id
    assert [(c.path, c.before, c.after) for c in lock.changes] == [
        ("object_lock_enabled", False, True), ("object_lock", None, {"mode": "GOVERNANCE", "days": 365})]
    assert not lock.creates and classify(lock) == [], "turning the lock on weakens nothing"
    assert object_lock_refusal(spec, unversioned) is None
    assert plan_bucket(spec, TARGET, KEY, locked()) == [], "once on, nothing more to do"


@pytest.mark.parametrize("case, have, want, weakens", [
    ("longer", ("GOVERNANCE", 30), {"days": 365}, []),
    ("governance to compliance", ("GOVERNANCE", 365),
     {"mode": "COMPLIANCE", "acknowledgeComplianceModeIsPermanent": True}, []),
    ("shorter", ("GOVERNANCE", 365), {"days": 30}, ["spec.objectLock.days=30"]),
    ("compliance relaxed", ("COMPLIANCE", 365), {}, ["spec.objectLock.mode=GOVERNANCE"]),
    ("a lock without a default retention gets one", (None, None), {}, []),
])
def test_the_default_retention_of_a_locked_bucket_follows_the_spec_and_weakening_waits(case, have, want, weakens):
    mode, days = have
    [put] = plan_bucket(with_lock(**want), TARGET, KEY, locked(mode=mode, days=days))
    assert put.operation == "PutObjectLockConfiguration" and not put.creates, case
    assert [w.allowance for w in classify(put)] == weakens, case


def test_a_spec_without_object_lock_never_touches_the_buckets():
    spec = SPEC.model_copy(update={"object_lock": None})
    assert plan_bucket(spec, TARGET, KEY, locked(mode="COMPLIANCE", days=3650)) == []


def test_compliance_mode_is_an_acknowledged_choice():
    base = {"organizationRef": {"name": "acme"}, "bucketName": "acme-log-archive"}
    with pytest.raises(ValueError, match="acknowledgeComplianceModeIsPermanent: true"):
        LogArchiveSpec.model_validate({**base, "objectLock": {"mode": "COMPLIANCE", "days": 365}})
    chosen = LogArchiveSpec.model_validate({**base, "objectLock": {
        "mode": "COMPLIANCE", "days": 365, "acknowledgeComplianceModeIsPermanent": True}})
    assert chosen.object_lock and chosen.object_lock.mode == "COMPLIANCE"
    default = LogArchiveSpec.model_validate({**base, "objectLock": {"days": 365}})
    assert default.object_lock and default.object_lock.mode == "GOVERNANCE", "never COMPLIANCE by default"
    assert not default.object_lock.enable_on_existing_bucket
