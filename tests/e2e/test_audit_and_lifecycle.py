"""The operator's guarantees that need a quiet AWS to prove: Audit never writes, an invalid spec
makes no AWS call (refused by the API server, or, under a CRD older than the rule, by the operator), a missing Organization makes the object wait (DependencyNotReady) and then
reconcile once it appears, and deletionPolicy Delete removes only what Vigil created (a
LogArchive deleted first waiting for the trail whose deletion reads it)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from vigil.api import KINDS
from vigil.crdgen import crd
from vigil_sandbox import states
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant, wait_until

pytestmark = pytest.mark.e2e
LOG_ARCHIVE = "222222222222"


def reason(obj: dict, type_: str = "Ready") -> str:
    return condition(obj, type_).get("reason", "")


# A key both created and brought: the CRD's CEL rule refuses it.
BOTH_KEYS = {"create": True, "keyArn": "arn:aws:kms:ca-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"}


def without_rules(node: Any) -> Any:
    """A schema as an older CRD had it, before its x-kubernetes-validations."""
    if isinstance(node, dict):
        return {k: without_rules(v) for k, v in node.items() if k != "x-kubernetes-validations"}
    if isinstance(node, list):
        return [without_rules(v) for v in node]
    return node


def test_invalid_spec_is_refused_at_admission_naming_the_field(stack: Stack, manifest):
    calls = stack.calls()
    calls.reset()
    message = stack.refusal(manifest("LogArchive", "lifecycle", kms=BOTH_KEYS))
    assert "spec.kms.keyArn" in message and "create: false" in message
    assert not stack.exists("LogArchive", "lifecycle", "central")
    assert calls.calls() == []


def test_invalid_spec_and_missing_organization_make_no_aws_call(stack: Stack, manifest):
    # A cluster still serving an older CRD, without the rule: the operator refuses it itself.
    assert stack.controlplane is not None
    stale = without_rules(crd(KINDS["LogArchive"]))
    stack.controlplane.apply([stale])
    calls = stack.calls()
    calls.reset()
    try:
        stack.apply(manifest("LogArchive", "lifecycle", kms=BOTH_KEYS))
    finally:
        stack.controlplane.apply([crd(KINDS["LogArchive"])])  # the current CRD again, rules and all
    stack.apply(manifest("OrgTrail", "lifecycle"))
    bad = stack.wait("LogArchive", "lifecycle", "central", lambda o: reason(o) == "InvalidSpec", timeout=20,
                     what="InvalidSpec")
    assert "spec.kms" in condition(bad, "Ready")["message"] and "keyArn" in condition(bad, "Ready")["message"]
    assert condition(bad, "Compliant")["status"] == "Unknown"
    states.record("invalid-spec", bad)
    waiting = stack.wait("OrgTrail", "lifecycle", "org-trail", lambda o: reason(o) == "DependencyNotReady",
                         timeout=20, what="DependencyNotReady")
    assert "Organization lifecycle/acme does not exist" in condition(waiting, "Ready")["message"]
    states.record("dependency-not-ready", waiting)
    time.sleep(3)  # a few timer ticks: still nothing may reach AWS
    assert calls.calls() == []
    stack.wait_events("lifecycle", "central", lambda e: e["reason"] == "InvalidSpec" and e["type"] == "Warning",
                      what="InvalidSpec")


def test_object_waits_for_its_organization_then_reconciles(stack: Stack, manifest):
    stack.apply(manifest("Organization", "lifecycle"))
    stack.apply(manifest("LogArchive", "lifecycle", kms={"create": True, "keyArn": None}))  # the spec, fixed
    for kind, name in (("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail")):
        obj = stack.wait(kind, "lifecycle", name, is_ready_and_compliant, timeout=60, what="Ready and Compliant")
        assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]


def test_audit_reports_drift_and_never_writes(stack: Stack, manifest):
    s3 = stack.aws("s3", LOG_ARCHIVE)
    # Someone's bucket, not compliant: no encryption Vigil would accept, versioning off.
    s3.create_bucket(Bucket="acme-audit-logs", CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    calls = stack.calls()
    calls.reset()
    stack.apply(manifest("Organization", "audit"))
    stack.apply(manifest("LogArchive", "audit", bucketName="acme-audit-logs", managementPolicy="Audit"))
    stack.apply(manifest("OrgTrail", "audit", trailName="audited-trail", managementPolicy="Audit"))
    archive = stack.wait("LogArchive", "audit", "central", lambda o: reason(o, "Compliant") == "Drifted",
                         timeout=30, what="Compliant=False Drifted")
    trail = stack.wait("OrgTrail", "audit", "org-trail", lambda o: reason(o, "Compliant") == "Drifted",
                       timeout=30, what="Compliant=False Drifted")
    assert condition(archive, "Ready")["status"] == "True", "Audit ran to the end: Ready, not Compliant"
    states.record("audit-drifted", archive)
    assert "versioning" in condition(archive, "Compliant")["message"]
    assert any(f["reason"] == "Drifted" for f in trail["status"]["failures"])
    assert archive["status"]["driftCorrections"] == 0
    time.sleep(4)  # more resyncs: still read-only
    writes = [c for c in calls.calls() if c.write]
    # The enforcing objects of the earlier test share this sandbox and are steady: no writes either.
    assert writes == []
    assert "Status" not in s3.get_bucket_versioning(Bucket="acme-audit-logs")
    trails = stack.aws("cloudtrail").describe_trails(trailNameList=["audited-trail"])["trailList"]
    assert trails == []


def test_delete_policy_removes_what_vigil_created_but_no_log_data(stack: Stack, manifest):
    stack.apply(manifest("OrgTrail", "lifecycle", deletionPolicy="Delete"))  # the trail it created
    stack.wait("OrgTrail", "lifecycle", "org-trail", lambda o: o["metadata"]["generation"] == 2
               and is_ready_and_compliant(o), timeout=30, what="deletionPolicy applied")
    stack.apply(manifest("LogArchive", "lifecycle", kms={"create": True, "keyArn": None}, deletionPolicy="Delete"))
    s3 = stack.aws("s3", LOG_ARCHIVE)
    s3.put_object(Bucket="acme-log-archive", Key="cloudtrail/evidence.json.gz", Body=b"log data")
    # The archive first, as `kubectl delete -k` may: it waits for the trail, whose deletion reads it.
    stack.delete("LogArchive", "lifecycle", "central")
    stack.wait_events("lifecycle", "central", lambda e: e["reason"] == "WaitingForReferrers"
                      and "OrgTrail org-trail" in e["message"], what="WaitingForReferrers naming the trail")
    assert stack.exists("LogArchive", "lifecycle", "central")
    stack.delete("OrgTrail", "lifecycle", "org-trail")
    wait_until("both objects gone", lambda: not stack.exists("OrgTrail", "lifecycle", "org-trail")
               and not stack.exists("LogArchive", "lifecycle", "central"), timeout=30)
    assert stack.aws("cloudtrail").describe_trails(trailNameList=["vigil-org-trail"])["trailList"] == []
    assert s3.get_object(Bucket="acme-log-archive", Key="cloudtrail/evidence.json.gz")["Body"].read() == b"log data"
    stack.wait_events("lifecycle", "central", lambda e: e["reason"] == "Deleted" and "kept" in e["message"],
                      what="Deleted saying what was kept")


def test_external_id_comes_from_the_named_secret(stack: Stack, manifest):
    import base64

    from kubernetes import client

    stack.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "access"}})
    org = manifest("Organization", "access")
    org["spec"]["access"]["externalIdSecretRef"] = {"name": "vigil-external-id", "key": "externalId"}
    stack.apply(org)
    waiting = stack.wait("Organization", "access", "acme", lambda o: reason(o) == "DependencyNotReady",
                         timeout=20, what="DependencyNotReady for the missing Secret")
    assert "Secret access/vigil-external-id does not exist" in condition(waiting, "Ready")["message"]
    client.CoreV1Api(stack.kube()).create_namespaced_secret("access", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "vigil-external-id"},
        "data": {"externalId": base64.b64encode(b"acme-2026").decode()}})
    stack.wait("Organization", "access", "acme", is_ready_and_compliant, timeout=20, what="Ready once the Secret exists")
