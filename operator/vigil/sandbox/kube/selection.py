"""Label and field selectors (``labelSelector``, ``fieldSelector``) as predicates on objects."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from kmock._internal import rendering

from . import errors

_SET_TERM = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*$")
_EQ_TERM = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=(),]*)\s*$")
_EXISTS_TERM = re.compile(r"^\s*(?P<neg>!?)\s*(?P<key>[^\s!=()]+)\s*$")


def selector(request: rendering.Request) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate for the request's labelSelector and fieldSelector (HTTP 400 if unreadable)."""
    label_terms = [_label_term(term) for term in _split_terms(request.params.get("labelSelector", ""))]
    field_terms = [_field_term(term) for term in _split_terms(request.params.get("fieldSelector", ""))]

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(term(labels) for term in label_terms) and all(term(obj) for term in field_terms)
    return matches


def _split_terms(selector: str) -> list[str]:
    """The comma-separated terms, keeping the commas inside ``in (a, b)`` sets."""
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term for term in terms if term.strip()]


def _label_term(term: str) -> Callable[[Mapping[str, str]], bool]:
    if m := _SET_TERM.match(term):
        key, values = m["key"], {v.strip() for v in m["values"].split(",") if v.strip()}
        if m["op"] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ_TERM.match(term):
        key, value = m["key"], m["value"]
        if m["op"] == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS_TERM.match(term):
        key, negated = m["key"], bool(m["neg"])
        return lambda labels: (key in labels) != negated
    raise errors.bad_request(f"unable to parse requirement: {term!r}")


def _field_term(term: str) -> Callable[[Mapping[str, Any]], bool]:
    m = _EQ_TERM.match(term)
    if m is None:
        raise errors.bad_request(f"invalid field selector: {term!r}")
    path, value, negated = m["key"].split("."), m["value"], m["op"] == "!="

    def matches(obj: Mapping[str, Any]) -> bool:
        found: Any = obj
        for part in path:
            found = found.get(part) if isinstance(found, Mapping) else None
        actual = "" if found is None else str(found).lower() if isinstance(found, bool) else str(found)
        return (actual == value) != negated
    return matches
