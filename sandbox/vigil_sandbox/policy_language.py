"""The IAM policy language, as far as the sandbox evaluates organization policies (SCPs and RCPs):
a policy's statements matched against one request context. Pure: no moto, no wire.

The subset, and the AWS documents it follows (IAM User Guide, "IAM JSON policy element
reference" and "Policy evaluation logic"):

- Effect; Action/NotAction with the ``*`` and ``?`` wildcards, case-insensitive; Resource/
  NotResource with the same wildcards, case-sensitive. A statement without Resource covers ``*``.
- Principal ``"*"`` (or ``{"AWS": "*"}``), only in resource control policies ("RCP syntax": RCPs
  support no other principal; SCPs no Principal at all).
- Condition: StringEquals, StringNotEquals, StringLike, StringNotLike, ArnEquals, ArnLike,
  ArnNotEquals, ArnNotLike, Bool, each also as ``...IfExists``, and Null; the ``ForAnyValue:`` and
  ``ForAllValues:`` set operators for String and Arn. The operators of a Condition and the keys of an
  operator are ANDed, the values of a key ORed, those of a negated operator NORed ("Conditions with
  multiple context keys or values"). A key the request context lacks fails a positive operator and
  passes a negated one; ``...IfExists`` passes it; Null tests for it ("Condition operators",
  the Important note); ForAllValues passes an absent key, ForAnyValue fails it ("Set operators for
  multivalued context keys"). Condition key names are case-insensitive.

Outside the subset (StringEqualsIgnoreCase, Numeric*, Date*, IpAddress, Binary*, policy variables
such as ``${aws:PrincipalAccount}``, NotPrincipal, a multivalued key without a set operator, ...)
parse_policy raises SandboxContractError: the sandbox never silently allows what it cannot read.
What AWS itself refuses in such a policy raises MalformedPolicy, which the Organizations gaps answer
as MalformedPolicyDocumentException.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vigil_sandbox.contract import SandboxContractError

SERVICE_CONTROL_POLICY = "SERVICE_CONTROL_POLICY"
RESOURCE_CONTROL_POLICY = "RESOURCE_CONTROL_POLICY"

# Keys whose value in a request context is a set: only a set operator can test them.
MULTIVALUED_KEYS = frozenset(
    {"aws:tagkeys", "aws:calledvia", "aws:principalservicenameslist", "aws:principalorgpaths"}
)

_STATEMENT_ELEMENTS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "Condition"}
)
_OPERATOR = re.compile(
    r"^(?:(?P<qualifier>ForAnyValue|ForAllValues):)?"
    r"(?P<base>StringEquals|StringNotEquals|StringLike|StringNotLike"
    r"|ArnEquals|ArnNotEquals|ArnLike|ArnNotLike|Bool|Null)(?P<if_exists>IfExists)?$"
)
# base operator -> (what it compares, with wildcards, negated). ArnEquals takes wildcards as ArnLike does.
_BASES = {
    "StringEquals": ("String", False, False), "StringNotEquals": ("String", False, True),
    "StringLike": ("String", True, False), "StringNotLike": ("String", True, True),
    "ArnEquals": ("Arn", True, False), "ArnNotEquals": ("Arn", True, True),
    "ArnLike": ("Arn", True, False), "ArnNotLike": ("Arn", True, True),
    "Bool": ("Bool", False, False), "Null": ("Null", False, False),
}


class MalformedPolicy(ValueError):
    """A policy document AWS Organizations itself refuses (MalformedPolicyDocumentException)."""


# --- Matching --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # Only * and ? are wildcards in IAM; every other character (fnmatch's [ and ] too) is literal.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches an IAM wildcard pattern (``*`` any run, ``?`` one character)."""
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def arn_matches(pattern: str, value: str) -> bool:
    """ArnLike (and ArnEquals): each of the six colon-separated parts matched on its own."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) < 6:
        return glob_matches(pattern, value)  # "*" alone, say
    if len(value_parts) < 6:
        return False
    return all(glob_matches(p, v) for p, v in zip(pattern_parts, value_parts))


# --- The request context ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestContext:
    """What a policy statement is matched against: one action on one resource.

    ``resource`` is an ARN, ``"*"`` for an action that acts on no particular resource, or None when
    the sandbox cannot name the resource the action acts on. ``keys`` holds the condition keys by
    lower-case name: a string, or a tuple for a multivalued key.
    """

    action: str
    resource: str | None
    keys: Mapping[str, str | tuple[str, ...]]

    def key(self, name: str) -> str | tuple[str, ...] | None:
        return self.keys.get(name)


# --- Conditions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One key under one operator: ``{"StringNotLike": {"aws:PrincipalArn": [...]}}`` is one."""

    operator: str  # as written, for messages
    compares: str  # String, Arn, Bool or Null
    wildcards: bool
    negated: bool
    if_exists: bool
    qualifier: str | None  # ForAnyValue, ForAllValues or None
    key: str  # lower-case
    values: tuple[str, ...]

    def holds(self, context: RequestContext) -> bool:
        present = context.key(self.key)
        if self.compares == "Null":
            absent = present is None or present == ()
            return any((value == "true") == absent for value in self.values)
        if present is None or present == ():
            if self.if_exists or self.qualifier == "ForAllValues":
                return True
            return self.negated and self.qualifier is None
        values = present if isinstance(present, tuple) else (present,)
        if self.qualifier is None:
            if len(values) != 1:
                raise SandboxContractError(
                    f"{self.operator} on {self.key}: the request has several values for it; "
                    "a set operator (ForAnyValue:/ForAllValues:) is needed")
            return self._matches(values[0])
        if self.qualifier == "ForAnyValue":
            return any(self._matches(value) for value in values)
        return all(self._matches(value) for value in values)

    def _matches(self, value: str) -> bool:
        """One request value against the policy's values: ORed, or NORed when negated."""
        found = any(self._compare(expected, value) for expected in self.values)
        return not found if self.negated else found

    def _compare(self, expected: str, value: str) -> bool:
        if self.compares == "Bool":
            return value.lower() == expected.lower()
        if self.compares == "Arn":
            return arn_matches(expected, value)
        return glob_matches(expected, value) if self.wildcards else expected == value


