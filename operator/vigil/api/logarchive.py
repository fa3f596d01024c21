"""LogArchive: the central, locked-down, KMS-encrypted log bucket in the log-archive account."""

from __future__ import annotations

from enum import Enum

from pydantic import Field, model_validator

from .common import KMS_ALIAS_PATTERN, KMS_KEY_ARN_PATTERN, BucketName, ManagedSpec, ManagedStatus, Model


class KmsSettings(Model):
    create: bool = Field(True, description="Create (or adopt, by alias) a Vigil key in the log-archive account.")
    alias: str = Field("alias/vigil-log-archive", pattern=KMS_ALIAS_PATTERN)
    key_arn: str | None = Field(None, pattern=KMS_KEY_ARN_PATTERN, description="Use this existing key instead.")

    @model_validator(mode="after")
    def _create_or_bring(self) -> "KmsSettings":
        if self.create and self.key_arn:
            raise ValueError("kms: set create: false when giving keyArn")
        if not self.create and not self.key_arn:
            raise ValueError("kms: give keyArn, or set create: true")
        return self


class Retention(Model):
    expire_after_days: int | None = Field(None, ge=1, le=36500)
    transition_to_glacier_after_days: int | None = Field(None, ge=1, le=36500)

    @model_validator(mode="after")
    def _transition_before_expiry(self) -> "Retention":
        e, t = self.expire_after_days, self.transition_to_glacier_after_days
        if e is not None and t is not None and t >= e:
            raise ValueError("retention.transitionToGlacierAfterDays must be less than expireAfterDays")
        return self


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
