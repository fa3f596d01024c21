"""Deny statements, as guardrails write them and as they read anyone's: rendering, packing into
AWS's policy size, and what a set of statements denies.

A guardrail statement denies some actions on some resources to every principal but the exempt
ones (``aws:PrincipalArn`` patterns). What it denies is a set of ``Denial``s, one per action and
resource: the unit in which a change of guardrails is judged (``lost``) and in which another
tool's policy is recognized as already denying the same (``covers``).

Pure: statements in, JSON and judgements out.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

VERSION = "2012-10-17"
POLICY_CHARACTERS = 5_120  # AWS Organizations' limit for an SCP or an RCP, whitespace included
POLICIES_PER_TARGET = 5  # SCPs (or RCPs) attached to one root, OU or account, AWS's own included
PRINCIPAL_ARN = "aws:PrincipalArn"
# Conditions that only exempt principals: a statement with nothing else denies everyone else.
EXEMPTING = ("ArnNotLike", "ArnNotEquals", "StringNotLike", "StringNotEquals")


@dataclass(frozen=True)
class Statement:
    """Deny ``actions`` on ``resources`` unless the caller's ARN matches one of ``exempt``.
    ``condition``: any further condition, as the policy language writes it (a resource tag)."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    exempt: tuple[str, ...] = ()
    condition: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (operator, key, values)
    everyone: bool = False  # an RCP statement: Principal "*"

    def document(self) -> dict[str, Any]:
        statement: dict[str, Any] = {"Sid": self.sid, "Effect": "Deny"}
        if self.everyone:
            statement["Principal"] = "*"
        statement["Action"] = _one_or_list(self.actions)
        statement["Resource"] = _one_or_list(self.resources)
        condition: dict[str, dict[str, Any]] = {}
        if self.exempt:
            condition["ArnNotLike"] = {PRINCIPAL_ARN: _one_or_list(self.exempt)}
        for operator, key, values in self.condition:
            condition.setdefault(operator, {})[key] = _one_or_list(values)
        if condition:
            statement["Condition"] = condition
        return statement

    def denials(self) -> set[Denial]:
        return {Denial(a, r, frozenset(self.exempt), self.condition) for a in self.actions for r in self.resources}

    def without(self, actions: Iterable[str]) -> Statement:
        gone = set(actions)
        return Statement(self.sid, tuple(a for a in self.actions if a not in gone), self.resources, self.exempt,
                         self.condition, self.everyone)


@dataclass(frozen=True)
class Denial:
    """One action on one resource, denied to all but ``exempt`` (under ``condition``)."""

    action: str
    resource: str
    exempt: frozenset[str]
    condition: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def covered_by(self, other: Denial) -> bool:
        """``other`` denies this at least as widely: same action, resource and condition, and it
        exempts no principal this does not."""
        return (other.action.lower() == self.action.lower() and other.resource == self.resource
                and other.condition == self.condition and other.exempt <= self.exempt)

    def __str__(self) -> str:
        text = f"{self.action} on {self.resource}"
        return text + (f" unless {' or '.join(sorted(self.exempt))}" if self.exempt else "")


def _one_or_list(values: tuple[str, ...]) -> Any:
    return values[0] if len(values) == 1 else list(values)


def to_json(statements: Iterable[Statement]) -> str:
    """A policy document, compact: AWS counts every character, whitespace included."""
    return json.dumps({"Version": VERSION, "Statement": [s.document() for s in statements]}, separators=(",", ":"))


def pack(statements: list[Statement], limit: int = POLICY_CHARACTERS) -> list[list[Statement]]:
    """The statements in as few documents of at most ``limit`` characters as first-fit makes, in
    order (so the same statements always pack alike); a statement too big alone is split by actions."""
    documents: list[list[Statement]] = []
    for statement in _fitting(statements, limit):
        for document in documents:
            if len(to_json([*document, statement])) <= limit:
                document.append(statement)
                break
        else:
            documents.append([statement])
    return documents


def _fitting(statements: list[Statement], limit: int) -> Iterable[Statement]:
    for statement in statements:
        if len(to_json([statement])) <= limit or len(statement.actions) == 1:
            yield statement  # one action that does not fit is refused by the limit check
            continue
        half = len(statement.actions) // 2
        for part, suffix in ((statement.actions[:half], "A"), (statement.actions[half:], "B")):
            yield from _fitting([Statement(statement.sid + suffix, part, statement.resources, statement.exempt,
                                           statement.condition, statement.everyone)], limit)


# --- reading a policy ----------------------------------------------------------------------------


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def statements_of(content: str | None) -> list[dict[str, Any]]:
    try:
        document = json.loads(content or "{}")
    except ValueError:
        return []
    found = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def denials(content: str | None) -> set[Denial]:
    """What a guardrail document of Vigil's denies (as ``Statement`` writes them)."""
    found: set[Denial] = set()
    for statement in statements_of(content):
        parsed = _deny_statement(statement)
        if parsed is not None:
            found |= parsed.denials()
    return found


def _deny_statement(statement: dict[str, Any]) -> Statement | None:
    """A Deny statement as a ``Statement``: None for an Allow, a NotAction or NotResource, or a
    condition on the caller's ARN other than an exemption (those deny otherwise than they read)."""
    if statement.get("Effect") != "Deny" or "NotAction" in statement or "NotResource" in statement:
        return None
    exempt: tuple[str, ...] = ()
    others = []
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, values in (keys or {}).items():
            if key == PRINCIPAL_ARN and operator in EXEMPTING:
                exempt += _as_tuple(values)
            else:
                others.append((operator, key, tuple(sorted(_as_tuple(values)))))
    return Statement(str(statement.get("Sid", "")), _as_tuple(statement.get("Action")),
                     _as_tuple(statement.get("Resource")) or ("*",), tuple(sorted(set(exempt))),
                     tuple(sorted(others)), statement.get("Principal") == "*")


def lost(before: Iterable[Denial], after: Iterable[Denial]) -> list[Denial]:
    """The denials of ``before`` that ``after`` no longer makes (as widely): what a change takes away."""
    kept = list(after)
    return sorted((d for d in before if not any(d.covered_by(k) for k in kept)), key=str)


def covers(content: str | None, denial: Denial) -> str | None:
    """The Sid (or position) of a statement of another's policy that denies ``denial`` at least as
    widely, or None. Wildcards in its actions and resources count; a condition other than
    exempting principals does not (it may deny less than it reads)."""
    for index, raw in enumerate(statements_of(content)):
        statement = _deny_statement(raw)
        if statement is None or statement.condition != denial.condition:
            continue
        if not set(statement.exempt) <= denial.exempt:
            continue
        if any(fnmatch.fnmatchcase(denial.action.lower(), a.lower()) for a in statement.actions) and \
                any(fnmatch.fnmatchcase(denial.resource, r) for r in statement.resources):
            return statement.sid or f"statement {index + 1}"
    return None
