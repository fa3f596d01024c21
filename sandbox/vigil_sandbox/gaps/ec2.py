"""EC2 gaps: CreateFlowLogs to an S3 subfolder and to a bucket of another account, AWS's rule
for what makes a second flow log on a resource a duplicate, and its client token.

Moto takes ``arn:aws:s3:::bucket/prefix`` for a bucket named "bucket/prefix", which does not
exist, so every flow log to a subfolder fails (in the answer's Unsuccessful list); it delivers to
another account's bucket without asking its policy; and it refuses a second flow log to the same
destination even when the traffic type differs, which AWS allows (an ACCEPT and a REJECT flow
log side by side, or the right flow log created before the wrong one is deleted). It also ignores
ClientToken, so a CreateFlowLogs retried after its answer was lost made a second flow log, or
failed as a duplicate of the first.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.flow_logs import FlowLogs as MotoFlowLog
from moto.ec2.responses.flow_logs import FlowLogs as FlowLogsResponse
from moto.ec2.utils import random_flow_log_id
from moto.logs.models import logs_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends

from ._core import AwsError, Gap, with_client_token
from ._policies import policy_allows_service

# --- Domain: VPC flow logs -----------------------------------------------------------------------

LOG_DELIVERY = "delivery.logs.amazonaws.com"
# What AWS records, and DescribeFlowLogs returns, when CreateFlowLogs is given no LogFormat.
DEFAULT_FLOW_LOG_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
    "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)


def s3_bucket_of(log_destination: str) -> str:
    """The bucket of an S3 destination ARN, with or without a subfolder."""
    parts = log_destination.split(":", 5)
    return parts[5].split("/", 1)[0] if len(parts) == 6 else ""


def s3_delivery_refusal(account: str, partition: str, bucket_name: str) -> str | None:
    """Why flow log delivery to a bucket is refused, or None.

    The bucket may be in any account. In the caller's own account AWS adds the delivery
    statement to the bucket policy itself; in another one the policy must already let the log
    delivery service write.
    """
    try:
        bucket = s3_backends[account][partition].get_bucket(bucket_name)
    except MissingBucket:
        return f"LogDestination: {bucket_name} does not exist."
    if bucket.account_id == account:
        return None
    policy = bucket.policy.decode() if bucket.policy else None
    if not policy_allows_service(policy, LOG_DELIVERY, "s3:PutObject"):
        return f"Access Denied for LogDestination: {bucket_name}. Please check LogDestination permission"
    return None


def flow_log_stream(resource_id: str, traffic_type: str | None, destination_type: str,
                    log_destination: str | None, log_group_name: str | None) -> tuple[str, ...]:
    """What makes two flow logs the same to AWS: resource, traffic type, destination. Taken
    strictly: a second flow log differing only in format or aggregation interval is refused too,
    so Vigil is shown to delete such a wrong one before creating the right one."""
    destination = log_destination or f"log-group:{log_group_name}"
    return resource_id, traffic_type or "", destination_type, destination


def create_flow_logs(backend: Any, params: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    """CreateFlowLogs into moto's EC2 state, with AWS's destination and duplicate rules."""
    destination_type = params.get("LogDestinationType", "cloud-watch-logs")
    interval = params.get("MaxAggregationInterval", 600)
    backend._validate_request(params.get("LogGroupName"), params.get("LogDestination"), destination_type,
                              interval, params.get("DeliverLogsPermissionArn"))
    resource_type, resource_ids = params["ResourceType"], params["ResourceIds"]
    exists = {"VPC": backend.get_vpc, "Subnet": backend.get_subnet,
              "NetworkInterface": backend.get_network_interface}.get(resource_type)
    existing = {flow_log_stream(f.resource_id, f.traffic_type, f.log_destination_type, f.log_destination,
                                f.log_group_name) for f in backend.flow_logs.values()}
    for resource_id in resource_ids:
        if exists is not None:
            exists(resource_id)  # moto's NotFound error for the kind of resource
        stream = flow_log_stream(resource_id, params.get("TrafficType"), destination_type,
                                 params.get("LogDestination"), params.get("LogGroupName"))
        if stream in existing:
            raise AwsError("FlowLogAlreadyExists",
                           "Error. There is an existing Flow Log with the same configuration and log destination.")

    created, unsuccessful = [], []
    for resource_id in resource_ids:
        status, error = "SUCCESS", None
        if destination_type == "s3":
            refusal = s3_delivery_refusal(backend.account_id, backend.partition,
                                          s3_bucket_of(params.get("LogDestination", "")))
            if refusal:
                unsuccessful.append({"ResourceId": resource_id, "Error": {"Code": "400", "Message": refusal}})
                continue
        elif destination_type == "cloud-watch-logs":
            # AWS takes a log group that does not exist (yet) and reports the delivery as failed.
            if params.get("LogGroupName") not in logs_backends[backend.account_id][backend.region_name].groups:
                status, error = "FAILED", "Access error"
        flow_log = MotoFlowLog(
            backend, random_flow_log_id(), resource_id, params.get("TrafficType"), params.get("LogDestination"),
            params.get("LogGroupName"), params.get("DeliverLogsPermissionArn"), interval, destination_type,
            params.get("LogFormat") or DEFAULT_FLOW_LOG_FORMAT, status, error)
        flow_log.add_tags(tags)
        backend.flow_logs[flow_log.id] = flow_log
        created.append(flow_log.id)
    return {"FlowLogIds": created, "Unsuccessful": unsuccessful}


# --- Wire ----------------------------------------------------------------------------------------


def _create_flow_logs(self: FlowLogsResponse, params: dict[str, Any]) -> dict[str, Any]:
    tags = {tag["Key"]: tag["Value"] for spec in params.get("TagSpecifications", [])
            if spec.get("ResourceType") == "vpc-flow-log" for tag in spec.get("Tags", [])}
    answer = with_client_token(
        self.ec2_backend, "CreateFlowLogs", params, "ClientToken",
        lambda: create_flow_logs(self.ec2_backend, params, tags),
        AwsError("IdempotentParameterMismatch", "Client token already used before with different parameters."))
    # AWS echoes the token it was given.
    return {**answer, "ClientToken": params["ClientToken"]} if params.get("ClientToken") else answer


GAPS: tuple[Gap, ...] = (
    Gap(
        "ec2", "CreateFlowLogs", "fix", FlowLogsResponse, _create_flow_logs,
        moto="an S3 subfolder (arn:aws:s3:::bucket/prefix) is taken as the bucket's name, so fails; "
             "another account's bucket needs no policy; a second flow log to the same destination is "
             "refused whatever its traffic type; ClientToken ignored",
        sandbox="the bucket of the ARN, in any account; another account's bucket must allow "
                "delivery.logs.amazonaws.com s3:PutObject; a duplicate is the same resource, traffic "
                "type and destination; a repeated ClientToken gets the first answer",
    ),
)
