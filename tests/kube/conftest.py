"""Fixtures for the tests that use the session's kube-apiserver without the operator."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from vigil.api import GROUP, KINDS, VERSION
from vigil.crdgen import crd_documents
from vigil_sandbox.controlplane import ControlPlane


@pytest.fixture(scope="module")
def crds(controlplane: ControlPlane) -> ControlPlane:
    """The session's control plane serving the CRDs the models generate now (the server refuses
    one whose CEL rules could cost more than its budget)."""
    controlplane.install_crds(crd_documents())
    return controlplane


@pytest.fixture(scope="module")
def namespace(crds: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of this module's own. Without a controller-manager a deleted namespace is never
    finalized, hence the unique name; the vigil.dev objects a test left in it are removed (a later
    module's operator watches every namespace)."""
    api = crds.client()
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    name = f"{request.module.__name__.rsplit('.', 1)[-1].removeprefix('test_').replace('_', '-')}-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    try:
        yield name
    finally:
        for info in KINDS.values():
            for obj in custom.list_namespaced_custom_object(GROUP, VERSION, name, info.plural)["items"]:
                custom.patch_namespaced_custom_object(GROUP, VERSION, name, info.plural, obj["metadata"]["name"],
                                                      {"metadata": {"finalizers": None}})
                custom.delete_namespaced_custom_object(GROUP, VERSION, name, info.plural, obj["metadata"]["name"])
        core.delete_namespace(name)


@pytest.fixture(scope="module")
def dry_run_create(crds: ControlPlane, namespace: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``dry_run_create(doc)``: the object as the server would store it in ``namespace`` (defaults
    applied), or the server's refusal. Strict field validation: an unknown field is refused, not
    silently pruned."""
    api = client.CustomObjectsApi(crds.client())

    def create(doc: dict[str, Any]) -> dict[str, Any]:
        group, version = doc["apiVersion"].split("/")
        body = {**doc, "metadata": {**doc["metadata"], "namespace": namespace}}
        return api.create_namespaced_custom_object(group, version, namespace, KINDS[doc["kind"]].plural, body,
                                                   dry_run="All", field_validation="Strict")

    return create
