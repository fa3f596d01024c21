"""Kinesis Data Streams gaps: a stream created with its tags, and encrypted only with a key there is.

Moto's CreateStream drops the request's Tags (botocore's model has them since 2022), so a stream
created tagged reads back untagged; and its StartStreamEncryption takes any KeyId, even one that
names no key. AWS encrypts with the AWS managed key ``alias/aws/kinesis`` (made on first use) or a
customer key that exists and is enabled.
"""

from __future__ import annotations

from typing import Any

from moto.kinesis.responses import KinesisResponse
from moto.kms.models import kms_backends

from ._core import AwsError, Gap

KINESIS_MANAGED_KEY = "alias/aws/kinesis"


def invalid(message: str) -> AwsError:
    return AwsError("InvalidArgumentException", message)


# --- Domain: stream encryption -------------------------------------------------------------------


def require_stream_key(key_id: str, account: str, region: str) -> None:
    """A KeyId Kinesis encrypts with: the AWS managed key, or a customer key (id, ARN, alias or
    alias ARN) that exists, in the account and region it names (the caller's by default), enabled."""
    name = key_id.split(":alias/", 1)[1] if ":alias/" in key_id else None
    if key_id == KINESIS_MANAGED_KEY or name == KINESIS_MANAGED_KEY.removeprefix("alias/"):
        return
    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        region, account = parts[3], parts[4]
    backend = kms_backends[account][region]
    alias = f"alias/{name}" if name else key_id if key_id.startswith("alias/") else None
    if alias is not None and alias.startswith("alias/aws/"):
        raise AwsError("KMSNotFoundException", f"{key_id} is an AWS managed key of another service.")
    found = backend.get_key_id_from_alias(alias) if alias else key_id.rsplit("key/", 1)[-1]
    key = backend.keys.get(found) if found else None
    if key is None:
        raise AwsError("KMSNotFoundException", f"Key {key_id} does not exist.")
    if key.key_state != "Enabled":
        raise AwsError("KMSDisabledException", f"Key {key_id} is {key.key_state}.")


# --- Wire ----------------------------------------------------------------------------------------


def _create_stream(self: KinesisResponse, params: dict[str, Any]) -> dict[str, Any]:
    mode = (params.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
    if mode == "PROVISIONED" and not params.get("ShardCount"):
        raise invalid("ShardCount is required for a PROVISIONED stream.")
    stream = self.kinesis_backend.create_stream(params["StreamName"], params.get("ShardCount"),
                                                stream_mode=params.get("StreamModeDetails"))
    stream.tags.update(params.get("Tags") or {})
    return {}


def _start_stream_encryption(self: KinesisResponse, params: dict[str, Any]) -> None:
    if params["EncryptionType"] != "KMS":
        raise invalid("EncryptionType must be KMS to start encryption.")
    require_stream_key(params["KeyId"], self.current_account, self.region)


GAPS: tuple[Gap, ...] = (
    Gap(
        "kinesis", "CreateStream", "fix", KinesisResponse, _create_stream,
        moto="drops the request's Tags",
        sandbox="the stream is created with its Tags, as ListTagsForStream then shows; a PROVISIONED stream needs "
                "ShardCount (InvalidArgumentException)",
    ),
    Gap(
        "kinesis", "StartStreamEncryption", "guard", KinesisResponse, _start_stream_encryption,
        moto="takes any KeyId, even one that names no key",
        sandbox="the AWS managed key alias/aws/kinesis, or a customer key that exists (KMSNotFoundException) and "
                "is enabled (KMSDisabledException); EncryptionType KMS",
    ),
)
