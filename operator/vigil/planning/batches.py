"""Writes AWS takes for many targets in one call: enrolling member accounts, flow logs for VPCs.

Each target still plans its own write, so a plan and status name every account and VPC; Enforce
sends the writes of a group together, in as few calls as AWS takes (``controls.batched``). At a
thousand accounts that is 20 calls a region instead of a thousand.

Pure: actions in, actions out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .actions import Action

# (service, operation) -> the parameter listing the targets, and how many of them one call takes.
BATCHES: dict[tuple[str, str], tuple[str, int]] = {
    ("guardduty", "CreateMembers"): ("AccountDetails", 50),  # GuardDuty API Reference: 1 to 50 items
    ("guardduty", "StartMonitoringMembers"): ("AccountIds", 50),  # 1 to 50 items
    # Security Hub documents no maximum: GuardDuty's, which is also a page of ListMembers.
    ("securityhub", "CreateMembers"): ("AccountDetails", 50),
    # EC2 API Reference: at most 1,000 resource ids (25 transit gateways, which Vigil does not log).
    ("ec2", "CreateFlowLogs"): ("ResourceIds", 1000),
}


def batchable(actions: Sequence[Action]) -> Action | None:
    """The target's write, when its whole plan is one write that can go out with others'."""
    if len(actions) == 1 and (actions[0].service, actions[0].operation) in BATCHES:
        return actions[0]
    return None


def batches(writes: Sequence[Action], label: str) -> list[tuple[Action, list[Action]]]:
    """Targets' writes (each ``batchable``) as the fewest calls, each with the writes it carries:
    writes alike but for their targets are joined, as many to a call as AWS takes. ``label``
    names the calls (the group they are made for)."""
    alike: dict[tuple[str, ...], list[Action]] = {}
    for write in writes:
        listed, _ = BATCHES[(write.service, write.operation)]
        rest = json.dumps({k: v for k, v in write.params.items() if k != listed}, sort_keys=True, default=str)
        alike.setdefault((write.account_id, write.region, write.service, write.operation, rest), []).append(write)
    calls = []
    for group in alike.values():
        first = group[0]
        listed, size = BATCHES[(first.service, first.operation)]
        for start in range(0, len(group), size):
            part = group[start:start + size]
            joined = Action(label, first.account_id, first.region, first.service, first.operation,
                            {**first.params, listed: [item for w in part for item in w.params[listed]]},
                            tuple(change for w in part for change in w.changes),
                            creates=all(w.creates for w in part))
            calls.append((joined, part))
    return calls
