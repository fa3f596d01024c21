"""FlowLogPolicy: one flow log per selected VPC, to the LogArchive bucket, desired vs observed.

A flow log cannot be modified, only created and deleted, so a wrong one is replaced: the right one
is created first and the wrong one deleted after, so the VPC is never unlogged. Deleting a flow
log configuration deletes no log data; what was delivered stays in the bucket.

Which flow logs are Vigil's to replace: the ones this policy owns (planning.ownership), and, when
the policy adopts (``adoptionPolicy: Adopt``), untagged ones that deliver into the LogArchive
bucket. Without adoption an untagged flow log is left as it is: one that already matches the spec
covers its VPC, a wrong one gets Vigil's own beside it. Flow logs to other destinations belong to
someone else and are left alone, unless ``exclusive`` says the VPC should have no other flow log
at all (a removal: held until ``spec.exclusive=true`` is allowed, see planning.weakening).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..api.flowlogs import FlowLogPolicySpec, VpcSelector
from ..state.flowlogs import FlowLog, FlowLogSettings, Vpc
from .ownership import Holding, Owner, judge
from .actions import Action, Change, diff

# What AWS records, and DescribeFlowLogs returns, when CreateFlowLogs is given no LogFormat: the
# version 2 fields. An empty spec.logFormat means this string, not "whatever is there".
DEFAULT_LOG_FORMAT = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
                      "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")
S3 = "s3"
# EC2 takes at most 200 values in one filter; more VPCs than that are described in chunks.
MAX_FILTER_VALUES = 200


@dataclass(frozen=True)
class FlowLogTarget:
    """One account x region of the policy, and where its flow logs deliver."""

    account_id: str
    region: str
    bucket: str  # the LogArchive bucket, in the log-archive account
    owner: Owner  # who signs what Vigil creates (planning.ownership)
    adopt: bool = False  # untagged flow logs into the archive are held to the spec (and replaced)

    @property
    def label(self) -> str:
        return f"{self.account_id}/{self.region}"

    def vpc_label(self, vpc_id: str) -> str:
        return f"{self.account_id}/{self.region}/{vpc_id}"


def destination_arn(bucket: str, prefix: str) -> str:
    return f"arn:aws:s3:::{bucket}/{prefix}" if prefix else f"arn:aws:s3:::{bucket}"


def desired_settings(spec: FlowLogPolicySpec, bucket: str) -> FlowLogSettings:
    return canonical(FlowLogSettings(
        traffic_type=spec.traffic_type, log_destination_type=S3,
        log_destination=destination_arn(bucket, spec.s3_key_prefix), log_format=spec.log_format,
        max_aggregation_interval=spec.max_aggregation_interval_seconds))


def canonical(settings: FlowLogSettings) -> FlowLogSettings:
    """Equal settings compare equal: AWS echoes the format as given (spacing included) and the
    default format when none was given; a destination may be written with a trailing slash."""
    return settings.model_copy(update={
        "log_format": " ".join(settings.log_format.split()) or DEFAULT_LOG_FORMAT,
        "log_destination": settings.log_destination.rstrip("/"),
    })


def bucket_of(settings: FlowLogSettings) -> str | None:
    """The bucket an S3 flow log delivers to; None for other destination types."""
    if settings.log_destination_type != S3 or not settings.log_destination.startswith("arn:"):
        return None
    return settings.log_destination.split(":", 5)[5].split("/", 1)[0]


def describe(settings: FlowLogSettings) -> str:
    """A flow log in a few words, for status messages: "ACCEPT to arn:aws:s3:::bucket/prefix"."""
    return f"{settings.traffic_type} to {settings.log_destination}"


# --- selection ---------------------------------------------------------------------------------


def vpc_filters(selector: VpcSelector) -> list[dict[str, Any]]:
    """DescribeVpcs filters for ``matchTags``, so AWS returns only the selected VPCs."""
    return [{"Name": f"tag:{key}", "Values": [value]} for key, value in sorted(selector.match_tags.items())]


def selects(selector: VpcSelector, vpc: Vpc) -> bool:
    return all(vpc.tags.get(key) == value for key, value in selector.match_tags.items())


def chunks(ids: list[str], size: int = MAX_FILTER_VALUES) -> list[list[str]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


# --- one VPC -----------------------------------------------------------------------------------


def is_governed(flow_log: FlowLog, target: FlowLogTarget) -> bool:
    """Whether this policy holds the flow log to its spec (and may replace it)."""
    verdict = judge(flow_log.tags, target.owner)
    if verdict.holding is Holding.UNOWNED:
        return target.adopt and bucket_of(flow_log.settings) == target.bucket
    return verdict.mine  # another policy's flow log is that policy's business


def _same_stream(a: FlowLogSettings, b: FlowLogSettings) -> bool:
    """Whether AWS may refuse ``b`` beside ``a`` ("FlowLogAlreadyExists: same configuration and log
    destination"). AWS does not say whether format and interval count, so a wrong flow log that
    differs only there is deleted before the right one is created: a moment unlogged, never stuck."""
    return (a.traffic_type, a.log_destination_type, a.log_destination) == (
        b.traffic_type, b.log_destination_type, b.log_destination)


def plan_vpc(spec: FlowLogPolicySpec, target: FlowLogTarget, vpc_id: str,
             flow_logs: tuple[FlowLog, ...] | list[FlowLog]) -> list[Action]:
    """The writes that leave ``vpc_id`` with exactly one flow log matching the spec."""
    desired = desired_settings(spec, target.bucket)
    label = target.vpc_label(vpc_id)
    # Vigil's own flow log first: when several match, the one it created is the one kept.
    governed = sorted((f for f in flow_logs if is_governed(f, target)),
                      key=lambda f: (not judge(f.tags, target.owner).mine, f.flow_log_id))
    keep = next((f for f in governed if canonical(f.settings) == desired), None)
    if keep is None:  # an untagged one that is right covers the VPC as it is, adopted or not
        keep = next((f for f in flow_logs if judge(f.tags, target.owner).holding is Holding.UNOWNED
                     and canonical(f.settings) == desired), None)
    stale = [f for f in governed if f is not keep]
    # exclusive removes other tools' flow logs, never another Vigil object's or installation's.
    foreign = [f for f in flow_logs if not is_governed(f, target) and f is not keep
               and judge(f.tags, target.owner).holding is not Holding.OTHERS] if spec.exclusive else []

    def delete(logs: list[FlowLog], why: str) -> Action:
        return Action(label, target.account_id, target.region, "ec2", "DeleteFlowLogs",
                      {"FlowLogIds": [f.flow_log_id for f in logs]},
                      tuple(Change(f"flow_log.{f.flow_log_id}", describe(f.settings), why,
                                   "spec.exclusive" if why == "exclusive" else "") for f in logs))

    actions: list[Action] = []
    if keep is None:
        clashing = [f for f in stale if _same_stream(canonical(f.settings), desired)]
        if clashing:
            actions.append(delete(clashing, "replaced"))
            stale = [f for f in stale if f not in clashing]
        wrong = clashing or stale
        changes = (tuple(diff(desired, canonical(wrong[0].settings))) if wrong
                   else (Change("flow_log", None, describe(desired)),))
        actions.append(Action(label, target.account_id, target.region, "ec2", "CreateFlowLogs",
                              create_params(spec, target, vpc_id), changes, creates=not wrong))
    if stale:
        actions.append(delete(stale, "replaced"))
    if foreign:
        actions.append(delete(foreign, "exclusive"))
    return actions


def create_params(spec: FlowLogPolicySpec, target: FlowLogTarget, vpc_id: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ResourceType": "VPC",
        "ResourceIds": [vpc_id],
        "TrafficType": spec.traffic_type,
        "LogDestinationType": S3,
        "LogDestination": destination_arn(target.bucket, spec.s3_key_prefix),
        "MaxAggregationInterval": spec.max_aggregation_interval_seconds,
        "TagSpecifications": [{"ResourceType": "vpc-flow-log",
                               "Tags": target.owner.tag_list()}],
    }
    if spec.log_format:
        params["LogFormat"] = spec.log_format
    return params
