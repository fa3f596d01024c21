"""examples/ as documents: what the demo applies and what tests start from, read in one place."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def documents() -> list[dict[str, Any]]:
    """Every manifest of examples/ (the Namespace and the vigil.dev objects), file by file."""
    return [doc for path in sorted(EXAMPLES.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
            if doc and doc.get("kind") != "Kustomization"]


def objects() -> list[dict[str, Any]]:
    """The vigil.dev objects of examples/."""
    return [doc for doc in documents() if doc.get("apiVersion", "").startswith("vigil.dev/")]


def example(kind: str, namespace: str | None = None, name: str | None = None, **spec: Any) -> dict[str, Any]:
    """A copy of the example of ``kind``, moved to ``namespace`` and renamed ``name`` if given, with
    ``spec`` merged into its spec."""
    doc = copy.deepcopy(next((d for d in objects() if d["kind"] == kind), None))
    if doc is None:
        raise LookupError(f"examples/ has no {kind}")
    doc["metadata"]["namespace"] = namespace or doc["metadata"].get("namespace")
    doc["metadata"]["name"] = name or doc["metadata"]["name"]
    doc["spec"].update(spec)
    return doc
