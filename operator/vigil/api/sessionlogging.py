"""SessionLogging: Session Manager transcripts to the LogArchive bucket and encrypted CloudWatch Logs."""

from __future__ import annotations

from pydantic import Field, model_validator

from .common import (KMS_KEY_ARN_PATTERN, AccountId, ControlSpec, LocalObjectReference, LogGroupName, LogRetentionDays,
                     ManagedStatus, Model, S3Prefix, Scope)


class SessionCloudWatch(Model):
    enabled: bool = True
    log_group_name: LogGroupName = "/vigil/ssm-sessions"
    retention_days: LogRetentionDays = 365


class SessionKms(Model):
    # "" is how the API documents "no key of mine", so it is taken as well as leaving the field out.
    key_arn: str | None = Field(None, pattern=f"^$|{KMS_KEY_ARN_PATTERN}",
                                description="Empty means a Vigil-managed key per account and region.")


class SessionLoggingSpec(ControlSpec):
    log_archive_ref: LocalObjectReference
    scope: Scope = Scope.ALL_ACCOUNTS
    account_ids: list[AccountId] = Field(default_factory=list, description="With scope: Accounts.")
    s3_key_prefix: S3Prefix = "ssm-sessions"
    cloud_watch: SessionCloudWatch = Field(default_factory=SessionCloudWatch)
    kms: SessionKms = Field(default_factory=SessionKms)
    idle_session_timeout_minutes: int = Field(20, ge=1, le=60)

    @model_validator(mode="after")
    def _accounts_with_scope(self) -> "SessionLoggingSpec":
        if (self.scope == Scope.ACCOUNTS.value) != bool(self.account_ids):
            raise ValueError("accountIds is required with scope: Accounts, and only then")
        return self


class SessionLoggingStatus(ManagedStatus):
    pass
