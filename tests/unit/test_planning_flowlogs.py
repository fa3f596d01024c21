"""FlowLogPolicy planner: which flow logs a VPC needs created, replaced or removed, table-driven,
without and with adoption (an untagged flow log into the archive is replaced only when the policy
adopts); exclusive removals naming spec.exclusive; the comparison with what AWS echoes (default
format, trailing slash); VPC selection by tags."""

from __future__ import annotations

import pytest

from vigil.api.flowlogs import FlowLogPolicySpec, VpcSelector
from vigil.planning.flowlogs import (DEFAULT_LOG_FORMAT, FlowLogTarget, chunks, desired_settings, plan_vpc, selects,
                                     vpc_filters)
from vigil.planning.ownership import OWNER_TAG, Owner
from vigil.state.flowlogs import FlowLog, FlowLogSettings, Vpc

BUCKET = "acme-log-archive"
OWNER = Owner("baseline", "FlowLogPolicy", "vpc-flow-logs", "default", "uid-1")
OTHER_POLICY = Owner("other", "FlowLogPolicy", "policy", "default", "uid-2")
TARGET = FlowLogTarget("444444444444", "ca-central-1", BUCKET, OWNER)
ADOPTING = FlowLogTarget("444444444444", "ca-central-1", BUCKET, OWNER, adopt=True)
VPC = "vpc-0abc"
ARCHIVE = f"arn:aws:s3:::{BUCKET}/vpc-flow-logs"


def spec(**fields) -> FlowLogPolicySpec:
    return FlowLogPolicySpec.model_validate(
        {"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"}, **fields})


def flow_log(id_: str, traffic: str = "ALL", destination: str = ARCHIVE, kind: str = "s3",
             fmt: str = DEFAULT_LOG_FORMAT, interval: int = 600, owner: Owner | None = OWNER,
             tags: dict[str, str] | None = None) -> FlowLog:
    all_tags = {**(owner.tags() if owner else {}), **(tags or {})}
    return FlowLog(flow_log_id=id_, resource_id=VPC, tags=all_tags, settings=FlowLogSettings(
        traffic_type=traffic, log_destination_type=kind, log_destination=destination, log_format=fmt,
        max_aggregation_interval=interval))


def ops(actions) -> list[tuple[str, list[str] | None]]:
    """(operation, the flow log ids it deletes) for each action, in order."""
    return [(a.operation, a.params.get("FlowLogIds")) for a in actions]


CREATE = ("CreateFlowLogs", None)
OTHER_BUCKET = "arn:aws:s3:::someone-elses-bucket/flows"


