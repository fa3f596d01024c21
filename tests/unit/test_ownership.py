"""Whose AWS resource it is (planning.ownership) and what the guard does about it (controls.guard,
TargetRun.converge).

judge() for every holding: absent, mine, mine recorded the old way (`namespace/name`) or for a
recreated object (another uid), another object, another installation, nobody's. The tags Vigil
writes to record itself as the owner (tag_action: S3 keeps the bucket's other tags, KMS takes
TagKey/TagValue). The gate: nothing is written to another's resource, a resource nobody owns is
written only when the object adopts it (tagged first), an old record is retagged first; tags are
read before every write and, between writes, once per process; Audit reads and writes nothing.
"""

from __future__ import annotations

import pytest

from vigil.controls import base, guard
from vigil.controls.base import Context, TargetRun
from vigil.controls.guard import OwnershipLedger, gate_ownership, ownership
from vigil.planning.actions import Action, Change
from vigil.planning.ownership import (INSTALLATION_TAG, OWNER_TAG, UID_TAG, Holding, Owner, Resource, Verdict, judge,
                                      owns, tag_action)
from vigil.planning.weakening import classify

ME = Owner("team-a", "OrgTrail", "org-trail", "prod", "uid-1")
ACCOUNT, REGION = "123456789012", "ca-central-1"
LABEL = f"{ACCOUNT}/{REGION}/vigil-org-trail"
TRAIL = Resource("cloudtrail-trail", ACCOUNT, REGION, f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/vigil-org-trail",
                 LABEL)
UPDATE = Action(LABEL, ACCOUNT, REGION, "cloudtrail", "UpdateTrail", {"Name": "vigil-org-trail"},
                (Change("s3_key_prefix", "old", "cloudtrail"),))


def test_an_owner_signs_with_its_kind_installation_and_uid():
    assert ME.value == str(ME) == "team-a/OrgTrail/org-trail" and ME.legacy_value == "team-a/org-trail"
    assert ME.tags() == {OWNER_TAG: "team-a/OrgTrail/org-trail", INSTALLATION_TAG: "prod", UID_TAG: "uid-1"}
    assert Owner("ns", "LogArchive", "n").tags() == {OWNER_TAG: "ns/LogArchive/n", INSTALLATION_TAG: "default"}, \
        "no uid known: no uid tag"
    assert ME.tag_list("TagKey", "TagValue")[0] == {"TagKey": OWNER_TAG, "TagValue": "team-a/OrgTrail/org-trail"}


@pytest.mark.parametrize("tags, holding, holder", [
    pytest.param(None, Holding.ABSENT, "", id="absent"),
    pytest.param(ME.tags(), Holding.MINE, "team-a/OrgTrail/org-trail", id="mine"),
    pytest.param({**ME.tags(), "team": "x"}, Holding.MINE, "team-a/OrgTrail/org-trail", id="mine among other tags"),
    pytest.param({OWNER_TAG: "team-a/org-trail"}, Holding.MINE_TO_RETAG, "team-a/org-trail",
                 id="legacy namespace/name tag"),
    pytest.param({OWNER_TAG: "team-a/OrgTrail/org-trail"}, Holding.MINE_TO_RETAG, "team-a/OrgTrail/org-trail",
                 id="today's value without an installation"),
    pytest.param({**ME.tags(), UID_TAG: "uid-0"}, Holding.MINE_TO_RETAG, "team-a/OrgTrail/org-trail",
                 id="recreated object (uid differs)"),
    pytest.param({OWNER_TAG: ME.value, INSTALLATION_TAG: "prod"}, Holding.MINE_TO_RETAG, ME.value,
                 id="no uid recorded yet"),
    pytest.param({**ME.tags(), OWNER_TAG: "team-b/OrgTrail/org-trail"}, Holding.OTHERS, "team-b/OrgTrail/org-trail",
                 id="another object"),
    pytest.param({**ME.tags(), OWNER_TAG: "team-a/LogArchive/org-trail"}, Holding.OTHERS,
                 "team-a/LogArchive/org-trail", id="another kind of the same name"),
    pytest.param({OWNER_TAG: "team-b/org-trail"}, Holding.OTHERS, "team-b/org-trail", id="another object, legacy"),
    pytest.param({**ME.tags(), INSTALLATION_TAG: "staging"}, Holding.OTHERS,
                 "team-a/OrgTrail/org-trail (installation staging)", id="another installation"),
    pytest.param({}, Holding.UNOWNED, "", id="unowned, no tags"),
    pytest.param({"Name": "trail", OWNER_TAG: ""}, Holding.UNOWNED, "", id="unowned, an empty owner tag"),
])
def test_judge(tags, holding, holder):
    verdict = judge(tags, ME)
    assert (verdict.holding, verdict.holder) == (holding, holder)
    assert verdict.mine is (holding in (Holding.MINE, Holding.MINE_TO_RETAG))
    assert owns(tags, ME) is verdict.mine, "only what the object holds is ever deleted"


