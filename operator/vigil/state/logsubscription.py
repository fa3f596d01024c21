"""CloudWatch Logs subscriptions and the delivery path behind them, as observed.

The log-archive end: a Firehose delivery stream per region into the LogArchive bucket (reading a
Kinesis data stream, with delivery type Kinesis), and a CloudWatch Logs destination in front of it
that the organization's accounts may subscribe to.
The source end: log groups and their subscription filters (at most two each), or an account-level
subscription filter policy.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class State(BaseModel):
    model_config = ConfigDict(frozen=True)


class DeliveryStreamSettings(State):
    """What UpdateDestination can change on the stream's S3 destination; compared field by field."""

    role_arn: str = ""
    bucket_arn: str = ""
    prefix: str = ""
    buffer_interval_seconds: int | None = None
    buffer_size_mb: int | None = None
    compression_format: str = ""
    kms_key_arn: str = ""  # "" when objects are not encrypted with a KMS key
    error_logging: bool = False
    error_log_group: str = ""
    error_log_stream: str = ""


class DeliveryStreamState(State):
    exists: bool
    arn: str | None = None
    status: str | None = None  # CREATING | ACTIVE | ...
    stream_type: str = "DirectPut"  # DirectPut | KinesisStreamAsSource (fixed at creation)
    source_stream_arn: str = ""  # the Kinesis data stream it reads, for KinesisStreamAsSource
    # UpdateDestination names the version it updates and the destination within the stream.
    version_id: str | None = None
    destination_id: str | None = None
    settings: DeliveryStreamSettings = DeliveryStreamSettings()


class DataStreamState(State):
    """A Kinesis data stream (delivery type Kinesis): what Vigil holds it to is its encryption."""

    exists: bool
    arn: str | None = None
    status: str | None = None  # CREATING | ACTIVE | UPDATING | DELETING
    mode: str | None = None  # ON_DEMAND | PROVISIONED
    encryption_type: str = "NONE"  # NONE | KMS
    key_id: str | None = None


class DestinationSettings(State):
    """What PutDestination sets."""

    target_arn: str = ""
    role_arn: str = ""


class DestinationState(State):
    exists: bool
    arn: str | None = None
    settings: DestinationSettings = DestinationSettings()
    access_policy: Any = None  # canonical


class SubscriptionFilterSettings(State):
    """What PutSubscriptionFilter sets on a filter of a given name."""

    destination_arn: str
    filter_pattern: str


class SubscriptionFilter(State):
    name: str
    settings: SubscriptionFilterSettings


class LogGroup(State):
    name: str
    arn: str = ""
    creation_time: int | None = None  # milliseconds since the epoch, as AWS gives it


class AccountPolicy(State):
    """An account-level subscription filter policy (one per account and region, whoever made it)."""

    name: str
    document: Any = None  # parsed JSON
    selection_criteria: str = ""
    scope: str = "ALL"
