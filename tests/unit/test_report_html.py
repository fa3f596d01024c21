"""The posture report page (vigil.report_html), from postures the book records out of real reconcile
reports and statuses: per kind, object, account and region; findings with their severity from
one mapping; trail integrity; every value escaped, so markup in an AWS message stays text; and
nothing the page could fetch or run."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest

from vigil.aws.errors import TargetError
from vigil.controls.base import Report, TargetReport
from vigil.controls.guard import Blocked
from vigil.controls.posture import MAX_PROBLEMS, PostureBook
from vigil.controls.status import blocked, summarize
from vigil.planning.actions import Action, Change
from vigil.planning.weakening import classify
from vigil.report_html import CONTENT_SECURITY_POLICY, SEVERITIES, findings, render, severity

AT = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
TRAIL = "111111111111/ca-central-1/vigil-org-trail"
BUCKET = "222222222222/ca-central-1/acme-log-archive"
DRIFT = Action(BUCKET, "222222222222", "ca-central-1", "s3", "PutBucketVersioning",
               changes=(Change("versioning", "Suspended", "Enabled"),))
SHORTER = Action(BUCKET, "222222222222", "ca-central-1", "s3", "PutBucketLifecycleConfiguration",
                 changes=(Change("lifecycle", {"expire_after_days": 2555}, {"expire_after_days": 1}),))
SCRIPT = "<script>alert('pwned')</script>"


def record(book: PostureBook, kind: str, name: str, report: Report, enforce: bool = True, **extra) -> None:
    status, _ = summarize(report, {}, 1, enforce, "2026-12-07T11:59:00Z")
    status["conditions"] += extra.get("conditions", [])
    book.record(kind, "baseline", name, status, report, enforce)


@pytest.fixture
def book() -> PostureBook:
    book = PostureBook()
    record(book, "Organization", "acme", Report([TargetReport("111111111111"), TargetReport("222222222222"),
                                                 TargetReport("555555555555", error=TargetError(
                                                     "AccountSuspended", "the account is SUSPENDED"))]))
    record(book, "LogArchive", "central", Report([TargetReport(BUCKET, planned=[SHORTER], held=classify(SHORTER))]))
    record(book, "OrgTrail", "org-trail", Report([TargetReport(TRAIL)]), conditions=[
        {"type": "IntegrityVerified", "status": "False", "reason": "DigestMissing",
         "message": "digest for 2026-12-07T10:00Z is missing"}])
    record(book, "FlowLogPolicy", "vpc-flow-logs", Report([
        TargetReport("333333333333/ca-central-1/vpc-1", planned=[DRIFT]),
        TargetReport("333333333333/us-east-1/vpc-2", error=TargetError("AccessDenied", f"denied {SCRIPT}")),
        TargetReport("444444444444/us-east-1/vpc-3",
                     blocked=[Blocked("444444444444/us-east-1/vpc-3", "Conflict", "owned by team-b")])]),
        enforce=False)
    status, _ = blocked({}, 1, "DependencyNotReady", "LogArchive baseline/central is not Ready", "T")
    book.record("GuardDutyOrg", "baseline", "guardduty", status, None, True)
    return book


class Text(HTMLParser):
    """The page as a reader sees it: text, and every tag and attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Text:
    parsed = Text()
    parsed.feed(page)
    return parsed


def test_the_page_names_every_object_account_and_region(book: PostureBook):
    page = render(book.objects(), AT, source="vigil audit")
    text = " ".join(parse(page).text)
    for kind, name in (("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail"),
                       ("FlowLogPolicy", "vpc-flow-logs"), ("GuardDutyOrg", "guardduty")):
        assert kind in text and f"baseline/{name}" in text
    for account in ("111111111111", "222222222222", "333333333333", "444444444444", "555555555555"):
        assert account in text
    assert "ca-central-1" in text and "us-east-1" in text
    assert "Generated 2026-12-07T12:00:00Z by vigil audit" in text


