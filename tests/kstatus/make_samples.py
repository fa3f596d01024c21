"""Write tests/states/sample-*.json: statuses made by Vigil's own status code, one per health state.

    .venv/bin/python tests/kstatus/make_samples.py           # rewrite the samples
    .venv/bin/python tests/kstatus/make_samples.py --check   # exit 1 when a sample is stale

The end-to-end tests record the states they reach beside these, in the same format
({"scenario", "object": {apiVersion, kind, metadata, status}}). The samples cover states worth
having whatever the e2e tests record: each one is what vigil.controls.status (summarize, blocked)
and vigil.conditions write for a reconcile report, at a fixed clock, so they change only when
that code does. Their expected health is in tests/states/expected.yaml.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from vigil import conditions as c
from vigil.controls.base import Report, TargetReport
from vigil.controls.integrity import NOT_VERIFIED
from vigil.controls.status import blocked, summarize
from vigil.planning.actions import Action, Change
from vigil.planning.integrity import FindingKind
from vigil.planning.weakening import Weakening

STATES = Path(__file__).resolve().parents[1] / "states"
API_VERSION = "vigil.dev/v1alpha1"
NAMESPACE = "baseline"
BEFORE, NOW = "2026-11-27T10:00:00Z", "2026-11-27T10:05:00Z"
ACCOUNTS = ["111111111111", "222222222222"]


def reached(kind: str) -> Report:
    """Every target in place and matching the spec."""
    return Report([TargetReport(f"{account}/eu-west-1/{kind.lower()}") for account in ACCOUNTS])


def settled(kind: str, generation: int) -> dict[str, Any]:
    """The status after a reconcile that found everything as the spec says."""
    status, _ = summarize(reached(kind), {}, generation, True, BEFORE)
    return status


def ready_and_compliant() -> tuple[str, int, dict[str, Any]]:
    return "FlowLogPolicy", 3, settled("FlowLogPolicy", 3)


def weakening_held() -> tuple[str, int, dict[str, Any]]:
    # The retention edited to one day, without the allowance that names it.
    target = "222222222222/eu-west-1/acme-logs"
    change = Change("lifecycle.expire_after_days", 2555, 1, spec="spec.retention.expireAfterDays")
    action = Action(target, "222222222222", "eu-west-1", "s3", "PutBucketLifecycleConfiguration",
                    changes=(change,))
    held = Weakening(target, "retention.expireAfterDays", 2555, 1, "spec.retention.expireAfterDays=1")
    report = Report([TargetReport(target, planned=[action], withheld=[action], held=[held])])
    status, _ = summarize(report, settled("LogArchive", 3), 4, True, NOW)
    return "LogArchive", 4, status


def dependency_not_ready() -> tuple[str, int, dict[str, Any]]:
    status, _ = blocked({}, 1, c.DEPENDENCY_NOT_READY, "spec.logArchiveRef.name: LogArchive central is not Ready",
                        NOW)
    return "GuardDutyOrg", 1, status


def integrity_not_verified() -> tuple[str, int, dict[str, Any]]:
    # The trail is in place (Ready, Compliant), and one of its log files no longer matches its digest.
    target = "222222222222/eu-west-1/acme-logs/cloudtrail/AWSLogs/o-abc/111111111111/CloudTrail/eu-west-1"
    message = f"{target}/2026/11/27/log.json.gz: SHA-256 differs from the digest's"
    report = reached("OrgTrail")
    report.findings.append({"target": target, "reason": FindingKind.LOG_FILE_MODIFIED.value, "message": message})
    status, _ = summarize(report, settled("OrgTrail", 2), 2, True, NOW)
    status["conditions"] = c.set_condition(status["conditions"], c.INTEGRITY_VERIFIED, "False", NOT_VERIFIED,
                                           f"1 finding: {FindingKind.LOG_FILE_MODIFIED.value} {message}", 2, NOW)
    return "OrgTrail", 2, status


def drifted_in_audit() -> tuple[str, int, dict[str, Any]]:
    # Audit mode observes and reports, never writes: a recorder switched off stays off, and says so.
    target = "111111111111/eu-west-1/default"
    action = Action(target, "111111111111", "eu-west-1", "config", "StartConfigurationRecorder",
                    changes=(Change("recording", False, True),))
    report = Report([TargetReport(target, planned=[action]), TargetReport("222222222222/eu-west-1/default")])
    status, _ = summarize(report, settled("ConfigBaseline", 2), 2, False, NOW)
    return "ConfigBaseline", 2, status


def generation_not_observed() -> tuple[str, int, dict[str, Any]]:
    # The spec was just edited (generation 6); the status still describes generation 5, all green.
    return "SecurityHubBaseline", 6, settled("SecurityHubBaseline", 5)


SAMPLES = {
    "sample-ready-compliant": ready_and_compliant,
    "sample-weakening-held": weakening_held,
    "sample-dependency-not-ready": dependency_not_ready,
    "sample-integrity-not-verified": integrity_not_verified,
    "sample-drifted-in-audit": drifted_in_audit,
    "sample-generation-not-observed": generation_not_observed,
}


def render(scenario: str) -> str:
    kind, generation, status = SAMPLES[scenario]()
    obj = {"apiVersion": API_VERSION, "kind": kind,
           "metadata": {"name": scenario.removeprefix("sample-"), "namespace": NAMESPACE, "generation": generation},
           "status": status}
    return json.dumps({"scenario": scenario, "object": obj}, indent=2) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for scenario in SAMPLES:
        path = STATES / f"{scenario}.json"
        wanted = render(scenario)
        if "--check" in argv:
            if not path.exists() or path.read_text() != wanted:
                stale.append(path.name)
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(wanted)
    if stale:
        print(f"stale: {', '.join(stale)}; run: python tests/kstatus/make_samples.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
