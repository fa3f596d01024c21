"""FlowLogPolicy end to end: the real operator gives every shared-network VPC one flow log to the
log archive, next to the network team's own; corrects a deleted flow log and an ACCEPT-only
replacement within one resync; covers a new VPC at the next resync and drops a deleted one from
the count; `exclusive` removes other flow logs; a steady-state resync makes two reads per account
and region and no write; Audit reports drift and writes nothing; an invalid spec is InvalidSpec;
deletionPolicy Delete removes only the flow logs Vigil created."""

from __future__ import annotations

import time
from typing import Any

import pytest

from vigil_sandbox.seed import NETWORK_TEAM_BUCKET
from vigil_sandbox.stack import wait_until as stack_wait_until
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant

pytestmark = pytest.mark.e2e
NS = "baseline"
NAME = "vpc-flow-logs"
OWNER = f"{NS}/FlowLogPolicy/{NAME}"
SHARED_NETWORK = "444444444444"
REGIONS = ("ca-central-1", "us-east-1")
HOME = REGIONS[0]
ARCHIVE = "arn:aws:s3:::acme-log-archive/vpc-flow-logs"
RESYNC_SECONDS = 3  # conftest.RESYNC
ONE_RESYNC = RESYNC_SECONDS + 5  # a resync, a timer tick and the reconcile itself
VPCS_PER_REGION = 4  # the seeded three and the region's default VPC


_clients: dict[tuple[int, str], Any] = {}


def network(stack: Stack, region: str = HOME) -> Any:
    """An EC2 client in the shared-network account (assuming its role once per region)."""
    key = (id(stack), region)
    if key not in _clients:
        _clients[key] = stack.aws("ec2", SHARED_NETWORK, region)
    return _clients[key]


def flow_logs(stack: Stack, vpc_id: str, region: str = HOME) -> list[dict[str, Any]]:
    return network(stack, region).describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]


def owner(flow_log: dict[str, Any]) -> str | None:
    return next((t["Value"] for t in flow_log.get("Tags", []) if t["Key"] == "vigil.dev/owner"), None)


def right(flow_log: dict[str, Any]) -> bool:
    return (flow_log["TrafficType"], flow_log["LogDestinationType"], flow_log["LogDestination"]) == (
        "ALL", "s3", ARCHIVE)


def vpc_named(stack: Stack, name: str, region: str = HOME) -> str:
    return network(stack, region).describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"][0]["VpcId"]


def wait_until(what: str, check, timeout: float = ONE_RESYNC) -> None:
    stack_wait_until(what, check, timeout)


def policy(stack: Stack) -> dict[str, Any]:
    return stack.get("FlowLogPolicy", NS, NAME)


@pytest.fixture(scope="module")
def baseline(stack: Stack, manifest) -> Stack:
    for kind in ("Organization", "LogArchive", "FlowLogPolicy"):
        stack.apply(manifest(kind, NS))
    for kind, name in (("Organization", "acme"), ("LogArchive", "central"), ("FlowLogPolicy", NAME)):
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=60, what="Ready and Compliant")
    return stack


def test_every_shared_network_vpc_gets_one_flow_log_to_the_archive(baseline: Stack):
    status = policy(baseline)["status"]
    assert status["targets"] == {"total": 2 * VPCS_PER_REGION, "compliant": 2 * VPCS_PER_REGION, "failed": 0,
                                 "summary": "8/8"}
    for region in REGIONS:
        ec2 = network(baseline, region)
        for vpc in ec2.describe_vpcs()["Vpcs"]:
            ours = [f for f in flow_logs(baseline, vpc["VpcId"], region) if owner(f) == OWNER]
            assert len(ours) == 1 and right(ours[0]), (region, vpc["VpcId"], ours)
            assert ours[0]["MaxAggregationInterval"] == 600 and ours[0]["LogFormat"].startswith("${version}")
    team = [f for f in flow_logs(baseline, vpc_named(baseline, "shared-network-tools"))
            if f["LogDestination"] == f"arn:aws:s3:::{NETWORK_TEAM_BUCKET}"]
    assert len(team) == 1 and team[0]["TrafficType"] == "ACCEPT", "someone else's flow log is left alone"


