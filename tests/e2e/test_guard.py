"""Vigil cannot be turned against the evidence it guards, end to end with the real operator:
a second object naming team A's trail, bucket or organization's GuardDuty is a Conflict and
writes nothing; a shorter retention waits for an allowance naming exactly that change; a trail
nobody owns is adopted only on the object's opt-in; deletionPolicy Delete deletes only what the
object owns; a bucket of the archive's name in another account is never written to."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from vigil_sandbox import states
from vigil_sandbox.iam_coverage import gaps as iam_gaps
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant, wait_until

pytestmark = pytest.mark.e2e
RESYNC_SECONDS = 3  # conftest.RESYNC
ONE_RESYNC = RESYNC_SECONDS + 12
A, B = "team-a", "team-b"
TRAIL = "vigil-org-trail"
BUCKET = "acme-log-archive"
MANAGEMENT, LOG_ARCHIVE, WORKLOAD = "123456789012", "222222222222", "555555555555"
ALLOW = "vigil.dev/allow-weakening"


def reason(obj: dict[str, Any], type_: str = "Ready") -> str:
    return condition(obj, type_).get("reason", "")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, controlplane) -> Iterator[Stack]:
    with Stack(tmp_path_factory.mktemp("stack"), namespaces=(A, B, "sniping"), controlplane=controlplane) as running:
        yield running
        missing = iam_gaps(running)
    if missing:
        pytest.fail(missing, pytrace=False)


@pytest.fixture(scope="module")
def team_a(stack: Stack, manifest) -> Stack:
    for kind in ("Organization", "LogArchive", "OrgTrail", "GuardDutyOrg"):
        stack.apply(manifest(kind, A))
    for kind, name in (("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail"),
                       ("GuardDutyOrg", "guardduty")):
        stack.wait(kind, A, name, is_ready_and_compliant, timeout=90, what="Ready and Compliant")
    return stack


def trail(stack: Stack, name: str = TRAIL) -> dict[str, Any]:
    return stack.aws("cloudtrail").describe_trails(trailNameList=[name])["trailList"][0]


def trail_tags(stack: Stack, name: str = TRAIL) -> dict[str, str]:
    ct = stack.aws("cloudtrail")
    listed = ct.list_tags(ResourceIdList=[trail(stack, name)["TrailARN"]])["ResourceTagList"]
    return {t["Key"]: t["Value"] for entry in listed for t in entry.get("TagsList", [])}


def expiry(stack: Stack) -> int | None:
    rules = stack.aws("s3", LOG_ARCHIVE).get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    ours = next(r for r in rules if r["ID"] == "vigil-retention")
    return ours.get("Expiration", {}).get("Days")


def test_what_vigil_creates_names_its_owner_and_installation(team_a: Stack):
    tags = trail_tags(team_a)
    assert tags["vigil.dev/owner"] == f"{A}/OrgTrail/org-trail"
    assert tags["vigil.dev/installation"] == "default"
    assert tags["vigil.dev/uid"] == team_a.get("OrgTrail", A, "org-trail")["metadata"]["uid"]
    bucket_tags = team_a.aws("s3", LOG_ARCHIVE).get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    assert {"Key": "vigil.dev/owner", "Value": f"{A}/LogArchive/central"} in bucket_tags


def test_a_second_object_naming_the_same_resources_is_a_conflict_and_writes_nothing(team_a: Stack, manifest):
    # Team B has its own organization object and archive (another bucket, another key alias)...
    team_a.apply(manifest("Organization", B))
    team_a.apply(manifest("LogArchive", B, bucketName="acme-team-b-logs", objectLock=None,
                          kms={"create": True, "alias": "alias/vigil-team-b"}))
    team_a.wait("LogArchive", B, "central", is_ready_and_compliant, timeout=60, what="team B's own archive Ready")
    calls = team_a.calls()
    calls.reset()
    # ...and then names team A's trail, bucket and organization's GuardDuty, with weaker specs.
    weaker_trail = manifest("OrgTrail", B, managementEvents={"readWriteType": "WriteOnly"},
                            cloudWatchLogs={"enabled": False}, deletionPolicy="Delete")
    weaker_archive = manifest("LogArchive", B, retention={"expireAfterDays": 1}, objectLock=None,
                              deletionPolicy="Delete")
    weaker_archive["metadata"]["name"] = "same-bucket"
    weaker_guardduty = manifest("GuardDutyOrg", B, autoEnable="NONE",
                                features={"s3DataEvents": False, "eksAuditLogs": False})
    for obj in (weaker_trail, weaker_archive, weaker_guardduty):
        team_a.apply(obj)
    for kind, name, holder in (("OrgTrail", "org-trail", f"{A}/OrgTrail/org-trail"),
                               ("LogArchive", "same-bucket", f"{A}/LogArchive/central"),
                               ("GuardDutyOrg", "guardduty", f"{A}/GuardDutyOrg/guardduty")):
        obj = team_a.wait(kind, B, name, lambda o: reason(o) == "Conflict", timeout=30, what="Conflict")
        assert holder in condition(obj, "Ready")["message"], condition(obj, "Ready")
        if kind == "OrgTrail":
            states.record("conflict", obj)
        team_a.wait_events(B, name, lambda e: e["reason"] == "Conflict" and e["type"] == "Warning", what="Conflict")
    time.sleep(2 * RESYNC_SECONDS)  # B is retried: still nothing may reach AWS on its behalf
    assert calls.writes() == [], "team A's objects are in steady state; any write was team B's"

    assert [s["ReadWriteType"] for s in team_a.aws("cloudtrail").get_event_selectors(
        TrailName=TRAIL)["EventSelectors"]] == ["All"]
    assert trail(team_a)["CloudWatchLogsLogGroupArn"], "CloudWatch delivery still on"
    assert expiry(team_a) == 2555
    for kind, name in (("OrgTrail", "org-trail"), ("LogArchive", "central"), ("GuardDutyOrg", "guardduty")):
        assert is_ready_and_compliant(team_a.get(kind, A, name)), "the owner keeps working untouched"


def test_delete_policy_delete_deletes_nothing_the_object_does_not_own(team_a: Stack):
    for kind, name in (("OrgTrail", "org-trail"), ("LogArchive", "same-bucket")):
        team_a.delete(kind, B, name)
    wait_until("team B's objects gone", lambda: not team_a.exists("OrgTrail", B, "org-trail")
               and not team_a.exists("LogArchive", B, "same-bucket"), timeout=30)
    assert team_a.aws("cloudtrail").get_trail_status(Name=TRAIL)["IsLogging"] is True
    assert team_a.aws("s3", LOG_ARCHIVE).head_bucket(Bucket=BUCKET)
    team_a.wait_events(B, "org-trail", lambda e: e["reason"] == "Deleted" and "not created by this OrgTrail"
                       in e["message"], what="Deleted saying what was not its own")


def test_a_shorter_retention_waits_for_an_allowance_naming_it(team_a: Stack):
    calls = team_a.calls()
    team_a.patch_spec("LogArchive", A, "central", {"retention": {"expireAfterDays": 1,
                                                                   "transitionToGlacierAfterDays": None}})
    held = team_a.wait("LogArchive", A, "central", lambda o: reason(o) == "WeakeningHeld", timeout=30,
                       what="WeakeningHeld")
    message = condition(held, "Ready")["message"]
    assert f"{LOG_ARCHIVE}/ca-central-1/{BUCKET}: lifecycle.expire_after_days 2555 -> 1" in message
    assert 'vigil.dev/allow-weakening: "spec.retention.expireAfterDays=1"' in message
    assert expiry(team_a) == 2555, "seven years of logs are not set to be deleted tomorrow"
    team_a.wait_events(A, "central", lambda e: e["reason"] == "WeakeningHeld", what="WeakeningHeld")

    # An allowance naming another value authorizes nothing.
    team_a.annotate("LogArchive", A, "central", {ALLOW: "spec.retention.expireAfterDays=30"})
    time.sleep(2 * RESYNC_SECONDS)
    assert reason(team_a.get("LogArchive", A, "central")) == "WeakeningHeld"
    assert expiry(team_a) == 2555

    # The allowance naming the change: applied, once, and recorded.
    start = len(calls.calls())
    team_a.annotate("LogArchive", A, "central", {ALLOW: "spec.retention.expireAfterDays=1"})
    allowed = team_a.wait("LogArchive", A, "central", is_ready_and_compliant, timeout=30, what="applied")
    assert expiry(team_a) == 1
    time.sleep(2 * RESYNC_SECONDS)
    writes = Counter(c.operation for c in calls.writes(start))
    assert writes["PutBucketLifecycleConfiguration"] == 1, writes
    [use] = allowed["status"]["allowedWeakenings"]
    assert use["allowance"] == "spec.retention.expireAfterDays=1" and "2555 -> 1" in use["change"]
    team_a.wait_events(A, "central", lambda e: e["reason"] == "WeakeningAllowed", what="WeakeningAllowed")

    # Back to seven years (no allowance needed), then a later weakening edit is held again.
    team_a.patch_spec("LogArchive", A, "central", {"retention": {"expireAfterDays": 2555}})
    team_a.wait("LogArchive", A, "central", lambda o: o["status"]["observedGeneration"] == o["metadata"]["generation"]
                and is_ready_and_compliant(o), timeout=30, what="strengthened")
    assert expiry(team_a) == 2555
    team_a.patch_spec("LogArchive", A, "central", {"retention": {"expireAfterDays": 30}})
    team_a.wait("LogArchive", A, "central", lambda o: reason(o) == "WeakeningHeld", timeout=30,
                what="held again: the allowance names 1 day, not 30")
    assert expiry(team_a) == 2555
    team_a.patch_spec("LogArchive", A, "central", {"retention": {"expireAfterDays": 2555}})


def test_a_trail_nobody_owns_is_adopted_only_on_opt_in(team_a: Stack, manifest):
    ct = team_a.aws("cloudtrail")
    ct.create_trail(Name="landing-zone-trail", S3BucketName=BUCKET, S3KeyPrefix="landing-zone")
    calls = team_a.calls()
    start = len(calls.calls())
    landing = manifest("OrgTrail", A, trailName="landing-zone-trail", cloudWatchLogs={"enabled": False})
    landing["metadata"]["name"] = "landing-zone"
    team_a.apply(landing)
    obj = team_a.wait("OrgTrail", A, "landing-zone", lambda o: reason(o) == "AdoptionRequired", timeout=30,
                      what="AdoptionRequired")
    states.record("adoption-required", obj)
    message = condition(obj, "Ready")["message"]
    assert "landing-zone-trail" in message and "no Vigil object owns it" in message
    assert "UpdateTrail" in message and "adoptionPolicy: Adopt" in message, "says what it would change"
    time.sleep(RESYNC_SECONDS)
    assert calls.writes(start) == []
    assert "vigil.dev/owner" not in trail_tags(team_a, "landing-zone-trail")

    team_a.patch_spec("OrgTrail", A, "landing-zone", {"adoptionPolicy": "Adopt"})
    team_a.wait("OrgTrail", A, "landing-zone", is_ready_and_compliant, timeout=30, what="adopted")
    adopted = trail(team_a, "landing-zone-trail")
    assert adopted["IsOrganizationTrail"] and adopted["LogFileValidationEnabled"] and adopted["IsMultiRegionTrail"]
    assert trail_tags(team_a, "landing-zone-trail")["vigil.dev/owner"] == f"{A}/OrgTrail/landing-zone"
    # From then on enforced: drift is corrected like any other.
    ct.update_trail(Name="landing-zone-trail", EnableLogFileValidation=False)
    wait_until("validation back on", lambda: trail(team_a, "landing-zone-trail")["LogFileValidationEnabled"],
               timeout=ONE_RESYNC)


def test_a_bucket_of_the_archive_name_in_another_account_is_never_written(team_a: Stack, manifest):
    sniped = "acme-sniped-archive"
    team_a.aws("s3", WORKLOAD).create_bucket(Bucket=sniped,
                                             CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    calls = team_a.calls()
    start = len(calls.calls())
    team_a.apply(manifest("Organization", "sniping"))
    team_a.apply(manifest("LogArchive", "sniping", bucketName=sniped, kms={"create": True, "alias": "alias/sniping"}))
    team_a.apply(manifest("OrgTrail", "sniping", trailName="sniping-trail"))
    obj = team_a.wait("LogArchive", "sniping", "central", lambda o: reason(o) == "Conflict", timeout=45,
                      what="Conflict")
    assert f"bucket {sniped} is not owned by the log-archive account {LOG_ARCHIVE}" in condition(obj, "Ready")["message"]
    assert any(f["reason"] == "Conflict" for f in obj["status"]["failures"]), "reported in failures"
    waiting = team_a.get("OrgTrail", "sniping", "org-trail")
    assert reason(waiting) == "DependencyNotReady", "no trail is pointed at it"
    time.sleep(RESYNC_SECONDS)
    s3_writes = [c for c in calls.writes(start) if c.service == "s3" or c.service == "cloudtrail"]
    assert s3_writes == [], s3_writes
    s3 = team_a.aws("s3", WORKLOAD)
    assert s3.get_bucket_versioning(Bucket=sniped).get("Status") is None
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=sniped)


def test_another_installations_trail_is_never_written_even_when_adopting(team_a: Stack, manifest):
    ct = team_a.aws("cloudtrail")
    ct.create_trail(Name="prod-cluster-trail", S3BucketName=BUCKET, S3KeyPrefix="prod", TagsList=[
        {"Key": "vigil.dev/owner", "Value": "security/OrgTrail/org-trail"},
        {"Key": "vigil.dev/installation", "Value": "prod-cluster"}])
    calls = team_a.calls()
    start = len(calls.calls())
    other = manifest("OrgTrail", A, trailName="prod-cluster-trail", cloudWatchLogs={"enabled": False},
                     adoptionPolicy="Adopt")
    other["metadata"]["name"] = "other-installation"
    team_a.apply(other)
    obj = team_a.wait("OrgTrail", A, "other-installation", lambda o: reason(o) == "Conflict", timeout=30,
                      what="Conflict")
    assert "security/OrgTrail/org-trail (installation prod-cluster)" in condition(obj, "Ready")["message"]
    time.sleep(RESYNC_SECONDS)
    assert calls.writes(start) == []
    assert trail(team_a, "prod-cluster-trail")["IsOrganizationTrail"] is False, "left exactly as it was"


def test_the_old_owner_tag_is_recognised_and_rewritten(team_a: Stack, manifest):
    ct = team_a.aws("cloudtrail")
    ct.create_trail(Name="older-vigil-trail", S3BucketName=BUCKET, S3KeyPrefix="older", TagsList=[
        {"Key": "vigil.dev/owner", "Value": f"{A}/older"}])  # what Vigil wrote before owners named their kind
    older = manifest("OrgTrail", A, trailName="older-vigil-trail", cloudWatchLogs={"enabled": False})
    older["metadata"]["name"] = "older"
    team_a.apply(older)
    team_a.wait("OrgTrail", A, "older", is_ready_and_compliant, timeout=30, what="Ready without adoption")
    tags = trail_tags(team_a, "older-vigil-trail")
    assert tags["vigil.dev/owner"] == f"{A}/OrgTrail/older" and tags["vigil.dev/installation"] == "default"
    assert trail(team_a, "older-vigil-trail")["IsOrganizationTrail"], "and enforced"
