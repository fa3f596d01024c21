"""The per-object gauges a security team alerts on, and the bounded book the posture report reads:
set from each reconcile's status and report, removed with the object, never one series per target."""

from prometheus_client import generate_latest

from vigil import metrics
from vigil.aws.errors import TargetError
from vigil.controls.base import Report, TargetReport
from vigil.controls.posture import MAX_PROBLEMS, PostureBook
from vigil.controls.status import summarize
from vigil.planning.actions import Action, Change

DRIFT = Action("222222222222/ca-central-1/b", "222222222222", "ca-central-1", "s3", "PutBucketVersioning",
               changes=(Change("versioning", "Suspended", "Enabled"),))


def value(metric: str, **labels: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(metric, labels)


def record(book: PostureBook, kind: str, name: str, report: Report, enforce: bool = True, spec=None):
    status, _ = summarize(report, {}, 1, enforce, "2026-12-07T12:00:00Z")
    return book.record(kind, "ns", name, status, report, enforce, spec)


def test_an_object_in_audit_with_drift_is_ready_not_compliant_with_targets_by_state():
    book = PostureBook()
    report = Report([TargetReport("222222222222/ca-central-1"), TargetReport("333333333333/ca-central-1",
                                                                              planned=[DRIFT]),
                     TargetReport("444444444444/eu-west-1", error=TargetError("AccessDenied", "no"))])
    posture = record(book, "FlowLogPolicy", "flows", report, enforce=False)
    labels = {"kind": "FlowLogPolicy", "namespace": "ns", "name": "flows"}
    assert value("vigil_object_ready", **labels) == 0  # a target refused: PartialFailure
    assert value("vigil_object_compliant", **labels) == 0
    assert value("vigil_object_stalled", **labels) == 1
    assert [value("vigil_object_targets", **labels, state=s) for s in ("compliant", "noncompliant", "failed")] == \
        [1, 1, 1]
    assert posture.accounts == {"222222222222": [1, 0, 0], "333333333333": [0, 1, 0], "444444444444": [0, 0, 1]}
    assert posture.regions == {"ca-central-1": [1, 1, 0], "eu-west-1": [0, 0, 1]}
    assert [(p.target, p.state, p.reason) for p in posture.problems] == [
        ("333333333333/ca-central-1", "noncompliant", "Drifted"), ("444444444444/eu-west-1", "failed", "AccessDenied")]


def test_held_weakenings_and_the_trail_integrity_gauges():
    book = PostureBook()
    status = {"conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled"},
                             {"type": "Compliant", "status": "True", "reason": "InSync"},
                             {"type": "IntegrityVerified", "status": "False", "reason": "NotVerified"}],
              "targets": {"total": 1, "compliant": 1, "failed": 0},
              "integrity": {"lastSuccessfulVerificationTime": "2026-12-07T10:00:00Z"}}
    book.record("OrgTrail", "ns", "trail", status, Report([TargetReport("t")]), True, {"integrity": {"interval": "2h"}})
    assert value("vigil_orgtrail_integrity_verified", namespace="ns", name="trail") == 0
    assert value("vigil_orgtrail_last_verification_timestamp_seconds", namespace="ns", name="trail") == 1796637600
    assert value("vigil_orgtrail_verification_interval_seconds", namespace="ns", name="trail") == 7200


def test_an_organizations_accounts_are_gauged_and_leavers_removed():
    book = PostureBook()
    reach = Report([TargetReport("111111111111"), TargetReport("222222222222", error=TargetError("AccountUnreachable",
                                                                                               "no"))])
    record(book, "Organization", "acme", reach)
    assert value("vigil_account_reachable", namespace="ns", organization="acme", account="111111111111") == 1
    assert value("vigil_account_reachable", namespace="ns", organization="acme", account="222222222222") == 0
    record(book, "Organization", "acme", Report([TargetReport("111111111111")]))
    assert value("vigil_account_reachable", namespace="ns", organization="acme", account="222222222222") is None


def test_a_deleted_object_leaves_no_series_behind():
    book = PostureBook()
    record(book, "GuardDutyOrg", "gone", Report([TargetReport("t")]))
    book.forget("GuardDutyOrg", "ns", "gone")
    assert 'name="gone"' not in generate_latest(metrics.REGISTRY).decode()
    assert [p.name for p in book.objects()] == []


def test_series_are_per_object_not_per_target_and_problems_are_capped():
    book = PostureBook()
    targets = [TargetReport(f"{100000000000 + i}/ca-central-1", planned=[DRIFT]) for i in range(MAX_PROBLEMS + 50)]
    posture = record(book, "ConfigBaseline", "many", Report(targets), enforce=False)
    assert len(posture.problems) == MAX_PROBLEMS
    assert sum(n[1] for n in posture.accounts.values()) == MAX_PROBLEMS + 50, "counts stay exact"
    exposed = [line for line in generate_latest(metrics.REGISTRY).decode().splitlines() if 'name="many"' in line]
    # ready, compliant, stalled, three target states, held, conflicts, last reconcile
    assert len(exposed) == 9, exposed


def test_a_reconcile_that_could_not_run_keeps_the_targets_last_known_state():
    book = PostureBook()
    record(book, "LogArchive", "central", Report([TargetReport("222222222222/ca-central-1/b", planned=[DRIFT])]),
           enforce=False)
    status = {"conditions": [{"type": "Ready", "status": "False", "reason": "DependencyNotReady"}]}
    posture = book.record("LogArchive", "ns", "central", status, None, True)
    assert posture.accounts == {"222222222222": [0, 1, 0]} and len(posture.problems) == 1


def test_only_regions_count_as_regions():
    book = PostureBook()
    posture = record(book, "Guardrails", "guardrails", Report([TargetReport("123456789012/scp"),
                                                               TargetReport("123456789012/us-east-1/trail")]))
    assert posture.regions == {"us-east-1": [1, 0, 0]}
    assert posture.accounts == {"123456789012": [2, 0, 0]}
