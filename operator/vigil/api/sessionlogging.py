"""SessionLogging: Session Manager transcripts to the LogArchive bucket and encrypted CloudWatch Logs."""

from __future__ import annotations

from pydantic import Field

from .common import (ACCOUNTS_WITH_SCOPE, KMS_KEY_ARN_PATTERN, MAX_ARN_LENGTH, AccountIds, ControlSpec,
                     LocalObjectReference, LogGroupName, LogRetentionDays, ManagedStatus, Model, S3Prefix, Scope)


class SessionCloudWatch(Model):
    """Session transcripts to a KMS-encrypted CloudWatch Logs log group too, in each account and Region."""

    enabled: bool = Field(True, description="Send transcripts to CloudWatch Logs too. Default: true.")
    log_group_name: LogGroupName = Field("/vigil/ssm-sessions", description="The log group. Default: "
                                                                            "/vigil/ssm-sessions.")
    retention_days: LogRetentionDays = Field(365, description="How long the log group keeps transcripts. Default: "
                                                              "365.")


class SessionKms(Model):
    """The KMS key that encrypts sessions and their transcripts."""

    # "" is how the API documents "no key of mine", so it is taken as well as leaving the field out.
    key_arn: str | None = Field(None, pattern=f"^$|{KMS_KEY_ARN_PATTERN}", max_length=MAX_ARN_LENGTH,
                                description="Empty means a Vigil-managed key per account and region. A KMS key "
                                            "ARN (arn:<partition>:kms:<region>:<account>:key/<key id>): Session "
                                            "Manager and CloudWatch Logs use keys of their own Region only, so "
                                            "the key's Region must be the only one the object covers.")


class SessionLoggingSpec(ControlSpec):
    """Session Manager preferences in every selected account and Region: transcripts to the archive and CloudWatch."""

    log_archive_ref: LocalObjectReference = Field(description="The LogArchive whose bucket receives the "
                                                              "transcripts.")
    scope: Scope = Field(Scope.ALL_ACCOUNTS,
                         description="Which accounts: AllAccounts (the default), Workloads, SharedNetwork, or "
                                     "Accounts (accountIds).")
    account_ids: AccountIds = Field(default_factory=list, description="With scope: Accounts (and only then), the "
                                                                      "accounts.")
    s3_key_prefix: S3Prefix = Field("ssm-sessions", description="Where the transcripts go in the bucket. Default: "
                                                                "ssm-sessions.")
    cloud_watch: SessionCloudWatch = Field(default_factory=SessionCloudWatch)
    kms: SessionKms = Field(default_factory=SessionKms)
    idle_session_timeout_minutes: int = Field(20, ge=1, le=60, description="Session Manager's idleSessionTimeout: 1 "
                                                                           "to 60 minutes. Default: 20.")

    validation_rules = (ACCOUNTS_WITH_SCOPE,)


class SessionLoggingStatus(ManagedStatus):
    """What Vigil observed at its last pass, per account and Region; written by the operator only."""
