"""RBAC is the real thing: a ServiceAccount bound to nothing is refused (403) on Vigil's kinds, and
deploy/'s ClusterRole gives the operator's ServiceAccount exactly what rbac.yaml says: read,
watch and patch every vigil.dev kind and its status, never create or delete one, read a Secret
by name but never list Secrets. Each verdict is a real request made with the account's token."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from vigil.api import GROUP, KINDS, VERSION
from vigil_sandbox.controlplane import ControlPlane
from vigil_sandbox.examples import example
from vigil_sandbox.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
NS = "kube-rbac"  # this module's own: the session's control plane is shared
OPERATOR = ("vigil-system", "vigil")
PLURALS = {info.kind: info.plural for info in KINDS.values()}


@pytest.fixture(scope="module")
def plane(crds: ControlPlane) -> Iterator[ControlPlane]:
    """CRDs, deploy/'s identity, NS with one example object of every kind and a Secret, and an
    account bound to nothing; the vigil.dev objects are deleted afterwards (a later module's
    operator watches every namespace)."""
    controlplane = crds
    controlplane.apply(Stack.identity())
    controlplane.apply([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody", "namespace": NS}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "external-id", "namespace": NS},
         "stringData": {"externalId": "not-a-secret"}},
        *(example(kind, NS) for kind in KINDS)])
    yield controlplane
    controlplane.kubectl("delete", "vigil", "--all", "-n", NS, "--ignore-not-found", "--wait=false")


def client_as(plane: ControlPlane, namespace: str, account: str, directory: Path) -> client.ApiClient:
    """An ApiClient that authenticates with the ServiceAccount's bound token, as a pod would."""
    kubeconfig = plane.kubeconfig_for(namespace, account, directory / f"{namespace}-{account}.kubeconfig")
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration, persist_config=False)
    return client.ApiClient(configuration)


@pytest.fixture(scope="module")
def operator(plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> client.ApiClient:
    return client_as(plane, *OPERATOR, tmp_path_factory.mktemp("operator"))


def status_of(request: Callable[[], Any]) -> int:
    """The HTTP status the API server answered."""
    try:
        request()
    except ApiException as exc:
        return int(exc.status)
    return 200


def name_of(kind: str) -> str:
    return str(example(kind, NS)["metadata"]["name"])


def test_an_account_bound_to_nothing_is_forbidden(plane: ControlPlane, tmp_path: Path):
    nobody = client.CustomObjectsApi(client_as(plane, NS, "nobody", tmp_path))
    with pytest.raises(ApiException) as refused:
        nobody.list_namespaced_custom_object(GROUP, VERSION, NS, "logarchives")
    assert refused.value.status == 403
    message = json.loads(refused.value.body)["message"]
    assert f'User "system:serviceaccount:{NS}:nobody" cannot list resource "logarchives"' in message

    done = plane.kubectl("get", "logarchives", "-n", NS, check=False,
                         kubeconfig=tmp_path / f"{NS}-nobody.kubeconfig")
    assert done.returncode != 0 and "Forbidden" in done.stderr, done.stderr


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_operator_reads_watches_and_patches_every_kind_and_its_status(operator: client.ApiClient, kind: str):
    api, plural, name = client.CustomObjectsApi(operator), PLURALS[kind], name_of(kind)

    assert [o["metadata"]["name"] for o in api.list_cluster_custom_object(GROUP, VERSION, plural)["items"]
            if o["metadata"]["namespace"] == NS] == [name]
    watch = api.list_cluster_custom_object(GROUP, VERSION, plural, watch=True, timeout_seconds=1,
                                           _preload_content=False)
    assert watch.status == 200
    watch.close()  # the stream is still open: a pooled connection with unread data would break the next request
    patched = api.patch_namespaced_custom_object(GROUP, VERSION, NS, plural, name,
                                                 {"metadata": {"annotations": {"vigil.dev/rbac-test": "patched"}}})
    assert patched["metadata"]["annotations"]["vigil.dev/rbac-test"] == "patched"
    status = {"status": {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "Unknown", "reason": "Reconciling", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}
    written = api.patch_namespaced_custom_object_status(GROUP, VERSION, NS, plural, name, status)
    assert written["status"]["conditions"][0]["reason"] == "Reconciling"


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_operator_cannot_create_or_delete_a_vigil_object(operator: client.ApiClient, plane: ControlPlane,
                                                             kind: str):
    api, plural = client.CustomObjectsApi(operator), PLURALS[kind]
    another = example(kind, NS)
    another["metadata"]["name"] = "made-by-the-operator"

    assert status_of(lambda: api.create_namespaced_custom_object(GROUP, VERSION, NS, plural, another)) == 403
    assert status_of(lambda: api.delete_namespaced_custom_object(GROUP, VERSION, NS, plural, name_of(kind))) == 403
    admin = client.CustomObjectsApi(plane.client())
    assert admin.get_namespaced_custom_object(GROUP, VERSION, NS, plural, name_of(kind)), "still there"


def test_the_operator_reads_a_named_secret_but_cannot_list_secrets(operator: client.ApiClient):
    core = client.CoreV1Api(operator)

    assert core.read_namespaced_secret("external-id", NS).data["externalId"]
    assert status_of(lambda: core.list_namespaced_secret(NS)) == 403
    assert status_of(lambda: core.list_secret_for_all_namespaces()) == 403
    assert status_of(lambda: core.list_namespaced_secret(NS, watch=True, timeout_seconds=1,
                                                         _preload_content=False)) == 403


def test_the_operator_can_do_what_kopf_needs_at_startup_and_to_post_events(operator: client.ApiClient):
    core = client.CoreV1Api(operator)
    assert NS in {n.metadata.name for n in core.list_namespace().items}
    crds = client.ApiextensionsV1Api(operator).list_custom_resource_definition().items
    assert {f"{plural}.{GROUP}" for plural in PLURALS.values()} <= {c.metadata.name for c in crds}
    event = {"metadata": {"generateName": "rbac-test-"}, "reason": "Test", "message": "from the rbac test",
             "type": "Normal", "involvedObject": {"kind": "LogArchive", "namespace": NS, "name": "central",
                                                   "apiVersion": f"{GROUP}/{VERSION}"}}
    assert core.create_namespaced_event(NS, event).reason == "Test"
    # Not granted: kopf's peering (the operator runs --standalone) and anything outside its job.
    assert status_of(lambda: client.CustomObjectsApi(operator).list_cluster_custom_object(
        "kopf.dev", "v1", "clusterkopfpeerings")) == 403
    assert status_of(lambda: core.list_namespaced_config_map(NS)) == 403
