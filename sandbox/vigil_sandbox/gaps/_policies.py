"""IAM policies, coarsely: what the sandbox's guards ask of a trust or resource policy."""

from __future__ import annotations

import fnmatch
import json
from typing import Any


def _statements(policy: str | None) -> list[dict[str, Any]]:
    if not policy:
        return []
    statements = json.loads(policy).get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _allows_action(statement: dict[str, Any], action: str) -> bool:
    return statement.get("Effect") == "Allow" and any(
        fnmatch.fnmatchcase(action.lower(), pattern.lower())
        for pattern in _as_list(statement.get("Action"))
    )


def policy_allows_service(policy: str | None, service_principal: str, action: str) -> bool:
    """Whether a resource policy allows an AWS service principal an action.

    Coarse on purpose: resources and conditions (aws:SourceOrgID, ...) are taken as met. It
    catches the mistake that matters: no statement for the service at all.
    """
    for statement in _statements(policy):
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if principal == "*" or service_principal in services:
            if _allows_action(statement, action):
                return True
    return False


def trust_allows_account(trust_policy: str | None, account: str) -> bool:
    """Whether a role's trust policy lets principals of an account assume it.

    Checked per account, not per principal ARN: the sandbox's callers are account-wide.
    """
    return policy_allows_account(trust_policy, account, "sts:AssumeRole")


def policy_allows_account(policy: str | None, account: str, action: str) -> bool:
    """Whether a resource policy allows principals of an account an action: a statement naming
    the account (its id, its root, or any ARN in it) or everyone.

    As coarse as policy_allows_service, and per account, not per principal ARN.
    """
    for statement in _statements(policy):
        if _allows_action(statement, action) and _names_account(statement.get("Principal"), account):
            return True
    return False


def _names_account(principal: Any, account: str) -> bool:
    if principal == "*":
        return True
    aws = _as_list(principal.get("AWS")) if isinstance(principal, dict) else []
    return any(entry in ("*", account) or entry.split(":")[4:5] == [account] for entry in aws)
