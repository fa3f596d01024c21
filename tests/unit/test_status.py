"""From a reconcile report to status and Events: Ready, Compliant, counts, drift corrections; and
what the guard kept back: Conflict (another's resource), AdoptionRequired (nobody's), WeakeningHeld
(the change and the annotation that allows it), in that order, and the weakenings made under an
allowance (status.allowedWeakenings, most recent first, bounded; a Warning event each)."""

from vigil.aws.errors import TargetError
from vigil.conditions import get_condition
from vigil.controls.base import Report, TargetReport
from vigil.controls.guard import Blocked
from vigil.controls.status import blocked, summarize
from vigil.planning.actions import Action, Change
from vigil.planning.weakening import ALLOW_ANNOTATION, classify

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


# --- what the guard kept back ------------------------------------------------------------------------

BUCKET = "222222222222/ca-central-1/acme-log-archive"
SHORTER = Action(BUCKET, "222222222222", "ca-central-1", "s3", "PutBucketLifecycleConfiguration",
                 changes=(Change("lifecycle", {"expire_after_days": 2555}, {"expire_after_days": 30}),))
[SHORTER_W] = classify(SHORTER)
TRAIL = "123456789012/ca-central-1/vigil-org-trail"
NO_VALIDATION = Action(TRAIL, "123456789012", "ca-central-1", "cloudtrail", "UpdateTrail",
                       changes=(Change("enable_log_file_validation", True, False),))
[NO_VALIDATION_W] = classify(NO_VALIDATION)
CONFLICT = Blocked(TRAIL, "Conflict", "owned by team-b/OrgTrail/org-trail; Vigil wrote nothing to it")
ADOPTION = Blocked(BUCKET, "AdoptionRequired", "exists and no Vigil object owns it; Vigil would: PutBucketVersioning "
                                               "(versioning: 'Suspended' -> 'Enabled'). Set spec.adoptionPolicy: "
                                               "Adopt to take it over")


def reasons(status):
    return cond(status, "Ready")["reason"], cond(status, "Compliant")["reason"]


def test_another_objects_resource_is_a_conflict_naming_the_owner():
    report = Report([TargetReport(TRAIL, planned=[FIX], blocked=[CONFLICT]), TargetReport("ok")])
    status, events = summarize(report, {}, 3, True, "T")
    for type_ in ("Ready", "Compliant"):
        condition = cond(status, type_)
        assert (condition["status"], condition["reason"]) == ("False", "Conflict")
        assert condition["message"] == f"{TRAIL}: owned by team-b/OrgTrail/org-trail; Vigil wrote nothing to it"
    assert status["targets"]["compliant"] == 1
    assert status["failures"] == [{"target": TRAIL, "reason": "Conflict", "message": CONFLICT.message}], \
        "listed once, as the conflict, not again as drift"
    assert [(e.type, e.reason) for e in events] == [("Warning", "Conflict")]
    assert summarize(report, status, 3, True, "T2")[1] == [], "announced once"


def test_a_resource_nobody_owns_asks_for_adoption():
    status, events = summarize(Report([TargetReport(BUCKET, blocked=[ADOPTION])]), {}, 1, True, "T")
    assert reasons(status) == ("AdoptionRequired", "AdoptionRequired")
    assert cond(status, "Ready")["status"] == cond(status, "Compliant")["status"] == "False"
    assert "spec.adoptionPolicy: Adopt" in cond(status, "Ready")["message"]
    assert cond(status, "Ready")["message"].startswith(f"{BUCKET}: exists and no Vigil object owns it")
    assert [f["reason"] for f in status["failures"]] == ["AdoptionRequired"]


def test_a_held_weakening_names_the_change_and_the_annotation_that_allows_it():
    report = Report([TargetReport(BUCKET, planned=[SHORTER], held=[SHORTER_W]),
                     TargetReport(TRAIL, planned=[NO_VALIDATION], held=[NO_VALIDATION_W])])
    status, events = summarize(report, {}, 1, True, "T")
    assert reasons(status) == ("WeakeningHeld", "WeakeningHeld")
    message = cond(status, "Ready")["message"]
    assert message.startswith("2 weakening changes held: ")
    assert f"{BUCKET}: lifecycle.expire_after_days 2555 -> 30" in message
    assert f"{TRAIL}: enable_log_file_validation true -> false" in message
    assert ALLOW_ANNOTATION in message
    assert '"spec.retention.expireAfterDays=30,trail.logFileValidation=false"' in message, "ready to copy"
    assert cond(status, "Compliant")["message"] == message
    held = [f for f in status["failures"] if f["reason"] == "WeakeningHeld"]
    assert [f["target"] for f in held] == [BUCKET, TRAIL]
    assert f"{BUCKET}: lifecycle.expire_after_days 2555 -> 30" in held[0]["message"]
    assert '"spec.retention.expireAfterDays=30"' in held[0]["message"]
    assert not any(f["reason"] == "Drifted" for f in status["failures"])
    assert [e.reason for e in events] == ["WeakeningHeld", "WeakeningHeld"]


