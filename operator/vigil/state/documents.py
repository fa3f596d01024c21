"""Canonical forms of JSON documents AWS hands back (policies), so equal means equal.

AWS may return a policy with statements reordered, one-element lists collapsed to strings or keys
in another order. Comparing canonical forms means an unchanged policy is never rewritten.
"""

from __future__ import annotations

import json
from typing import Any

def canonical(policy: str | dict[str, Any] | None) -> Any:
    if policy is None or policy == "":
        return None
    document = json.loads(policy) if isinstance(policy, str) else policy
    return _canonical(document)


def _canonical(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _canonical(v) for k, v in sorted(node.items())}
    if isinstance(node, list):
        items = [_canonical(v) for v in node]
        if len(items) == 1 and not isinstance(items[0], dict):
            return items[0]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return node
