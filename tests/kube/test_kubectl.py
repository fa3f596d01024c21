"""Vigil's CRDs as a cluster user meets them, through kubectl and the real kube-apiserver:
examples/ applied server-side twice changes nothing the second time; `kubectl get vigil` lists
every kind with its printer columns; `kubectl explain` shows the models' field descriptions; an
apply without a field manager is refused; an unknown field is warned about and pruned under
--validate=warn, refused under kubectl's default strict validation, and refused by server-side
apply whatever the validation; a status given on create is dropped (the status subresource)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from vigil.api import GROUP, KINDS, VERSION
from vigil.crdgen import crd
from vigil_sandbox import examples
from vigil_sandbox.controlplane import ControlPlane

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NS = "kube-kubectl"  # this module's own: the session's control plane is shared
MANAGER = "vigil-kubectl-test"


def example(kind: str, name: str | None = None, **spec: Any) -> dict[str, Any]:
    """The example manifest of ``kind``, moved into this module's namespace."""
    return examples.example(kind, NS, name, **spec)


@pytest.fixture(scope="module")
def plane(crds: ControlPlane) -> Iterator[ControlPlane]:
    """The session's control plane with the models' current CRDs; left without this module's objects
    (a later module's operator watches every namespace). Namespaces never finalize here: NS stays."""
    yield crds
    crds.kubectl("delete", "vigil", "--all", "-n", NS, "--ignore-not-found", "--wait=false")


def kubectl_json(plane: ControlPlane, *args: str) -> Any:
    return json.loads(plane.kubectl(*args, "-o", "json", "--show-managed-fields").stdout)


def vigil_objects(plane: ControlPlane) -> dict[str, dict[str, Any]]:
    items = kubectl_json(plane, "get", "vigil", "-n", NS)["items"]
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in items}


def versions(objects: dict[str, dict[str, Any]]) -> dict[str, tuple[str, int | None]]:
    return {key: (o["metadata"]["resourceVersion"], o["metadata"].get("generation")) for key, o in objects.items()}


@pytest.fixture(scope="module")
def overlay(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/ as a user applies it (its kustomization.yaml), moved into NS by an overlay."""
    directory = tmp_path_factory.mktemp("overlay")
    (directory / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "namespace": NS,
        "resources": [os.path.relpath(EXAMPLES, directory)]}))
    return directory


def apply_examples(plane: ControlPlane, overlay: Path) -> str:
    return plane.kubectl("apply", "--server-side", f"--field-manager={MANAGER}", "-k", str(overlay)).stdout


@pytest.fixture(scope="module")
def applied(plane: ControlPlane, overlay: Path) -> dict[str, dict[str, Any]]:
    apply_examples(plane, overlay)
    return vigil_objects(plane)


def test_applying_the_examples_twice_changes_nothing_the_second_time(plane: ControlPlane, overlay: Path,
                                                                     applied: dict[str, dict[str, Any]]):
    assert {o["kind"] for o in applied.values()} == set(KINDS), "every kind of examples/ was applied"
    namespace = kubectl_json(plane, "get", "namespace", NS)["metadata"]["resourceVersion"]

    output = apply_examples(plane, overlay)

    assert output.count("serverside-applied") == len(applied) + 1, output  # and the Namespace
    again = vigil_objects(plane)
    assert versions(again) == versions(applied), "a second identical apply wrote something"
    assert kubectl_json(plane, "get", "namespace", NS)["metadata"]["resourceVersion"] == namespace
    for key, obj in again.items():
        assert obj["metadata"]["generation"] == 1, key
        owners = {(f["manager"], f["operation"]) for f in obj["metadata"]["managedFields"]}
        assert owners == {(MANAGER, "Apply")}, key


def columns(table: list[str]) -> list[dict[str, str]]:
    """A kubectl table as rows of header -> cell; cells may be blank, so cut at the headers' offsets."""
    header = table[0]
    names = header.split()
    starts = []
    at = 0
    for name in names:
        at = header.index(name, at)
        starts.append(at)
        at += len(name)
    bounds = list(zip(starts, [*starts[1:], None]))
    return [{name: line[a:b].strip() for name, (a, b) in zip(names, bounds)} for line in table[1:]]


def tables(output: str) -> dict[str, list[dict[str, str]]]:
    """`kubectl get` of several kinds: one table per kind, keyed by the kind's resource name."""
    found: dict[str, list[dict[str, str]]] = {}
    for block in output.strip().split("\n\n"):
        rows = columns(block.splitlines())
        found[rows[0]["NAME"].split("/")[0]] = rows
    return found


def test_kubectl_get_vigil_lists_every_kind_with_its_columns(plane: ControlPlane,
                                                            applied: dict[str, dict[str, Any]]):
    # The columns read the status: give one object a status, as the operator would.
    now = "2026-01-01T00:00:00Z"
    status = {"observedGeneration": 1, "organizationId": "o-exampleorg1", "accounts": {"summary": "6/7"},
              "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled", "lastTransitionTime": now},
                             {"type": "Compliant", "status": "False", "reason": "Drifted", "lastTransitionTime": now}]}
    plane.kubectl("patch", "organizations.vigil.dev", "acme", "-n", NS, "--subresource=status", "--type=merge",
                  "-p", json.dumps({"status": status}))

    listed = tables(plane.kubectl("get", "vigil", "-A").stdout)

    mine = {kind: [r for r in rows if r["NAMESPACE"] == NS] for kind, rows in listed.items()}
    assert {kind for kind, rows in mine.items() if rows} == {f"{i.kind.lower()}.{GROUP}" for i in KINDS.values()}
    for kind, rows in mine.items():
        header = list(rows[0])
        assert header[:6] == ["NAMESPACE", "NAME", "READY", "COMPLIANT", "TARGETS", "MODE"], kind
        assert header[-1] == "AGE", kind
    assert list(mine[f"organization.{GROUP}"][0])[6] == "ORG"
    assert list(mine[f"securityhubbaseline.{GROUP}"][0])[6:8] == ["CRITICAL", "HIGH"]
    organization = mine[f"organization.{GROUP}"][0]
    assert (organization["READY"], organization["COMPLIANT"], organization["TARGETS"], organization["ORG"]) == (
        "True", "False", "6/7", "o-exampleorg1")
    trail = mine[f"orgtrail.{GROUP}"][0]
    assert (trail["READY"], trail["COMPLIANT"], trail["MODE"]) == ("", "", "Enforce"), "not reconciled yet"

    wide = tables(plane.kubectl("get", "logarchives", "-n", NS, "-o", "wide").stdout)
    assert [(r["NAME"], r["BUCKET"]) for r in next(iter(wide.values()))] == [("central", "acme-log-archive")]


