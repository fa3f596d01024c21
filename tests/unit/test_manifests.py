"""Manifests as users write them: every example passes admission (the generated CRD schemas) and
the operator's own validation; bad manifests are refused with a message naming the field, at
admission where a schema can say it, else by the operator as InvalidSpec."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from vigil.api import KINDS
from vigil.controls.reconciler import parse_spec, validation_message
from vigil.crdgen import crd
from vigil.sandbox.admission import admit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def schema(kind: str) -> dict[str, Any]:
    return crd(KINDS[kind])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def examples() -> list[dict[str, Any]]:
    return [doc for path in sorted(EXAMPLES.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
            if doc and doc.get("apiVersion", "").startswith("vigil.dev/")]


def example(kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(doc for doc in examples() if doc["kind"] == kind))


@pytest.mark.parametrize("doc", examples(), ids=lambda d: d["kind"])
def test_examples_pass_admission_and_the_operator(doc):
    admitted = admit(schema(doc["kind"]), doc)
    assert admitted.errors == [] and admitted.pruned == []
    parse_spec(doc["kind"], admitted.obj["spec"])


def test_examples_cover_the_kinds_reconciled_so_far():
    assert {"Organization", "LogArchive", "OrgTrail"} <= {doc["kind"] for doc in examples()}


def with_spec(kind: str, path: str, value: Any) -> dict[str, Any]:
    """The example of ``kind`` with the dotted spec ``path`` set to ``value`` (None deletes it)."""
    doc = example(kind)
    node = doc["spec"]
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    return doc


# Refused by the API server itself: the CRD schema says so.
AT_ADMISSION = [
    ("Organization", "accounts.logArchive", "12", "spec.accounts.logArchive"),
    ("Organization", "accounts.security", None, "spec.accounts.security"),
    ("Organization", "regions.home", "Canada", "spec.regions.home"),
    ("Organization", "regions.governed", [], "spec.regions.governed"),
    ("Organization", "access.sessionDurationSeconds", 60, "spec.access.sessionDurationSeconds"),
    ("Organization", "workloads.organizationalUnits", ["engineering"], "spec.workloads.organizationalUnits[0]"),
    ("Organization", "managementPolicy", "Sometimes", "spec.managementPolicy"),
    ("LogArchive", "bucketName", "Bad_Bucket", "spec.bucketName"),
    ("LogArchive", "organizationRef", None, "spec.organizationRef"),
    ("LogArchive", "kms.alias", "vigil-key", "spec.kms.alias"),
    ("LogArchive", "objectLock.mode", "FOREVER", "spec.objectLock.mode"),
    ("LogArchive", "retention.expireAfterDays", 0, "spec.retention.expireAfterDays"),
    ("LogArchive", "deletionPolicy", "Purge", "spec.deletionPolicy"),
    ("OrgTrail", "trailName", "x", "spec.trailName"),
    ("OrgTrail", "logArchiveRef", None, "spec.logArchiveRef"),
    ("OrgTrail", "managementEvents.readWriteType", "Everything", "spec.managementEvents.readWriteType"),
    ("OrgTrail", "s3KeyPrefix", "cloudtrail/", "spec.s3KeyPrefix"),
    ("OrgTrail", "cloudWatchLogs.retentionDays", 42, "spec.cloudWatchLogs.retentionDays"),
    ("OrgTrail", "resyncInterval", "5 minutes", "spec.resyncInterval"),
    ("OrgTrail", "dataEvents.s3.bucketArns", ["my-bucket"], "spec.dataEvents.s3.bucketArns[0]"),
    ("FlowLogPolicy", "trafficType", "SOME", "spec.trafficType"),
    ("FlowLogPolicy", "maxAggregationIntervalSeconds", 300, "spec.maxAggregationIntervalSeconds"),
]


@pytest.mark.parametrize("kind, path, value, field", AT_ADMISSION, ids=[f"{k}:{p}" for k, p, _, _ in AT_ADMISSION])
def test_bad_manifest_is_refused_at_admission_naming_the_field(kind, path, value, field):
    doc = with_spec(kind, path, value) if kind in {d["kind"] for d in examples()} else _minimal(kind, path, value)
    errors = admit(schema(kind), doc).errors
    assert errors, f"{kind} with {path}={value!r} was admitted"
    assert any(e.path == field for e in errors), [str(e) for e in errors]
    # The operator, given the same spec, refuses it too (defence in depth for a stale CRD).
    with pytest.raises(Exception) as caught:
        parse_spec(kind, doc["spec"])
    assert field.split("[")[0].removeprefix("spec.").split(".")[0] in validation_message(caught.value)


def _minimal(kind: str, path: str, value: Any) -> dict[str, Any]:
    doc = {"apiVersion": "vigil.dev/v1alpha1", "kind": kind, "metadata": {"name": "x", "namespace": "n"},
           "spec": {"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"}}}
    doc["spec"][path] = value
    return doc


# Valid for the schema (it cannot relate two fields), refused by the operator as InvalidSpec.
BY_THE_OPERATOR = [
    ("Organization", {"regions": {"home": "eu-west-1", "governed": ["ca-central-1"]}}, "spec.regions"),
    ("Organization", {"workloads": {"all": True, "accountIds": ["555555555555"]}}, "spec.workloads"),
    ("Organization", {"accounts": {"logArchive": "222222222222", "security": "222222222222"}}, "spec"),
    ("LogArchive", {"kms": {"create": True, "keyArn": "arn:aws:kms:ca-central-1:222222222222:key/k"}}, "spec.kms"),
    ("LogArchive", {"kms": {"create": False}}, "spec.kms"),
    ("LogArchive", {"retention": {"expireAfterDays": 30, "transitionToGlacierAfterDays": 90}}, "spec.retention"),
    ("OrgTrail", {"resyncInterval": "0s"}, "spec.resyncInterval"),
]


@pytest.mark.parametrize("kind, change, field", BY_THE_OPERATOR, ids=[f"{k}:{f}" for k, _, f in BY_THE_OPERATOR])
def test_cross_field_mistakes_are_invalid_spec_naming_the_field(kind, change, field):
    doc = example(kind)
    doc["spec"].update(change)
    assert admit(schema(kind), doc).errors == []
    with pytest.raises(Exception) as caught:
        parse_spec(kind, doc["spec"])
    message = validation_message(caught.value)
    assert message.startswith(field), message
