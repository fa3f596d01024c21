"""The log-archive bucket and its KMS key, as observed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


# Vigil owns one lifecycle rule in the bucket, by this id; the others are the user's.
LIFECYCLE_RULE_ID = "vigil-retention"


class State(BaseModel):
    model_config = ConfigDict(frozen=True)


class PublicAccessBlock(State):
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


class BucketEncryption(State):
    sse_algorithm: str | None = None
    kms_key_id: str | None = None
    bucket_key_enabled: bool = False


class LifecycleRule(State):
    """Only the rule Vigil owns (by id); other rules in the bucket are the user's and kept."""

    expire_after_days: int | None = None
    transition_to_glacier_after_days: int | None = None


class BucketSettings(State):
    """The settings Vigil enforces on the bucket; compared field by field."""

    encryption: BucketEncryption = BucketEncryption()
    versioning: str | None = None  # Enabled | Suspended | None (never enabled)
    public_access_block: PublicAccessBlock = PublicAccessBlock()
    policy: Any = None  # canonical form, see planning.policies.canonical
    lifecycle: LifecycleRule | None = None


class ObjectLockState(State):
    """The bucket's Object Lock: on or not (for good, once on), and its default retention if any."""

    enabled: bool = False
    mode: str | None = None  # GOVERNANCE | COMPLIANCE; None: no default retention
    days: int | None = None  # a period set in years reads as 365 days a year


class BucketState(State):
    exists: bool
    account_id: str | None = None  # owner, when it exists and we can see it
    region: str | None = None
    settings: BucketSettings = BucketSettings()
    other_lifecycle_rules: tuple[dict[str, Any], ...] = ()
    object_lock: ObjectLockState | None = None  # None: not read (the spec sets no objectLock)


class KeySettings(State):
    policy: Any = None  # canonical form
    rotation_enabled: bool = False


class KeyState(State):
    exists: bool
    arn: str | None = None
    key_id: str | None = None
    enabled: bool = True
    aliased: bool = True  # False: found by its owner tags, its alias still to be made
    settings: KeySettings = KeySettings()
