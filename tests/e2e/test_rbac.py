"""deploy/'s RBAC is enough, and its absence is visible, with the real operator authenticating as
deploy/'s ServiceAccount: the whole example baseline becomes Ready and Compliant while the API
server's audit log records no 403 answer to the operator; with the status rule taken out of its
ClusterRole, a new object never becomes Ready, the operator log names the refused request, and the
object is reconciled once the rule is back."""

from __future__ import annotations

import datetime
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from vigil.api import KINDS
from vigil_sandbox.controlplane import ControlPlane
from vigil_sandbox.iam_coverage import gaps as iam_gaps
from vigil_sandbox.stack import (OPERATOR_ACCOUNT, OPERATOR_NAMESPACE, Stack, is_ready_and_compliant,
                                 wait_until)

pytestmark = pytest.mark.e2e
NS, BROKEN = "rbac", "rbac-broken"
OPERATOR = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_ACCOUNT}"
PLURALS = {info.kind: info.plural for info in KINDS.values()}
# examples/ in dependency order: the Organization, the LogArchive, then the controls.
BASELINE = [("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail"),
            ("FlowLogPolicy", "vpc-flow-logs"), ("GuardDutyOrg", "guardduty"), ("ConfigBaseline", "config"),
            ("SecurityHubBaseline", "securityhub"), ("SessionLogging", "session-logging"),
            ("LogSubscriptionPolicy", "workload-logs"), ("Guardrails", "guardrails")]
AUDIT_FLUSH_SECONDS = 2  # the API server writes its audit log in batches of at most a second


@pytest.fixture(scope="module")
def started() -> datetime.datetime:
    """Audit events before this moment are other modules' (the control plane is the session's)."""
    return datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture(scope="module")
def stack(started: datetime.datetime, tmp_path_factory: pytest.TempPathFactory,
          controlplane: ControlPlane) -> Iterator[Stack]:
    with Stack(tmp_path_factory.mktemp("stack"), namespaces=(NS, BROKEN), controlplane=controlplane) as running:
        yield running
        missing = iam_gaps(running)
    if missing:
        pytest.fail(missing, pytrace=False)


def operator_requests(stack: Stack, since: datetime.datetime) -> list[dict[str, Any]]:
    """The operator's requests and the API server's answers, from its audit log (not the operator's
    word): one event per request, its latest stage (a watch still open has only ResponseStarted)."""
    assert stack.controlplane is not None
    latest = {e["auditID"]: e for e in stack.controlplane.audit(OPERATOR)
              if datetime.datetime.fromisoformat(e["requestReceivedTimestamp"]) >= since}
    return list(latest.values())


def target(event: dict[str, Any]) -> tuple[str, str]:
    """(resource, subresource); ("", "") for a non-resource request such as /version."""
    ref = event.get("objectRef") or {}
    return ref.get("resource", ""), ref.get("subresource", "")


def forbidden(events: list[dict[str, Any]]) -> list[str]:
    return [f"{e['verb']} {e['requestURI']}" for e in events if e.get("responseStatus", {}).get("code") == 403]


def test_deploys_rbac_lets_the_operator_reconcile_the_whole_baseline(stack: Stack, manifest,
                                                                     started: datetime.datetime):
    for kind, _ in BASELINE:
        stack.apply(manifest(kind, NS))
    for kind, name in BASELINE:
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=120, what="Ready and Compliant")
    time.sleep(AUDIT_FLUSH_SECONDS)

    requests = operator_requests(stack, started)
    assert forbidden(requests) == []
    made = Counter((e["verb"], *target(e)) for e in requests if e.get("responseStatus", {}).get("code", 0) < 300)
    for plural in PLURALS.values():
        assert made["watch", plural, ""] and made["patch", plural, "status"], f"{plural}: watched, status written"
    assert made["create", "events", ""], "Events posted"


def without_status_rule(role: Any) -> list[Any]:
    return [rule for rule in role.rules if not all(r.endswith("/status") for r in rule.resources or [])]


def may_patch_status(stack: Stack) -> bool:
    assert stack.controlplane is not None
    answer = stack.controlplane.kubectl("auth", "can-i", "patch", "organizations.vigil.dev", "--subresource=status",
                                        "-n", BROKEN, f"--as={OPERATOR}", check=False)
    return answer.stdout.strip() == "yes"


def test_without_its_status_rule_the_operator_fails_visibly_and_recovers_when_it_is_back(stack: Stack, manifest):
    assert stack.controlplane is not None
    rbac = client.RbacAuthorizationV1Api(stack.kube())
    role = rbac.read_cluster_role("vigil")
    kept = without_status_rule(role)
    assert len(kept) == len(role.rules) - 1, "deploy/rbac.yaml has one */status rule"
    role.rules = kept
    rbac.replace_cluster_role("vigil", role)
    log = stack.workdir / "operator.log"
    try:
        wait_until("the API server enforces the narrower role", lambda: not may_patch_status(stack), timeout=10)
        since = datetime.datetime.now(datetime.timezone.utc)
        stack.apply(manifest("Organization", BROKEN))

        # What an operator's admin sees: an ERROR naming the request, the identity and the permission.
        refused = (f'User "{OPERATOR}" cannot patch resource "organizations/status" in API group "vigil.dev" '
                   f'in the namespace "{BROKEN}"')
        wait_until("the operator logs the refused status patch", lambda: refused in log.read_text(), timeout=30)
        line = next(line for line in log.read_text().splitlines() if refused in line)
        path = f"/apis/vigil.dev/v1alpha1/namespaces/{BROKEN}/organizations/acme/status"
        assert "[ERROR" in line and f"[{BROKEN}/acme]" in line and f"PATCH {stack.controlplane.url}{path}" in line, line
        # What the object's user sees: no Ready condition (nothing the operator decided could be written).
        assert (stack.get("Organization", BROKEN, "acme").get("status") or {}).get("conditions") is None
        time.sleep(AUDIT_FLUSH_SECONDS)
        assert any(r.split("?")[0] == f"patch {path}" for r in forbidden(operator_requests(stack, since))), \
            "audited as a 403"
    finally:
        stack.controlplane.apply(stack.identity())  # deploy/'s ClusterRole, whole again

    # Restored within kopf's retries of the refused patch (1+1+2+3+5+8+13+21 s), the fix is picked up
    # without a restart. (Restored after them, the object is not retried until its spec changes or
    # the operator restarts: the resync timer dies with its refused patch.)
    stack.wait("Organization", BROKEN, "acme", is_ready_and_compliant, timeout=30,
               what="Ready and Compliant once the rule is back")
