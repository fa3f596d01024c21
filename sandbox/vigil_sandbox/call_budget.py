"""`python -m vigil_sandbox.call_budget`: the examples converged on a fresh sandbox, and each kind's
AWS calls counted against its minimum (vigil_sandbox.call_minimum). Figures, not assertions:
tests/aws/test_call_budget.py holds them to the budget.

Three passes over examples/ in this process, as `vigil apply` makes them, but keeping what the
operator keeps from one pass to the next (its runtime: clients, the organization's inventory, the
owners confirmed; each object's status): the first converges from the seeded sandbox, the second
is the first resync (each owner confirmed once), the third a steady-state resync. Manifests are
reconciled one at a time and the call record read after each, so every call is its kind's; the
kinds that read the whole namespace (Guardrails) go last, as their inputs are then there.

``--json`` prints the counts; ``--markdown`` the tables of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from vigil.conditions import now_iso
from vigil.controls.base import Runtime
from vigil.controls.reconciler import NAMESPACE_READERS, reconcile_object
from vigil.workstation.manifests import load
from vigil.workstation.reconcile_once import ManifestLookup

from .awsserver import CallLog
from .call_minimum import APART, FIRST, ONCE, STEADY, examples_units, markdown, minimum
from .cli import start_sandbox
from .examples import EXAMPLES
from .seed import DEFAULT_REGIONS, DEFAULT_WORKLOADS

PASSES = ("first convergence", "first resync", "steady resync")
BUDGET = 1.2  # issue 18: calls per account x region within 1.2 x the minimum


@dataclass
class PassCalls:
    """A kind's calls in one pass: those counted against its minimum, and the rest."""

    calls: int = 0
    writes: int = 0
    apart: int = 0  # budgeted apart (call_minimum.APART)
    credentials: int = 0  # AssumeRole, counted against no kind but the Organization
    operations: dict[str, int] = field(default_factory=dict)  # service:operation -> calls counted
    ready: bool = False


def measure(workloads: int = DEFAULT_WORKLOADS, regions: tuple[str, ...] = DEFAULT_REGIONS
            ) -> dict[str, list[PassCalls]]:
    """Each kind's calls in each of the three passes, on a sandbox started here (one per process)."""
    endpoint, _, stop = start_sandbox(port=0, workloads=workloads, regions=regions)
    try:
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          AWS_DEFAULT_REGION=regions[0])
        for leftover in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
            os.environ.pop(leftover, None)
        return _passes(CallLog(endpoint))
    finally:
        stop()


def _passes(record: CallLog) -> dict[str, list[PassCalls]]:
    manifests = sorted(load([str(EXAMPLES)]), key=lambda m: m.kind in NAMESPACE_READERS)
    runtime, lookup = Runtime(), ManifestLookup(planning=False)
    statuses: dict[Any, dict[str, Any]] = {}
    found: dict[str, list[PassCalls]] = {m.kind: [] for m in manifests}
    for _ in PASSES:
        for manifest in manifests:
            since = len(record.calls())
            outcome = reconcile_object(manifest.kind, manifest.namespace, manifest.name, 1, manifest.spec,
                                       statuses.get(manifest.key, {}), lookup, runtime, now=now_iso,
                                       meta={"annotations": manifest.annotations})
            statuses[manifest.key] = outcome.status
            lookup.record(manifest, outcome.status)
            ready = next((c for c in outcome.status.get("conditions", []) if c["type"] == "Ready"), {})
            found[manifest.kind].append(_count(manifest.kind, record.calls(since), ready.get("status") == "True"))
    return found


def _count(kind: str, calls: list[Any], ready: bool) -> PassCalls:
    counted = PassCalls(ready=ready)
    operations: Counter[str] = Counter()
    for call in (c for c in calls if c.by_vigil):
        if (call.service, call.operation) in APART.get(kind, ()):
            counted.apart += 1
        elif call.service == "sts" and kind != "Organization":
            counted.credentials += 1
        else:
            counted.calls += 1
            counted.writes += call.write
            operations[f"{call.service}:{call.operation}"] += 1
    counted.operations = dict(sorted(operations.items()))
    return counted


def budget(found: Mapping[str, list[PassCalls]], units: Mapping[str, Mapping[str, int]]
           ) -> list[tuple[str, str, int, int]]:
    """(kind, pass, minimum, measured) for every kind and pass: the first from the seeded
    sandbox's starting point, the first resync with the owners confirmed, then steady state."""
    rows = []
    for kind, passes in found.items():
        per = units[kind]
        least = (minimum(kind, FIRST, per, seeded=True), minimum(kind, STEADY, per) + minimum(kind, ONCE, per),
                 minimum(kind, STEADY, per))
        rows += [(kind, name, low, counted.calls) for name, low, counted in zip(PASSES, least, passes)]
    return rows


def _table(found: Mapping[str, list[PassCalls]], units: Mapping[str, Mapping[str, int]]) -> str:
    lines = [f"{'kind':<22} {'pass':<18} {'minimum':>7} {'calls':>6} {'ratio':>6} {'writes':>6} {'apart':>6}"]
    for (kind, name, low, calls), counted in zip(budget(found, units),
                                                  (p for passes in found.values() for p in passes)):
        lines.append(f"{kind:<22} {name:<18} {low:>7} {calls:>6} {calls / low if low else 0:>6.2f} "
                     f"{counted.writes:>6} {counted.apart:>6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vigil_sandbox.call_budget", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print each kind's counts per pass as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the minimum's tables (docs/performance.md)")
    args = parser.parse_args(argv)
    units = examples_units()
    if args.markdown:
        print(markdown(units), end="")
        return 0
    found = measure()
    if args.json:
        print(json.dumps({kind: [asdict(p) for p in passes] for kind, passes in found.items()}))
    else:
        print(_table(found, units))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
