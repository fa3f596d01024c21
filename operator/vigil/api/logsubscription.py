"""LogSubscriptionPolicy: every selected CloudWatch log group streams to the LogArchive bucket."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field

from .common import (LOG_GROUP_NAME_PATTERN, MAX_FAILURES, MAX_LOG_GROUP_NAME_LENGTH, ControlSpec,
                     LocalObjectReference, ManagedStatus, Model, S3Prefix, Scope, StatusModel, Unique, ValidationRule,
                     aws_rule)


class DeliveryType(str, Enum):
    FIREHOSE = "Firehose"
    KINESIS = "Kinesis"


class Delivery(Model):
    """How events reach the bucket: per Region, a CloudWatch Logs destination in the log-archive account, in front
    of a Firehose stream (type Firehose) or of a Kinesis data stream that a Firehose stream reads (type Kinesis)."""

    type: DeliveryType = Field(DeliveryType.FIREHOSE, description="Firehose (the default): the destination writes "
                                                                  "to a Firehose stream into the bucket. Kinesis: to "
                                                                  "an on-demand Kinesis data stream (encrypted with "
                                                                  "the AWS managed key alias/aws/kinesis, events "
                                                                  "kept 24 hours), which a Firehose stream reads "
                                                                  "into the bucket; the stream can feed other "
                                                                  "readers (a SIEM) too.")
    s3_key_prefix: S3Prefix = Field("cloudwatch-logs", description="Where Firehose writes in the bucket, under "
                                                                   "<prefix>/<region>/. Default: cloudwatch-logs.")
    buffer_interval_seconds: int = Field(300, ge=0, le=900, description="Firehose's BufferingHints "
                                                                        "IntervalInSeconds: 0 to 900 seconds. "
                                                                        "Default: 300.")


# The beginning of a log group name: CloudWatch Logs' characters (CreateLogGroup).
LogGroupPrefix = Annotated[str, Field(pattern=LOG_GROUP_NAME_PATTERN, max_length=MAX_LOG_GROUP_NAME_LENGTH,
                                      json_schema_extra=aws_rule(
                                          "The beginning of log group names: 1 to 512 characters among a-z, A-Z, "
                                          "0-9, _ - / . and #, as CloudWatch Logs names groups."))]


class LogGroupSelector(Model):
    """Which log groups of the selected accounts are subscribed: all, present and future, but those excluded."""

    exclude_prefixes: Annotated[list[LogGroupPrefix], Unique("lists a prefix twice")] = Field(
        default_factory=lambda: ["/aws/kinesisfirehose/vigil"], max_length=100,
        description="Log groups whose names begin with one of these (at most 100) are not subscribed. Default: "
                    "[/aws/kinesisfirehose/vigil]; groups under it are never subscribed, whatever this says.")


class SubscriptionMethod(str, Enum):
    LOG_GROUP = "LogGroup"
    ACCOUNT_POLICY = "AccountPolicy"
    PREFER_ACCOUNT_POLICY = "PreferAccountPolicy"


class LogSubscriptionPolicySpec(ControlSpec):
    """Every selected CloudWatch Logs log group, in the selected accounts and Regions, streaming to the archive."""

    log_archive_ref: LocalObjectReference = Field(description="The LogArchive whose bucket receives the log events.")
    scope: Scope = Field(Scope.WORKLOADS, description="Whose log groups: Workloads (the default), SharedNetwork or "
                                                      "AllAccounts. Accounts is refused: this kind has no "
                                                      "accountIds.")
    delivery: Delivery = Field(default_factory=Delivery)
    log_group_selector: LogGroupSelector = Field(default_factory=LogGroupSelector)
    filter_pattern: str = Field("", max_length=1024, description="CloudWatch Logs filter pattern, at most 1024 "
                                                                 "characters (PutSubscriptionFilter); empty: "
                                                                 "every event (the default).")
    method: SubscriptionMethod = Field(
        SubscriptionMethod.PREFER_ACCOUNT_POLICY,
        description="PreferAccountPolicy (the default for new objects): CloudWatch Logs' account-level subscription "
                    "filter policy in each account and Region where the account allows it (its one policy slot is "
                    "free or Vigil's, and the excluded groups number at most 50), a subscription filter on each "
                    "log group elsewhere; status.methods says which, where. AccountPolicy: the account-level "
                    "policy only (a slot taken by another's policy is reported, AccountPolicyTaken). LogGroup: a "
                    "filter on each log group only. An object created before PreferAccountPolicy was the default "
                    "keeps the LogGroup the API server wrote into it then.")

    # The kind selects accounts by scope only: it has no accountIds to go with scope: Accounts.
    validation_rules = (ValidationRule(
        "self.scope != 'Accounts'", lambda spec: spec.scope != Scope.ACCOUNTS.value,
        "scope Accounts is not offered by LogSubscriptionPolicy (it has no accountIds): use SharedNetwork, "
        "Workloads or AllAccounts", field="scope", reason="FieldValueForbidden"),)


class MethodFallback(StatusModel):
    """An account and Region where PreferAccountPolicy subscribes each log group instead, and why."""

    target: str = Field(description="The account and Region: account/region.")
    reason: str = Field(description="AccountPolicyTaken (another's policy holds the account's one slot) or "
                                    "TooManyExclusions (more than 50 groups to exclude by name).")
    message: str = Field(description="What Vigil found.")


class SubscriptionMethods(StatusModel):
    """How the accounts and Regions of the scope are subscribed, as of the last pass."""

    account_policy: int = Field(0, description="Accounts x Regions subscribed by the account-level policy.")
    log_group: int = Field(0, description="Accounts x Regions whose log groups each have a subscription filter.")
    fallbacks: list[MethodFallback] = Field(
        default_factory=list, max_length=MAX_FAILURES,
        description="Where PreferAccountPolicy uses filters because the account does not allow its policy: at most "
                    "20.")


class LogSubscriptionPolicyStatus(ManagedStatus):
    """What Vigil observed at its last pass, log group by log group; written by the operator only."""

    methods: SubscriptionMethods | None = Field(None, description="Which method subscribes each account and Region.")
