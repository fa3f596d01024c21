"""`vigil audit`, `plan` and `apply` from manifests, as a workstation or CI job runs them: against a
freshly seeded sandbox, plan lists the changes and exits 2, apply makes them, then plan exits 0 and
audit reports everything compliant; drift shows in all three; JUnit parses; bad manifests are
refused naming the file and field, before any AWS call."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vigil.workstation.exit_codes import ERROR
from vigil_sandbox.iam_coverage import gaps as iam_gaps
from vigil_sandbox.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, controlplane):
    stack = Stack(tmp_path_factory.mktemp("workstation"), controlplane=controlplane).start(operator=False)
    yield stack
    missing = iam_gaps(stack)  # what `vigil plan` and `vigil apply` called, as the operator would
    stack.stop()
    if missing:
        pytest.fail(missing, pytrace=False)


def vigil(sandbox: Stack, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vigil", *args], capture_output=True, text=True, input=stdin,
                          env={**os.environ, **sandbox.aws_env()}, cwd=ROOT, timeout=120)


def test_plan_apply_plan_audit_on_a_fresh_organization(sandbox: Stack):
    first = vigil(sandbox, "plan", "-f", "examples/")
    assert first.returncode == 2, first.stderr
    assert re.search(r"\n {6}vigil-org-trail\n {8}\+ CreateTrail\n", first.stdout), first.stdout
    assert re.search(r"\n {6}acme-log-archive\n {8}\+ CreateBucket\n", first.stdout), first.stdout
    assert "  account 222222222222 (log-archive)\n    region ca-central-1\n" in first.stdout
    assert sandbox.aws("cloudtrail").describe_trails()["trailList"] == [], "plan wrote nothing"

    junit = ET.fromstring(vigil(sandbox, "audit", "-f", "examples/", "-o", "junit").stdout)
    assert sum(int(s.get("failures")) for s in junit.iter("testsuite")) >= 2

    applied = vigil(sandbox, "apply", "-f", "examples/")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert re.search(r"OrgTrail\s+baseline/org-trail\s+Enforce\s+True\s+True", applied.stdout)

    again = vigil(sandbox, "plan", "-f", "examples/")
    assert again.returncode == 0 and "Plan: 0 to create, 0 to change, 0 held (weakening), 0 conflicts." in again.stdout
    audit = vigil(sandbox, "audit", "-f", "examples/", "-o", "junit")
    assert audit.returncode == 0
    suites = list(ET.fromstring(audit.stdout).iter("testsuite"))
    assert len(suites) >= 3 and all(s.get("failures") == "0" for s in suites), audit.stdout


def test_drift_shows_in_plan_and_audit(sandbox: Stack):
    assert vigil(sandbox, "apply", "-f", "examples/").returncode == 0
    sandbox.aws("cloudtrail").stop_logging(Name="vigil-org-trail")
    plan = vigil(sandbox, "plan", "-f", "examples/")
    assert plan.returncode == 2 and re.search(r"\n {6}vigil-org-trail\n {8}~ StartLogging\n", plan.stdout)
    assert "is_logging: False -> True" in plan.stdout
    audit = vigil(sandbox, "audit", "-f", "examples/", "-o", "json")
    assert audit.returncode == 1
    trail = next(o for o in json.loads(audit.stdout) if o["kind"] == "OrgTrail")
    assert trail["status"]["failures"][0]["reason"] == "Drifted"
    assert sandbox.aws("cloudtrail").get_trail_status(Name="vigil-org-trail")["IsLogging"] is False, \
        "audit and plan never write"
    assert vigil(sandbox, "apply", "-f", "examples/").returncode == 0
    assert sandbox.aws("cloudtrail").get_trail_status(Name="vigil-org-trail")["IsLogging"] is True


def test_manifests_from_standard_input(sandbox: Stack):
    text = "\n---\n".join(p.read_text() for p in sorted((ROOT / "examples").glob("*.yaml")))
    result = vigil(sandbox, "audit", "-f", "-", stdin=text)
    assert result.returncode == 0 and "baseline/org-trail" in result.stdout


def test_bad_manifest_is_refused_naming_file_and_field_and_nothing_reaches_aws(sandbox: Stack, tmp_path: Path):
    bad = tmp_path / "trail.yaml"
    bad.write_text((ROOT / "examples" / "orgtrail.yaml").read_text().replace("readWriteType: All",
                                                                               "readWriteType: Everything"))
    calls = sandbox.calls()
    calls.reset()
    result = vigil(sandbox, "plan", "-f", "examples/organization.yaml", "-f", str(bad))
    assert result.returncode == ERROR, "a manifest that cannot be loaded: no verdict"
    assert f"{bad}: OrgTrail org-trail: spec.managementEvents.readWriteType" in result.stderr
    assert "nothing was sent to AWS" in result.stderr
    assert calls.calls() == []


def test_plan_marks_a_weakening_and_apply_holds_it_until_allowed(sandbox: Stack, tmp_path: Path):
    assert vigil(sandbox, "apply", "-f", "examples/").returncode == 0
    examples = tmp_path / "examples"
    examples.mkdir()
    for path in (ROOT / "examples").glob("*.yaml"):
        (examples / path.name).write_text(path.read_text())
    archive = examples / "logarchive.yaml"
    archive.write_text(archive.read_text().replace("expireAfterDays: 2555, transitionToGlacierAfterDays: 90",
                                                   "expireAfterDays: 1"))
    plan = vigil(sandbox, "plan", "-f", str(examples))
    assert plan.returncode == 2, plan.stderr
    assert re.search(r"\n {6}acme-log-archive\n(.*\n)* {8}! PutBucketLifecycleConfiguration\n", plan.stdout)
    assert 'held, weakening: allow with vigil.dev/allow-weakening: "spec.retention.expireAfterDays=1"' in plan.stdout
    assert "1 held (weakening)" in plan.stdout

    def expiry() -> int:
        rules = sandbox.aws("s3", "222222222222").get_bucket_lifecycle_configuration(Bucket="acme-log-archive")
        return next(r for r in rules["Rules"] if r["ID"] == "vigil-retention")["Expiration"]["Days"]

    held = vigil(sandbox, "apply", "-f", str(examples))
    assert held.returncode == 1 and "WeakeningHeld" in held.stdout
    assert expiry() == 2555, "apply holds it too"
    archive.write_text(archive.read_text().replace(
        "annotations:\n", 'annotations:\n    vigil.dev/allow-weakening: "spec.retention.expireAfterDays=1"\n', 1))
    allowed = vigil(sandbox, "apply", "-f", str(examples))
    assert allowed.returncode == 0, allowed.stdout
    assert expiry() == 1
    restored = vigil(sandbox, "apply", "-f", "examples/")
    assert restored.returncode == 0 and expiry() == 2555


def test_plan_marks_a_resource_of_another_owner_as_a_conflict_and_touches_nothing(sandbox: Stack):
    # Enforce would refuse to write to a trail another Vigil object owns: the plan says so rather
    # than promising a change Enforce will not make. (The test before left the examples applied.)
    cloudtrail = sandbox.aws("cloudtrail")
    arn = cloudtrail.describe_trails(trailNameList=["vigil-org-trail"])["trailList"][0]["TrailARN"]
    owner = {"Key": "vigil.dev/owner", "Value": "baseline/OrgTrail/org-trail"}
    cloudtrail.add_tags(ResourceId=arn, TagsList=[{**owner, "Value": "team-b/OrgTrail/their-trail"}])
    cloudtrail.stop_logging(Name="vigil-org-trail")
    try:
        plan = vigil(sandbox, "plan", "-f", "examples/")
        assert plan.returncode == 2, plan.stdout + plan.stderr
        assert re.search(r"\n {6}vigil-org-trail\n {8}blocked, Conflict: owned by team-b/OrgTrail/their-trail; "
                         r"Vigil wrote nothing to it\n {8}x StartLogging\n", plan.stdout), plan.stdout
        assert "1 conflict." in plan.stdout
        assert cloudtrail.get_trail_status(Name="vigil-org-trail")["IsLogging"] is False, "plan never writes"
    finally:
        cloudtrail.add_tags(ResourceId=arn, TagsList=[owner])
        cloudtrail.start_logging(Name="vigil-org-trail")
