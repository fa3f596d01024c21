"""From a reconcile report to status and Events: Ready, Compliant, counts, drift corrections."""

from vigil.aws.errors import TargetError
from vigil.conditions import get_condition
from vigil.controls.base import Report, TargetReport
from vigil.controls.status import blocked, summarize
from vigil.planning.actions import Action, Change

FIX = Action("222222222222/ca-central-1/b", "222222222222", "ca-central-1", "s3", "PutBucketVersioning",
             changes=(Change("versioning", "Suspended", "Enabled"),))
CREATE = Action("222222222222/ca-central-1/b", "222222222222", "ca-central-1", "s3", "CreateBucket", creates=True)


def cond(status, type_):
    return get_condition(status["conditions"], type_)


def test_all_in_sync_is_ready_and_compliant_with_counts():
    status, events = summarize(Report([TargetReport("a"), TargetReport("b")]), {}, 2, True, "T")
    assert (cond(status, "Ready")["status"], cond(status, "Compliant")["status"]) == ("True", "True")
    assert status["targets"] == {"total": 2, "compliant": 2, "failed": 0, "summary": "2/2"}
    assert status["observedGeneration"] == 2 and status["failures"] == []
    assert [e.reason for e in events] == ["Ready"], "first Ready is announced once"
    _, again = summarize(Report([TargetReport("a")]), status, 2, True, "T2")
    assert again == []


def test_audit_drift_is_not_compliant_and_names_the_change():
    report = Report([TargetReport("t", planned=[FIX])])
    status, events = summarize(report, {}, 1, False, "T")
    compliant = cond(status, "Compliant")
    assert compliant["status"] == "False" and compliant["reason"] == "Drifted"
    assert "versioning: 'Suspended' -> 'Enabled'" in compliant["message"]
    assert status["failures"] == [{"target": "t", "reason": "Drifted", "message": "versioning: 'Suspended' -> 'Enabled'"}]
    assert status["driftCorrections"] == 0
    assert "Drifted" in [e.reason for e in events]


def test_correction_after_compliance_counts_and_warns_but_first_build_does_not():
    built, _ = summarize(Report([TargetReport("t", planned=[CREATE], applied=[CREATE])]), {}, 1, True, "T1")
    assert built["driftCorrections"] == 0
    fixed, events = summarize(Report([TargetReport("t", planned=[FIX], applied=[FIX])]), built, 1, True, "T2")
    assert fixed["driftCorrections"] == 1
    assert cond(fixed, "Compliant")["reason"] == "DriftCorrected"
    assert [e.type for e in events if e.reason == "DriftCorrected"] == ["Warning"]


def test_one_failed_target_does_not_hide_the_others():
    report = Report([TargetReport("ok"), TargetReport("bad", error=TargetError("AccessDenied", "no role"))])
    status, events = summarize(report, {}, 1, True, "T")
    assert cond(status, "Ready")["reason"] == "PartialFailure"
    assert status["targets"] == {"total": 2, "compliant": 1, "failed": 1, "summary": "1/2"}
    assert status["failures"][0]["target"] == "bad" and status["failures"][0]["reason"] == "AccessDenied"
    assert [e.reason for e in events] == ["AccessDenied"]
    _, repeat = summarize(report, status, 1, True, "T2")
    assert repeat == [], "a failure already reported is not announced again"


def test_all_targets_failing_for_one_reason_says_that_reason():
    report = Report([TargetReport("x", error=TargetError("Throttled", "slow"))])
    assert cond(summarize(report, {}, 1, True, "T")[0], "Ready")["reason"] == "Throttled"


def test_failures_are_bounded_to_twenty():
    report = Report([TargetReport(f"t{i}", error=TargetError("AccessDenied", "x")) for i in range(50)])
    assert len(summarize(report, {}, 1, True, "T")[0]["failures"]) == 20


def test_blocked_keeps_ready_false_with_reason_and_compliant_unknown():
    status, events = blocked({}, 4, "InvalidSpec", "spec.x: bad", "T")
    assert cond(status, "Ready")["reason"] == "InvalidSpec" and cond(status, "Compliant")["status"] == "Unknown"
    assert status["observedGeneration"] == 4 and [e.reason for e in events] == ["InvalidSpec"]
    _, again = blocked(status, 4, "InvalidSpec", "spec.x: bad", "T2")
    assert again == []


def test_group_failures_are_kept_per_target():
    """A group (account x region) reports its targets one by one; one target's AWS error does not
    stop the next, and a group that cannot be observed at all is one failed target."""
    from botocore.exceptions import ClientError

    from vigil.controls.base import Context, run_groups

    def denied(_):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeVpcs")

    def group(g):
        g.target("a/r/vpc-1", denied)
        g.target("a/r/vpc-2", lambda run: None)

    ctx = Context("FlowLogPolicy", "ns", "n", spec=None, mode="Audit", access=None, organization=None)
    reports = run_groups(ctx, [("a/r", group), ("b/r", lambda g: denied(None))])
    assert [(r.target, r.error.reason if r.error else None) for r in reports] == [
        ("a/r/vpc-1", "AccessDenied"), ("a/r/vpc-2", None), ("b/r", "AccessDenied")]
