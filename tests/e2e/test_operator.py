"""The operator end to end on the baseline's first three kinds: apply -> Ready and Compliant with
the right AWS state; spec changes followed; out-of-band drift corrected within one resync and
counted; a steady-state resync writes nothing; Object Lock on a bucket that exists without it only
when the spec says so, COMPLIANCE only when acknowledged; delete with Retain leaves AWS alone."""

from __future__ import annotations

import json
import time

import pytest

from vigil_sandbox import states
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant

pytestmark = pytest.mark.e2e
NS = "baseline"
RESYNC_SECONDS = 3  # conftest.RESYNC
TRAIL = "vigil-org-trail"
BUCKET = "acme-log-archive"
LOG_ARCHIVE = "222222222222"


@pytest.fixture(scope="module")
def baseline(stack: Stack, manifest) -> Stack:
    for kind in ("Organization", "LogArchive", "OrgTrail"):
        stack.apply(manifest(kind, NS))
    for kind, name in (("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail")):
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=60, what="Ready and Compliant")
    return stack


def test_apply_makes_aws_match(baseline: Stack):
    org = baseline.get("Organization", NS, "acme")["status"]
    assert org["organizationId"] == baseline.organization["organization_id"]
    assert org["accounts"]["reachable"] == org["accounts"]["total"] == 7

    archive = baseline.get("LogArchive", NS, "central")["status"]
    s3 = baseline.aws("s3", LOG_ARCHIVE)
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": archive["kmsKeyArn"]}
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert "VigilDenyInsecureTransport" in {s["Sid"] for s in policy["Statement"]}
    assert s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"

    ct = baseline.aws("cloudtrail")
    trail = ct.describe_trails(trailNameList=[TRAIL])["trailList"][0]
    assert trail["IsOrganizationTrail"] and trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert trail["S3BucketName"] == BUCKET and trail["KmsKeyId"] == archive["kmsKeyArn"]
    assert ct.get_trail_status(Name=TRAIL)["IsLogging"] is True
    status = baseline.get("OrgTrail", NS, "org-trail")["status"]
    assert status["trailArn"] == trail["TrailARN"] and status["isLogging"] is True
    assert condition(baseline.get("OrgTrail", NS, "org-trail"), "IntegrityVerified")["status"] == "Unknown"
    states.record("ready-compliant", baseline.get("OrgTrail", NS, "org-trail"))
    baseline.wait_events(NS, "org-trail", lambda e: e["reason"] == "Ready" and e["type"] == "Normal", what="Ready")


def test_steady_state_resync_writes_nothing(baseline: Stack):
    calls = baseline.calls()
    before = baseline.get("OrgTrail", NS, "org-trail")["status"]["lastReconcileTime"]
    calls.reset()
    time.sleep(2 * RESYNC_SECONDS + 2)
    after = baseline.get("OrgTrail", NS, "org-trail")["status"]["lastReconcileTime"]
    assert after != before, "no resync happened in the window"
    recorded = calls.calls()
    assert [c for c in recorded if c.write] == []
    assert recorded, "a resync reads AWS"


def test_spec_change_is_followed(baseline: Stack):
    baseline.patch_spec("OrgTrail", NS, "org-trail", {"managementEvents": {"readWriteType": "ReadOnly"}})
    held = baseline.wait("OrgTrail", NS, "org-trail", lambda o: o["metadata"]["generation"] == 2
                         and condition(o, "Ready").get("reason") == "WeakeningHeld", timeout=30,
                         what="the narrower selection held")
    assert "management_events.read_write_type All -> ReadOnly" in condition(held, "Ready")["message"]
    states.record("weakening-held", held)
    # Recording fewer events is a weakening: it waits for the allowance naming it.
    baseline.annotate("OrgTrail", NS, "org-trail", {"vigil.dev/allow-weakening": "spec.managementEvents.readWriteType=ReadOnly"})
    baseline.wait("OrgTrail", NS, "org-trail", is_ready_and_compliant, timeout=30, what="allowed and reconciled")
    selectors = baseline.aws("cloudtrail").get_event_selectors(TrailName=TRAIL)["EventSelectors"]
    assert [s["ReadWriteType"] for s in selectors] == ["ReadOnly"]
    # Widening again is no weakening: applied at once.
    baseline.patch_spec("OrgTrail", NS, "org-trail", {"managementEvents": {"readWriteType": "All"}})
    baseline.wait("OrgTrail", NS, "org-trail", lambda o: o["metadata"]["generation"] == 3 and is_ready_and_compliant(o),
                  timeout=30, what="generation 3 reconciled")
    selectors = baseline.aws("cloudtrail").get_event_selectors(TrailName=TRAIL)["EventSelectors"]
    assert [s["ReadWriteType"] for s in selectors] == ["All"]