# Untagged flow logs are nobody's: without adoption they are never replaced nor removed (unless
# exclusive), and one that is right covers the VPC as it is. Each row: (case, spec fields, existing
# flow logs, expected without adoption, expected with adoptionPolicy: Adopt).
@pytest.mark.parametrize("case, spec_fields, existing, expected, adopted", [
    ("no flow log: create", {}, [], [CREATE], [CREATE]),
    ("ours and right: nothing", {}, [flow_log("fl-1")], [], []),
    ("right but untagged: covers the VPC, nothing written", {}, [flow_log("fl-1", owner=None)], [], []),
    ("ours ACCEPT only: create, then delete", {}, [flow_log("fl-1", traffic="ACCEPT")],
     [CREATE, ("DeleteFlowLogs", ["fl-1"])], [CREATE, ("DeleteFlowLogs", ["fl-1"])]),
    ("untagged ACCEPT only to the archive: ours beside it; replaced only when adopting", {},
     [flow_log("fl-1", traffic="ACCEPT", owner=None)], [CREATE], [CREATE, ("DeleteFlowLogs", ["fl-1"])]),
    ("ours to another bucket: replaced", {}, [flow_log("fl-1", destination=OTHER_BUCKET)],
     [CREATE, ("DeleteFlowLogs", ["fl-1"])], [CREATE, ("DeleteFlowLogs", ["fl-1"])]),
    ("ours with another prefix: replaced", {}, [flow_log("fl-1", destination=f"arn:aws:s3:::{BUCKET}/old")],
     [CREATE, ("DeleteFlowLogs", ["fl-1"])], [CREATE, ("DeleteFlowLogs", ["fl-1"])]),
    ("ours tagged the old way (namespace/name): still ours, replaced", {},
     [flow_log("fl-1", traffic="ACCEPT", owner=None, tags={OWNER_TAG: OWNER.legacy_value})],
     [CREATE, ("DeleteFlowLogs", ["fl-1"])], [CREATE, ("DeleteFlowLogs", ["fl-1"])]),
    ("same stream, wrong format: delete first (AWS refuses a duplicate)", {},
     [flow_log("fl-1", fmt="${srcaddr} ${dstaddr}")], [("DeleteFlowLogs", ["fl-1"]), CREATE],
     [("DeleteFlowLogs", ["fl-1"]), CREATE]),
    ("same stream, wrong interval: delete first", {}, [flow_log("fl-1", interval=60)],
     [("DeleteFlowLogs", ["fl-1"]), CREATE], [("DeleteFlowLogs", ["fl-1"]), CREATE]),
    ("untagged, same stream, wrong interval: deleted first only when adopting", {},
     [flow_log("fl-1", interval=60, owner=None)], [CREATE], [("DeleteFlowLogs", ["fl-1"]), CREATE]),
    ("someone else's to CloudWatch Logs: left alone, ours created", {},
     [flow_log("fl-9", kind="cloud-watch-logs", destination="arn:aws:logs:ca-central-1:444444444444:log-group:x",
               owner=None)], [CREATE], [CREATE]),
    ("someone else's to another bucket: left alone", {}, [flow_log("fl-9", destination=OTHER_BUCKET, owner=None),
                                                         flow_log("fl-1")], [], []),
    ("exclusive: someone else's removed", {"exclusive": True},
     [flow_log("fl-9", destination=OTHER_BUCKET, owner=None), flow_log("fl-1")], [("DeleteFlowLogs", ["fl-9"])],
     [("DeleteFlowLogs", ["fl-9"])]),
    ("exclusive: a right untagged one is the VPC's flow log, not removed", {"exclusive": True},
     [flow_log("fl-0", owner=None)], [], []),
    ("exclusive: a wrong untagged one to the archive goes after ours is created", {"exclusive": True},
     [flow_log("fl-0", traffic="REJECT", owner=None)], [CREATE, ("DeleteFlowLogs", ["fl-0"])],
     [CREATE, ("DeleteFlowLogs", ["fl-0"])]),
    ("exclusive: another Vigil object's or installation's is never removed", {"exclusive": True},
     [flow_log("fl-7", destination=OTHER_BUCKET, owner=OTHER_POLICY),
      flow_log("fl-8", destination=OTHER_BUCKET, owner=Owner("baseline", "FlowLogPolicy", "vpc-flow-logs", "prod")),
      flow_log("fl-1")], [], []),
    ("another policy's flow log to the archive: not ours to replace", {},
     [flow_log("fl-7", traffic="REJECT", owner=OTHER_POLICY), flow_log("fl-1")], [], []),
    ("two right ones: ours kept; the untagged duplicate removed only when adopting", {},
     [flow_log("fl-0", owner=None, fmt=DEFAULT_LOG_FORMAT + " "), flow_log("fl-1")], [],
     [("DeleteFlowLogs", ["fl-0"])]),
    ("spec format: the default one is wrong", {"logFormat": "${version} ${srcaddr} ${dstaddr}"},
     [flow_log("fl-1")], [("DeleteFlowLogs", ["fl-1"]), CREATE], [("DeleteFlowLogs", ["fl-1"]), CREATE]),
    ("spec REJECT, 60 s: the ALL one is replaced", {"trafficType": "REJECT", "maxAggregationIntervalSeconds": 60},
     [flow_log("fl-1")], [CREATE, ("DeleteFlowLogs", ["fl-1"])], [CREATE, ("DeleteFlowLogs", ["fl-1"])]),
])
def test_plan_vpc(case, spec_fields, existing, expected, adopted):
    assert ops(plan_vpc(spec(**spec_fields), TARGET, VPC, existing)) == expected, case
    assert ops(plan_vpc(spec(**spec_fields), ADOPTING, VPC, existing)) == adopted, f"{case} (adopting)"