def test_an_owner_without_a_uid_does_not_check_it():
    assert judge({**ME.tags(), UID_TAG: "anything"}, Owner("team-a", "OrgTrail", "org-trail", "prod")).holding \
        is Holding.MINE


# --- recording the owner ----------------------------------------------------------------------------

def test_tagging_a_bucket_keeps_its_other_tags_and_replaces_the_old_owner():
    bucket = Resource("s3-bucket", "222222222222", REGION, "acme-log-archive", "222222222222/ca-central-1/acme-log-archive")
    owner = Owner("team-a", "LogArchive", "central", "prod", "uid-9")
    action = tag_action(bucket, owner, {"cost-center": "42", OWNER_TAG: "team-a/central"})
    assert (action.service, action.operation, action.account_id, action.target) == (
        "s3", "PutBucketTagging", "222222222222", bucket.label)
    assert action.params == {"Bucket": "acme-log-archive", "ExpectedBucketOwner": "222222222222", "Tagging": {"TagSet": [
        {"Key": "cost-center", "Value": "42"}, {"Key": INSTALLATION_TAG, "Value": "prod"},
        {"Key": OWNER_TAG, "Value": "team-a/LogArchive/central"}, {"Key": UID_TAG, "Value": "uid-9"}]}}
    assert [str(c) for c in action.changes] == ["owner: 'team-a/central' -> 'team-a/LogArchive/central'"]
    assert action.creates and classify(action) == [], "recording the owner is no weakening and no drift"


def test_tagging_a_key_adds_only_the_owner_tags():
    key = Resource("kms-key", "222222222222", REGION, "k1", "222222222222/ca-central-1/alias/vigil-log-archive")
    action = tag_action(key, ME, {"other": "x"})
    assert (action.service, action.operation) == ("kms", "TagResource")
    assert action.params == {"KeyId": "k1", "Tags": [{"TagKey": OWNER_TAG, "TagValue": ME.value},
                                                     {"TagKey": INSTALLATION_TAG, "TagValue": "prod"},
                                                     {"TagKey": UID_TAG, "TagValue": "uid-1"}]}
    assert [str(c) for c in action.changes] == [f"owner: None -> '{ME.value}'"]


