"""LogArchive: the central, locked-down, KMS-encrypted log bucket in the log-archive account."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .common import BucketName, KmsAlias, KmsKeyArn, ManagedSpec, ManagedStatus, Model, ValidationRule


class KmsSettings(Model):
    create: bool = Field(True, description="Create (or adopt, by alias) a Vigil key in the log-archive account.")
    alias: KmsAlias = "alias/vigil-log-archive"
    key_arn: KmsKeyArn | None = Field(None, description="Use this existing key instead. S3 encrypts with a key of "
                                                         "the bucket's Region only: the organization's home Region.")

    # A key is created or brought, never both: one that is brought is used and never modified.
    validation_rules = (
        ValidationRule("!self.create || !has(self.keyArn)", lambda kms: not (kms.create and kms.key_arn),
                       "set create: false when giving keyArn", field="keyArn", reason="FieldValueForbidden"),
        ValidationRule("self.create || has(self.keyArn)", lambda kms: kms.create or bool(kms.key_arn),
                       "give keyArn, or set create: true", field="keyArn", reason="FieldValueRequired"),
    )


class Retention(Model):
    # S3 lifecycle rules count days as positive integers.
    expire_after_days: int | None = Field(None, ge=1, le=36500, description="Days after which S3 expires log "
                                                                            "objects: a positive number.")
    transition_to_glacier_after_days: int | None = Field(
        None, ge=1, le=36500, description="Days after which S3 moves log objects to Glacier: a positive number, "
                                          "less than expireAfterDays (S3 refuses a rule expiring objects before it "
                                          "transitions them).")

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
    days: int = Field(ge=1, le=36500, description="The default retention period: a positive number of days, "
                                                  "at most 36500 (100 years).")


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
