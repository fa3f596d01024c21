"""SessionLogging: Session Manager transcripts to the LogArchive bucket and encrypted CloudWatch Logs."""

from __future__ import annotations

from pydantic import Field

from .common import (ACCOUNTS_WITH_SCOPE, KMS_KEY_ARN_PATTERN, MAX_ARN_LENGTH, AccountIds, ControlSpec,
                     LocalObjectReference, LogGroupName, LogRetentionDays, ManagedStatus, Model, S3Prefix, Scope)


class SessionCloudWatch(Model):
    enabled: bool = True
    log_group_name: LogGroupName = "/vigil/ssm-sessions"
    retention_days: LogRetentionDays = 365


class SessionKms(Model):
    # "" is how the API documents "no key of mine", so it is taken as well as leaving the field out.
    key_arn: str | None = Field(None, pattern=f"^$|{KMS_KEY_ARN_PATTERN}", max_length=MAX_ARN_LENGTH,
                                description="Empty means a Vigil-managed key per account and region. A KMS key "
                                            "ARN (arn:<partition>:kms:<region>:<account>:key/<key id>): Session "
                                            "Manager and CloudWatch Logs use keys of their own Region only, so "
                                            "the key's Region must be the only one the object covers.")


class SessionLoggingSpec(ControlSpec):
    log_archive_ref: LocalObjectReference
    scope: Scope = Scope.ALL_ACCOUNTS
    account_ids: AccountIds = Field(default_factory=list, description="With scope: Accounts.")
    s3_key_prefix: S3Prefix = "ssm-sessions"
    cloud_watch: SessionCloudWatch = Field(default_factory=SessionCloudWatch)
    kms: SessionKms = Field(default_factory=SessionKms)
    idle_session_timeout_minutes: int = Field(20, ge=1, le=60, description="Session Manager's idleSessionTimeout: 1 "
                                                                           "to 60 minutes.")

    validation_rules = (ACCOUNTS_WITH_SCOPE,)


class SessionLoggingStatus(ManagedStatus):
    pass