def test_tagging_a_log_group_uses_its_arn_without_the_stream_wildcard():
    group = Resource("logs-log-group", ACCOUNT, REGION, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/vigil/ct:*", "g")
    assert tag_action(group, ME, {}).params["resourceArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/vigil/ct"


# --- the gate ---------------------------------------------------------------------------------------

def test_another_objects_resource_is_never_written():
    gate = gate_ownership(Verdict(Holding.OTHERS, "team-b/OrgTrail/org-trail"), TRAIL, ME, {}, True, [UPDATE])
    assert gate.apply == []
    assert (gate.blocked.resource, gate.blocked.reason) == (LABEL, "Conflict")
    assert gate.blocked.message == "owned by team-b/OrgTrail/org-trail; Vigil wrote nothing to it"


def test_a_resource_nobody_owns_needs_adoption_and_says_what_vigil_would_do():
    gate = gate_ownership(Verdict(Holding.UNOWNED), TRAIL, ME, {}, False, [UPDATE])
    assert gate.apply == [] and gate.blocked.reason == "AdoptionRequired"
    assert "Vigil would: UpdateTrail (s3_key_prefix: 'old' -> 'cloudtrail')" in gate.blocked.message
    assert "spec.adoptionPolicy: Adopt" in gate.blocked.message
    nothing = gate_ownership(Verdict(Holding.UNOWNED), TRAIL, ME, {}, False, [])
    assert "only record itself as the owner" in nothing.blocked.message


@pytest.mark.parametrize("verdict, adopt", [
    pytest.param(Verdict(Holding.UNOWNED), True, id="adopted"),
    pytest.param(Verdict(Holding.MINE_TO_RETAG, "team-a/org-trail"), False, id="old record retagged"),
])
def test_the_owner_is_recorded_before_anything_else_is_written(verdict, adopt):
    gate = gate_ownership(verdict, TRAIL, ME, {"Name": "x"}, adopt, [UPDATE])
    assert gate.blocked is None
    assert [(a.operation, a.params.get("ResourceId")) for a in gate.apply] == [("AddTags", TRAIL.identifier),
                                                                              ("UpdateTrail", None)]


def test_what_is_mine_is_written_as_planned():
    assert gate_ownership(Verdict(Holding.MINE, ME.value), TRAIL, ME, ME.tags(), False, [UPDATE]).apply == [UPDATE]


class Tags:
    """Stands in for reading tags from AWS: counts the reads."""

    def __init__(self, tags):
        self.tags, self.reads = tags, 0

    def __call__(self, access, resource):
        self.reads += 1
        return self.tags


def test_tags_are_read_before_every_write_and_once_between_writes(monkeypatch):
    reader = Tags(ME.tags())
    monkeypatch.setattr(guard, "read_tags", reader)
    ledger = OwnershipLedger()
    assert ownership(None, ledger, ME, TRAIL, None, known=False, writing=False)[0].holding is Holding.MINE
    assert ownership(None, ledger, ME, TRAIL, None, known=False, writing=False)[0].holding is Holding.MINE
    assert reader.reads == 1, "a resource confirmed as the object's is not read at every resync"
    ownership(None, ledger, ME, TRAIL, None, known=False, writing=True)
    assert reader.reads == 2, "before a write the tags are read again"
    reader.tags = {**ME.tags(), OWNER_TAG: "team-b/OrgTrail/org-trail"}
    assert ownership(None, ledger, ME, TRAIL, None, known=False, writing=True)[0].holding is Holding.OTHERS
    ownership(None, ledger, ME, TRAIL, None, known=False, writing=False)
    assert reader.reads == 4, "a resource found to be another's is forgotten: read again next time"


def test_a_resource_to_be_created_is_absent_without_a_read(monkeypatch):
    reader = Tags({})
    monkeypatch.setattr(guard, "read_tags", reader)
    new = Resource("s3-bucket", ACCOUNT, REGION, "b", "b", exists=False)
    assert ownership(None, OwnershipLedger(), ME, new, None, known=False, writing=True)[0].holding is Holding.ABSENT
    assert reader.reads == 0


# --- TargetRun.converge: the gate every write passes ------------------------------------------------

def run(mode="Enforce", adopt=False, allowances=frozenset()) -> TargetRun:
    ctx = Context("OrgTrail", "team-a", "org-trail", None, mode, None, None, owner=ME, adopt=adopt,
                  allowances=allowances)
    return TargetRun(ctx, LABEL)


@pytest.fixture
def aws(monkeypatch):
    """The tags the trail carries, and the writes made (operation names, in order)."""
    reader, written = Tags({}), []
    monkeypatch.setattr(guard, "read_tags", reader)
    monkeypatch.setattr(base, "execute", lambda access, action: written.append(action.operation))
    return reader, written


def test_converge_writes_nothing_to_another_objects_resource(aws):
    reader, written = aws
    reader.tags = {**ME.tags(), OWNER_TAG: "team-b/OrgTrail/org-trail"}
    target = run(adopt=True)
    assert target.converge([UPDATE], TRAIL) is False
    assert written == []
    assert [b.reason for b in target.report.blocked] == ["Conflict"] and not target.report.compliant


def test_converge_adopts_only_on_the_objects_opt_in(aws):
    reader, written = aws
    refused = run()
    assert refused.converge([UPDATE], TRAIL) is False and written == []
    assert [b.reason for b in refused.report.blocked] == ["AdoptionRequired"]
    assert run(adopt=True).converge([UPDATE], TRAIL) is True
    assert written == ["AddTags", "UpdateTrail"]


def test_audit_neither_reads_tags_nor_writes(aws):
    reader, written = aws
    target = run(mode="Audit", adopt=True)
    assert target.converge([UPDATE], TRAIL) is False
    assert (reader.reads, written, target.report.blocked) == (0, [], [])
    assert target.report.drifted == [UPDATE], "Audit still reports what differs"


def test_converge_holds_a_weakening_until_its_allowance(aws):
    reader, written = aws
    reader.tags = ME.tags()
    stop = Action(LABEL, ACCOUNT, REGION, "cloudtrail", "UpdateTrail", {},
                  (Change("enable_log_file_validation", True, False),))
    held = run()
    assert held.converge([stop, UPDATE], TRAIL) is True and written == ["UpdateTrail"]
    assert [w.allowance for w in held.report.held] == ["trail.logFileValidation=false"]
    assert held.report.drifted == [stop]
    allowed = run(allowances=frozenset({"trail.logFileValidation=false"}))
    allowed.converge([stop], TRAIL)
    assert written == ["UpdateTrail", "UpdateTrail"] and allowed.report.held == []
    assert [w.allowance for w in allowed.report.allowed] == ["trail.logFileValidation=false"]


def test_only_a_resource_the_object_made_itself_is_being_created_here():
    """Under the spec it has now: an unset setting is an unfinished create only while the spec
    generation recorded at the create is the object's current one."""
    from vigil.controls.guard import created_here
    from vigil.planning.ownership import ADOPTED_TAG, Holding, Verdict

    me = Owner("team-a", "OrgTrail", "org-trail", generation=3)
    mine = Verdict(Holding.MINE, me.value)
    assert created_here(mine, me.tags(), me)
    assert not created_here(mine, {**me.tags(), ADOPTED_TAG: "true"}, me)
    assert not created_here(mine, None, me), "confirmed earlier: tags not read this time"
    assert not created_here(Verdict(Holding.UNOWNED), {}, me)
    later = Owner("team-a", "OrgTrail", "org-trail", generation=4)
    assert not created_here(mine, me.tags(), later), "the spec changed since: judged as any change"
    assert not created_here(mine, Owner("team-a", "OrgTrail", "org-trail").tags(), Owner("team-a", "OrgTrail", "org-trail"))
