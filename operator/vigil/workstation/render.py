"""What audit, plan and apply print: tables (rich on a terminal, plain when piped), JSON, JUnit,
the posture report page."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any, TextIO

import yaml

from .. import report_html
from ..conditions import COMPLIANT, READY, get_condition
from ..controls.posture import BOOK
from ..planning.actions import Action
from ..planning.weakening import ALLOW_ANNOTATION
from ..status_table import format_table
from . import plan_view
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


MARKS = {plan_view.CREATE: "+", plan_view.CHANGE: "~", plan_view.HELD: "!", plan_view.BLOCKED: "x"}
LEGEND = "+ create   ~ change   ! held: weakening, until allowed   x blocked: another's, or nobody's (adoption)"


def plan_text(results: list[Result]) -> str:
    """The plan as a reviewer reads it: by object, account (id and name), region and resource, each
    write with what it changes from what to what. A weakening write is marked "!" with the
    allowance that would let it through (Enforce holds it until the manifest carries it); a write
    to a resource of another owner, or of nobody, "x" with the guard's reason. Then terraform's
    summary line."""
    plan = plan_view.build(results)
    lines: list[str] = []
    for obj in plan.objects:
        if not obj.accounts:
            continue
        lines += [*([""] if lines else []), obj.label]
        for account in obj.accounts.values():
            lines.append(f"  account {account.id}" + (f" ({account.name})" if account.name else ""))
            for region in account.regions.values():
                lines.append(f"    region {region.region}")
                for resource in region.resources.values():
                    lines.append(f"      {resource.name}")
                    lines += _writes_text(resource)
    head = [LEGEND, ""] if lines else ["No changes planned."]
    return "\n".join([*head, *lines, *([""] if lines else []), plan.summary.line])


def _writes_text(resource: plan_view.ResourcePlan) -> list[str]:
    lines = [f"        blocked, {b.reason}: {b.message}" for b in resource.blocked]
    for write in resource.writes:
        lines.append(f"        {MARKS[write.effect]} {write.action.operation}")
        lines += [f"            {change}" for change in write.action.changes]
        if write.effect == plan_view.HELD:
            lines.append(f"            held, weakening: allow with {ALLOW_ANNOTATION}: \"{','.join(write.allowances)}\"")
    return lines


def plan_json(results: list[Result]) -> str:
    """docs/plan-output.md: the document of docs/plan-output.schema.json."""
    return json.dumps(plan_view.as_document(plan_view.build(results)), indent=2)


def plan_yaml(results: list[Result]) -> str:
    """The same document as plan_json, as YAML."""
    return yaml.safe_dump(plan_view.as_document(plan_view.build(results)), sort_keys=False, width=120).rstrip("\n")


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
