"""The states the end-to-end tests reach, kept as fixtures for the GitOps health checks' own tests
(kstatus in Go, Argo CD's Lua, Flux's CEL): ``tests/states/<scenario>.json``.

With ``VIGIL_RECORD_STATES=1`` the e2e run (re)writes them. Otherwise every call checks the live
object against its fixture: same conditions (type and status, and the reasons that say why it is
not Ready) and the same generation-observed relation. So a fixture cannot drift from what the
operator writes: change the conditions, and the e2e test says which fixture to record again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STATES = Path(__file__).resolve().parents[2] / "tests" / "states"
RECORD = "VIGIL_RECORD_STATES"
# Conditions whose reason a health check may read; the others' reasons vary run to run (InSync or
# DriftCorrected), and their messages always do.
REASONS_THAT_MATTER = ("Ready", "Stalled", "Reconciling", "IntegrityVerified")


def record(scenario: str, obj: dict[str, Any]) -> None:
    path = STATES / f"{scenario}.json"
    recorded = json.loads(path.read_text())["object"] if path.exists() else None
    if os.environ.get(RECORD):
        if recorded is None or signature(recorded) != signature(obj):  # else keep it: no churn in Git
            path.write_text(json.dumps({"scenario": scenario, "object": _fixture(obj)}, indent=2, sort_keys=True)
                            + "\n")
        return
    assert recorded is not None, f"no recorded state {path.name}: run the e2e tests with {RECORD}=1 to record it"
    assert signature(recorded) == signature(obj), (
        f"{path.name} no longer matches what the operator writes: record it again with {RECORD}=1")


def signature(obj: dict[str, Any]) -> dict[str, Any]:
    """What a health check reads of an object, without what varies from run to run."""
    status = obj.get("status") or {}
    return {
        "observed": status.get("observedGeneration") == obj["metadata"].get("generation"),
        "conditions": sorted((c["type"], c["status"], c["reason"] if c["type"] in REASONS_THAT_MATTER else "")
                             for c in status.get("conditions") or []),
    }


def _fixture(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "generation": meta["generation"]},
            "spec": obj.get("spec") or {}, "status": obj.get("status") or {}}
