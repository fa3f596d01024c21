"""OrgTrail's IntegrityVerified with the real operator: a signed digest chain written to the LogArchive
bucket verifies (True, status.integrity counts it); a log file tampered in the sandbox turns it
False within one integrity interval, with the finding in status.failures and one Warning Event;
Audit verifies as well, and verifying writes nothing to AWS."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from vigil.planning.integrity import DigestLayout
from vigil_sandbox import states
from vigil_sandbox.digests import ChainWriter, ClientStore, Signer
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant, reconciled

pytestmark = pytest.mark.e2e
NS = "baseline"
LOG_ARCHIVE = "222222222222"
BUCKET = "acme-log-archive"
INTERVAL_SECONDS = 3
HOURS = 4
ACCOUNTS = ("123456789012", "555555555555")
REGIONS = ("ca-central-1", "us-east-1")


def verified(obj: dict) -> str:
    return condition(obj, "IntegrityVerified").get("status", "")


@pytest.fixture(scope="module")
def chain(stack: Stack, manifest) -> tuple[ChainWriter, dict[tuple[str, str], list[str]]]:
    stack.apply(manifest("Organization", NS))
    stack.apply(manifest("LogArchive", NS))
    stack.apply(manifest("OrgTrail", NS, integrity={"verify": True, "lookback": "6h",
                                                       "interval": f"{INTERVAL_SECONDS}s"}))
    for kind, name in (("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail")):
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=60, what="Ready and Compliant")
    layout = DigestLayout(BUCKET, "cloudtrail", "vigil-org-trail", "ca-central-1",
                          stack.organization["organization_id"])
    # Signed with the sandbox's key, whose public half the sandbox serves from ListPublicKeys.
    writer = ChainWriter(ClientStore(stack.aws("s3", LOG_ARCHIVE)), layout, Signer.from_seed(), logs_per_hour=1)
    start = datetime.now(timezone.utc) - timedelta(hours=HOURS + 1)
    return writer, writer.write_trail(ACCOUNTS, REGIONS, start, HOURS)


def test_a_clean_chain_verifies(stack: Stack, chain):
    _, keys = chain
    digests = sum(len(k) for k in keys.values())
    # A verification that ran while the chain was still being written saw a (valid) part of it:
    # the one after sees it whole.
    trail = stack.wait("OrgTrail", NS, "org-trail", lambda o: verified(o) == "True" and (
        o["status"]["integrity"]["digestsVerified"] >= digests), timeout=30, what="the whole chain verified")
    assert trail["status"]["integrity"]["digestsVerified"] == digests
    assert trail["status"]["integrity"]["logFilesVerified"] == digests  # one log file an hour
    assert trail["status"]["integrity"]["failures"] == 0
    assert is_ready_and_compliant(trail)
    assert stack.metric("vigil_orgtrail_integrity_verified", namespace=NS, name="org-trail") == 1
    states.record("integrity-verified", trail)


def test_a_stop_and_restart_is_reported_with_who_stopped_the_trail_and_who_started_it(stack: Stack, chain):
    """CloudTrail's own event history says who stopped the trail: evidence, not a failure."""
    import boto3

    management = stack.organization["management"]
    stack.make_role(management, "ops-admin")
    sts = stack.aws("sts")
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{management}:role/ops-admin",
                                  RoleSessionName="mallory")["Credentials"]
    ops = boto3.client("cloudtrail", region_name="ca-central-1", endpoint_url=stack.aws_endpoint,
                       aws_access_key_id=credentials["AccessKeyId"],
                       aws_secret_access_key=credentials["SecretAccessKey"],
                       aws_session_token=credentials["SessionToken"])
    ops.stop_logging(Name="vigil-org-trail")
    stopped = datetime.now(timezone.utc)

    def gap_reported(obj: dict) -> bool:
        gaps = obj["status"]["integrity"].get("gaps") or []
        return any(g["reason"] == "LoggingStopped" and g.get("until") for g in gaps)

    # Vigil starts it again at its next resync; the verification after that reads both events.
    trail = stack.wait("OrgTrail", NS, "org-trail", gap_reported, timeout=30, what="the stop reported")
    [gap] = [g for g in trail["status"]["integrity"]["gaps"] if g["reason"] == "LoggingStopped"]
    assert (gap["account"], gap["region"]) == ("*", "*")
    assert abs(datetime.fromisoformat(gap["since"].replace("Z", "+00:00")) - stopped) < timedelta(seconds=5)
    assert f"by arn:aws:sts::{management}:assumed-role/ops-admin/mallory; started again at" in gap["message"]
    assert gap["message"].endswith(f"by arn:aws:iam::{management}:root"), "Vigil's own identity restarted it"
    assert verified(trail) == "True", "a stop is evidence, not tampering"
    assert "the trail was stopped 1 time" in condition(trail, "IntegrityVerified")["message"]
    integrity = trail["status"]["integrity"]
    accounts = 4 + len(stack.organization["workloads"])  # management, log archive, security, shared network
    assert integrity["chains"] == accounts * len(REGIONS)  # every active account x governed Region walked
    assert integrity.get("verifiedFrom") is None, "accounts without any digest: no range every chain covers"


