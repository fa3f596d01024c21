"""Two objects of the cluster addressing the same AWS resource (controls.claims).

Which AWS resources each kind claims; the object created first keeps a claim whatever the order the
reconciles run in (then the lower uid; an object without a creation time ranks last); a deleted
object releases its claims, and so does a spec that stops addressing a resource.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from vigil.controls.claims import Claimant, ClaimRegistry, claims_of

EARLY = Claimant("team-a/LogArchive/central", "2026-01-01T00:00:00Z", "uid-a")
LATE = Claimant("team-b/LogArchive/central", "2026-02-01T00:00:00Z", "uid-b")
BUCKET = "s3 bucket acme-log-archive"
ALIAS = "kms alias 222222222222/ca-central-1/alias/vigil-log-archive"


@pytest.mark.parametrize("first, second", [
    pytest.param(EARLY, LATE, id="the earlier reconciles first"),
    pytest.param(LATE, EARLY, id="the later reconciles first"),
])
def test_the_earlier_object_keeps_the_claim_whatever_the_order(first, second):
    registry = ClaimRegistry()
    registry.claim(first, [BUCKET, ALIAS])
    registry.claim(second, [BUCKET, ALIAS])
    # Each resyncs again: the answer no longer depends on who came first.
    assert registry.claim(EARLY, [BUCKET, ALIAS]) is None
    assert registry.claim(LATE, [BUCKET, ALIAS]) == (BUCKET, EARLY)


def test_the_later_object_learns_at_once_who_holds_the_resource():
    registry = ClaimRegistry()
    assert registry.claim(EARLY, [BUCKET]) is None
    assert registry.claim(LATE, ["s3 bucket other", BUCKET]) == (BUCKET, EARLY)
    assert registry.claim(Claimant("team-c/LogArchive/x", "2026-03-01T00:00:00Z", "uid-c"),
                          ["s3 bucket other"]) == ("s3 bucket other", LATE), "a claim it did win is its own"


def test_same_creation_time_the_lower_uid_wins_and_no_time_ranks_last():
    registry = ClaimRegistry()
    twin = Claimant("team-z/LogArchive/central", EARLY.created, "uid-0")
    registry.claim(EARLY, [BUCKET])
    assert registry.claim(twin, [BUCKET]) is None
    assert registry.claim(EARLY, [BUCKET]) == (BUCKET, twin)
    unknown = Claimant("team-y/LogArchive/central", "", "uid-00")
    assert registry.claim(unknown, [BUCKET]) == (BUCKET, twin)


def test_release_frees_the_claims_for_the_next_object():
    registry = ClaimRegistry()
    registry.claim(EARLY, [BUCKET, ALIAS])
    assert registry.claim(LATE, [BUCKET]) == (BUCKET, EARLY)
    registry.release(EARLY.owner)
    assert registry.claim(LATE, [BUCKET]) is None


def test_releasing_an_object_that_lost_frees_nothing_of_the_holder():
    registry = ClaimRegistry()
    registry.claim(EARLY, [BUCKET])
    registry.claim(LATE, [BUCKET])
    registry.release(LATE.owner)
    newest = Claimant("team-c/LogArchive/central", "2026-03-01T00:00:00Z", "uid-c")
    assert registry.claim(newest, [BUCKET]) == (BUCKET, EARLY)


def test_a_changed_spec_releases_the_claims_it_no_longer_makes():
    registry = ClaimRegistry()
    registry.claim(EARLY, [BUCKET, ALIAS])
    assert registry.claim(EARLY, ["s3 bucket acme-log-archive-2"]) is None  # bucketName changed, kms.create off
    assert registry.claim(LATE, [BUCKET, ALIAS]) is None
    assert registry.claim(EARLY, [BUCKET]) is None, "the earlier object may take it back"
    assert registry.claim(LATE, [BUCKET, ALIAS]) == (BUCKET, EARLY)


def spec(**fields):
    return SimpleNamespace(**fields)


@pytest.mark.parametrize("kind, the_spec, expected", [
    pytest.param("LogArchive", spec(bucket_name="acme-logs", kms=spec(create=True, alias="alias/vigil-log-archive")),
                 ["s3 bucket acme-logs", "kms alias 222222222222/ca-central-1/alias/vigil-log-archive"],
                 id="LogArchive: its bucket (global) and the key alias it creates"),
    pytest.param("LogArchive", spec(bucket_name="acme-logs", kms=spec(create=False, alias="alias/x")),
                 ["s3 bucket acme-logs"], id="LogArchive with a key the user brings"),
    pytest.param("OrgTrail", spec(trail_name="t", cloud_watch_logs=spec(enabled=True, log_group_name="/vigil/ct")),
                 ["cloudtrail trail 123456789012/ca-central-1/t", "logs log group 123456789012/ca-central-1//vigil/ct"],
                 id="OrgTrail: its trail and log group"),
    pytest.param("OrgTrail", spec(trail_name="t", cloud_watch_logs=spec(enabled=False, log_group_name="/x")),
                 ["cloudtrail trail 123456789012/ca-central-1/t"], id="OrgTrail without CloudWatch"),
    pytest.param("GuardDutyOrg", spec(), ["GuardDutyOrg of organization o-abc"], id="one GuardDuty per organization"),
    pytest.param("SecurityHubBaseline", spec(), ["SecurityHubBaseline of organization o-abc"], id="Security Hub"),
    pytest.param("ConfigBaseline", spec(), ["ConfigBaseline of organization o-abc"], id="Config"),
    pytest.param("FlowLogPolicy", spec(), [], id="flow logs are judged per flow log by their tags"),
])
def test_what_each_kind_claims(kind, the_spec, expected):
    assert claims_of(kind, the_spec, "o-abc", "123456789012", "222222222222", "ca-central-1") == expected


def test_an_organization_not_discovered_yet_is_named_by_its_management_account():
    assert claims_of("GuardDutyOrg", spec(), "", "123456789012", "2", "r") == [
        "GuardDutyOrg of organization 123456789012"]
