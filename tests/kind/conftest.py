"""Fixtures for the kind tests: the real `vigil run` process, on this machine, against the kind
cluster `vigil` (context kind-vigil, from `make kind-up`) and the AWS sandbox, each a subprocess
logging to a file; one fresh namespace per run, deleted at the end.

Nothing here runs when test_kind.py skips itself (no docker, kind, kubectl or kind-vigil context).
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from vigil.api import GROUP, VERSION
from vigil_sandbox.stack import PLURALS, free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CLUSTER = "vigil"
CONTEXT = f"kind-{CLUSTER}"
# Resync this often, so the operator's timers run within a test's patience.
RESYNC = "3s"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "ca-central-1", "AWS_EC2_METADATA_DISABLED": "true"}


def examples(namespace: str) -> list[dict[str, Any]]:
    """The vigil.dev manifests of examples/, moved to ``namespace``, with fast resyncs."""
    manifests = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") in PLURALS:
                doc = copy.deepcopy(doc)
                doc["metadata"]["namespace"] = namespace
                doc["spec"]["resyncInterval"] = RESYNC
                manifests.append(doc)
    return manifests


@dataclass
class Cluster:
    """The kind cluster as one test run sees it: its namespace, the operator and the sandbox."""

    namespace: str
    kubeconfig: Path
    api: Any  # kubernetes.client.ApiClient, for context kind-vigil
    aws_endpoint: str
    workdir: Path

    @property
    def custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.api)

    def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        return self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace,
                                                           PLURALS[manifest["kind"]], manifest)

    def get(self, kind: str, name: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURALS[kind], name)

    def delete(self, kind: str, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURALS[kind], name)

    def exists(self, kind: str, name: str) -> bool:
        from kubernetes.client.exceptions import ApiException

        try:
            self.get(kind, name)
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise

    def wait(self, kind: str, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float,
             what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        obj: dict[str, Any] = {}
        while time.monotonic() < deadline:
            obj = self.get(kind, name)
            if predicate(obj):
                return obj
            time.sleep(0.5)
        raise TimeoutError(f"{kind} {self.namespace}/{name}: {what} not met in {timeout}s; status: "
                           f"{json.dumps(obj.get('status'), indent=1)}\n"
                           f"operator log: {self.workdir / 'operator.log'}")

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), "--context", CONTEXT, *args],
                              capture_output=True, text=True, timeout=60)

    def aws(self, service: str) -> Any:
        """A boto3 client for the sandbox, in the management account."""
        import boto3

        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name=AWS_ENV["AWS_DEFAULT_REGION"],
                            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"])


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _vigil_objects(kube: Any, namespace: str) -> list[tuple[str, dict[str, Any]]]:
    from kubernetes import client

    custom = client.CustomObjectsApi(kube)
    return [(plural, obj) for plural in PLURALS.values()
            for obj in custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)["items"]]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kind")


@pytest.fixture(scope="module")
def kubeconfig(workdir: Path) -> Path:
    """A kubeconfig of the kind cluster alone: its current context is kind-vigil, whatever ~/.kube says."""
    path = workdir / "kubeconfig"
    path.write_text(subprocess.run(["kind", "get", "kubeconfig", "--name", CLUSTER], check=True,
                                   capture_output=True, text=True, timeout=60).stdout)
    return path


@pytest.fixture(scope="module")
def kube(kubeconfig: Path) -> Iterator[Any]:
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(kubeconfig), context=CONTEXT, persist_config=False)
    yield api
    api.close()


@pytest.fixture(scope="module")
def namespace(kube: Any) -> Iterator[str]:
    """A fresh namespace; at the end, whatever the operator left holding a finalizer is let go."""
    from kubernetes import client

    name = f"vigil-e2e-{secrets.token_hex(3)}"
    core = client.CoreV1Api(kube)
    core.create_namespace({"metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "vigil-e2e"}}})
    yield name
    custom = client.CustomObjectsApi(kube)
    for plural, obj in _vigil_objects(kube, name):
        if obj["metadata"].get("finalizers"):  # the operator is gone: nobody else will release them
            custom.patch_namespaced_custom_object(GROUP, VERSION, name, plural, obj["metadata"]["name"],
                                                  {"metadata": {"finalizers": None}})
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def sandbox(workdir: Path) -> Iterator[str]:
    """The AWS sandbox's endpoint."""
    log = workdir / "aws.log"
    with log.open("w") as err:
        process = subprocess.Popen([sys.executable, "-m", "vigil_sandbox", "--port", "0", "--json"],
                                   stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the AWS sandbox did not start; see {log}")
        yield json.loads(line)["endpoint"]
    finally:
        _stop(process)
        process.stdout.close()  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def operator(kubeconfig: Path, kube: Any, namespace: str, sandbox: str, workdir: Path) -> Iterator[None]:
    """`vigil run` for the test namespace. At the end it first deletes every vigil.dev object there,
    so the operator releases its own finalizers, then stops."""
    from kubernetes import client

    port = free_port()
    env = {**os.environ, **AWS_ENV, "AWS_ENDPOINT_URL": sandbox, "KUBECONFIG": str(kubeconfig),
           "VIGIL_TICK_SECONDS": "1", "VIGIL_RETRY_SECONDS": "2", "VIGIL_METRICS_PORT": str(port)}
    log = workdir / "operator.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "vigil", "run", "--standalone", "--namespace", namespace,
                                    "--verbose"], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", 30, process, log)
        yield
        custom = client.CustomObjectsApi(kube)
        for plural, obj in _vigil_objects(kube, namespace):
            custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, plural, obj["metadata"]["name"])
        deadline = time.monotonic() + 30
        while _vigil_objects(kube, namespace) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def manifests(namespace: str) -> dict[str, dict[str, Any]]:
    """The examples by kind, in the test namespace: copy one before changing it."""
    return {doc["kind"]: doc for doc in examples(namespace)}


@pytest.fixture(scope="module")
def cluster(kubeconfig: Path, kube: Any, namespace: str, sandbox: str, operator: None, workdir: Path) -> Cluster:
    return Cluster(namespace=namespace, kubeconfig=kubeconfig, api=kube, aws_endpoint=sandbox, workdir=workdir)
