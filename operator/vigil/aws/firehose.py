"""Firehose: the delivery streams that carry subscribed log events into the LogArchive bucket."""

from __future__ import annotations

from typing import Any

from ..state.logsubscription import DeliveryStreamSettings, DeliveryStreamState
from ..planning.ownership import Resource
from .errors import or_default
from .ownership import read_tags
from .session import AwsAccess

NOT_FOUND = "ResourceNotFoundException"


def observe_delivery_stream(access: AwsAccess, account_id: str, region: str, name: str) -> DeliveryStreamState:
    """One read: the stream and its (first) destination."""
    firehose = access.client("firehose", account_id, region)
    described = or_default(lambda: firehose.describe_delivery_stream(DeliveryStreamName=name), None, NOT_FOUND)
    if described is None:
        return DeliveryStreamState(exists=False)
    stream = described["DeliveryStreamDescription"]
    destinations = stream.get("Destinations") or [{}]
    destination = destinations[0]
    source = (stream.get("Source") or {}).get("KinesisStreamSourceDescription") or {}
    return DeliveryStreamState(
        exists=True, arn=stream.get("DeliveryStreamARN"), status=stream.get("DeliveryStreamStatus"),
        stream_type=stream.get("DeliveryStreamType") or "DirectPut",
        source_stream_arn=source.get("KinesisStreamARN", ""),
        version_id=stream.get("VersionId"), destination_id=destination.get("DestinationId"),
        settings=_settings(destination.get("ExtendedS3DestinationDescription")
                           or destination.get("S3DestinationDescription") or {}))


def _settings(s3: dict[str, Any]) -> DeliveryStreamSettings:
    buffering = s3.get("BufferingHints") or {}
    kms = (s3.get("EncryptionConfiguration") or {}).get("KMSEncryptionConfig") or {}
    logging = s3.get("CloudWatchLoggingOptions") or {}
    return DeliveryStreamSettings(
        role_arn=s3.get("RoleARN", ""), bucket_arn=s3.get("BucketARN", ""), prefix=s3.get("Prefix") or "",
        buffer_interval_seconds=buffering.get("IntervalInSeconds"), buffer_size_mb=buffering.get("SizeInMBs"),
        compression_format=s3.get("CompressionFormat", ""), kms_key_arn=kms.get("AWSKMSKeyARN", ""),
        error_logging=bool(logging.get("Enabled")), error_log_group=logging.get("LogGroupName") or "",
        error_log_stream=logging.get("LogStreamName") or "")


def stream_tags(access: AwsAccess, account_id: str, region: str, name: str) -> dict[str, str] | None:
    return read_tags(access, Resource("firehose-stream", account_id, region, name, name))


def delete_delivery_stream(access: AwsAccess, account_id: str, region: str, name: str) -> None:
    firehose = access.client("firehose", account_id, region)
    or_default(lambda: firehose.delete_delivery_stream(DeliveryStreamName=name), None, NOT_FOUND)
