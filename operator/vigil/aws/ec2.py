"""EC2: the VPCs of an account and region, their flow logs, and flow log writes that report
failure in the answer instead of raising."""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from ..planning.flowlogs import chunks
from ..planning.ownership import OWNER_TAG, Owner, created_by
from ..state.flowlogs import FlowLog, FlowLogSettings, NetworkState, Vpc
from .session import AwsAccess

FLOW_LOG_NOT_FOUND = "InvalidFlowLogId.NotFound"


def observe_network(access: AwsAccess, account_id: str, region: str,
                    vpc_filters: list[dict[str, Any]]) -> NetworkState:
    """The VPCs ``vpc_filters`` select and their flow logs: two reads while there are at most 200
    VPCs, one when there is none."""
    ec2 = access.client("ec2", account_id, region)
    vpcs = [_vpc(v) for page in ec2.get_paginator("describe_vpcs").paginate(Filters=vpc_filters)
            for v in page["Vpcs"]]
    flow_logs = []
    for ids in chunks(sorted(v.vpc_id for v in vpcs)):
        pages = ec2.get_paginator("describe_flow_logs").paginate(Filters=[{"Name": "resource-id", "Values": ids}])
        flow_logs += [_flow_log(f) for page in pages for f in page["FlowLogs"]]
    return NetworkState(vpcs=tuple(sorted(vpcs, key=lambda v: v.vpc_id)), flow_logs=tuple(flow_logs))


def owned_flow_log_ids(access: AwsAccess, account_id: str, region: str, owner: Owner) -> list[str]:
    ec2 = access.client("ec2", account_id, region)
    pages = ec2.get_paginator("describe_flow_logs").paginate(
        Filters=[{"Name": f"tag:{OWNER_TAG}", "Values": [owner.value, owner.legacy_value]}])
    return [f["FlowLogId"] for page in pages for f in page["FlowLogs"] if created_by(_tags(f.get("Tags")), owner)]


def delete_owned_flow_logs(access: AwsAccess, account_id: str, region: str, owner: Owner) -> int:
    """Delete the flow logs ``owner`` owns; how many there were."""
    ids = owned_flow_log_ids(access, account_id, region, owner)
    if ids:
        delete_flow_logs(access.client("ec2", account_id, region), {"FlowLogIds": ids})
    return len(ids)


def _tags(raw: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in raw or []}


def _vpc(raw: dict[str, Any]) -> Vpc:
    return Vpc(vpc_id=raw["VpcId"], tags=_tags(raw.get("Tags")), is_default=bool(raw.get("IsDefault")))


def _flow_log(raw: dict[str, Any]) -> FlowLog:
    destination_type = raw.get("LogDestinationType") or "cloud-watch-logs"
    return FlowLog(
        flow_log_id=raw["FlowLogId"], resource_id=raw.get("ResourceId", ""), tags=_tags(raw.get("Tags")),
        settings=FlowLogSettings(
            traffic_type=raw.get("TrafficType", ""),
            log_destination_type=destination_type,
            log_destination=raw.get("LogDestination") or raw.get("LogGroupName") or "",
            log_format=raw.get("LogFormat") or "",
            max_aggregation_interval=int(raw.get("MaxAggregationInterval") or 600)))


# --- writes (see vigil.aws.apply) ----------------------------------------------------------------


def create_flow_logs(client: Any, params: dict[str, Any]) -> None:
    """CreateFlowLogs answers 200 with the resources it could not cover in "Unsuccessful" (a
    destination that does not exist or refuses delivery): that is a failure of the target.

    botocore does not fill EC2's ClientToken, so Vigil does, once per create: its own retries of
    a request whose answer was lost then get the first answer instead of a second flow log. A
    fresh token per create, not one derived from the spec: AWS would answer a deleted flow log's
    id to a token it has seen, and never make the flow log again."""
    answer = client.create_flow_logs(**{"ClientToken": str(uuid.uuid4()), **params})
    _raise_unsuccessful("CreateFlowLogs", answer.get("Unsuccessful") or [])


def delete_flow_logs(client: Any, params: dict[str, Any]) -> None:
    """A flow log already gone is what the delete wanted."""
    try:
        answer = client.delete_flow_logs(**params)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == FLOW_LOG_NOT_FOUND:
            return
        raise
    failed = [u for u in answer.get("Unsuccessful") or [] if (u.get("Error") or {}).get("Code") != FLOW_LOG_NOT_FOUND]
    _raise_unsuccessful("DeleteFlowLogs", failed)



def _raise_unsuccessful(operation: str, unsuccessful: list[dict[str, Any]]) -> None:
    if not unsuccessful:
        return
    first = unsuccessful[0]
    error = first.get("Error") or {}
    code = error.get("Code") or "Unsuccessful"
    message = f"{first.get('ResourceId', '')}: {error.get('Message', '')}".strip(": ")
    # Shaped as botocore would raise it, so vigil.aws.errors.classify sorts it like any other.
    if "access denied" in message.lower():
        code = "AccessDenied"
    raise ClientError({"Error": {"Code": code, "Message": message}}, operation)
