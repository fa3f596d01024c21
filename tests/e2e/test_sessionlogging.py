"""SessionLogging end to end: the real operator gives every account x governed region Session
Manager preferences that log to the archive (encrypted) and to a KMS-encrypted CloudWatch log
group, adopting an operations team's document and keeping its own inputs; preferences saved with
encryption off, and a log group's key removed, are corrected within one resync; a steady-state
resync makes five reads per account and region and no write; Audit reports drift and writes
nothing; a key of one region for two is InvalidSpec; deletionPolicy Delete removes only the
documents Vigil created, never a key or a log group."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from vigil_sandbox.seed import SESSION_PREFERENCES_ACCOUNT
from vigil_sandbox.stack import wait_until as stack_wait_until
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant

pytestmark = pytest.mark.e2e
NS = "baseline"
NAME = "session-logging"
DOCUMENT = "SSM-SessionManagerRunShell"
GROUP = "/vigil/ssm-sessions"
ALIAS = "alias/vigil-ssm-sessions"
ACCOUNTS = ("123456789012", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666",
            "777777777777")
REGIONS = ("ca-central-1", "us-east-1")
TARGETS = len(ACCOUNTS) * len(REGIONS)
RESYNC_SECONDS = 3  # conftest.RESYNC
ONE_RESYNC = RESYNC_SECONDS + 8  # a resync, a timer tick and the reconcile of 14 targets
READS_PER_TARGET = {"DescribeKey": 1, "GetKeyPolicy": 1, "GetKeyRotationStatus": 1, "DescribeLogGroups": 1,
                    "GetDocument": 1}


def preferences(stack: Stack, account: str, region: str) -> tuple[str, dict[str, Any]]:
    """The default version of the preferences document and its content."""
    found = stack.aws("ssm", account, region).get_document(Name=DOCUMENT)
    return found["DocumentVersion"], json.loads(found["Content"])


def log_group(stack: Stack, account: str, region: str) -> dict[str, Any]:
    groups = stack.aws("logs", account, region).describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]
    return next(g for g in groups if g["logGroupName"] == GROUP)


def key_arn(stack: Stack, account: str, region: str) -> str:
    return stack.aws("kms", account, region).describe_key(KeyId=ALIAS)["KeyMetadata"]["Arn"]


def wait_until(what: str, check, timeout: float = ONE_RESYNC) -> None:
    stack_wait_until(what, check, timeout)


def session_logging(stack: Stack) -> dict[str, Any]:
    return stack.get("SessionLogging", NS, NAME)


@pytest.fixture(scope="module")
def baseline(stack: Stack, manifest) -> Stack:
    for kind in ("Organization", "LogArchive", "SessionLogging"):
        stack.apply(manifest(kind, NS))
    for kind, name in (("Organization", "acme"), ("LogArchive", "central"), ("SessionLogging", NAME)):
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=60, what="Ready and Compliant")
    return stack


def test_every_account_and_region_records_sessions_encrypted(baseline: Stack):
    status = session_logging(baseline)["status"]
    assert status["targets"] == {"total": TARGETS, "compliant": TARGETS, "failed": 0, "summary": f"{TARGETS}/{TARGETS}"}
    account, region = "555555555555", "us-east-1"
    key = key_arn(baseline, account, region)
    _, content = preferences(baseline, account, region)
    assert content["sessionType"] == "Standard_Stream"
    assert content["inputs"] == {
        "s3BucketName": "acme-log-archive", "s3KeyPrefix": "ssm-sessions", "s3EncryptionEnabled": True,
        "cloudWatchLogGroupName": GROUP, "cloudWatchEncryptionEnabled": True, "cloudWatchStreamingEnabled": True,
        "kmsKeyId": key, "idleSessionTimeout": "20"}
    group = log_group(baseline, account, region)
    assert group["kmsKeyId"] == key and group["retentionInDays"] == 365
    policy = json.loads(baseline.aws("kms", account, region).get_key_policy(KeyId=key)["Policy"])
    assert any(s.get("Principal") == {"Service": f"logs.{region}.amazonaws.com"} for s in policy["Statement"])
    assert key_arn(baseline, account, "ca-central-1") != key, "one key per account and region"


def test_the_ops_teams_document_is_adopted_and_its_own_inputs_kept(baseline: Stack):
    version, content = preferences(baseline, SESSION_PREFERENCES_ACCOUNT, "ca-central-1")
    inputs = content["inputs"]
    assert version == "2" and content["description"] == "Ops team's Session Manager preferences"
    assert (inputs["runAsEnabled"], inputs["runAsDefaultUser"], inputs["shellProfile"]["linux"]) == (
        True, "ops", "exec bash -l")
    assert (inputs["s3BucketName"], inputs["cloudWatchLogGroupName"], inputs["idleSessionTimeout"]) == (
        "acme-log-archive", GROUP, "20")


def next_reconcile(stack: Stack, after: str | None) -> str:
    done = stack.wait("SessionLogging", NS, NAME, lambda o: o["status"].get("lastReconcileTime") != after,
                      timeout=ONE_RESYNC, what="a resync")
    return done["status"]["lastReconcileTime"]


def test_steady_state_resync_reads_five_times_per_account_region_and_writes_nothing(baseline: Stack):
    calls = baseline.calls()
    # Counted from the end of one resync to the end of the next, so the window holds exactly one.
    finished = next_reconcile(baseline, session_logging(baseline)["status"]["lastReconcileTime"])
    calls.reset()
    next_reconcile(baseline, finished)
    recorded = calls.calls()
    assert [c for c in recorded if c.write] == []
    per_target = Counter((c.operation, c.account, c.region) for c in recorded if c.service in ("kms", "logs", "ssm"))
    for account in ACCOUNTS:
        for region in REGIONS:
            if (account, region) == ("222222222222", "ca-central-1"):
                continue  # the LogArchive reads its own key there too
            seen = {op: per_target[(op, account, region)] for op in READS_PER_TARGET}
            assert seen == READS_PER_TARGET, (account, region)
    assert {op for op, _, _ in per_target} == set(READS_PER_TARGET)


def test_preferences_saved_with_encryption_off_are_corrected(baseline: Stack):
    account, region = "777777777777", "ca-central-1"
    corrections = session_logging(baseline)["status"]["driftCorrections"]
    ssm = baseline.aws("ssm", account, region)
    version, content = preferences(baseline, account, region)
    content["inputs"].update(s3EncryptionEnabled=False, cloudWatchEncryptionEnabled=False)
    # As the console saves preferences: a new version, made the default.
    edited = ssm.update_document(Name=DOCUMENT, Content=json.dumps(content), DocumentVersion="$LATEST")
    ssm.update_document_default_version(Name=DOCUMENT,
                                        DocumentVersion=edited["DocumentDescription"]["DocumentVersion"])

    def encrypted() -> bool:
        inputs = preferences(baseline, account, region)[1]["inputs"]
        return inputs["s3EncryptionEnabled"] is True and inputs["cloudWatchEncryptionEnabled"] is True

    wait_until("encryption back on", encrypted)
    assert preferences(baseline, account, region)[0] == version, "Vigil's version is the default again"
    # The status before the drift is Compliant too: the correction's own status counts it.
    baseline.wait("SessionLogging", NS, NAME, lambda o: is_ready_and_compliant(o)
                  and o["status"]["driftCorrections"] > corrections, timeout=ONE_RESYNC,
                  what="Compliant again, the correction counted")
    baseline.wait_events(NS, NAME, lambda e: e["reason"] == "DriftCorrected" and f"{account}/{region}" in e["message"]
                         and "s3_encryption_enabled: False -> True" in e["message"], what="a DriftCorrected event")


def test_a_log_group_whose_key_was_removed_is_encrypted_again(baseline: Stack):
    account, region = "444444444444", "us-east-1"
    calls = baseline.calls()
    since = len(calls.calls())
    baseline.aws("logs", account, region).disassociate_kms_key(logGroupName=GROUP)
    key = key_arn(baseline, account, region)
    # Vigil may put the key back before a look could see it gone: its AssociateKmsKey, after the
    # removal, in that account and region, is what shows the correction.
    wait_until("key associated again", lambda: any(
        c.operation == "AssociateKmsKey" and (c.account, c.region) == (account, region)
        for c in calls.calls(since)) and log_group(baseline, account, region).get("kmsKeyId") == key)
    baseline.wait("SessionLogging", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC, what="Compliant again")


def test_audit_reports_drift_and_never_writes(baseline: Stack, manifest):
    calls = baseline.calls()
    calls.reset()
    baseline.apply(manifest("Organization", "audit"))
    baseline.apply(manifest("LogArchive", "audit", managementPolicy="Audit"))
    baseline.apply(manifest("SessionLogging", "audit", managementPolicy="Audit", idleSessionTimeoutMinutes=30,
                            cloudWatch={"enabled": True, "logGroupName": "/vigil/audit-sessions", "retentionDays": 90}))
    audited = baseline.wait("SessionLogging", "audit", NAME,
                            lambda o: condition(o, "Compliant").get("reason") == "Drifted", timeout=30,
                            what="Compliant=False Drifted")
    assert condition(audited, "Ready")["status"] == "True"
    assert condition(audited, "Compliant")["status"] == "False"
    assert audited["status"]["targets"]["total"] == TARGETS and audited["status"]["targets"]["compliant"] == 0
    failure = audited["status"]["failures"][0]
    assert failure["reason"] == "Drifted" and failure["target"].endswith(f"/{DOCUMENT}")
    assert "log_group: None -> '/vigil/audit-sessions'" in failure["message"]
    assert "idle_session_timeout: '20' -> '30'" in failure["message"]
    time.sleep(RESYNC_SECONDS + 1)  # another resync: still read-only
    assert [c for c in calls.calls() if c.write] == []
    assert audited["status"]["driftCorrections"] == 0


def test_a_key_of_one_region_for_two_is_invalid(baseline: Stack, manifest):
    """The schema takes any key ARN; only the operator knows the governed regions it must cover."""
    key = key_arn(baseline, "555555555555", "ca-central-1")
    baseline.apply(manifest("Organization", "audit"))  # the Audit test's, Ready already when run after it
    baseline.apply(manifest("LogArchive", "audit", managementPolicy="Audit"))
    bad = manifest("SessionLogging", "audit", kms={"keyArn": key})
    bad["metadata"]["name"] = "one-region-key"
    baseline.apply(bad)
    refused = baseline.wait("SessionLogging", "audit", "one-region-key",
                            lambda o: condition(o, "Ready").get("reason") == "InvalidSpec", timeout=30,
                            what="InvalidSpec")
    assert "spec.kms.keyArn: the key is in ca-central-1" in condition(refused, "Ready")["message"]
    assert "us-east-1" in condition(refused, "Ready")["message"]


def test_delete_policy_removes_only_the_documents_vigil_created(baseline: Stack):
    baseline.patch_spec("SessionLogging", NS, NAME, {"deletionPolicy": "Delete"})
    baseline.wait("SessionLogging", NS, NAME, lambda o: o["metadata"]["generation"] == 2 and is_ready_and_compliant(o),
                  timeout=ONE_RESYNC, what="deletionPolicy applied")
    baseline.delete("SessionLogging", NS, NAME)
    wait_until("the SessionLogging gone", lambda: not baseline.exists("SessionLogging", NS, NAME), timeout=30)
    created = baseline.aws("ssm", "555555555555", "us-east-1")
    with pytest.raises(created.exceptions.InvalidDocument):
        created.get_document(Name=DOCUMENT)
    assert preferences(baseline, SESSION_PREFERENCES_ACCOUNT, "ca-central-1")[1]["inputs"]["runAsDefaultUser"] == "ops"
    kept = log_group(baseline, "555555555555", "us-east-1")
    assert kept["kmsKeyId"] == key_arn(baseline, "555555555555", "us-east-1"), "the log group and its key stay"
