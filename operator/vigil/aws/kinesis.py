"""Kinesis Data Streams: the stream a CloudWatch Logs destination writes to when delivery.type is
Kinesis, which a Firehose stream reads into the LogArchive bucket."""

from __future__ import annotations

from ..planning.ownership import Resource
from ..state.logsubscription import DataStreamState
from .errors import or_default
from .ownership import read_tags
from .session import AwsAccess

NOT_FOUND = "ResourceNotFoundException"


def observe_data_stream(access: AwsAccess, account_id: str, region: str, name: str) -> DataStreamState:
    """One read: the stream's status, mode and encryption."""
    kinesis = access.client("kinesis", account_id, region)
    found = or_default(lambda: kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"], None,
                       NOT_FOUND)
    if found is None:
        return DataStreamState(exists=False)
    return DataStreamState(exists=True, arn=found.get("StreamARN"), status=found.get("StreamStatus"),
                           mode=(found.get("StreamModeDetails") or {}).get("StreamMode"),
                           encryption_type=found.get("EncryptionType") or "NONE", key_id=found.get("KeyId"))


def stream_tags(access: AwsAccess, account_id: str, region: str, name: str) -> dict[str, str] | None:
    return read_tags(access, Resource("kinesis-stream", account_id, region, name, name))


def delete_data_stream(access: AwsAccess, account_id: str, region: str, name: str) -> None:
    kinesis = access.client("kinesis", account_id, region)
    or_default(lambda: kinesis.delete_stream(StreamName=name), None, NOT_FOUND)
