"""Writes AWS takes for many targets in one call (vigil.planning.batches): which plans can go out
together, and how they are joined: alike but for their targets, as many to a call as AWS takes,
the changes of every target kept."""

from __future__ import annotations

from vigil.planning.actions import Action, Change
from vigil.planning.batches import BATCHES, batchable, batches

ADMIN, REGION, DETECTOR = "333333333333", "ca-central-1", "d-1"


def enroll(account: str, detector: str = DETECTOR, creates: bool = True) -> Action:
    return Action(f"{account}/{REGION}", ADMIN, REGION, "guardduty", "CreateMembers",
                  {"DetectorId": detector, "AccountDetails": [{"AccountId": account, "Email": f"{account}@x"}]},
                  (Change("member.relationship_status", None, "Enabled"),), creates=creates)


def test_a_plan_of_one_joinable_write_can_go_out_with_others():
    assert batchable([enroll("555555555555")]) == enroll("555555555555")
    assert batchable([]) is None
    assert batchable([enroll("555555555555"), enroll("666666666666")]) is None, "a plan of two writes goes alone"
    other = Action("x", ADMIN, REGION, "guardduty", "UpdateDetector", {"DetectorId": DETECTOR})
    assert batchable([other]) is None


def test_alike_writes_are_one_call_carrying_every_target_and_its_changes():
    writes = [enroll(a) for a in ("555555555555", "666666666666", "777777777777")]
    [(call, carried)] = batches(writes, f"guardduty/{REGION}")
    assert carried == writes
    assert (call.target, call.account_id, call.region, call.operation) == (f"guardduty/{REGION}", ADMIN, REGION,
                                                                           "CreateMembers")
    assert call.params == {"DetectorId": DETECTOR, "AccountDetails": [
        {"AccountId": a, "Email": f"{a}@x"} for a in ("555555555555", "666666666666", "777777777777")]}
    assert len(call.changes) == 3 and call.creates


def test_writes_differing_in_more_than_their_targets_are_not_joined():
    calls = batches([enroll("555555555555"), enroll("666666666666", detector="d-2")], "g")
    assert [c.params["DetectorId"] for c, _ in calls] == [DETECTOR, "d-2"]


def test_a_call_takes_no_more_targets_than_aws_does():
    size = BATCHES[("guardduty", "CreateMembers")][1]
    writes = [enroll(f"{n:012d}") for n in range(size * 2 + 1)]
    calls = batches(writes, "g")
    assert [len(c.params["AccountDetails"]) for c, _ in calls] == [size, size, 1]
    assert [w for _, carried in calls for w in carried] == writes


def test_a_batch_re_enrolling_an_account_is_no_create():
    [(call, _)] = batches([enroll("555555555555"), enroll("666666666666", creates=False)], "g")
    assert not call.creates