def test_findings_take_their_severity_from_one_mapping(book: PostureBook):
    found = {(f.kind, f.target): (f.severity, f.reason) for f in findings(book.objects())}
    assert found == {
        ("OrgTrail", "integrity"): ("critical", "DigestMissing"),
        ("LogArchive", BUCKET): ("critical", "WeakeningHeld"),
        ("FlowLogPolicy", "444444444444/us-east-1/vpc-3"): ("critical", "Conflict"),
        ("FlowLogPolicy", "333333333333/ca-central-1/vpc-1"): ("high", "Drifted"),
        ("FlowLogPolicy", "333333333333/us-east-1/vpc-2"): ("medium", "AccessDenied"),
        ("GuardDutyOrg", "-"): ("medium", "DependencyNotReady"),
        ("Organization", "555555555555"): ("low", "AccountSuspended"),
    }
    assert [f.severity for f in findings(book.objects())] == sorted(
        (f.severity for f in findings(book.objects())), key=list(SEVERITIES).index), "most severe first"
    assert severity("RegionDisabled", "failed") == "low" and severity("AccountUnreachable", "failed") == "medium"


def test_the_chart_counts_findings_by_severity_and_the_legend_explains_each(book: PostureBook):
    page = render(book.objects(), AT)
    chart = re.search(r'<svg id="severity-chart".*?</svg>', page, re.S)
    assert chart, "an inline SVG chart"
    assert 'aria-label="Findings by severity: 3 critical, 1 high, 2 medium, 1 low"' in chart.group(0)
    assert chart.group(0).count("<rect") == 4
    for level, meaning in SEVERITIES.items():
        assert f'<span class="sev {level}">{level}</span></dt><dd>' in page
        assert meaning.split(":")[0] in page


def test_integrity_and_held_and_conflict_counts_are_shown(book: PostureBook):
    page = render(book.objects(), AT)
    integrity = re.search(r'<table id="integrity">.*?</table>', page, re.S).group(0)
    assert "baseline/org-trail" in integrity and "DigestMissing" in integrity and 'pill bad' in integrity
    summary = " ".join(parse(re.search(r'<section id="summary".*?</section>', page, re.S).group(0)).text)
    assert "1 weakenings held" in " ".join(summary.split()) and "1 conflicts" in " ".join(summary.split())


def test_markup_in_a_message_comes_out_as_text(book: PostureBook):
    page = render(book.objects(), AT, source='"><img src=x onerror=alert(1)>')
    parsed = parse(page)
    assert not [tag for tag, _ in parsed.tags if tag in ("script", "img", "iframe", "object", "link")]
    assert not [attrs for _, attrs in parsed.tags if any(name.startswith("on") for name in attrs)]
    assert any(SCRIPT in chunk for chunk in parsed.text), "shown to the reader, verbatim"
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page


def test_the_page_fetches_and_runs_nothing(book: PostureBook):
    page = render(book.objects(), AT)
    tags = parse(page).tags
    policy = next(attrs["content"] for tag, attrs in tags if attrs.get("http-equiv") == "Content-Security-Policy")
    assert policy == CONTENT_SECURITY_POLICY and "default-src 'none'" in policy
    assert not re.search(r"(src|href)=|url\(|@import", page), "nothing external: no src, href, url() or @import"


def test_problems_beyond_the_books_bound_are_counted_not_listed():
    book = PostureBook()
    targets = [TargetReport(f"{100000000000 + i}/ca-central-1", planned=[DRIFT]) for i in range(MAX_PROBLEMS + 5)]
    record(book, "ConfigBaseline", "config", Report(targets), enforce=False)
    page = render(book.objects(), AT)
    assert page.count('<span class="sev high">high</span></td>') == MAX_PROBLEMS
    assert "5 more targets not compliant are counted above but not listed." in page


def test_an_empty_book_says_why():
    page = render([], AT)
    assert "No object reconciled by this process yet" in page and "No finding." in page
    assert 'aria-label="Findings by severity: 0 critical, 0 high, 0 medium, 0 low"' in page