def _condition_values(operator: str, key: str, raw: Any) -> tuple[str, ...]:
    values = raw if isinstance(raw, list) else [raw]
    result = []
    for value in values:
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            raise MalformedPolicy(f"{operator} {key}: a condition value is a string, a number or a boolean")
        if "${" in value:
            raise SandboxContractError(f"{operator} {key}: policy variables ({value}) are not evaluated by the sandbox")
        result.append(value)
    if not result:
        raise MalformedPolicy(f"{operator} {key}: no value")
    return tuple(result)


def _conditions(block: Any) -> tuple[Condition, ...]:
    if block is None:
        return ()
    if not isinstance(block, dict):
        raise MalformedPolicy("Condition is an object of operators")
    conditions = []
    for operator, keys in block.items():
        parsed = _OPERATOR.match(operator)
        if parsed is None:
            raise SandboxContractError(f"condition operator {operator} is outside the sandbox's subset "
                                       "(String*/Arn* [Not]Equals/Like[IfExists], Bool[IfExists], Null)")
        compares, wildcards, negated = _BASES[parsed["base"]]
        if compares in ("Bool", "Null") and parsed["qualifier"]:
            raise SandboxContractError(
                f"condition operator {operator}: set operators are evaluated for String and Arn only")
        if compares == "Null" and parsed["if_exists"]:
            raise MalformedPolicy("NullIfExists is not an operator")
        if not isinstance(keys, dict) or not keys:
            raise MalformedPolicy(f"{operator} takes an object of condition keys")
        for key, raw in keys.items():
            name = key.lower()
            if name in MULTIVALUED_KEYS and not parsed["qualifier"] and compares != "Null":
                raise SandboxContractError(
                    f"{operator} on the multivalued key {key}: the sandbox needs ForAnyValue: or ForAllValues:")
            values = _condition_values(operator, key, raw)
            if compares == "Null":
                values = tuple(value.lower() for value in values)
                if set(values) - {"true", "false"}:
                    raise MalformedPolicy(f"Null {key}: the values are true or false")
            conditions.append(Condition(operator, compares, wildcards, negated, bool(parsed["if_exists"]),
                                        parsed["qualifier"], name, values))
    return tuple(conditions)


# --- Statements and policies -----------------------------------------------------------------------


def _strings(statement: dict[str, Any], element: str) -> tuple[str, ...]:
    raw = statement[element]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise MalformedPolicy(f"{element} is a string or a list of strings")
    return tuple(values)