def corrected_at_first_look(calls: list, read: str, write: str) -> bool:
    """Vigil's first ``read`` in ``calls`` is followed by its ``write`` before any other ``read``."""
    return [c.operation for c in calls if c.by_vigil and c.operation in (read, write)][:2] == [read, write]


def test_out_of_band_drift_is_corrected_at_the_next_resync(baseline: Stack):
    before = baseline.get("OrgTrail", NS, "org-trail")["status"]["driftCorrections"]
    archive_before = baseline.get("LogArchive", NS, "central")["status"]["driftCorrections"]
    ct, s3 = baseline.aws("cloudtrail"), baseline.aws("s3", LOG_ARCHIVE)
    calls = baseline.calls()
    since = len(calls.calls())
    ct.stop_logging(Name=TRAIL)
    ct.update_trail(Name=TRAIL, EnableLogFileValidation=False)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_public_access_block(Bucket=BUCKET)

    # No event announces the drift: the resync (every RESYNC_SECONDS) finds it.
    trail = baseline.wait("OrgTrail", NS, "org-trail", lambda o: o["status"]["driftCorrections"] >= before + 2,
                          timeout=60, what="trail drift corrected")
    archive = baseline.wait("LogArchive", NS, "central",
                            lambda o: o["status"]["driftCorrections"] >= archive_before + 2,
                            timeout=60, what="bucket drift corrected")
    # Corrected by the first pass that looked after the drift, however long the machine took to run it.
    made = calls.calls(since)
    assert corrected_at_first_look(made, "GetTrailStatus", "StartLogging")
    assert corrected_at_first_look(made, "GetBucketVersioning", "PutBucketVersioning")
    assert ct.get_trail_status(Name=TRAIL)["IsLogging"] is True
    assert ct.describe_trails(trailNameList=[TRAIL])["trailList"][0]["LogFileValidationEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())
    assert condition(trail, "Compliant")["status"] == "True" and condition(archive, "Compliant")["status"] == "True"
    warnings = baseline.wait_events(NS, "org-trail", lambda e: e["reason"] == "DriftCorrected"
                                    and "StartLogging" in e["message"], what="DriftCorrected naming StartLogging")
    assert {e["type"] for e in warnings} == {"Warning"}
    assert {e["source"]["component"] for e in warnings} == {"vigil"}, "Events are Vigil's, not kopf's"
    trail_labels = {"kind": "OrgTrail", "namespace": NS, "name": "org-trail"}
    assert baseline.metric("vigil_drift_corrections_total", kind="OrgTrail") >= 2
    assert baseline.metric("vigil_object_compliant", **trail_labels) == 1, "compliant again once corrected"
    assert baseline.metric("vigil_object_targets", state="compliant", **trail_labels) == 1


def test_object_lock_comes_to_an_existing_bucket_only_when_the_spec_says_so(baseline: Stack, manifest):
    """A bucket that holds logs and no Object Lock is reported, never locked as a side effect;
    enableOnExistingBucket locks it (for good), and COMPLIANCE needs its acknowledgement."""
    bucket, name = "acme-legacy-logs", "legacy"
    s3 = baseline.aws("s3", LOG_ARCHIVE)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    s3.put_object(Bucket=bucket, Key="AWSLogs/old.json.gz", Body=b"written before the lock")
    key = baseline.get("LogArchive", NS, "central")["status"]["kmsKeyArn"]
    # retention=None: an expiry on logs kept for ever so far would be a weakening of its own.
    legacy = manifest("LogArchive", NS, bucketName=bucket, kms={"create": False, "keyArn": key}, retention=None,
                      adoptionPolicy="Adopt", objectLock={"mode": "COMPLIANCE", "days": 30})
    legacy["metadata"]["name"] = name
    refused = baseline.refusal(legacy)
    assert "acknowledgeComplianceModeIsPermanent" in refused and "cannot be undone" in refused, refused

    legacy["spec"]["objectLock"] = {"mode": "GOVERNANCE", "days": 30}
    baseline.apply(legacy)
    reported = baseline.wait("LogArchive", NS, name, lambda o: condition(o, "Ready").get("reason")
                             == "ObjectLockNotEnabled", timeout=30, what="Ready=False ObjectLockNotEnabled")
    assert "spec.objectLock.enableOnExistingBucket: true" in condition(reported, "Ready")["message"]
    assert condition(reported, "Stalled")["status"] == "True", "a human decides"
    assert reported["status"]["objectLockEnabled"] is False
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled", "the rest of the bucket is enforced"
    with pytest.raises(Exception, match="ObjectLockConfigurationNotFoundError"):
        s3.get_object_lock_configuration(Bucket=bucket)

    baseline.patch_spec("LogArchive", NS, name, {"objectLock": {"enableOnExistingBucket": True}})
    locked = baseline.wait("LogArchive", NS, name, lambda o: o["metadata"]["generation"] == 2
                           and is_ready_and_compliant(o), timeout=30, what="locked and Compliant")
    assert locked["status"]["objectLockEnabled"] is True
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}}
    assert s3.get_object(Bucket=bucket, Key="AWSLogs/old.json.gz")["Body"].read() == b"written before the lock"

    baseline.patch_spec("LogArchive", NS, name, {"objectLock": {"mode": "COMPLIANCE",
                                                                "acknowledgeComplianceModeIsPermanent": True}})
    baseline.wait("LogArchive", NS, name, lambda o: o["metadata"]["generation"] == 3 and is_ready_and_compliant(o),
                  timeout=30, what="COMPLIANCE, acknowledged")
    retention = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]["Rule"]
    assert retention == {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}}
    baseline.delete("LogArchive", NS, name)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and baseline.exists("LogArchive", NS, name):
        time.sleep(0.25)
    assert not baseline.exists("LogArchive", NS, name)


