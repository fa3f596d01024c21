"""No orphans, whatever fails: the whole example baseline converges with 30% of the answers to
create and put calls dropped after AWS applied them and the operator killed three times
mid-reconcile, and every kind of resource Vigil creates exists once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil_sandbox.faults import Fault, Faults
from vigil_sandbox.iam_coverage import gaps as iam_gaps
from vigil_sandbox.stack import Stack, is_ready_and_compliant

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
NS = "baseline"
# The objects of examples/ (kind, name), in the order they become Ready.
BASELINE = [("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail"),
            ("FlowLogPolicy", "vpc-flow-logs"), ("GuardDutyOrg", "guardduty"), ("ConfigBaseline", "config"),
            ("SecurityHubBaseline", "securityhub"), ("SessionLogging", "session-logging"),
            ("LogSubscriptionPolicy", "workload-logs")]
DROPPED = Fault(rate=0.3, operations=("Create*", "Put*"))


def apply_examples(stack: Stack) -> None:
    docs = [ROOT / "examples" / f for f in ("namespace.yaml", "organization.yaml", "logarchive.yaml",
                                            "orgtrail.yaml", "flowlogs.yaml", "guardduty.yaml", "config.yaml",
                                            "securityhub.yaml", "sessionlogging.yaml", "logsubscription.yaml")]
    stack.apply_files(docs)


def converged(stack: Stack, timeout: float) -> None:
    for kind, name in BASELINE:
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=timeout, what="Ready and Compliant")


def tags_of(pairs: list[dict[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {p[key]: p[value] for p in pairs}


def owned_resources(stack: Stack) -> Counter[tuple[str, ...]]:
    """Every resource Vigil creates whose count could go above one, by owner and place."""
    org = stack.organization
    accounts = [org["management"], org["log_archive"], org["security"], org["shared_network"], *org["workloads"]]
    found: Counter[tuple[str, ...]] = Counter()
    for account in accounts:
        for region in org["regions"]:
            kms = stack.aws("kms", account, region)
            for key in kms.list_keys()["Keys"]:
                owner = tags_of(kms.list_resource_tags(KeyId=key["KeyId"])["Tags"], "TagKey", "TagValue")
                if "vigil.dev/owner" in owner:
                    found[("kms key", account, region, owner["vigil.dev/owner"])] += 1
            ec2 = stack.aws("ec2", account, region)
            for flow_log in ec2.describe_flow_logs()["FlowLogs"]:
                owner = tags_of(flow_log.get("Tags", [])).get("vigil.dev/owner")
                if owner:
                    found[("flow log", account, region, flow_log["ResourceId"], owner)] += 1
            detectors = stack.aws("guardduty", account, region).list_detectors()["DetectorIds"]
            found[("guardduty detector", account, region)] += len(detectors)
    security, home = org["security"], org["regions"][0]
    for region in org["regions"]:
        hub = stack.aws("securityhub", security, region)
        found[("finding aggregator", region)] += len(hub.list_finding_aggregators()["FindingAggregators"])
    analyzers = stack.aws("accessanalyzer", security, home).list_analyzers()["analyzers"]
    found[("access analyzer",)] += len([a for a in analyzers if a["name"] == "vigil-org-analyzer"])
    trails = stack.aws("cloudtrail").describe_trails()["trailList"]
    found[("trail",)] += len([t for t in trails if t["Name"] == "vigil-org-trail"])
    aggregators = stack.aws("config", security, home).describe_configuration_aggregators()["ConfigurationAggregators"]
    found[("config aggregator",)] += len(aggregators)
    return found


def assert_each_once(stack: Stack) -> None:
    found = owned_resources(stack)
    twice = {what: n for what, n in found.items() if n > 1}
    assert not twice, f"duplicates: {twice}"
    kinds = Counter(what[0] for what, n in found.items() if n == 1)
    org = stack.organization
    shared_network_vpcs = sum(len(stack.aws("ec2", org["shared_network"], r).describe_vpcs()["Vpcs"])
                              for r in org["regions"])
    # The baseline made them all: the check above is no check if they are missing.
    assert kinds["flow log"] == shared_network_vpcs
    assert kinds["kms key"] >= 1 + len(org["regions"])  # the archive's, Session Manager's per account x region
    assert kinds["trail"] == kinds["access analyzer"] == kinds["config aggregator"] == 1


@pytest.fixture()
def stack(tmp_path: Path, controlplane) -> Iterator[Stack]:
    with Stack(tmp_path / "stack", namespaces=(NS,), controlplane=controlplane) as running:
        yield running
        missing = iam_gaps(running)
    if missing:
        pytest.fail(missing, pytrace=False)


def test_lost_answers_and_a_killed_operator_leave_no_duplicate(stack: Stack):
    """Both at once, the harder case: 30% of create and put answers lost for the whole run, and
    the operator SIGKILLed three times while it writes (as a node failure would)."""
    faults = Faults(stack.aws_endpoint)
    faults.set(seed=11, drop=DROPPED)
    apply_examples(stack)
    writes_seen = 0
    for _ in range(3):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(stack.calls().writes()) < writes_seen + 8:
            time.sleep(0.1)
        writes_seen = len(stack.calls().writes())
        stack.kill_operator()
        stack.start_operator()
    converged(stack, timeout=240)
    dropped = [c for c in stack.calls().calls() if c.fault == "drop"]
    faults.clear()
    assert writes_seen >= 24, "each kill came while the operator was writing"
    assert len(dropped) >= 10, "the answers were lost"
    assert_each_once(stack)
