"""LogSubscriptionPolicy: every selected CloudWatch log group streams to the LogArchive bucket."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field

from .common import MAX_LOG_GROUP_NAME_LENGTH, ControlSpec, LocalObjectReference, ManagedStatus, Model, S3Prefix, Scope


class DeliveryType(str, Enum):
    FIREHOSE = "Firehose"
    KINESIS = "Kinesis"


class Delivery(Model):
    type: DeliveryType = DeliveryType.FIREHOSE
    s3_key_prefix: S3Prefix = "cloudwatch-logs"
    buffer_interval_seconds: int = Field(300, ge=0, le=900)


class LogGroupSelector(Model):
    exclude_prefixes: list[Annotated[str, Field(max_length=MAX_LOG_GROUP_NAME_LENGTH)]] = Field(
        default_factory=lambda: ["/aws/kinesisfirehose/vigil"], max_length=100)


class SubscriptionMethod(str, Enum):
    LOG_GROUP = "LogGroup"
    ACCOUNT_POLICY = "AccountPolicy"


class LogSubscriptionPolicySpec(ControlSpec):
    log_archive_ref: LocalObjectReference
    scope: Scope = Scope.WORKLOADS
    delivery: Delivery = Field(default_factory=Delivery)
    log_group_selector: LogGroupSelector = Field(default_factory=LogGroupSelector)
    filter_pattern: str = Field("", max_length=1024)
    method: SubscriptionMethod = SubscriptionMethod.LOG_GROUP


class LogSubscriptionPolicyStatus(ManagedStatus):
    pass
