"""Dependents are woken by events, not by a poll: the operator runs with a tick and a retry period
of ten minutes (VIGIL_TICK_SECONDS, VIGIL_RETRY_SECONDS) and every object resyncs hourly, so
within the two minutes these tests allow, nothing is reconciled but what an event calls for.

Objects applied before what they reference wait with DependencyNotReady; the Organization applied,
it turns Ready, which wakes the LogArchive, whose Ready (with its bucket and key) wakes the
controls, and the Guardrails protect the key as soon as it is known. A spec edit and a weakening
allowance are reconciled at once, and a deleted object's loop stops so its finalizer goes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from vigil.planning.weakening import ALLOW_ANNOTATION
from vigil_sandbox import examples
from vigil_sandbox.controlplane import ControlPlane
from vigil_sandbox.iam_coverage import gaps as iam_gaps
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant, wait_until

pytestmark = pytest.mark.e2e
NS = "dependents"
# Far beyond the deadlines below: a test that passes was not helped by a tick, a retry or a resync.
NEVER = "600"
DEADLINE = 120
DEPENDENTS = [("OrgTrail", "org-trail"), ("FlowLogPolicy", "vpc-flow-logs"), ("Guardrails", "guardrails")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, controlplane: ControlPlane) -> Iterator[Stack]:
    with Stack(tmp_path_factory.mktemp("dependents"), namespaces=(NS,), controlplane=controlplane,
               operator_env={"VIGIL_TICK_SECONDS": NEVER, "VIGIL_RETRY_SECONDS": NEVER}) as running:
        yield running
        missing = iam_gaps(running)
    if missing:
        pytest.fail(missing, pytrace=False)


def apply(stack: Stack, kind: str, **spec: object) -> None:
    stack.apply(examples.example(kind, NS, resyncInterval="1h", **spec))


def waiting_on(field: str):
    def check(obj: dict) -> bool:
        ready = condition(obj, "Ready")
        return (ready.get("observedGeneration") == obj["metadata"]["generation"]
                and ready.get("reason") == "DependencyNotReady" and ready.get("message", "").startswith(field))
    return check


def test_dependents_turn_ready_when_what_they_reference_does(stack: Stack) -> None:
    for kind, _ in DEPENDENTS:
        apply(stack, kind)
    apply(stack, "LogArchive")
    for kind, name in [*DEPENDENTS, ("LogArchive", "central")]:
        stack.wait(kind, NS, name, waiting_on("spec.organizationRef.name"), timeout=DEADLINE,
                   what="DependencyNotReady on the missing Organization")

    apply(stack, "Organization")
    for kind, name in [("Organization", "acme"), ("LogArchive", "central"), *DEPENDENTS]:
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=DEADLINE,
                   what="Ready and Compliant, woken by what it references")
    key = stack.get("LogArchive", NS, "central")["status"]["kmsKeyArn"]
    stack.wait("Guardrails", NS, "guardrails", lambda o: any(key in p for p in o["status"].get("protections", [])),
               timeout=DEADLINE, what="the archive's key protected, woken by the LogArchive's outputs")


def test_a_spec_edit_and_an_allowance_are_reconciled_at_once(stack: Stack) -> None:
    apply(stack, "OrgTrail", managementEvents={"readWriteType": "All", "excludeKmsEvents": True})
    generation = stack.get("OrgTrail", NS, "org-trail")["metadata"]["generation"]
    held = stack.wait("OrgTrail", NS, "org-trail",
                      lambda o: condition(o, "Ready").get("observedGeneration") == generation
                      and condition(o, "Ready").get("reason") == "WeakeningHeld", timeout=DEADLINE,
                      what="the new generation reconciled: a weakening, held")
    [allowance] = re.findall(f'{ALLOW_ANNOTATION}: "([^"]+)"', condition(held, "Ready")["message"])
    stack.annotate("OrgTrail", NS, "org-trail", {ALLOW_ANNOTATION: allowance})
    stack.wait("OrgTrail", NS, "org-trail", is_ready_and_compliant, timeout=DEADLINE,
               what="the allowance applied, woken by the annotation")


def test_an_edit_its_dependents_do_not_read_reconciles_the_object_edited_alone(stack: Stack) -> None:
    """A longer retention for the archive and another resync period for the Organization change
    nothing the controls do: the controls are not reconciled again for them (at 1,000 accounts, a
    pass of each over the whole organization). The trail's own edit afterwards is its one pass."""
    calls = stack.calls()
    calls.reset()
    edits = [("LogArchive", "central", {"retention": {"expireAfterDays": 3650, "transitionToGlacierAfterDays": 90}}),
             ("Organization", "acme", {"resyncInterval": "59m"}),
             ("OrgTrail", "org-trail", {"resyncInterval": "59m"})]
    for kind, name, spec in edits:
        generation = stack.patch_spec(kind, NS, name, spec)["metadata"]["generation"]
        stack.wait(kind, NS, name, lambda o, g=generation: condition(o, "Ready").get("observedGeneration") == g
                   and is_ready_and_compliant(o), timeout=DEADLINE, what="the edit reconciled")
    made = [c.operation for c in calls.calls() if c.by_vigil]
    assert made.count("GetTrailStatus") == 1, "the OrgTrail reconciled for its own edit only"
    assert "DescribeFlowLogs" not in made, "the FlowLogPolicy, not edited, not reconciled"


def test_a_deleted_objects_loop_stops_and_lets_it_go(stack: Stack) -> None:
    stack.delete("FlowLogPolicy", NS, "vpc-flow-logs")
    wait_until("the FlowLogPolicy is gone", lambda: not stack.exists("FlowLogPolicy", NS, "vpc-flow-logs"),
               timeout=DEADLINE)
    operator = stack.operator_process()
    assert operator is not None and operator.poll() is None
    log = (stack.workdir / "operator.log").read_text()
    assert "[dependents/vpc-flow-logs] Daemon 'reconcile' has exited on request" in log, \
        "the loop ended on kopf's stop, not by an error or a cancellation"
