"""OrgTrail's integrity glue (vigil.controls.integrity) without AWS: when a verification is due,
what a resync between two carries forward, the IntegrityVerified condition for each kind of
result, a trail logging long enough with no digest where Vigil looks; and how a report's findings
reach status.failures and Events (vigil.controls.status)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from vigil.api.orgtrail import OrgTrailSpec
from vigil.api.organization import OrganizationSpec
from vigil.aws.session import AccessSettings, AwsAccess
from vigil.controls import integrity
from vigil.controls.base import Context, LogArchiveView, OrganizationView, Report, TargetReport
from vigil.controls.status import summarize
from vigil.planning.continuity import continuity
from vigil.planning.integrity import (DayRead, Finding, FindingKind, IntegrityResult, Tally, UnitError, Window,
                                      link_day_reads)
from vigil.state.cloudtrail import TrailState
from vigil.state.organizations import Account, OrganizationInventory

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
FINDING = {"target": "s3://b/k.json.gz", "reason": "LogFileModified", "message": "SHA-256 differs"}
LOGGING = TrailState(exists=True, is_logging=True, start_logging_time=(NOW - timedelta(days=30)).isoformat())


@pytest.fixture(autouse=True)
def quiet_event_history(monkeypatch):
    """CloudTrail's event history records no stop of the trail (read in tests/aws against the sandbox)."""
    monkeypatch.setattr(integrity, "judge_continuity",
                        lambda access, account, region, trail, result: continuity(result, []))


def spec(**integrity_spec) -> OrgTrailSpec:
    return OrgTrailSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"},
                                        "integrity": {"verify": True, "lookback": "24h", "interval": "1h",
                                                      **integrity_spec}})


def context(previous: dict) -> Context:
    org = OrganizationSpec.model_validate({"accounts": {"logArchive": "222222222222", "security": "333333333333"},
                                           "regions": {"home": "ca-central-1", "governed": ["ca-central-1"]}})
    return Context("OrgTrail", "baseline", "org-trail", spec(), "Enforce", AwsAccess(AccessSettings()),
                   OrganizationView(org, OrganizationInventory("o-x", "123456789012", (
                       Account("123456789012", "management", "ACTIVE"), Account("222222222222", "archive", "ACTIVE")))),
                   log_archive=LogArchiveView("b", "arn:aws:s3:::b", "k", "222222222222", "ca-central-1"),
                   previous_status=previous)


def test_disabled_is_unknown_and_reads_nothing():
    outcome = integrity.verify(context({}), spec(verify=False), None, NOW)
    assert outcome.conditions == [("IntegrityVerified", "Unknown", "Disabled", "integrity.verify is false")]


def test_between_two_verifications_the_last_result_is_carried_forward():
    last = {"lastVerifiedTime": "2026-03-02T11:30:00Z", "digestsVerified": 5, "logFilesVerified": 9, "failures": 1}
    previous = {"integrity": last, "failures": [{"target": "t", "reason": "Drifted", "message": "m"}, FINDING]}
    outcome = integrity.verify(context(previous), spec(), TrailState(exists=True), NOW)
    assert outcome.status == last and outcome.conditions == [] and outcome.findings == [FINDING]


def test_a_verification_is_due_after_the_interval():
    last = {"lastVerifiedTime": "2026-03-02T11:00:00Z"}
    outcome = integrity.verify(context({"integrity": last}), spec(), TrailState(exists=False), NOW)
    assert outcome.conditions[0][1:3] == ("Unknown", "NoTrail")
    unread = integrity.verify(context({"integrity": last}), spec(), None, NOW)
    assert unread.conditions[0][1:3] == ("Unknown", "NotObserved")


def result(digests: int = 0, findings: tuple[Finding, ...] = (), errors: tuple[UnitError, ...] = ()) -> IntegrityResult:
    tally = Tally(digests=digests, log_files=2 * digests)
    for finding in findings:
        tally.note(finding)
    return IntegrityResult(Window(NOW - timedelta(hours=24), NOW), 2, tally, list(errors))


