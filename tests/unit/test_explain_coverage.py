"""`kubectl explain` for everything: every field of every kind's spec and status, as the generated
CRDs carry it (objects' properties and list items' properties, all the way down, `spec` and
`status` themselves included), has a description, and so has each kind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vigil.api import KINDS
from vigil.crdgen import crd


def _schema(kind: str) -> dict[str, Any]:
    return crd(KINDS[kind])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def _fields(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``node`` and every field below it, by the path `kubectl explain` takes (``[]`` for list items)."""
    yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from _fields(child, f"{path}.{name}")
    items = node.get("items")
    if isinstance(items, dict):
        for name, child in (items.get("properties") or {}).items():
            yield from _fields(child, f"{path}[].{name}")


def _undescribed(kind: str) -> list[str]:
    schema = _schema(kind)
    return [path for part in ("spec", "status")
            for path, node in _fields(schema["properties"][part], f"{kind}.{part}")
            if not str(node.get("description") or "").strip()]


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_spec_and_status_field_has_a_description(kind):
    missing = _undescribed(kind)
    assert not missing, f"{len(missing)} field(s) without a description: {', '.join(missing)}"


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_kind_says_what_it_is(kind):
    description = _schema(kind)["description"]
    assert description.startswith(f"{kind}: "), description


def test_the_walk_reaches_nested_objects_and_list_items():
    paths = {path for path, _ in _fields(_schema("Guardrails")["properties"]["status"], "Guardrails.status")}
    assert {"Guardrails.status.conditions[].lastTransitionTime", "Guardrails.status.policies[].attachedTo",
            "Guardrails.status.targets.summary"} <= paths
    paths = {path for path, _ in _fields(_schema("OrgTrail")["properties"]["spec"], "OrgTrail.spec")}
    assert "OrgTrail.spec.dataEvents.s3.bucketArns" in paths


def test_a_field_without_a_description_is_named():
    node = {"description": "root", "type": "object", "properties": {
        "a": {"type": "string", "description": " "},
        "b": {"type": "array", "description": "b", "items": {"type": "object", "properties": {"c": {"type": "integer"}}}},
    }}
    assert [p for p, n in _fields(node, "X.spec") if not str(n.get("description") or "").strip()] == \
        ["X.spec.a", "X.spec.b[].c"]
