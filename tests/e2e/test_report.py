"""The posture report and the metrics behind the API server's authentication, with the real
operator and the real kube-apiserver: /metrics and /report refuse a request without a token
(401), with a token the API server does not know (401) and with a ServiceAccount's token that no
RBAC grants them (403), and serve a ServiceAccount bound to deploy/'s vigil-metrics-reader; the
report names the example objects, their accounts and region, and the trail's integrity; a
scrape every few seconds costs the API server one review pair per token (its audit log says so);
/healthz stays open for the kubelet."""

from __future__ import annotations

import datetime
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from html.parser import HTMLParser

import pytest

from vigil_sandbox.stack import OPERATOR_ACCOUNT, OPERATOR_NAMESPACE, READER_ROLE, Stack, is_ready_and_compliant

pytestmark = pytest.mark.e2e
NS = "baseline"
BASELINE = [("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail")]
OPERATOR = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_ACCOUNT}"
AUDIT_FLUSH_SECONDS = 2  # the API server writes its audit log in batches of at most a second


@pytest.fixture(scope="module")
def baseline(stack: Stack, manifest) -> Stack:
    for kind, _ in BASELINE:
        stack.apply(manifest(kind, NS))
    for kind, name in BASELINE:
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=90, what="Ready and Compliant")
    return stack


def get(stack: Stack, path: str, authorization: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": authorization} if authorization else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{stack.metrics_url}{path}", headers=headers),
                                    timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


@pytest.fixture(scope="module")
def account(baseline: Stack) -> Iterator[Callable[[str, bool], str]]:
    """``account(name, bound)``: a ServiceAccount of NS, bound to the reader ClusterRole or to
    nothing; its token. Deleted afterwards, bindings included (the control plane is shared)."""
    plane = baseline.controlplane
    assert plane is not None
    made: list[str] = []

    def make(name: str, bound: bool) -> str:
        documents = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": NS}}]
        if bound:
            documents.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                              "metadata": {"name": f"{READER_ROLE}-{name}"},
                              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                          "name": READER_ROLE},
                              "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NS}]})
        plane.apply(documents)
        made.append(name)
        return plane.token(NS, name, seconds=3600)

    yield make
    for name in made:
        plane.kubectl("delete", "--ignore-not-found", "clusterrolebinding", f"{READER_ROLE}-{name}")
        plane.kubectl("delete", "--ignore-not-found", "-n", NS, "serviceaccount", name)


class PageText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def text_of(page: str) -> str:
    parser = PageText()
    parser.feed(page)
    return " ".join(" ".join(parser.chunks).split())


@pytest.mark.parametrize("path", ["/metrics", "/report"])
def test_no_token_or_an_unknown_one_is_401(baseline: Stack, path: str):
    assert get(baseline, path) == (401, "Unauthorized\n")
    assert get(baseline, path, "Bearer not-a-token-the-api-server-issued")[0] == 401
    assert get(baseline, path, "Basic dXNlcjpwYXNz")[0] == 401


@pytest.mark.parametrize("path", ["/metrics", "/report"])
def test_a_token_without_the_rbac_is_403(baseline: Stack, account, path: str):
    token = account(f"nobody{path.replace('/', '-')}", False)
    assert get(baseline, path, f"Bearer {token}") == (
        403, f"Authorization denied for user system:serviceaccount:{NS}:nobody{path.replace('/', '-')}\n")


def test_healthz_stays_open(baseline: Stack):
    assert get(baseline, "/healthz") == (200, "ok\n")


def test_a_reader_gets_the_metrics_and_the_report_naming_the_example_objects(baseline: Stack):
    metrics = baseline.scrape("/metrics")
    assert 'vigil_object_compliant{kind="OrgTrail",name="org-trail",namespace="baseline"} 1.0' in metrics

    status, page = get(baseline, "/report", f"Bearer {baseline.reader_token}")
    assert status == 200 and page.startswith("<!DOCTYPE html>")
    text = text_of(page)
    for kind, name in BASELINE:
        assert f"{kind} {NS}/{name}" in text, f"{kind} {name} is in the objects table"
    accounts = text.split("By account", 1)[1].split("By region", 1)[0]
    for member in (baseline.organization["management"], "222222222222", "333333333333", "777777777777"):
        assert member in accounts, accounts
    assert "ca-central-1 2 0 0" in text, "the archive and the trail, in the home region"
    assert f"{NS}/org-trail Unknown" in text, "the trail's IntegrityVerified (not verified yet in this module)"
    assert "3/3 objects compliant" in text and "0 critical findings" in text
    assert "No finding." in text


def test_a_scrape_every_few_seconds_costs_one_review_pair(baseline: Stack, account):
    assert baseline.controlplane is not None
    token = account("prometheus", True)
    since = datetime.datetime.now(datetime.timezone.utc)
    for _ in range(4):
        assert get(baseline, "/metrics", f"Bearer {token}")[0] == 200
        time.sleep(1)
    time.sleep(AUDIT_FLUSH_SECONDS)
    reviews = [e["objectRef"]["resource"] for e in baseline.controlplane.audit(OPERATOR)
               if e.get("stage") == "ResponseComplete" and (e.get("objectRef") or {}).get("resource") in
               ("tokenreviews", "subjectaccessreviews")
               and datetime.datetime.fromisoformat(e["requestReceivedTimestamp"]) >= since]
    assert sorted(reviews) == ["subjectaccessreviews", "tokenreviews"], "cached after the first scrape"