def passes(operations: list[str]) -> list[str]:
    """The complete resync passes among one account x region's EC2 reads, in the order sent.

    The window opens and closes at arbitrary moments, so a pass may be cut at either end: a leading
    DescribeFlowLogs belongs to a pass begun before it, a trailing DescribeVpcs to one that ends
    after it. What is left must be whole passes, each DescribeVpcs then DescribeFlowLogs.
    """
    if operations[:1] == ["DescribeFlowLogs"]:
        operations = operations[1:]
    if operations[-1:] == ["DescribeVpcs"]:
        operations = operations[:-1]
    return operations


def test_steady_state_resync_reads_twice_per_account_region_and_writes_nothing(baseline: Stack):
    calls = baseline.calls()
    calls.reset()
    time.sleep(2 * RESYNC_SECONDS + 2)  # at least one whole pass, whatever the phase at reset
    recorded = sorted(calls.calls(), key=lambda c: c.index)
    assert [c for c in recorded if c.write] == []
    ec2 = [c for c in recorded if c.service == "ec2"]
    assert {c.operation for c in ec2} == {"DescribeVpcs", "DescribeFlowLogs"}
    assert {(c.account, c.region) for c in ec2} == {(SHARED_NETWORK, region) for region in REGIONS}
    for region in REGIONS:
        whole = passes([c.operation for c in ec2 if c.region == region])
        assert len(whole) >= 2, f"no whole resync pass in {region} within the window"
        assert whole == ["DescribeVpcs", "DescribeFlowLogs"] * (len(whole) // 2), (region, whole)


def test_flow_log_deleted_out_of_band_is_recreated(baseline: Stack):
    vpc = vpc_named(baseline, "shared-network-prod")
    [ours] = [f for f in flow_logs(baseline, vpc) if owner(f) == OWNER]
    network(baseline).delete_flow_logs(FlowLogIds=[ours["FlowLogId"]])
    wait_until("flow log recreated", lambda: any(owner(f) == OWNER and right(f) for f in flow_logs(baseline, vpc)))
    baseline.wait("FlowLogPolicy", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC, what="Compliant again")


def test_accept_only_replacement_gets_vigils_own_beside_it(baseline: Stack):
    vpc = vpc_named(baseline, "shared-network-dev")
    ec2 = network(baseline)
    [ours] = [f for f in flow_logs(baseline, vpc) if owner(f) == OWNER]
    # Someone "fixes" the VPC's logging: accepted traffic only, into the archive, untagged.
    created = ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ACCEPT",
                                   LogDestinationType="s3", LogDestination=ARCHIVE)
    assert created["Unsuccessful"] == []
    ec2.delete_flow_logs(FlowLogIds=[ours["FlowLogId"]])

    def covered() -> bool:
        logs = flow_logs(baseline, vpc)
        return any(owner(f) == OWNER and right(f) for f in logs)

    wait_until("the VPC covered by the right flow log again", covered)
    baseline.wait("FlowLogPolicy", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC, what="Compliant again")
    # The untagged one is nobody's: without adoptionPolicy Adopt, Vigil leaves it as it is.
    assert [f["TrafficType"] for f in flow_logs(baseline, vpc) if owner(f) is None] == ["ACCEPT"]
    ec2.delete_flow_logs(FlowLogIds=[f["FlowLogId"] for f in flow_logs(baseline, vpc) if owner(f) is None])


def test_new_vpc_is_covered_at_the_next_resync_and_a_deleted_one_leaves_the_count(baseline: Stack):
    ec2 = network(baseline)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    total = 2 * VPCS_PER_REGION + 1
    baseline.wait("FlowLogPolicy", NS, NAME, lambda o: is_ready_and_compliant(o)
                  and o["status"]["targets"]["total"] == total, timeout=ONE_RESYNC, what=f"{total} targets")
    assert [f for f in flow_logs(baseline, vpc) if owner(f) == OWNER and right(f)]
    ec2.delete_flow_logs(FlowLogIds=[f["FlowLogId"] for f in flow_logs(baseline, vpc)])
    ec2.delete_vpc(VpcId=vpc)
    baseline.wait("FlowLogPolicy", NS, NAME, lambda o: o["status"]["targets"]["total"] == total - 1
                  and is_ready_and_compliant(o), timeout=ONE_RESYNC, what="the deleted VPC out of the count")


