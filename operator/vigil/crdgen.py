"""Generate structural CustomResourceDefinitions from the pydantic API models.

Kubernetes accepts only *structural* schemas: no ``$ref``, every node typed, ``nullable`` instead
of ``anyOf [X, null]``, and no ``additionalProperties: false`` beside ``properties`` (the API
server prunes unknown fields instead). This module turns pydantic's JSON Schema into that form,
so the models stay the one place a field is defined.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

import yaml

from .api import GROUP, KINDS, VERSION, KindInfo
from .api.common import RULE_KEY

# JSON Schema keywords that a structural OpenAPI v3 schema does not take.
_DROPPED = {"title", "$defs", "examples", "const"}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Resolve every ``$ref`` (pydantic puts sub-models in ``$defs``), depth first."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**target, **siblings}, defs)
    return {k: _inline(v, defs) for k, v in node.items()}


def _structural(node: Any) -> Any:
    if isinstance(node, list):
        return [_structural(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "const" in node:
        node.setdefault("enum", [node["const"]])
    any_of = node.pop("anyOf", None)
    if any_of is not None:
        non_null = [s for s in any_of if s.get("type") != "null"]
        if len(non_null) != 1:
            raise ValueError(f"cannot express anyOf {any_of} structurally")
        merged = {**non_null[0], **node}
        if len(non_null) < len(any_of):
            merged["nullable"] = True
        if merged.get("default", ...) is None:
            del merged["default"]  # a null default is the same as no default, and clearer
        node = merged
    if node.get("additionalProperties") is False:
        del node["additionalProperties"]
    words = _rule_words(node)
    out = {k: _structural(v) for k, v in node.items() if k not in _DROPPED and k != RULE_KEY}
    if words:
        out["description"] = " ".join(part for part in (out.get("description"), *words) if part)
    if "properties" in out:
        out["properties"] = {k: _structural(v) for k, v in node["properties"].items()}
        out.setdefault("type", "object")
    return out


def _rule_words(node: dict[str, Any]) -> list[str]:
    """The AWS rules a field follows, in words (``api.common.aws_rule``): its own, and its items' or
    values', since `kubectl explain` shows a list's description and not its items'."""
    words = [node[RULE_KEY]] if RULE_KEY in node else []
    for key, lead in (("items", "Each item:"), ("additionalProperties", "Each value:")):
        child = node.get(key)
        if isinstance(child, dict) and RULE_KEY in child:
            words.append(f"{lead} {child[RULE_KEY]}")
    return words


def openapi_schema(model: type, *, mode: str) -> dict[str, Any]:
    """The structural schema of one pydantic model."""
    raw = model.model_json_schema(by_alias=True, mode=mode)
    return _structural(_inline(raw, raw.get("$defs", {})))


def _printer_columns(info: KindInfo) -> list[dict[str, Any]]:
    def condition(kind: str) -> str:
        return f'.status.conditions[?(@.type=="{kind}")].status'

    columns: list[dict[str, Any]] = [
        {"name": "Ready", "type": "string", "jsonPath": condition("Ready")},
        {"name": "Compliant", "type": "string", "jsonPath": condition("Compliant")},
        {"name": "Targets", "type": "string", "jsonPath": info.targets_column},
        {"name": "Mode", "type": "string", "jsonPath": ".spec.managementPolicy"},
    ]
    for extra in info.extra_columns:
        column: dict[str, Any] = dict(extra)
        if "priority" in column:
            column["priority"] = int(column["priority"])
        columns.append(column)
    columns.append({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"})
    return columns


def crd(info: KindInfo) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind."""
    spec_schema = openapi_schema(info.spec, mode="validation")
    status_schema = openapi_schema(info.status, mode="validation")
    # Each kind's module docstring says what the kind is for; `kubectl explain` shows it.
    description = (importlib.import_module(info.spec.__module__).__doc__ or "").strip()
    root = {
        "type": "object",
        "description": description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema,
            "status": status_schema,
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{info.plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": info.short_names,
                "categories": ["vigil"],
            },
            "scope": "Namespaced",
            "versions": [{
                "name": VERSION,
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": root},
                "subresources": {"status": {}},
                "additionalPrinterColumns": _printer_columns(info),
            }],
        },
    }


def crd_documents() -> list[dict[str, Any]]:
    """Every kind's CustomResourceDefinition."""
    return [crd(info) for info in KINDS.values()]


def crd_files() -> dict[str, str]:
    """File name -> YAML text, for every kind and the kustomization listing them."""
    files = {f"{GROUP}_{document['spec']['names']['plural']}.yaml": _dump(document) for document in crd_documents()}
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": sorted(files)}
    files["kustomization.yaml"] = _dump(kustomization)
    return files


def _dump(document: dict[str, Any]) -> str:
    header = "# Generated by `vigil crds` from operator/vigil/api. Do not edit by hand.\n"
    return header + yaml.safe_dump(document, sort_keys=False, width=120)