@dataclass(frozen=True)
class Statement:
    sid: str | None
    effect: str  # Allow or Deny
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]

    @property
    def name(self) -> str:
        return f"statement {self.sid}" if self.sid else "a statement without Sid"

    def covers_action(self, action: str) -> bool:
        matched = any(glob_matches(pattern, action, ignore_case=True) for pattern in self.actions)
        return matched != self.not_action

    def applies_to(self, context: RequestContext) -> bool:
        """Whether the statement's action, resource and conditions all match the context."""
        if not self.covers_action(context.action):
            return False
        if not self._covers_resource(context):
            return False
        return all(condition.holds(context) for condition in self.conditions)

    def _covers_resource(self, context: RequestContext) -> bool:
        if context.resource is not None:
            matched = any(glob_matches(pattern, context.resource) for pattern in self.resources)
            return matched != self.not_resource
        if all(glob_matches(pattern, "*") for pattern in self.resources):
            return not self.not_resource  # "*": every resource, whichever it is
        # The statement names resources, the sandbox cannot name this request's: it would guess.
        raise SandboxContractError(
            f"{context.action}: {self.name} names resources ({', '.join(self.resources)}), and the sandbox "
            f"cannot name the resource {context.action} acts on; add it to vigil_sandbox.request_context")


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    def denying(self, context: RequestContext) -> Statement | None:
        """The first Deny statement that applies to the context, if any."""
        return next((s for s in self.statements if s.effect == "Deny" and s.applies_to(context)), None)

    def allows(self, context: RequestContext) -> bool:
        return any(s.effect == "Allow" and s.applies_to(context) for s in self.statements)


def _principal(statement: dict[str, Any], kind: str) -> None:
    if "NotPrincipal" in statement:
        raise SandboxContractError("NotPrincipal is outside the sandbox's subset")
    if "Principal" not in statement:
        return
    if kind != RESOURCE_CONTROL_POLICY:
        raise MalformedPolicy("a service control policy has no Principal")
    principal = statement["Principal"]
    if principal != "*" and principal != {"AWS": "*"}:
        raise MalformedPolicy('the Principal of a resource control policy is "*"')


def _statement(statement: Any, kind: str) -> Statement:
    if not isinstance(statement, dict):
        raise MalformedPolicy("a statement is an object")
    unknown = set(statement) - _STATEMENT_ELEMENTS
    if unknown - {"NotPrincipal"}:
        raise MalformedPolicy(f"unknown statement element(s): {', '.join(sorted(unknown))}")
    _principal(statement, kind)
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy("Effect is Allow or Deny")
    if ("Action" in statement) == ("NotAction" in statement):
        raise MalformedPolicy("a statement has Action or NotAction, not both")
    if "Resource" in statement and "NotResource" in statement:
        raise MalformedPolicy("a statement has Resource or NotResource, not both")
    not_action = "NotAction" in statement
    actions = _strings(statement, "NotAction" if not_action else "Action")
    for action in actions:
        if action != "*" and ":" not in action:
            raise MalformedPolicy(f"action {action!r} is not service:Action")
    not_resource = "NotResource" in statement
    if not_resource or "Resource" in statement:
        resources = _strings(statement, "NotResource" if not_resource else "Resource")
    else:
        resources = ("*",)
    sid = statement.get("Sid")
    return Statement(sid if isinstance(sid, str) else None, effect, actions, not_action, resources, not_resource,
                     _conditions(statement.get("Condition")))


def parse_policy(content: str, kind: str) -> Policy:
    """A policy of the kind (SERVICE_CONTROL_POLICY or RESOURCE_CONTROL_POLICY) from its JSON text.

    MalformedPolicy for what AWS refuses, SandboxContractError for what AWS takes and the sandbox
    cannot evaluate.
    """
    try:
        document = json.loads(content)
    except ValueError:
        raise MalformedPolicy("the policy is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedPolicy("the policy is a JSON object")
    unknown = set(document) - {"Version", "Id", "Statement"}
    if unknown:
        raise MalformedPolicy(f"unknown policy element(s): {', '.join(sorted(unknown))}")
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicy("the policy has one Statement or a list of them")
    return Policy(tuple(_statement(statement, kind) for statement in statements))
