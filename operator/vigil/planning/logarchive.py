"""LogArchive: the bucket and its key, desired vs observed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..api.logarchive import LogArchiveSpec
from ..state.logarchive import (LIFECYCLE_RULE_ID, BucketEncryption, BucketSettings, BucketState, KeySettings,
                                KeyState, LifecycleRule, ObjectLockState, PublicAccessBlock)
from . import policies
from .ownership import Owner
from ..conditions import OBJECT_LOCK_NOT_ENABLED as OBJECT_LOCK_NOT_ENABLED  # why a bucket goes without its lock
from .actions import Action, Change, diff


@dataclass(frozen=True)
class LogArchiveTarget:
    account_id: str
    region: str
    organization_id: str
    owner: Owner  # who signs what Vigil creates (planning.ownership)

    def label(self, what: str) -> str:
        return f"{self.account_id}/{self.region}/{what}"


def desired_key_settings(target: LogArchiveTarget) -> KeySettings:
    policy = policies.log_archive_key_policy(target.account_id, target.organization_id)
    return KeySettings(policy=policies.canonical(policy), rotation_enabled=True)


def plan_key(spec: LogArchiveSpec, target: LogArchiveTarget, observed: KeyState) -> list[Action]:
    """The Vigil-managed key. A key the user brings (kms.keyArn) is theirs: used, never changed."""
    if not spec.kms.create:
        return []
    label = target.label(spec.kms.alias)
    desired = desired_key_settings(target)
    if not observed.exists:
        return [Action(label, target.account_id, target.region, "kms", "CreateKeyWithAlias", creates=True, params={
            "AliasName": spec.kms.alias,
            "Description": f"Vigil log archive key ({target.owner})",
            "Policy": policies.to_json(policies.log_archive_key_policy(target.account_id, target.organization_id)),
            "Tags": target.owner.tag_list("TagKey", "TagValue"),
        }, changes=(Change("key", None, spec.kms.alias),))]
    actions = missing_alias(label, target.account_id, target.region, spec.kms.alias, observed)
    for change in diff(desired, observed.settings):
        if change.path == "policy":
            actions.append(Action(label, target.account_id, target.region, "kms", "PutKeyPolicy", changes=(change,),
                                  params={"KeyId": observed.key_id, "PolicyName": "default", "Policy": policies.to_json(
                                      policies.log_archive_key_policy(target.account_id, target.organization_id))}))
        elif change.path == "rotation_enabled":
            actions.append(Action(label, target.account_id, target.region, "kms", "EnableKeyRotation",
                                  changes=(change,), params={"KeyId": observed.key_id}))
    return actions


def missing_alias(label: str, account_id: str, region: str, alias: str, observed: KeyState) -> list[Action]:
    """The alias of a key found by its owner tags: made, but its alias not (a lost answer, an
    operator stopped between the two calls). Naming it is all that is left to do."""
    if observed.aliased:
        return []
    return [Action(label, account_id, region, "kms", "CreateAlias", {"AliasName": alias, "TargetKeyId": observed.key_id},
                   (Change("alias", None, alias),), creates=True)]


def desired_lifecycle(spec: LogArchiveSpec) -> LifecycleRule | None:
    r = spec.retention
    if r is None or (r.expire_after_days is None and r.transition_to_glacier_after_days is None):
        return None
    return LifecycleRule(expire_after_days=r.expire_after_days,
                         transition_to_glacier_after_days=r.transition_to_glacier_after_days)


def desired_bucket_settings(spec: LogArchiveSpec, target: LogArchiveTarget, key_arn: str) -> BucketSettings:
    return BucketSettings(
        encryption=BucketEncryption(sse_algorithm="aws:kms", kms_key_id=key_arn, bucket_key_enabled=True),
        versioning="Enabled",
        public_access_block=PublicAccessBlock(block_public_acls=True, ignore_public_acls=True,
                                              block_public_policy=True, restrict_public_buckets=True),
        policy=policies.canonical(policies.log_archive_bucket_policy(spec.bucket_name, target.organization_id)),
        lifecycle=desired_lifecycle(spec),
    )


def plan_bucket(spec: LogArchiveSpec, target: LogArchiveTarget, key_arn: str, observed: BucketState) -> list[Action]:
    bucket = spec.bucket_name
    desired = desired_bucket_settings(spec, target, key_arn)
    actions: list[Action] = []
    creating = not observed.exists
    if creating:
        # The owner tags go with the create itself: a bucket never exists untagged, so an operator
        # killed right after creating it finds its own bucket, not one it would have to adopt.
        configuration: dict[str, Any] = {"Tags": target.owner.tag_list()}
        if target.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            configuration["LocationConstraint"] = target.region
        create: dict[str, Any] = {"Bucket": bucket, "CreateBucketConfiguration": configuration}
        if spec.object_lock is not None:  # Object Lock is chosen at creation, for good
            create["ObjectLockEnabledForBucket"] = True
        actions.append(Action(target.label(bucket), target.account_id, target.region, "s3", "CreateBucket", create,
                              creates=True, changes=(Change("bucket", None, bucket),)))
    current = BucketSettings() if creating else observed.settings
    changes = diff(desired.model_copy(update={"lifecycle": None}), current)
    by_root: dict[str, list[Change]] = {}
    for change in changes:
        by_root.setdefault(change.path.split(".", 1)[0], []).append(change)
    # Order matters on a new bucket: block public access before a policy naming "*" principals.
    for root, operation, params in [
        ("public_access_block", "PutPublicAccessBlock", {"PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}}),
        ("versioning", "PutBucketVersioning", {"VersioningConfiguration": {"Status": "Enabled"}}),
        ("encryption", "PutBucketEncryption", {"ServerSideEncryptionConfiguration": {"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
            "BucketKeyEnabled": True}]}}),
        ("policy", "PutBucketPolicy", {"Policy": policies.to_json(
            policies.log_archive_bucket_policy(bucket, target.organization_id))}),
    ]:
        if root in by_root:
            actions.append(_action(target, bucket, operation, creating, tuple(by_root[root]), params))
    actions.extend(_plan_object_lock(spec, target, bucket, observed.object_lock, creating))
    actions.extend(_plan_lifecycle(target, bucket, desired.lifecycle, current.lifecycle,
                                   observed.other_lifecycle_rules, creating))
    return actions


def _object_lock_configuration(spec: LogArchiveSpec) -> dict[str, Any]:
    lock = spec.object_lock
    assert lock is not None
    return {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": lock.mode, "Days": lock.days}}}


def _plan_object_lock(spec: LogArchiveSpec, target: LogArchiveTarget, bucket: str, have: ObjectLockState | None,
                      creating: bool) -> list[Action]:
    """The bucket's default retention, and Object Lock itself on a bucket that exists without it,
    which S3 allows on a versioned bucket (versioning is put first) and never undoes: only when the
    spec says so (enableOnExistingBucket), never as a side effect of another setting."""
    lock = spec.object_lock
    if lock is None or (have is None and not creating):
        return []  # no lock asked for (the bucket's is left as it is), or not read
    want = {"mode": lock.mode, "days": lock.days}
    params = {"ObjectLockConfiguration": _object_lock_configuration(spec)}
    if creating:  # Object Lock was chosen by CreateBucket; the default retention follows
        return [_action(target, bucket, "PutObjectLockConfiguration", True, (Change("object_lock", None, want),),
                        params)]
    assert have is not None
    if not have.enabled:
        if not lock.enable_on_existing_bucket:
            return []  # reported by object_lock_refusal: the spec must ask for it
        return [_action(target, bucket, "PutObjectLockConfiguration", False, (
            Change("object_lock_enabled", False, True), Change("object_lock", None, want)), params)]
    now = {"mode": have.mode, "days": have.days} if have.mode else None
    if now == want:
        return []
    return [_action(target, bucket, "PutObjectLockConfiguration", False, (Change("object_lock", now, want),), params)]


def object_lock_refusal(spec: LogArchiveSpec, observed: BucketState) -> str | None:
    """Why the spec's Object Lock is not on the bucket and will not be, when that is so: a bucket
    found without Object Lock, which only enableOnExistingBucket turns on (it cannot be undone)."""
    lock, have = spec.object_lock, observed.object_lock
    if lock is None or not observed.exists or have is None or have.enabled or lock.enable_on_existing_bucket:
        return None
    return (f"bucket {spec.bucket_name} exists without S3 Object Lock; S3 can turn it on for an existing "
            f"versioned bucket, but never off again: set spec.objectLock.enableOnExistingBucket: true to have "
            f"Vigil turn it on with {lock.mode} retention of {lock.days} days")


def _plan_lifecycle(target: LogArchiveTarget, bucket: str, want: LifecycleRule | None,
                    have: LifecycleRule | None, others: tuple[dict[str, Any], ...], creating: bool) -> list[Action]:
    """Vigil owns one lifecycle rule, by id; the bucket's other rules are carried over untouched."""
    if want == have:
        return []
    change = (Change("lifecycle", have.model_dump() if have else None, want.model_dump() if want else None),)
    rules = list(others)
    if want is not None:
        rule: dict[str, Any] = {"ID": LIFECYCLE_RULE_ID, "Status": "Enabled", "Filter": {"Prefix": ""}}
        if want.transition_to_glacier_after_days is not None:
            rule["Transitions"] = [{"Days": want.transition_to_glacier_after_days, "StorageClass": "GLACIER"}]
        if want.expire_after_days is not None:
            rule["Expiration"] = {"Days": want.expire_after_days}
        rules.append(rule)
    if not rules:
        return [_action(target, bucket, "DeleteBucketLifecycle", creating, change, {})]
    return [_action(target, bucket, "PutBucketLifecycleConfiguration", creating, change,
                    {"LifecycleConfiguration": {"Rules": rules}})]


def _action(target: LogArchiveTarget, bucket: str, operation: str, creating: bool, changes: tuple[Change, ...],
            params: dict[str, Any]) -> Action:
    """An S3 write to the bucket, naming the account that must own it: a bucket of the same name
    elsewhere (sniped, or taken first) refuses the call instead of taking the archive's settings."""
    return Action(target.label(bucket), target.account_id, target.region, "s3", operation,
                  {"Bucket": bucket, "ExpectedBucketOwner": target.account_id, **params}, changes, creates=creating)