def test_a_tampered_log_is_found_within_one_interval(stack: Stack, chain):
    writer, keys = chain
    log = writer.log_keys(keys[(ACCOUNTS[1], REGIONS[1])][1])[0]
    before = stack.get("OrgTrail", NS, "org-trail")["status"]["integrity"]["lastVerifiedTime"]
    writer.flip_log_byte(log)
    flipped = datetime.now(timezone.utc)
    trail = stack.wait("OrgTrail", NS, "org-trail", lambda o: verified(o) == "False", timeout=30,
                       what="IntegrityVerified=False")
    # Found by the first verification that began after the flip, whenever the machine let it run:
    # none that began later passed (the one under way may have, having read the log before).
    # Both times are verifications' starts, in whole seconds.
    good = trail["status"]["integrity"]["lastSuccessfulVerificationTime"]
    assert datetime.fromisoformat(good.replace("Z", "+00:00")) <= flipped
    assert trail["status"]["integrity"]["lastVerifiedTime"] >= before
    assert trail["status"]["integrity"]["failures"] == 1
    target = f"s3://{BUCKET}/{log}"
    assert [(f["reason"], f["target"]) for f in trail["status"]["failures"]] == [("LogFileModified", target)]
    message = condition(trail, "IntegrityVerified")["message"]
    assert message.startswith("1 finding: LogFileModified") and log in message
    assert condition(trail, "Ready")["status"] == "True", "a finding is about the logs, not the reconcile"
    states.record("integrity-failed", trail)

    stack.wait_events(NS, "org-trail", lambda e: e["reason"] == "LogFileModified", what="LogFileModified")
    time.sleep(2 * INTERVAL_SECONDS + 1)  # verified again: still the one finding, announced once
    events = [e for e in stack.events(NS, "org-trail") if e["reason"] == "LogFileModified"]
    assert len(events) == 1 and events[0]["type"] == "Warning" and target in events[0]["message"]

    # What Prometheus alerts on: integrity failed, and the last good verification stops advancing
    # (VigilIntegrityVerificationFailed fires; VigilIntegrityVerificationStale after two intervals).
    trail_labels = {"namespace": NS, "name": "org-trail"}
    assert stack.metric("vigil_orgtrail_integrity_verified", **trail_labels) == 0
    last_good = stack.metric("vigil_orgtrail_last_verification_timestamp_seconds", **trail_labels)
    assert last_good is not None and last_good == datetime.fromisoformat(
        trail["status"]["integrity"]["lastSuccessfulVerificationTime"].replace("Z", "+00:00")).timestamp()
    assert time.time() - last_good >= 2 * INTERVAL_SECONDS, "no good verification since the tamper"
    assert stack.metric("vigil_orgtrail_verification_interval_seconds", **trail_labels) == INTERVAL_SECONDS
    assert stack.metric("vigil_object_ready", kind="OrgTrail", **trail_labels) == 1


def test_audit_verifies_too_and_verifying_writes_nothing(stack: Stack, manifest, chain):
    stack.apply(manifest("OrgTrail", NS, managementPolicy="Audit",
                         integrity={"verify": True, "lookback": "6h", "interval": f"{INTERVAL_SECONDS}s"}))
    stack.wait("OrgTrail", NS, "org-trail", lambda o: o["metadata"]["generation"] == 2 and reconciled(o),
               timeout=20, what="the Audit spec reconciled")
    calls = stack.calls()
    calls.reset()

    def verified_after(since: str) -> dict:
        return stack.wait("OrgTrail", NS, "org-trail", lambda o: o["status"]["integrity"]["lastVerifiedTime"] > since,
                          timeout=20, what="a verification in Audit")

    # One verification may have been under way at the reset: the one after it is wholly recorded.
    first = stack.get("OrgTrail", NS, "org-trail")["status"]["integrity"]["lastVerifiedTime"]
    calls.reset()
    trail = verified_after(verified_after(first)["status"]["integrity"]["lastVerifiedTime"])
    assert verified(trail) == "False" and trail["status"]["integrity"]["failures"] == 1
    recorded = calls.calls()
    assert [c for c in recorded if c.write] == []
    operations = {c.operation for c in recorded}
    assert {"ListObjectsV2", "GetObject", "ListPublicKeys"} <= operations
