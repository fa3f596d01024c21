"""S3 and KMS observations for the LogArchive: the bucket and the key."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..state.documents import canonical
from ..state.logarchive import (LIFECYCLE_RULE_ID, BucketEncryption, BucketSettings, BucketState, KeySettings,
                                KeyState, LifecycleRule, ObjectLockState, PublicAccessBlock)
from ..conditions import CONFLICT
from ..planning.ownership import Holding, Owner, Resource, judge
from .errors import TargetError, error_code, or_default
from .ownership import read_tags
from .session import AwsAccess


def observe_key(access: AwsAccess, account_id: str, region: str, alias: str, owner: Owner | None = None) -> KeyState:
    """The key behind ``alias``; without the alias, the key ``owner`` created (a create whose
    answer was lost, or an operator stopped before the alias: the key is found by its tags, and
    never made twice)."""
    kms = access.client("kms", account_id, region)
    meta = or_default(lambda: kms.describe_key(KeyId=alias)["KeyMetadata"], None, "NotFoundException")
    if meta is None and owner is not None:
        meta = _owned_key(kms, owner)
        if meta is not None:
            return _key_state(kms, meta, aliased=False)
    if meta is None:
        return KeyState(exists=False)
    return _key_state(kms, meta, aliased=True)


def _owned_key(kms: Any, owner: Owner) -> dict[str, Any] | None:
    """The enabled (or pending) key of this account tagged as ``owner``'s, oldest first."""
    found = []
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            tags = {t["TagKey"]: t["TagValue"] for t in or_default(
                lambda: kms.list_resource_tags(KeyId=key["KeyId"])["Tags"], [], "AccessDeniedException")}
            # The old tag (namespace/name) names no kind: a LogArchive's key is never taken for a
            # SessionLogging's of the same name.
            if judge(tags, owner).holding is Holding.MINE:
                meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
                if meta.get("KeyState") not in ("PendingDeletion", "PendingReplicaDeletion"):
                    found.append(meta)
    return min(found, key=lambda m: m.get("CreationDate") or 0) if found else None


def _key_state(kms: Any, meta: dict[str, Any], aliased: bool) -> KeyState:
    key_id = meta["KeyId"]
    policy = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    rotation = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    return KeyState(exists=True, arn=meta["Arn"], key_id=key_id, enabled=meta.get("Enabled", True), aliased=aliased,
                    settings=KeySettings(policy=canonical(policy), rotation_enabled=rotation))


def describe_key_arn(access: AwsAccess, account_id: str, region: str, key: str) -> str | None:
    kms = access.client("kms", account_id, region)
    meta = or_default(lambda: kms.describe_key(KeyId=key)["KeyMetadata"], None, "NotFoundException")
    return meta["Arn"] if meta else None


def bucket_not_owned(bucket: str, account_id: str) -> TargetError:
    """A bucket of the archive's name that is not the log-archive account's (bucket sniping, or a
    name taken elsewhere): never written to, never trusted as the archive."""
    return TargetError(CONFLICT, f"bucket {bucket} is not owned by the log-archive account {account_id} (S3 "
                                   f"refused ExpectedBucketOwner={account_id}); Vigil writes nothing to it and "
                                   f"points no delivery at it", recoverable=False)


def verify_bucket_owner(access: AwsAccess, account_id: str, region: str, bucket: str) -> bool:
    """True when ``bucket`` exists and belongs to ``account_id``; False when there is no such
    bucket; raises ``bucket_not_owned`` when a bucket of that name belongs to someone else."""
    return _head_bucket(access.client("s3", account_id, region), bucket, account_id) is not None


def _head_bucket(s3: Any, bucket: str, account_id: str) -> dict[str, Any] | None:
    """HeadBucket as the owner: its answer (the bucket's region among it), None without the bucket."""
    try:
        return s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account_id)
    except ClientError as exc:
        if error_code(exc) in ("NoSuchBucket", "404", "NotFound"):
            return None
        if error_code(exc) in ("AccessDenied", "403", "Forbidden"):
            raise bucket_not_owned(bucket, account_id) from exc
        raise


