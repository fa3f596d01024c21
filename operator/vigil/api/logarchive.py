"""LogArchive: the central, locked-down, KMS-encrypted log bucket in the log-archive account."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .common import BucketName, KmsAlias, KmsKeyArn, ManagedSpec, ManagedStatus, Model, ValidationRule


class KmsSettings(Model):
    create: bool = Field(True, description="Create (or adopt, by alias) a Vigil key in the log-archive account.")
    alias: KmsAlias = "alias/vigil-log-archive"
    key_arn: KmsKeyArn | None = Field(None, description="Use this existing key instead.")

    # A key is created or brought, never both: one that is brought is used and never modified.
    validation_rules = (
        ValidationRule("!self.create || !has(self.keyArn)", lambda kms: not (kms.create and kms.key_arn),
                       "set create: false when giving keyArn", field="keyArn", reason="FieldValueForbidden"),
        ValidationRule("self.create || has(self.keyArn)", lambda kms: kms.create or bool(kms.key_arn),
                       "give keyArn, or set create: true", field="keyArn", reason="FieldValueRequired"),
    )


class Retention(Model):
    expire_after_days: int | None = Field(None, ge=1, le=36500)
    transition_to_glacier_after_days: int | None = Field(None, ge=1, le=36500)

    # S3 refuses a lifecycle rule that expires objects before (or as) it transitions them.
    validation_rules = (ValidationRule(
        "!has(self.expireAfterDays) || !has(self.transitionToGlacierAfterDays)"
        " || self.transitionToGlacierAfterDays < self.expireAfterDays",
        lambda r: r.expire_after_days is None or r.transition_to_glacier_after_days is None
        or r.transition_to_glacier_after_days < r.expire_after_days,
        "transitionToGlacierAfterDays must be less than expireAfterDays", field="transitionToGlacierAfterDays"),)


class ObjectLockMode(str, Enum):
    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


class ObjectLock(Model):
    mode: ObjectLockMode = ObjectLockMode.GOVERNANCE
    days: int = Field(ge=1, le=36500)


class LogArchiveSpec(ManagedSpec):
    bucket_name: BucketName
    kms: KmsSettings = Field(default_factory=KmsSettings)
    retention: Retention | None = None
    object_lock: ObjectLock | None = Field(None, description="Only applied when Vigil creates the bucket.")


class LogArchiveStatus(ManagedStatus):
    bucket_arn: str | None = None
    kms_key_arn: str | None = None
    account_id: str | None = None
    region: str | None = None
