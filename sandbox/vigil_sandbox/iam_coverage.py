"""Whether the IAM policies Vigil ships (deploy/iam/, written by `vigil iam`) allow every call Vigil
made in the sandbox, in the account it made it in.

Each call is named as IAM would authorize it by the sandbox's own mapping (iam_actions), not by
Vigil's list of its operations (vigil.aws.permissions), so a wrong entry there shows here. Only
actions are matched: the record holds an operation, not the resources and condition keys of its
request, so a statement's Resource and Condition are not evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.aws.permissions import CARRIED
from vigil.iam_policies import file_name

from vigil_sandbox.awsserver import SeenOperation
from vigil_sandbox.iam_actions import iam_action
from vigil_sandbox.policy_language import glob_matches

if TYPE_CHECKING:
    from vigil_sandbox.stack import Stack

POLICIES = Path(__file__).resolve().parents[2] / "deploy" / "iam"
# AWS answers these whatever the caller's policies say (STS API reference, GetCallerIdentity).
NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}


def account_kind(account: str, organization: Mapping[str, Any]) -> str:
    """management, log-archive, security or member: which of CARRIED's identities made a call."""
    for kind, key in (("management", "management"), ("log-archive", "log_archive"), ("security", "security")):
        if account == organization.get(key):
            return kind
    return "member"


@cache
def _statements(path: Path) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(path.read_text())["Statement"])


def allows(path: Path, action: str) -> bool:
    """Whether an Allow statement of the policy at ``path`` names ``action`` (globs, any case)."""
    for statement in _statements(path):
        listed = statement.get("Action", [])
        listed = [listed] if isinstance(listed, str) else listed
        if statement.get("Effect") == "Allow" and any(glob_matches(a, action, ignore_case=True) for a in listed):
            return True
    return False


def uncovered(seen: Iterable[SeenOperation], organization: Mapping[str, Any],
              policies: Path = POLICIES) -> list[str]:
    """One line per operation Vigil called that its policies for that account do not allow."""
    missing = []
    for call in seen:
        if not call.by_vigil or (call.service, call.operation) in NEEDS_NO_PERMISSION:
            continue
        kind = account_kind(call.account, organization)
        files = [file_name(role) for role in CARRIED[kind]]
        action = iam_action(call.service, call.operation)
        if not any(allows(policies / f, action) for f in files):
            missing.append(f"Vigil called {call.service} {call.operation} in account {call.account} ({kind}), "
                           f"as {action}, which {' + '.join(files)} {'does' if len(files) == 1 else 'do'} not allow")
    return missing


def gaps(stack: Stack) -> str:
    """Why deploy/iam/ would refuse some call Vigil made on ``stack`` since it started, resets of
    its call record included; "" when it would refuse none. Read while the stack runs."""
    missing = uncovered(stack.calls().seen(), stack.organization)
    if not missing:
        return ""
    return ("deploy/iam/ does not allow what Vigil called (list it in operator/vigil/aws/permissions.py, then run "
            "`vigil iam`):\n" + "\n".join(missing))