def test_an_exclusive_removal_names_spec_exclusive_and_a_replacement_does_not():
    """The allowance for removing another tool's flow log is spec.exclusive; a replacement needs none."""
    [delete] = plan_vpc(spec(exclusive=True), TARGET, VPC,
                        [flow_log("fl-9", destination=OTHER_BUCKET, owner=None), flow_log("fl-1")])
    assert [(c.path, c.after, c.spec) for c in delete.changes] == [("flow_log.fl-9", "exclusive", "spec.exclusive")]
    _, replace = plan_vpc(spec(), TARGET, VPC, [flow_log("fl-1", traffic="ACCEPT")])
    assert [(c.after, c.spec) for c in replace.changes] == [("replaced", "")]


@pytest.mark.parametrize("observed", [
    pytest.param(dict(fmt=DEFAULT_LOG_FORMAT), id="AWS echoes the default format for an empty spec"),
    pytest.param(dict(fmt="  " + DEFAULT_LOG_FORMAT.replace(" ", "  ")), id="spacing does not matter"),
    pytest.param(dict(destination=ARCHIVE + "/"), id="a trailing slash does not matter"),
])
def test_equal_settings_compare_equal(observed):
    assert plan_vpc(spec(), TARGET, VPC, [flow_log("fl-1", **observed)]) == []


def test_creation_is_tagged_and_names_the_archive_destination():
    [create] = plan_vpc(spec(), TARGET, VPC, [])
    assert create.params == {
        "ResourceType": "VPC", "ResourceIds": [VPC], "TrafficType": "ALL", "LogDestinationType": "s3",
        "LogDestination": ARCHIVE, "MaxAggregationInterval": 600,
        "TagSpecifications": [{"ResourceType": "vpc-flow-log", "Tags": [
            {"Key": "vigil.dev/owner", "Value": "baseline/FlowLogPolicy/vpc-flow-logs"},
            {"Key": "vigil.dev/installation", "Value": "default"}, {"Key": "vigil.dev/uid", "Value": "uid-1"}]}]}
    assert create.creates and create.target == f"444444444444/ca-central-1/{VPC}"
    assert [str(c) for c in create.changes] == [f"flow_log: None -> 'ALL to {ARCHIVE}'"]


def test_custom_format_is_sent_and_an_empty_prefix_is_the_bucket():
    [create] = plan_vpc(spec(logFormat="${srcaddr} ${dstaddr}", s3KeyPrefix=""), TARGET, VPC, [])
    assert create.params["LogFormat"] == "${srcaddr} ${dstaddr}"
    assert create.params["LogDestination"] == f"arn:aws:s3:::{BUCKET}"


def test_a_replacement_is_drift_and_names_what_differs():
    create, delete = plan_vpc(spec(), ADOPTING, VPC, [flow_log("fl-1", traffic="ACCEPT", owner=None)])
    assert not create.creates and not delete.creates, "replacing what was there is correcting drift"
    assert [str(c) for c in create.changes] == ["traffic_type: 'ACCEPT' -> 'ALL'"]
    assert [str(c) for c in delete.changes] == [f"flow_log.fl-1: 'ACCEPT to {ARCHIVE}' -> 'replaced'"]


def test_desired_settings_are_canonical():
    assert desired_settings(spec(), BUCKET).log_format == DEFAULT_LOG_FORMAT
    assert desired_settings(spec(s3KeyPrefix="a/b"), BUCKET).log_destination == f"arn:aws:s3:::{BUCKET}/a/b"


@pytest.mark.parametrize("match_tags, tags, selected", [
    ({}, {}, True),
    ({"env": "prod"}, {"env": "prod", "Name": "x"}, True),
    ({"env": "prod"}, {"env": "dev"}, False),
    ({"env": "prod", "tier": "net"}, {"env": "prod"}, False),
])
def test_vpc_selection_by_tags(match_tags, tags, selected):
    selector = VpcSelector(match_tags=match_tags)
    assert selects(selector, Vpc(vpc_id=VPC, tags=tags)) is selected
    assert vpc_filters(selector) == [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(match_tags.items())]


def test_flow_logs_are_described_200_vpcs_at_a_time():
    assert [len(c) for c in chunks([f"vpc-{i}" for i in range(401)])] == [200, 200, 1]
    assert chunks([]) == []


def test_scope_accounts_needs_account_ids():
    with pytest.raises(ValueError, match="accountIds"):
        spec(scope="Accounts")
    assert spec(scope="Accounts", accountIds=["555555555555"]).account_ids == ["555555555555"]
