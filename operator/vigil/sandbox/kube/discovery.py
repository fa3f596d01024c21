"""
The documents clients read to learn what is served: API groups and resource lists, and the
OpenAPI v3 documents kubectl needs to validate on the server side and to explain.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from . import errors
from .http_requests import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, api_prefix
from .served import ServedResource

SUBRESOURCE_VERBS = ("get", "patch", "update")


def api_group_list(served: Collection[ServedResource]) -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        _api_group(served, group) for group in sorted(_named_groups(served))
    ]}


def api_group(served: Collection[ServedResource], group: str) -> dict[str, Any]:
    if group not in _named_groups(served):
        raise errors.not_found_url()
    return {"kind": "APIGroup", "apiVersion": "v1", **_api_group(served, group)}


def api_resource_list(served: Collection[ServedResource], group: str, version: str) -> dict[str, Any]:
    in_version = sorted((s for s in served if s.group == group and s.version == version), key=lambda s: s.plural)
    if not in_version:
        raise errors.not_found_url()
    resources: list[dict[str, Any]] = []
    for s in in_version:
        resources.append({
            "name": s.plural, "singularName": s.singular, "namespaced": s.namespaced,
            "kind": s.kind, "verbs": list(s.verbs),
            **({"shortNames": list(s.short_names)} if s.short_names else {}),
            **({"categories": list(s.categories)} if s.categories else {}),
        })
        resources.extend({
            "name": f"{s.plural}/{sub}", "singularName": "", "namespaced": s.namespaced,
            "kind": s.kind, "verbs": list(SUBRESOURCE_VERBS),
        } for sub in s.subresources)
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


def openapi_index(served: Collection[ServedResource], revision: int) -> dict[str, Any]:
    """The OpenAPI v3 index; its hashes are the revision, so kubectl's cached documents follow CRD changes."""
    prefixes = {api_prefix(s.group, s.version) for s in served}
    return {"paths": {
        prefix.lstrip("/"): {"serverRelativeURL": f"/openapi/v3{prefix}?hash={revision}"}
        for prefix in sorted(prefixes)
    }}


def openapi_group_version(served: Collection[ServedResource], prefix: str) -> dict[str, Any]:
    """
    A minimal OpenAPI v3 document of a group/version (``/apis/GROUP/VERSION``): a PATCH operation
    per kind that takes ``fieldValidation`` (so kubectl validates on the server side instead of
    downloading the OpenAPI v2 document), and the CRDs' schemas (so kubectl explain works).
    """
    in_version = [s for s in served if api_prefix(s.group, s.version) == prefix]
    if not in_version:
        raise errors.not_found_url()
    paths, schemas = {}, {}
    for s in in_version:
        gvk = {"group": s.group, "version": s.version, "kind": s.kind}
        namespace_part = "/namespaces/{namespace}" if s.namespaced else ""
        paths[f"{prefix}{namespace_part}/{s.plural}/{{name}}"] = {"patch": {
            "x-kubernetes-group-version-kind": gvk,
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            "requestBody": {"content": {JSON_PATCH: {}, MERGE_PATCH: {}, APPLY_PATCH: {}}},
            "responses": {"200": {"description": "OK"}},
        }}
        if s.schema is not None:
            name = ".".join(reversed(s.group.split("."))) + f".{s.version}.{s.kind}"
            schemas[name] = {**s.schema, "x-kubernetes-group-version-kind": [gvk]}
    return {
        "openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.30.0"},
        "paths": paths, "components": {"schemas": schemas},
    }


def _named_groups(served: Collection[ServedResource]) -> set[str]:
    return {s.group for s in served} - {""}


def _api_group(served: Collection[ServedResource], group: str) -> dict[str, Any]:
    versions = list(dict.fromkeys(s.version for s in served if s.group == group))
    entries = [{"groupVersion": f"{group}/{version}", "version": version} for version in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}