def test_audit_holds_nothing_it_reports_drift():
    """Audit never writes: a weaker spec is drift to report, not a write waiting for an allowance."""
    status, _ = summarize(Report([TargetReport(BUCKET, planned=[SHORTER], held=[SHORTER_W])]), {}, 1, False, "T")
    assert reasons(status) == ("Reconciled", "Drifted")
    assert [f["reason"] for f in status["failures"]] == ["Drifted"]


def test_the_guard_reports_the_reason_to_act_on_first():
    held = TargetReport(BUCKET, planned=[SHORTER], held=[SHORTER_W])
    adoption = TargetReport(BUCKET, blocked=[ADOPTION])
    conflict = TargetReport(TRAIL, blocked=[CONFLICT])
    assert reasons(summarize(Report([held, adoption, conflict]), {}, 1, True, "T")[0]) == ("Conflict", "Conflict")
    assert reasons(summarize(Report([held, adoption]), {}, 1, True, "T")[0]) == (
        "AdoptionRequired", "AdoptionRequired")
    errored = TargetReport("x", error=TargetError("AccessDenied", "no role"))
    assert reasons(summarize(Report([held, errored]), {}, 1, True, "T")[0])[0] == "PartialFailure", \
        "an AWS error is Ready's reason before the guard"


def test_an_allowed_weakening_is_recorded_and_warned_about():
    report = Report([TargetReport(BUCKET, planned=[SHORTER], applied=[SHORTER], allowed=[SHORTER_W])])
    status, events = summarize(report, {}, 1, True, "T9")
    assert status["allowedWeakenings"] == [{"allowance": "spec.retention.expireAfterDays=30",
                                            "change": f"{BUCKET}: lifecycle.expire_after_days 2555 -> 30",
                                            "time": "T9"}]
    assert reasons(status) == ("Reconciled", "InSync")
    warned = [e for e in events if e.reason == "WeakeningAllowed"]
    assert [(e.type, e.message) for e in warned] == [
        ("Warning", f"{BUCKET}: lifecycle.expire_after_days 2555 -> 30 (allowed by spec.retention.expireAfterDays=30)")]


def test_allowed_weakenings_keep_the_twenty_most_recent_first():
    previous = {"allowedWeakenings": [{"allowance": f"a{i}=1", "change": f"c{i}", "time": f"T{i}"} for i in range(20)]}
    report = Report([TargetReport(BUCKET, planned=[SHORTER], applied=[SHORTER], allowed=[SHORTER_W])])
    status, _ = summarize(report, previous, 1, True, "NOW")
    kept = status["allowedWeakenings"]
    assert len(kept) == 20
    assert kept[0]["time"] == "NOW" and kept[1]["allowance"] == "a0=1" and kept[-1]["allowance"] == "a18=1"
    quiet, _ = summarize(Report([TargetReport(BUCKET)]), status, 1, True, "LATER")
    assert quiet["allowedWeakenings"] == kept, "a reconcile that allowed nothing keeps the record"


def test_an_administrator_owned_by_another_is_the_reason_even_when_its_members_fail():
    """The members of an administrator this object does not own cannot be enrolled: that follows
    from the conflict, which is what the user must act on."""
    members = [TargetReport(f"44444444444{i}/ca-central-1", error=TargetError("AdministratorNotReady", "see admin"))
               for i in range(3)]
    status, _ = summarize(Report([TargetReport(TRAIL, blocked=[CONFLICT]), *members]), {}, 1, True, "T")
    assert reasons(status) == ("Conflict", "Conflict")
    assert "team-b/OrgTrail/org-trail" in cond(status, "Ready")["message"]


# --- targets out of reach ------------------------------------------------------------------------

UNREACHABLE = TargetError("AccountUnreachable", "Vigil cannot assume the role.", recoverable=False)