def test_the_condition_says_what_the_verification_found():
    ctx = context({})
    verified = integrity._outcome(ctx, result(digests=48), NOW, LOGGING)
    assert verified.conditions[0][1:3] == ("True", "Verified")
    assert verified.status == {"lastVerifiedTime": "2026-03-02T12:00:00Z", "digestsVerified": 48,
                               "logFilesVerified": 96, "failures": 0,
                               "lastSuccessfulVerificationTime": "2026-03-02T12:00:00Z",
                               "verifiedFrom": None, "verifiedTo": None, "chains": 2, "gaps": [], "gapsTotal": 0}
    unread = integrity._outcome(ctx, result(digests=3, errors=(UnitError("a/r/d", "AccessDenied", "no"),)),
                                NOW, LOGGING)
    assert unread.conditions[0][1:3] == ("Unknown", "AccessDenied")
    found = integrity._outcome(ctx, result(digests=3, findings=(
        Finding(FindingKind.DIGEST_MISSING, "b/d.json.gz", "named by the next digest"),)), NOW, LOGGING)
    _, state, reason, message = found.conditions[0]
    assert (state, reason) == ("False", "NotVerified")
    assert message == "1 finding: DigestMissing s3://b/d.json.gz: named by the next digest"
    assert found.findings == [{"target": "s3://b/d.json.gz", "reason": "DigestMissing",
                               "message": "named by the next digest"}]
    assert found.status["failures"] == 1
    # A failed verification keeps the last good one's time: the staleness alert reads it.
    after_good = context({"integrity": {"lastSuccessfulVerificationTime": "2026-03-01T09:00:00Z"}})
    failed = integrity._outcome(after_good, result(digests=3, findings=(
        Finding(FindingKind.DIGEST_MISSING, "b/d.json.gz", "named by the next digest"),)), NOW, LOGGING)
    assert failed.status["lastSuccessfulVerificationTime"] == "2026-03-01T09:00:00Z"


def empty_bucket(access, reader, layout, accounts, regions, window, concurrency, expect_since=None, progress=None):
    """verify_trail where there is no digest at all: the layout looks where the trail does not deliver."""
    result = IntegrityResult(window, chains=len(accounts) * len(regions))
    for account in accounts:
        for region in regions:
            folder = f"{layout.bucket}/{layout.digest_folder(account, region)}"
            result.add_chain(account, region, link_day_reads([DayRead() for _ in window.days()], window,
                                                             expect_since, folder))
    return result


def test_no_digest_where_vigil_looks_is_a_finding_once_the_trail_has_logged_long_enough(monkeypatch):
    monkeypatch.setattr(integrity, "verify_trail", empty_bucket)
    outcome = integrity.verify(context({}), spec(), LOGGING, NOW)
    _, state, reason, message = outcome.conditions[0]
    assert (state, reason) == ("False", "NotVerified")
    assert [(f["reason"], f["target"]) for f in outcome.findings] == [
        ("DigestMissing", f"s3://b/cloudtrail/AWSLogs/o-x/{account}/CloudTrail-Digest/ca-central-1/")
        for account in ("123456789012", "222222222222")]
    assert "not where the trail delivers" in message
    assert outcome.status["failures"] == 2 and outcome.status["digestsVerified"] == 0


def test_no_digest_is_unknown_only_while_none_is_due(monkeypatch):
    monkeypatch.setattr(integrity, "verify_trail", empty_bucket)
    young = LOGGING.model_copy(update={"start_logging_time": (NOW - timedelta(minutes=90)).isoformat()})
    _, state, reason, message = integrity.verify(context({}), spec(), young, NOW).conditions[0]
    assert (state, reason) == ("Unknown", "NoDigests") and "first digest within 2 hours" in message
    stopped = TrailState(exists=True, is_logging=False)
    assert integrity.verify(context({}), spec(), stopped, NOW).conditions[0][1:3] == ("Unknown", "NotLogging")


def test_findings_join_failures_without_touching_ready_and_warn_once():
    report = Report([TargetReport("trail")], findings=[FINDING])
    status, events = summarize(report, {}, 1, True, "T")
    assert status["failures"] == [FINDING]
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [
        ("Ready", "True"), ("Compliant", "True"), ("Reconciling", "False"), ("Stalled", "False")]
    assert [(e.type, e.reason) for e in events if e.reason == "LogFileModified"] == [("Warning", "LogFileModified")]
    _, again = summarize(report, status, 1, True, "T2")
    assert [e for e in again if e.reason == "LogFileModified"] == []
