"""What audit, plan and apply print: tables (rich on a terminal, plain when piped), JSON, JUnit,
the posture report page."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, TextIO

from .. import report_html
from ..conditions import COMPLIANT, READY, get_condition
from ..controls.posture import BOOK
from ..planning.actions import Action
from ..planning.weakening import ALLOW_ANNOTATION
from ..status_table import format_table
from .reconcile_once import Result


def _cond(result: Result, type_: str) -> dict[str, Any]:
    return get_condition(result.outcome.status.get("conditions"), type_) or {}


def compliant(result: Result) -> bool:
    return _cond(result, COMPLIANT).get("status") == "True"


def compliance(result: Result) -> str:
    """The Compliant condition's status: "True", "False", or "Unknown" (not checked)."""
    return str(_cond(result, COMPLIANT).get("status", "Unknown"))


def ready(result: Result) -> bool:
    return _cond(result, READY).get("status") == "True"


def actions(result: Result) -> list[Action]:
    report = result.outcome.report
    return [a for t in report.targets for a in t.planned] if report else []


def summary_rows(results: list[Result]) -> list[list[str]]:
    rows = [["KIND", "NAME", "MODE", "READY", "COMPLIANT", "TARGETS", "REASON"]]
    for r in results:
        targets = r.outcome.status.get("targets") or {}
        reason = _cond(r, COMPLIANT).get("reason") if ready(r) else _cond(r, READY).get("reason")
        rows.append([r.manifest.kind, f"{r.manifest.namespace}/{r.manifest.name}", r.mode,
                     _cond(r, READY).get("status", "Unknown"), _cond(r, COMPLIANT).get("status", "Unknown"),
                     f"{targets.get('compliant', 0)}/{targets.get('total', 0)}", reason or ""])
    return rows


def finding_rows(results: list[Result]) -> list[list[str]]:
    """Every target that is not compliant, or the reason the object could not be checked."""
    rows = [["OBJECT", "TARGET", "REASON", "MESSAGE"]]
    for r in results:
        name = f"{r.manifest.kind} {r.manifest.namespace}/{r.manifest.name}"
        if not ready(r) and not r.outcome.status.get("failures"):
            rows.append([name, "-", _cond(r, READY).get("reason", ""), _cond(r, READY).get("message", "")])
        for failure in r.outcome.status.get("failures") or []:
            rows.append([name, failure["target"], failure["reason"], failure.get("message", "")])
    return rows


def print_table(rows: list[list[str]], title: str, out: TextIO = sys.stdout) -> None:
    if len(rows) == 1:
        return
    if out.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for header in rows[0]:
            table.add_column(header, overflow="fold")
        for row in rows[1:]:
            table.add_row(*row)
        Console(file=out).print(table)
    else:
        print(f"{title}\n{format_table(rows)}\n", file=out)


def plan_text(results: list[Result]) -> str:
    """The plan as a reviewer reads it: grouped by account and region, what changes from what to
    what; a weakening change is marked "!" with the allowance that would let it through (Enforce
    holds it until the manifest carries that allowance)."""
    by_place: dict[tuple[str, str], list[Action]] = defaultdict(list)
    held: dict[int, list[str]] = {}
    for r in results:
        for action in actions(r):
            by_place[(action.account_id, action.region)].append(action)
        report = r.outcome.report
        for target in report.targets if report else []:
            for action in target.withheld:
                held[id(action)] = sorted({w.allowance for w in target.held if w.target == action.target})
    lines = []
    for (account, region), planned in sorted(by_place.items()):
        lines.append(f"{account} / {region}")
        for action in planned:
            mark = "!" if id(action) in held else "+" if action.creates else "~"
            lines.append(f"  {mark} {action.operation} {action.target.split('/', 2)[-1]}")
            for change in action.changes:
                lines.append(f"      {change}")
            if id(action) in held:
                lines.append(f"      held, weakening: allow with {ALLOW_ANNOTATION}: \"{','.join(held[id(action)])}\"")
    count = sum(len(v) for v in by_place.values())
    lines.append(f"Plan: {count} change{'s' if count != 1 else ''} "
                 f"({sum(1 for v in by_place.values() for a in v if a.creates)} to create, "
                 f"{len(held)} held as weakening).")
    return "\n".join(lines)


def to_json(results: list[Result], with_actions: bool = False) -> str:
    items = []
    for r in results:
        item: dict[str, Any] = {"kind": r.manifest.kind, "namespace": r.manifest.namespace, "name": r.manifest.name,
                                "source": r.manifest.source, "mode": r.mode, "status": r.outcome.status}
        if with_actions:
            item["actions"] = [{"target": a.target, "account": a.account_id, "region": a.region,
                                "service": a.service, "operation": a.operation, "creates": a.creates,
                                "changes": [{"path": c.path, "from": c.before, "to": c.after} for c in a.changes]}
                               for a in actions(r)]
        items.append(item)
    return json.dumps(items, indent=2, default=str)


def to_junit(results: list[Result]) -> str:
    """One test suite per object, one test case per target: CI systems show drift as failed tests."""
    suites = ET.Element("testsuites", name="vigil audit")
    for r in results:
        report = r.outcome.report
        suite = ET.SubElement(suites, "testsuite", name=f"{r.manifest.kind} {r.manifest.namespace}/{r.manifest.name}")
        cases = 0
        failures = 0
        if report is None:  # the object could not be checked at all (invalid, a dependency...)
            case = ET.SubElement(suite, "testcase", classname=r.manifest.kind, name=r.manifest.name)
            ET.SubElement(case, "error", message=_cond(r, READY).get("reason", ""), type="NotChecked").text = \
                _cond(r, READY).get("message", "")
            cases, failures = 1, 1
        else:
            for target in report.targets:
                cases += 1
                case = ET.SubElement(suite, "testcase", classname=r.manifest.kind, name=target.target)
                if target.error is not None:
                    failures += 1
                    ET.SubElement(case, "error", message=target.error.reason, type=target.error.reason).text = \
                        target.error.message
                elif target.drifted:
                    failures += 1
                    ET.SubElement(case, "failure", message="Drifted", type="Drifted").text = \
                        "\n".join(a.describe() for a in target.drifted)
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def to_html(results: list[Result]) -> str:
    """The posture report the operator serves at /report, of these results: each reconcile recorded
    its object's posture in the book (controls.posture.BOOK), as the operator's do."""
    done = {(r.manifest.kind, r.manifest.namespace, r.manifest.name) for r in results}
    postures = [p for p in BOOK.objects() if (p.kind, p.namespace, p.name) in done]
    return report_html.render(postures, datetime.now(timezone.utc), source="vigil audit")