def test_exclusive_removes_other_flow_logs_once_allowed(baseline: Stack):
    tools = vpc_named(baseline, "shared-network-tools")
    baseline.patch_spec("FlowLogPolicy", NS, NAME, {"exclusive": True})
    # Removing someone's flow log takes a log destination away: held until allowed.
    held = baseline.wait("FlowLogPolicy", NS, NAME, lambda o: condition(o, "Ready").get("reason") == "WeakeningHeld",
                         timeout=ONE_RESYNC, what="WeakeningHeld")
    assert 'vigil.dev/allow-weakening: "spec.exclusive=true"' in condition(held, "Ready")["message"]
    assert len(flow_logs(baseline, tools)) == 2
    baseline.annotate("FlowLogPolicy", NS, NAME, {"vigil.dev/allow-weakening": "spec.exclusive=true"})
    wait_until("the team's flow log removed", lambda: [owner(f) for f in flow_logs(baseline, tools)] == [OWNER])
    baseline.patch_spec("FlowLogPolicy", NS, NAME, {"exclusive": False})
    baseline.wait("FlowLogPolicy", NS, NAME, lambda o: o["metadata"]["generation"] == 3 and is_ready_and_compliant(o),
                  timeout=ONE_RESYNC, what="exclusive off")
    # The network team puts theirs back; without exclusive, it stays.
    ec2 = network(baseline)
    ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[tools], TrafficType="ACCEPT", LogDestinationType="s3",
                         LogDestination=f"arn:aws:s3:::{NETWORK_TEAM_BUCKET}")  # it stays: see the last test


def test_audit_reports_drift_and_never_writes(baseline: Stack, manifest):
    calls = baseline.calls()
    calls.reset()
    baseline.apply(manifest("Organization", "audit"))
    baseline.apply(manifest("LogArchive", "audit", managementPolicy="Audit"))
    # The workloads' production VPCs have no flow log at all: 3 accounts x 2 regions.
    baseline.apply(manifest("FlowLogPolicy", "audit", managementPolicy="Audit", scope="Workloads",
                            vpcSelector={"matchTags": {"env": "prod"}}))
    audited = baseline.wait("FlowLogPolicy", "audit", NAME, lambda o: condition(o, "Compliant").get("reason") == "Drifted",
                            timeout=30, what="Compliant=False Drifted")
    assert condition(audited, "Ready")["status"] == "True"
    assert condition(audited, "Compliant")["status"] == "False"
    assert audited["status"]["targets"]["total"] == 6 and audited["status"]["targets"]["compliant"] == 0
    failure = audited["status"]["failures"][0]
    assert failure["reason"] == "Drifted" and failure["target"].count("/") == 2
    assert failure["target"].split("/")[2].startswith("vpc-") and "flow_log: None -> 'ALL to" in failure["message"]
    last = audited["status"]["lastReconcileTime"]
    baseline.wait("FlowLogPolicy", "audit", NAME, lambda o: o["status"]["lastReconcileTime"] != last,
                  timeout=ONE_RESYNC, what="another resync")  # still read-only
    assert [c for c in calls.calls() if c.write] == []
    assert audited["status"]["driftCorrections"] == 0


def test_invalid_spec_is_refused(baseline: Stack, manifest):
    bad = manifest("FlowLogPolicy", "lifecycle", scope="Accounts")  # accountIds missing
    assert "spec.accountIds" in baseline.refusal(bad)
    assert not baseline.exists("FlowLogPolicy", "lifecycle", NAME)


def test_delete_policy_removes_only_what_vigil_created(baseline: Stack):
    tools = vpc_named(baseline, "shared-network-tools")
    baseline.patch_spec("FlowLogPolicy", NS, NAME, {"deletionPolicy": "Delete"})
    baseline.wait("FlowLogPolicy", NS, NAME, lambda o: o["metadata"]["generation"] == 4 and is_ready_and_compliant(o),
                  timeout=ONE_RESYNC, what="deletionPolicy applied")
    baseline.delete("FlowLogPolicy", NS, NAME)
    wait_until("the policy gone", lambda: not baseline.exists("FlowLogPolicy", NS, NAME), timeout=30)
    for region in REGIONS:
        ec2 = network(baseline, region)
        assert [f for f in ec2.describe_flow_logs()["FlowLogs"] if owner(f) == OWNER] == []
    assert [f["TrafficType"] for f in flow_logs(baseline, tools)] == ["ACCEPT"], "the team's flow log stays"
