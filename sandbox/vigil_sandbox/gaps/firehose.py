"""Firehose gaps: what AWS checks of a delivery stream's S3 destination and Kinesis source, and moto
does not.

Moto takes any role, bucket and KMS key for a stream's S3 destination. AWS assumes the role at
once (a role that does not trust firehose.amazonaws.com fails CreateDeliveryStream) and takes only
a KMS key in the bucket's region; a key or bucket that does not exist would fail every delivery
later, which the sandbox, having no delivery, refuses at once instead. A stream reading a Kinesis
data stream (KinesisStreamAsSource) takes, in moto, any source or none: AWS wants the data stream
to exist and the role to read it.
"""

from __future__ import annotations

from typing import Any

from moto.firehose.responses import FirehoseResponse
from moto.iam.exceptions import NotFoundException as IAMNotFoundException
from moto.iam.models import iam_backends
from moto.kinesis.models import kinesis_backends
from moto.kms.models import kms_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from ._core import AwsError, Gap
from ._policies import policy_allows_service
from .logs_subscriptions import role_allows

FIREHOSE = "firehose.amazonaws.com"


def invalid(message: str) -> AwsError:
    return AwsError("InvalidArgumentException", message)


# --- Domain: an S3 destination ---------------------------------------------------------------------


def require_role(role_arn: str, partition: str) -> Any:
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        raise invalid(f"{role_arn} is not a role ARN.")
    try:
        role = iam_backends[parts[4]][partition].get_role_by_arn(role_arn)
    except IAMNotFoundException:
        role = None
    if role is None or not policy_allows_service(role.assume_role_policy_document, FIREHOSE, "sts:AssumeRole"):
        raise invalid(f"Firehose is unable to assume role {role_arn}. Please check the role provided.")
    return role


def bucket_region(account: str, partition: str, bucket_arn: str) -> str:
    name = bucket_arn.removeprefix(f"arn:{partition}:s3:::")
    try:
        return s3_backends[account][partition].get_bucket(name).region_name
    except MissingBucket:
        raise invalid(f"Bucket {name} does not exist.") from None


def require_key(key_arn: str, region: str) -> None:
    """A key ARN (not an alias), of the bucket's region, existing and enabled."""
    parts = key_arn.split(":")
    if len(parts) != 6 or parts[2] != "kms" or not parts[5].startswith("key/"):
        raise invalid(f"{key_arn} is not the ARN of a KMS key.")
    if parts[3] != region:
        raise invalid(f"The KMS key {key_arn} must be in {region}, the bucket's region.")
    key = kms_backends[parts[4]][region].keys.get(parts[5].removeprefix("key/"))
    if key is None or key.key_state != "Enabled":
        raise AwsError("InvalidKMSResourceException", f"KMS key {key_arn} does not exist or is not enabled.")


def check_s3_destination(account: str, partition: str, destination: dict[str, Any], creating: bool) -> None:
    """An S3 destination, whole at creation, or the fields an update gives."""
    if creating or "RoleARN" in destination:
        require_role(destination.get("RoleARN", ""), partition)
    region = bucket_region(account, partition, destination["BucketARN"]) if "BucketARN" in destination else None
    key = ((destination.get("EncryptionConfiguration") or {}).get("KMSEncryptionConfig") or {}).get("AWSKMSKeyARN")
    if key:
        require_key(key, region or key.split(":")[3])
    logging = destination.get("CloudWatchLoggingOptions") or {}
    if logging.get("Enabled") and not (logging.get("LogGroupName") and logging.get("LogStreamName")):
        raise invalid("CloudWatchLoggingOptions needs LogGroupName and LogStreamName when Enabled.")


def check_kinesis_source(account: str, region: str, partition: str, params: dict[str, Any]) -> None:
    """KinesisStreamAsSource: a data stream of the caller's, in the region, that the role may read
    (read coarsely, as the sandbox reads every role: an inline statement allowing kinesis:GetRecords)."""
    source = params.get("KinesisStreamSourceConfiguration")
    if params.get("DeliveryStreamType") != "KinesisStreamAsSource":
        return  # moto refuses a source configuration without the type itself
    if source is None:
        raise invalid("KinesisStreamSourceConfiguration is required for KinesisStreamAsSource.")
    parts = source["KinesisStreamARN"].split(":", 5)
    if len(parts) != 6 or parts[2] != "kinesis" or not parts[5].startswith("stream/"):
        raise invalid(f"{source['KinesisStreamARN']} is not the ARN of a Kinesis data stream.")
    if (parts[3], parts[4]) != (region, account):
        raise invalid("The Kinesis data stream must be in the delivery stream's account and region.")
    if parts[5].removeprefix("stream/") not in kinesis_backends[account][region].streams:
        raise AwsError("ResourceNotFoundException", f"Kinesis data stream {source['KinesisStreamARN']} not found.")
    role = require_role(source["RoleARN"], partition)
    if not role_allows(role, "kinesis:GetRecords"):
        raise invalid(f"Role {source['RoleARN']} is not authorized to read {source['KinesisStreamARN']}.")


# --- Wire ----------------------------------------------------------------------------------------


def _create_delivery_stream(self: FirehoseResponse, params: dict[str, Any]) -> None:
    check_kinesis_source(self.current_account, self.region, get_partition(self.region), params)
    destination = params.get("ExtendedS3DestinationConfiguration") or params.get("S3DestinationConfiguration")
    if destination is not None:
        check_s3_destination(self.current_account, get_partition(self.region), destination, creating=True)


def _update_destination(self: FirehoseResponse, params: dict[str, Any]) -> None:
    destination = params.get("ExtendedS3DestinationUpdate") or params.get("S3DestinationUpdate")
    if destination is not None:
        check_s3_destination(self.current_account, get_partition(self.region), destination, creating=False)


GAPS: tuple[Gap, ...] = (
    Gap(
        "firehose", "CreateDeliveryStream", "guard", FirehoseResponse, _create_delivery_stream,
        moto="takes any role, bucket and KMS key for an S3 destination, and any Kinesis source or none",
        sandbox="the role must exist and trust firehose.amazonaws.com, the bucket exist, the key be a key ARN "
                "of the bucket's region (InvalidArgumentException), existing and enabled "
                "(InvalidKMSResourceException); error logging names its group and stream; KinesisStreamAsSource "
                "needs its source, a data stream of the account and region (ResourceNotFoundException) that the "
                "source's role reads (InvalidArgumentException)",
    ),
    Gap(
        "firehose", "UpdateDestination", "guard", FirehoseResponse, _update_destination,
        moto="takes any role, bucket and KMS key",
        sandbox="the CreateDeliveryStream checks, for the fields the update gives",
    ),
)