def squeezed(text: str) -> str:
    return " ".join(text.split())


def test_kubectl_explain_shows_the_models_descriptions(plane: ControlPlane):
    kind = squeezed(plane.kubectl("explain", "logarchives").stdout)
    assert "LogArchive: the central, locked-down, KMS-encrypted log bucket in the log-archive account." in kind

    spec = squeezed(plane.kubectl("explain", "logarchives.spec").stdout)
    schema = crd(KINDS["LogArchive"])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    described = {name: p["description"] for name, p in schema["properties"].items() if p.get("description")}
    assert {"adoptionPolicy", "objectLock", "organizationRef", "resyncInterval"} <= set(described)
    for name, description in described.items():
        assert squeezed(description) in spec, name
    assert "How often AWS is checked for drift." in spec
    assert "bucketName <string> -required-" in spec

    kms = squeezed(plane.kubectl("explain", "logarchives.spec.kms.keyArn").stdout)
    assert "Use this existing key instead." in kms


def test_server_side_apply_without_a_field_manager_is_refused(plane: ControlPlane):
    api = plane.client()
    url = f"{api.configuration.host}/apis/{GROUP}/{VERSION}/namespaces/{NS}/logarchives/no-manager"
    answer = api.call_api("PATCH", url, header_params={"Content-Type": "application/apply-patch+yaml",
                                                       "Accept": "application/json"},
                          body=example("LogArchive", "no-manager"))
    answer.read()
    assert answer.status == 422, answer.data
    assert "fieldManager" in json.loads(answer.data)["message"]
    assert plane.kubectl("get", "logarchives", "no-manager", "-n", NS, check=False).returncode != 0, "nothing made"


def with_unknown_fields(name: str) -> dict[str, Any]:
    archive = example("LogArchive", name, retentionDays=30)
    archive["spec"]["kms"]["rotate"] = True
    return archive


def test_an_unknown_field_is_warned_about_and_pruned(plane: ControlPlane):
    archive = with_unknown_fields("pruned")

    done = plane.kubectl("apply", "--validate=warn", "-f", "-", input=yaml.safe_dump(archive))

    assert 'Warning: unknown field "spec.retentionDays"' in done.stderr
    assert 'Warning: unknown field "spec.kms.rotate"' in done.stderr
    stored = kubectl_json(plane, "get", "logarchives", "pruned", "-n", NS)["spec"]
    assert "retentionDays" not in stored and "rotate" not in stored["kms"]
    assert stored["bucketName"] == archive["spec"]["bucketName"], "the known fields were kept"


@pytest.mark.parametrize("validate", ["--validate=strict", None], ids=["strict", "kubectl-default"])
def test_strict_validation_refuses_an_unknown_field(plane: ControlPlane, validate: str | None):
    name = f"strict-{'default' if validate is None else 'flag'}"

    done = plane.kubectl("apply", *([validate] if validate else []), "-f", "-",
                         input=yaml.safe_dump(with_unknown_fields(name)), check=False)

    assert done.returncode != 0
    assert "strict decoding error" in done.stderr
    assert 'unknown field "spec.retentionDays"' in done.stderr and 'unknown field "spec.kms.rotate"' in done.stderr
    assert plane.kubectl("get", "logarchives", name, "-n", NS, check=False).returncode != 0, "nothing made"


@pytest.mark.parametrize("validate", ["ignore", "warn", "strict"])
def test_server_side_apply_refuses_an_unknown_field_whatever_the_validation(plane: ControlPlane, validate: str):
    # Server-side apply types the patch against the schema before any pruning, so an unknown field
    # is an error even under --validate=ignore. One unknown field: the server may name only the first.
    name = f"ssa-{validate}"
    archive = example("LogArchive", name, retentionDays=30)

    done = plane.kubectl("apply", "--server-side", f"--field-manager={MANAGER}", f"--validate={validate}", "-f", "-",
                         input=yaml.safe_dump(archive), check=False)

    assert done.returncode != 0
    assert ".spec.retentionDays: field not declared in schema" in done.stderr
    assert plane.kubectl("get", "logarchives", name, "-n", NS, check=False).returncode != 0, "nothing made"


def test_a_status_given_on_create_is_dropped(plane: ControlPlane):
    trail = example("OrgTrail", "with-status")
    trail["status"] = {"observedGeneration": 1, "isLogging": True, "conditions": [
        {"type": "Ready", "status": "True", "reason": "Reconciled", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}

    plane.kubectl("create", "-f", "-", input=yaml.safe_dump(trail))

    stored = kubectl_json(plane, "get", "orgtrails", "with-status", "-n", NS)
    assert "status" not in stored, stored["status"]
    assert stored["spec"]["trailName"] == trail["spec"]["trailName"]
