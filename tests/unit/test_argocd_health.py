"""Argo CD health for the vigil.dev kinds: deploy/argocd/health.lua and the argocd-cm patch made from it.

Covers: the Lua run (with lupa's Lua 5.1 runtime, the dialect of Argo CD's gopher-lua; as Argo CD
runs it: `obj` global, returns {status, message})
against sample objects for Healthy, Degraded (failed reconcile, drift) and Progressing (no status,
stale generation, waiting reasons); against every recorded state in tests/states/*.json, with the
health tests/states/expected.yaml gives it (the same states kstatus and Flux are run over in
tests/kstatus/); and that argocd-cm-patch.yaml matches generate.py's output, carrying that same Lua
for every kind in crds/.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

# lupa's default runtime is the newest Lua it bundles (5.4); Argo CD's gopher-lua speaks 5.1, where
# integer division, goto and utf8 do not exist: a script that runs on 5.4 alone fails in Argo CD.
lua51 = pytest.importorskip("lupa.lua51", reason="lupa (with its Lua 5.1 runtime) runs the Lua health checks")

ROOT = Path(__file__).resolve().parents[2]
ARGOCD = ROOT / "deploy" / "argocd"
STATES = ROOT / "tests" / "states"
HEALTH_LUA = (ARGOCD / "health.lua").read_text()
KINDS = ["Organization", "LogArchive", "OrgTrail", "FlowLogPolicy", "GuardDutyOrg", "ConfigBaseline",
         "LogSubscriptionPolicy", "SecurityHubBaseline", "SessionLogging", "Guardrails"]
KEY = "resource.customizations.health.vigil.dev_{}"


def assess(obj: dict[str, Any], lua_source: str = HEALTH_LUA) -> dict[str, str]:
    """Run a health script the way Argo CD does: `obj` set as a global, the script returns a table."""
    lua = lua51.LuaRuntime()
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(lua_source)
    return {"status": result["status"], "message": result["message"]}


def test_the_runtime_is_lua_5_1_as_in_argo_cd() -> None:
    assert lua51.LuaRuntime().eval("_VERSION") == "Lua 5.1"


def condition(type_: str, status: str, reason: str, message: str = "", generation: int = 3) -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": "2026-11-27T10:00:00Z"}


def resource(*conditions: dict[str, Any], generation: int = 3, observed: int | None = 3,
             kind: str = "FlowLogPolicy") -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "vigil.dev/v1alpha1", "kind": kind,
                           "metadata": {"name": "baseline", "namespace": "vigil-system", "generation": generation},
                           "spec": {"organizationRef": {"name": "acme"}}}
    if conditions or observed is not None:
        obj["status"] = {"observedGeneration": observed, "conditions": list(conditions),
                         "targets": {"total": 40, "compliant": 38, "failed": 0}}
    return obj


READY = condition("Ready", "True", "Reconciled")
COMPLIANT = condition("Compliant", "True", "InSync", "40 of 40 targets compliant")


# --- the Lua -------------------------------------------------------------------------------------

def test_ready_and_compliant_at_the_current_generation_is_healthy() -> None:
    assert assess(resource(READY, COMPLIANT)) == {"status": "Healthy", "message": "40 of 40 targets compliant"}


@pytest.mark.parametrize("reason", ["InvalidSpec", "AccessDenied", "PartialFailure"])
def test_a_failed_reconcile_is_degraded_with_the_condition_message(reason: str) -> None:
    message = "regions: eu-west-9 is not a governed region"
    health = assess(resource(condition("Ready", "False", reason, message), COMPLIANT))
    assert health == {"status": "Degraded", "message": message}


def test_a_failure_without_a_message_names_its_reason() -> None:
    health = assess(resource(condition("Ready", "False", "AccessDenied"), COMPLIANT))
    assert health == {"status": "Degraded", "message": "AccessDenied"}


@pytest.mark.parametrize("status", [None, {}, {"conditions": []}])
def test_no_status_yet_is_progressing(status: dict | None) -> None:
    obj = resource(observed=None)
    if status is not None:
        obj["status"] = status
    assert assess(obj)["status"] == "Progressing"


def test_a_generation_the_operator_has_not_observed_is_progressing() -> None:
    # The conditions still say Healthy, but they describe generation 3 and the spec is at 4.
    health = assess(resource(READY, COMPLIANT, generation=4, observed=3))
    assert health == {"status": "Progressing", "message": "Waiting for the operator to observe generation 4"}


def test_a_missing_observed_generation_is_progressing() -> None:
    assert assess(resource(READY, COMPLIANT, observed=None))["status"] == "Progressing"


def test_ready_but_not_compliant_is_degraded_as_drift() -> None:
    drifted = condition("Compliant", "False", "Drifted", "2 of 40 targets differ")
    assert assess(resource(READY, drifted)) == {"status": "Degraded", "message": "Drifted: 2 of 40 targets differ"}


@pytest.mark.parametrize("reason", ["DependencyNotReady", "Throttled"])
def test_waiting_on_something_that_clears_by_itself_is_progressing(reason: str) -> None:
    message = "LogArchive central is not Ready"
    health = assess(resource(condition("Ready", "False", reason, message), COMPLIANT))
    assert health == {"status": "Progressing", "message": message}


def test_ready_unknown_is_progressing() -> None:
    ready = condition("Ready", "Unknown", "Reconciling", "first reconcile under way")
    assert assess(resource(ready, COMPLIANT)) == {"status": "Progressing", "message": "first reconcile under way"}


@pytest.mark.parametrize("compliant", [None, condition("Compliant", "Unknown", "NotObserved")])
def test_ready_with_compliance_not_yet_known_is_progressing(compliant: dict | None) -> None:
    conditions = [READY] + ([compliant] if compliant else [])
    assert assess(resource(*conditions))["status"] == "Progressing"


# --- the recorded states ------------------------------------------------------------------------

def recorded_states() -> dict[str, dict[str, Any]]:
    """scenario -> object, from every tests/states/*.json."""
    states: dict[str, dict[str, Any]] = {}
    for path in sorted(STATES.glob("*.json")):
        record = json.loads(path.read_text())
        assert record["scenario"] not in states, f"{path.name}: scenario {record['scenario']} recorded twice"
        states[record["scenario"]] = record["object"]
    return states


def expected_health() -> dict[str, dict[str, str]]:
    return yaml.safe_load((STATES / "expected.yaml").read_text()) or {}


def test_every_recorded_state_has_an_expectation_and_every_expectation_a_state() -> None:
    states, expected = set(recorded_states()), set(expected_health())
    assert not states - expected, f"states without a row in tests/states/expected.yaml: {sorted(states - expected)}"
    assert not expected - states, f"rows of tests/states/expected.yaml without a state: {sorted(expected - states)}"


@pytest.mark.parametrize("scenario", sorted(recorded_states()))
def test_the_health_of_a_recorded_state(scenario: str) -> None:
    want = expected_health().get(scenario)
    if want is None:
        pytest.fail(f"{scenario}: no row in tests/states/expected.yaml", pytrace=False)
    assert want["argocd"] in {"Healthy", "Progressing", "Degraded"}, f"{scenario}: argocd is {want['argocd']}"
    health = assess(recorded_states()[scenario])
    assert health["status"] == want["argocd"], f"{scenario}: health.lua says {health}"
    assert health["message"], f"{scenario}: health.lua gives no message"


# --- the generated argocd-cm patch ---------------------------------------------------------------

def load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("argocd_generate", ARGOCD / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_patch_is_up_to_date_with_generate_py() -> None:
    generator = load_generator()
    wanted = generator.render(HEALTH_LUA, generator.vigil_kinds())
    assert (ARGOCD / "argocd-cm-patch.yaml").read_text() == wanted, "run: python deploy/argocd/generate.py"


def test_patch_carries_the_same_lua_for_every_kind() -> None:
    patch = yaml.safe_load((ARGOCD / "argocd-cm-patch.yaml").read_text())
    assert (patch["kind"], patch["metadata"]["name"]) == ("ConfigMap", "argocd-cm")
    assert set(patch["data"]) == {KEY.format(kind) for kind in KINDS}
    assert all(lua == HEALTH_LUA for lua in patch["data"].values())


@pytest.mark.parametrize("kind", KINDS)
def test_the_patched_lua_runs_for_each_kind(kind: str) -> None:
    lua = yaml.safe_load((ARGOCD / "argocd-cm-patch.yaml").read_text())["data"][KEY.format(kind)]
    assert assess(resource(READY, COMPLIANT, kind=kind), lua)["status"] == "Healthy"
    drifted = condition("Compliant", "False", "Drifted", "1 of 2 targets differ")
    assert assess(resource(READY, drifted, kind=kind), lua)["status"] == "Degraded"
