"""The operator against a real API server (kind), for what the emulator can only imitate: the
generated CRD schemas admit the examples (schema defaults applied) and refuse invalid manifests at
admission with a 422 naming the field; the server prints the CRDs' columns for `kubectl get vigil`;
a deletion waits on the operator's finalizer, and with deletionPolicy Retain the trail stays in AWS.

Skipped, with the reason, unless docker (with a running engine), kind and kubectl are on PATH and
the kubeconfig has the kind-vigil context (`make kind-up`).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import time
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from vigil_sandbox.stack import is_ready_and_compliant


def _why_no_cluster() -> str | None:
    missing = [tool for tool in ("docker", "kind", "kubectl") if shutil.which(tool) is None]
    if missing:
        return f"kind tests need {', '.join(missing)} on PATH (and a cluster from `make kind-up`)"
    try:
        docker = subprocess.run(["docker", "info"], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        docker = None
    if docker is None or docker.returncode != 0:
        return "kind tests need a running Docker engine (`docker info` failed)"
    contexts = subprocess.run(["kubectl", "config", "get-contexts", "-o", "name"], capture_output=True, text=True,
                              timeout=30)
    if "kind-vigil" not in contexts.stdout.split():
        return "no kind-vigil context in the kubeconfig: run `make kind-up` first"
    return None


if (reason := _why_no_cluster()) is not None:
    pytest.skip(reason, allow_module_level=True)

pytestmark = pytest.mark.kind
NAMES = {"Organization": "acme", "LogArchive": "central", "OrgTrail": "org-trail"}
TRAIL = "vigil-org-trail"
COLUMNS = ["NAME", "READY", "COMPLIANT", "TARGETS", "MODE", "AGE"]


@pytest.fixture(scope="module")
def baseline(cluster, manifests) -> dict[str, dict[str, Any]]:
    """The three examples, created; by kind, as the API server answered the create."""
    return {kind: cluster.create(manifests[kind]) for kind in NAMES}


def wait_ready_and_compliant(cluster) -> dict[str, dict[str, Any]]:
    return {kind: cluster.wait(kind, name, is_ready_and_compliant, timeout=90, what="Ready and Compliant")
            for kind, name in NAMES.items()}


def test_examples_are_admitted_and_become_ready_and_compliant(cluster, baseline):
    organization = baseline["Organization"]
    assert organization["metadata"]["generation"] == 1 and organization["metadata"]["uid"]
    # organization.yaml sets neither policy: the server filled in the schema's defaults.
    assert organization["spec"]["managementPolicy"] == "Enforce"
    assert organization["spec"]["deletionPolicy"] == "Retain"

    objects = wait_ready_and_compliant(cluster)

    described = cluster.aws("cloudtrail").describe_trails(trailNameList=[TRAIL])["trailList"]
    assert [trail["TrailARN"] for trail in described] == [objects["OrgTrail"]["status"]["trailArn"]]


@pytest.mark.parametrize(("kind", "path", "value", "reason"), [
    ("Organization", "accounts.logArchive", "12", "FieldValueInvalid"),
    ("OrgTrail", "managementPolicy", "Sometimes", "FieldValueNotSupported"),
    ("LogArchive", "bucketName", "Bad_Bucket", "FieldValueInvalid"),
])
def test_invalid_manifests_are_refused_at_admission(cluster, manifests, kind, path, value, reason):
    manifest = copy.deepcopy(manifests[kind])
    manifest["metadata"]["name"] = "refused"
    *parents, leaf = path.split(".")
    spec = manifest["spec"]
    for key in parents:
        spec = spec[key]
    spec[leaf] = value

    with pytest.raises(ApiException) as refused:
        cluster.create(manifest)

    assert refused.value.status == 422
    status = json.loads(refused.value.body)
    field = f"spec.{path}"
    assert status["reason"] == "Invalid" and field in status["message"]
    assert (reason, field) in [(cause.get("reason"), cause.get("field")) for cause in status["details"]["causes"]]
    assert not cluster.exists(kind, "refused")


def test_kubectl_get_vigil_prints_the_status_columns(cluster, baseline):
    wait_ready_and_compliant(cluster)

    listed = cluster.kubectl("get", "vigil", "-n", cluster.namespace)

    assert listed.returncode == 0, listed.stderr
    lines = [line.split() for line in listed.stdout.splitlines() if line.strip()]
    headers = [line for line in lines if line[0] == "NAME"]
    rows = {line[0]: line for line in lines if line[0] != "NAME"}
    assert len(headers) == len(NAMES), listed.stdout  # one table per kind
    for header in headers:  # in this order; Organization adds ORG before AGE
        assert [column for column in header if column in COLUMNS] == COLUMNS, listed.stdout
    for kind, name in NAMES.items():
        row = rows[f"{kind.lower()}.vigil.dev/{name}"]
        assert row[1:3] == ["True", "True"] and re.fullmatch(r"\d+/\d+", row[3]) and row[4] == "Enforce", row


def test_delete_with_retain_releases_the_finalizer_and_keeps_the_trail(cluster, baseline):
    trail = wait_ready_and_compliant(cluster)["OrgTrail"]
    assert trail["spec"]["deletionPolicy"] == "Retain"
    assert trail["metadata"].get("finalizers"), "the operator holds deletions with a finalizer"

    cluster.delete("OrgTrail", "org-trail")
    deadline = time.monotonic() + 30
    while cluster.exists("OrgTrail", "org-trail") and time.monotonic() < deadline:
        time.sleep(0.5)

    assert not cluster.exists("OrgTrail", "org-trail"), "the operator released its finalizer within 30 s"
    cloudtrail = cluster.aws("cloudtrail")
    assert [t["Name"] for t in cloudtrail.describe_trails(trailNameList=[TRAIL])["trailList"]] == [TRAIL]
    assert cloudtrail.get_trail_status(Name=TRAIL)["IsLogging"] is True