def test_delete_with_retain_leaves_trail_and_bucket(baseline: Stack):
    baseline.delete("OrgTrail", NS, "org-trail")
    baseline.delete("LogArchive", NS, "central")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (baseline.exists("OrgTrail", NS, "org-trail")
                                           or baseline.exists("LogArchive", NS, "central")):
        time.sleep(0.25)
    assert not baseline.exists("OrgTrail", NS, "org-trail"), "the finalizer was released"
    assert not baseline.exists("LogArchive", NS, "central")
    ct = baseline.aws("cloudtrail")
    assert ct.get_trail_status(Name=TRAIL)["IsLogging"] is True
    assert baseline.aws("s3", LOG_ARCHIVE).head_bucket(Bucket=BUCKET)
    baseline.wait_events(NS, "org-trail", lambda e: e["reason"] == "Deleted" and "Retain" in e["message"],
                         what="Deleted naming Retain")


def test_metrics_and_liveness_are_served(baseline: Stack):
    import urllib.request

    with urllib.request.urlopen(f"{baseline.metrics_url}/healthz") as response:
        assert response.status == 200
    text = baseline.metrics()  # as the reader Prometheus would be (TokenReview, SubjectAccessReview)
    assert 'vigil_aws_calls_total{operation="DescribeTrails",outcome="ok",service="cloudtrail"}' in text
    assert 'vigil_reconcile_duration_seconds_count{kind="OrgTrail",outcome="Reconciled"}' in text
    assert 'vigil_drift_corrections_total{kind="OrgTrail"}' in text


def test_objects_with_kopfs_old_finalizer_are_migrated_and_deletable(baseline: Stack, manifest):
    """Objects from before Vigil had its own finalizer carry kopf's, which this kopf does not clear:
    one kept gets Vigil's instead; one deleted meanwhile is released and goes."""
    old, ours = "kopf.zalando.org/KopfFinalizerMarker", "vigil.dev/finalizer"
    baseline.stop_operator()  # as an older Vigil left them
    for name in ("legacy-kept", "legacy-deleted"):
        doc = manifest("Organization", NS)
        doc["metadata"].update(name=name, finalizers=[old])
        baseline.apply(doc)
    baseline.delete("Organization", NS, "legacy-deleted")
    assert baseline.exists("Organization", NS, "legacy-deleted"), "held by the old finalizer"
    baseline.start_operator()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and baseline.exists("Organization", NS, "legacy-deleted"):
        time.sleep(0.25)
    assert not baseline.exists("Organization", NS, "legacy-deleted"), "released, not stuck"
    kept = baseline.wait("Organization", NS, "legacy-kept", lambda o: o["metadata"].get("finalizers") == [ours],
                         timeout=30, what="Vigil's finalizer instead of kopf's")
    assert is_ready_and_compliant(baseline.wait("Organization", NS, "legacy-kept", is_ready_and_compliant,
                                                timeout=30, what="reconciled"))
    assert kept["metadata"]["finalizers"] == [ours]
    baseline.delete("Organization", NS, "legacy-kept")
