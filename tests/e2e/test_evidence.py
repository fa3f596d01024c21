"""The journal with the real operator: with `journal` set on the LogArchive, the operator makes the
signing key, every reconcile of the namespace's objects appends a signed, chained record
(`Journaled=True`), and `vigil evidence` verifies the journal the operator wrote and reports the
objects continuously compliant."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant, wait_until

pytestmark = pytest.mark.e2e
NS = "baseline"
LOG_ARCHIVE = "222222222222"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def journaled(stack: Stack, manifest) -> Stack:
    stack.apply(manifest("Organization", NS))
    stack.apply(manifest("LogArchive", NS, journal={}))
    stack.apply(manifest("OrgTrail", NS))
    for kind, name in (("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail")):
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=60, what="Ready and Compliant")
    return stack


def test_the_operator_makes_the_signing_key_and_journals_every_reconcile(journaled: Stack):
    archive = journaled.wait("LogArchive", NS, "central", lambda o: o["status"].get("journalSigningKeyArn"),
                             timeout=30, what="the journal's signing key")
    key = journaled.aws("kms", LOG_ARCHIVE).describe_key(KeyId=archive["status"]["journalSigningKeyArn"])
    assert key["KeyMetadata"]["KeyUsage"] == "SIGN_VERIFY"
    trail = journaled.wait("OrgTrail", NS, "org-trail", lambda o: condition(o, "Journaled").get("status") == "True",
                           timeout=30, what="Journaled=True")
    assert condition(trail, "Journaled")["reason"] == "JournalWritten"
    s3 = journaled.aws("s3", LOG_ARCHIVE)

    def records() -> int:
        return len(s3.list_objects_v2(Bucket="acme-log-archive", Prefix=f"vigil-journal/{NS}/").get("Contents", []))

    # One record per reconcile: the next resync of any object adds one.
    wait_until("a second journal record", lambda: records() >= 2, timeout=15)


def test_vigil_evidence_verifies_the_journal_the_operator_wrote(journaled: Stack, tmp_path: Path):
    time.sleep(7)  # two more resyncs of every object: each has a run of compliant records
    today = datetime.now(timezone.utc).date()
    result = subprocess.run(
        [sys.executable, "-m", "vigil", "evidence", "--from", (today - timedelta(days=1)).isoformat(),
         "--to", (today + timedelta(days=1)).isoformat(), "--bucket", "acme-log-archive",
         "--home-region", "ca-central-1", "--account", LOG_ARCHIVE, "--namespace", NS, "-o", str(tmp_path)],
        capture_output=True, text=True, env={**os.environ, **journaled.aws_env()}, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified:" in result.stdout
    bundle = json.loads((tmp_path / "bundle.json").read_text())
    rows = {(row["kind"], row["name"]) for row in bundle["controls"]}
    assert {("OrgTrail", "org-trail"), ("LogArchive", "central")} <= rows
    trail = [row for row in bundle["controls"] if row["kind"] == "OrgTrail"]
    assert trail and all(row["compliant"] and row["continuouslyCompliantSince"] for row in trail)
