"""Condition bookkeeping: metav1.Condition semantics (transition time moves only with status)."""

from vigil.conditions import get_condition, is_true, set_condition


def test_first_set_stamps_transition_and_generation():
    conds = set_condition([], "Ready", "True", "Reconciled", "", 3, "2026-01-01T00:00:00Z")
    assert conds == [{"type": "Ready", "status": "True", "reason": "Reconciled", "message": "",
                      "observedGeneration": 3, "lastTransitionTime": "2026-01-01T00:00:00Z"}]


def test_same_status_keeps_transition_time_but_updates_reason_message_generation():
    conds = set_condition([], "Ready", "False", "Throttled", "slow down", 1, "T1")
    conds = set_condition(conds, "Ready", "False", "AccessDenied", "no role", 2, "T2")
    ready = get_condition(conds, "Ready")
    assert ready["lastTransitionTime"] == "T1"
    assert (ready["reason"], ready["message"], ready["observedGeneration"]) == ("AccessDenied", "no role", 2)


def test_status_change_moves_transition_time_and_keeps_other_conditions_in_order():
    conds = set_condition([], "Ready", "False", "X", "", 1, "T1")
    conds = set_condition(conds, "Compliant", "Unknown", "Y", "", 1, "T1")
    conds = set_condition(conds, "Ready", "True", "Reconciled", "", 1, "T2")
    assert [c["type"] for c in conds] == ["Ready", "Compliant"]
    assert get_condition(conds, "Ready")["lastTransitionTime"] == "T2"
    assert is_true(conds, "Ready") and not is_true(conds, "Compliant") and not is_true(conds, "Missing")
