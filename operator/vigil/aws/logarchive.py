"""S3 and KMS observations for the LogArchive: the bucket and the key."""

from __future__ import annotations

from typing import Any

from ..state.documents import canonical
from ..state.logarchive import (LIFECYCLE_RULE_ID, BucketEncryption, BucketSettings, BucketState, KeySettings,
                                KeyState, LifecycleRule, PublicAccessBlock)
from botocore.exceptions import ClientError

from .errors import error_code, or_default
from .session import AwsAccess


def observe_key(access: AwsAccess, account_id: str, region: str, alias: str) -> KeyState:
    kms = access.client("kms", account_id, region)
    meta = or_default(lambda: kms.describe_key(KeyId=alias)["KeyMetadata"], None, "NotFoundException")
    if meta is None:
        return KeyState(exists=False)
    key_id = meta["KeyId"]
    policy = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    rotation = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    return KeyState(exists=True, arn=meta["Arn"], key_id=key_id, enabled=meta.get("Enabled", True),
                    settings=KeySettings(policy=canonical(policy), rotation_enabled=rotation))


def describe_key_arn(access: AwsAccess, account_id: str, region: str, key: str) -> str | None:
    kms = access.client("kms", account_id, region)
    meta = or_default(lambda: kms.describe_key(KeyId=key)["KeyMetadata"], None, "NotFoundException")
    return meta["Arn"] if meta else None


def observe_bucket(access: AwsAccess, account_id: str, region: str, bucket: str) -> BucketState:
    s3 = access.client("s3", account_id, region)
    location = or_default(lambda: s3.get_bucket_location(Bucket=bucket), None, "NoSuchBucket", "404", "NotFound")
    if location is None:
        return BucketState(exists=False)
    lifecycle, others = _lifecycle(s3, bucket)
    return BucketState(
        exists=True, account_id=account_id, region=location.get("LocationConstraint") or "us-east-1",
        settings=BucketSettings(
            encryption=_encryption(s3, bucket),
            versioning=s3.get_bucket_versioning(Bucket=bucket).get("Status"),
            public_access_block=_public_access_block(s3, bucket),
            policy=canonical(or_default(lambda: s3.get_bucket_policy(Bucket=bucket)["Policy"], None,
                                        "NoSuchBucketPolicy")),
            lifecycle=lifecycle,
        ),
        other_lifecycle_rules=others,
    )


def bucket_tags(access: AwsAccess, account_id: str, region: str, bucket: str) -> dict[str, str]:
    s3 = access.client("s3", account_id, region)
    return or_default(lambda: {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]},
                      {}, "NoSuchTagSet")


def _encryption(s3: Any, bucket: str) -> BucketEncryption:
    rules = or_default(lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"],
                       [], "ServerSideEncryptionConfigurationNotFoundError")
    rule = rules[0] if rules else {}
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    return BucketEncryption(sse_algorithm=default.get("SSEAlgorithm"), kms_key_id=default.get("KMSMasterKeyID"),
                            bucket_key_enabled=bool(rule.get("BucketKeyEnabled", False)))


def _public_access_block(s3: Any, bucket: str) -> PublicAccessBlock:
    c = or_default(lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"], {},
                   "NoSuchPublicAccessBlockConfiguration")
    return PublicAccessBlock(block_public_acls=c.get("BlockPublicAcls", False),
                             ignore_public_acls=c.get("IgnorePublicAcls", False),
                             block_public_policy=c.get("BlockPublicPolicy", False),
                             restrict_public_buckets=c.get("RestrictPublicBuckets", False))


def _lifecycle(s3: Any, bucket: str) -> tuple[LifecycleRule | None, tuple[dict[str, Any], ...]]:
    rules = or_default(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"], [],
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
        s3.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in ("BucketNotEmpty", "NoSuchBucket"):
            return f"bucket {bucket} kept: {error_code(exc)}"
        raise
    return f"bucket {bucket} deleted (it was empty)"