def test_a_target_out_of_reach_fails_alone_and_the_object_stays_ready():
    report = Report([TargetReport("555555555555/ca-central-1"), TargetReport("666666666666/ca-central-1",
                                                                             error=UNREACHABLE)])
    status, events = summarize(report, {}, 1, True, "T")
    ready, compliant = cond(status, "Ready"), cond(status, "Compliant")
    assert (ready["status"], ready["reason"]) == ("True", "Reconciled")
    assert ready["message"].startswith("1 of 2 targets reconciled; 1 out of reach, listed in failures; "
                                       "666666666666/ca-central-1: AccountUnreachable: Vigil cannot assume the role.")
    assert (compliant["status"], compliant["reason"]) == ("False", "NotObserved")
    assert status["targets"] == {"total": 2, "compliant": 1, "failed": 1, "summary": "1/2"}
    assert status["failures"] == [{"target": "666666666666/ca-central-1", "reason": "AccountUnreachable",
                                   "message": "Vigil cannot assume the role."}]
    assert sorted(e.reason for e in events) == ["AccountUnreachable", "Ready"]


def test_other_failures_still_make_the_object_not_ready_and_come_first_in_failures():
    report = Report([TargetReport("666666666666/ca-central-1", error=UNREACHABLE),
                     TargetReport("555555555555/ca-central-1", error=TargetError("AccessDenied", "denied."))])
    status, _ = summarize(report, {}, 1, True, "T")
    assert cond(status, "Ready")["reason"] == "AccessDenied", "every target in reach failed, for one reason"
    assert [f["reason"] for f in status["failures"]] == ["AccessDenied", "AccountUnreachable"]


def test_nothing_in_reach_at_all_is_not_ready():
    report = Report([TargetReport("666666666666/ca-central-1", error=UNREACHABLE)])
    ready = cond(summarize(report, {}, 1, True, "T")[0], "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "AccountUnreachable")


# --- kstatus's Reconciling and Stalled ---------------------------------------------------------------

def progress(status):
    return cond(status, "Reconciling")["status"], cond(status, "Stalled")["status"]


def test_ready_is_neither_reconciling_nor_stalled():
    status, _ = summarize(Report([TargetReport("a")]), {}, 4, True, "T")
    assert progress(status) == ("False", "False")
    assert cond(status, "Stalled")["observedGeneration"] == 4


def test_what_a_human_must_fix_stalls_and_names_the_reason():
    for report in (Report([TargetReport(TRAIL, planned=[FIX], blocked=[CONFLICT])]),
                   Report([TargetReport(BUCKET, planned=[SHORTER], held=[SHORTER_W])]),
                   Report([TargetReport("bad", error=TargetError("AccessDenied", "no role"))]),
                   # one target refused, the other fine: still nothing will change without a human
                   Report([TargetReport("ok"), TargetReport("bad", error=TargetError("AccessDenied", "no role"))])):
        status, _ = summarize(report, {}, 1, True, "T")
        assert progress(status) == ("False", "True"), report
        assert cond(status, "Stalled")["reason"] == cond(status, "Ready")["reason"]
    invalid, _ = blocked({}, 2, "InvalidSpec", "spec.regions.home: unknown region", "T")
    assert progress(invalid) == ("False", "True")
    assert cond(invalid, "Stalled")["message"] == "spec.regions.home: unknown region"


def test_what_clears_by_itself_is_reconciling_not_stalled():
    waiting, _ = blocked({}, 1, "DependencyNotReady", "LogArchive central is not Ready", "T")
    assert progress(waiting) == ("True", "False")
    throttled, _ = summarize(Report([TargetReport("t", error=TargetError("Throttled", "slow down"))]), {}, 1, True, "T")
    assert progress(throttled) == ("True", "False")


def test_a_held_weakening_in_audit_is_not_stalled():
    status, _ = summarize(Report([TargetReport(BUCKET, planned=[SHORTER], held=[SHORTER_W])]), {}, 1, False, "T")
    assert progress(status) == ("False", "False"), "Audit writes nothing: nothing waits on a human"


def test_a_new_generation_reconciling_clears_stalled_and_keeps_ready():
    from vigil.conditions import reconciling

    stalled, _ = blocked({}, 1, "InvalidSpec", "bad", "T")
    conditions = reconciling(stalled["conditions"], 2, "T2")
    assert [(c["type"], c["status"]) for c in conditions] == [
        ("Ready", "False"), ("Compliant", "Unknown"), ("Reconciling", "True"), ("Stalled", "False")]
    assert cond({"conditions": conditions}, "Reconciling")["message"] == "reconciling generation 2"