def observe_bucket(access: AwsAccess, account_id: str, region: str, bucket: str,
                   object_lock: bool = False) -> BucketState:
    """Every call names the account that must own the bucket (ExpectedBucketOwner). ``object_lock``:
    read the bucket's Object Lock too (one more call, made while the spec sets objectLock)."""
    s3 = access.client("s3", account_id, region)
    owner = {"Bucket": bucket, "ExpectedBucketOwner": account_id}
    head = _head_bucket(s3, bucket, account_id)
    if head is None:
        return BucketState(exists=False)
    lifecycle, others = _lifecycle(s3, owner)
    return BucketState(
        exists=True, account_id=account_id, region=head.get("BucketRegion") or region,
        settings=BucketSettings(
            encryption=_encryption(s3, owner),
            versioning=s3.get_bucket_versioning(**owner).get("Status"),
            public_access_block=_public_access_block(s3, owner),
            policy=canonical(or_default(lambda: s3.get_bucket_policy(**owner)["Policy"], None,
                                        "NoSuchBucketPolicy")),
            lifecycle=lifecycle,
        ),
        other_lifecycle_rules=others,
        object_lock=_object_lock(s3, owner) if object_lock else None,
    )


def bucket_tags(access: AwsAccess, account_id: str, region: str, bucket: str) -> dict[str, str] | None:
    return read_tags(access, Resource("s3-bucket", account_id, region, bucket, bucket))


def _encryption(s3: Any, owner: dict[str, str]) -> BucketEncryption:
    rules = or_default(lambda: s3.get_bucket_encryption(**owner)["ServerSideEncryptionConfiguration"]["Rules"],
                       [], "ServerSideEncryptionConfigurationNotFoundError")
    rule = rules[0] if rules else {}
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    return BucketEncryption(sse_algorithm=default.get("SSEAlgorithm"), kms_key_id=default.get("KMSMasterKeyID"),
                            bucket_key_enabled=bool(rule.get("BucketKeyEnabled", False)))


def _public_access_block(s3: Any, owner: dict[str, str]) -> PublicAccessBlock:
    c = or_default(lambda: s3.get_public_access_block(**owner)["PublicAccessBlockConfiguration"], {},
                   "NoSuchPublicAccessBlockConfiguration")
    return PublicAccessBlock(block_public_acls=c.get("BlockPublicAcls", False),
                             ignore_public_acls=c.get("IgnorePublicAcls", False),
                             block_public_policy=c.get("BlockPublicPolicy", False),
                             restrict_public_buckets=c.get("RestrictPublicBuckets", False))


def _object_lock(s3: Any, owner: dict[str, str]) -> ObjectLockState:
    found = or_default(lambda: s3.get_object_lock_configuration(**owner)["ObjectLockConfiguration"], None,
                       "ObjectLockConfigurationNotFoundError")
    if not found or found.get("ObjectLockEnabled") != "Enabled":
        return ObjectLockState(enabled=False)
    retention = (found.get("Rule") or {}).get("DefaultRetention") or {}
    days = retention.get("Days") or (retention["Years"] * 365 if retention.get("Years") else None)
    return ObjectLockState(enabled=True, mode=retention.get("Mode"), days=days)


def _lifecycle(s3: Any, owner: dict[str, str]) -> tuple[LifecycleRule | None, tuple[dict[str, Any], ...]]:
    rules = or_default(lambda: s3.get_bucket_lifecycle_configuration(**owner)["Rules"], [],
                       "NoSuchLifecycleConfiguration")
    ours = next((r for r in rules if r.get("ID") == LIFECYCLE_RULE_ID), None)
    others = tuple(r for r in rules if r.get("ID") != LIFECYCLE_RULE_ID)
    if ours is None or ours.get("Status") != "Enabled":
        return None, others
    glacier = next((t.get("Days") for t in ours.get("Transitions", []) if t.get("StorageClass") == "GLACIER"), None)
    return LifecycleRule(expire_after_days=ours.get("Expiration", {}).get("Days"),
                         transition_to_glacier_after_days=glacier), others


def delete_empty_bucket(access: AwsAccess, account_id: str, region: str, bucket: str) -> str:
    """DeleteBucket, which S3 refuses while any object version remains: log data is never lost."""
    s3 = access.client("s3", account_id, region)
    try:
        s3.delete_bucket(Bucket=bucket, ExpectedBucketOwner=account_id)
    except ClientError as exc:
        if error_code(exc) in ("BucketNotEmpty", "NoSuchBucket"):
            return f"bucket {bucket} kept: {error_code(exc)}"
        raise
    return f"bucket {bucket} deleted (it was empty)"
