"""The plan as a reviewer reads it, as data: per object, account, region and resource, each AWS
write with its changes and its effect (create, change, held as weakening, blocked by its owner).

``plan_text`` (render) prints it; ``-o json`` and ``-o yaml`` dump ``as_document``, whose schema is
docs/plan-output.schema.json (described in docs/plan-output.md): change that file with the
format's version when the document changes shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..conditions import READY, get_condition
from ..controls.base import TargetReport
from ..controls.guard import Blocked
from ..planning.actions import Action
from .reconcile_once import Result

FORMAT_VERSION = 1

CREATE, CHANGE, HELD, BLOCKED = "create", "change", "held", "blocked"


@dataclass
class PlannedWrite:
    """One AWS write and what it would do. ``allowances``: for a held write, the annotation entries
    that would let it through."""

    action: Action
    effect: str  # create | change | held | blocked
    allowances: tuple[str, ...] = ()


@dataclass
class ResourcePlan:
    name: str  # the resource as status names it, below its account and region ("acme-log-archive")
    writes: list[PlannedWrite] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)  # another owns it, or nobody (adoption)


@dataclass
class RegionPlan:
    region: str
    resources: dict[str, ResourcePlan] = field(default_factory=dict)


@dataclass
class AccountPlan:
    id: str
    name: str | None  # from the Organization's inventory; None when it was not read
    regions: dict[str, RegionPlan] = field(default_factory=dict)


@dataclass
class ObjectPlan:
    kind: str
    namespace: str
    name: str
    source: str
    mode: str
    accounts: dict[str, AccountPlan] = field(default_factory=dict)
    # Why the object could not be planned (its Ready condition), or None.
    error: dict[str, str] | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass
class Summary:
    create: int = 0
    change: int = 0
    held: int = 0
    conflicts: int = 0  # resources blocked: owned by another (Conflict) or by nobody (AdoptionRequired)

    @property
    def line(self) -> str:
        return (f"Plan: {self.create} to create, {self.change} to change, {self.held} held (weakening), "
                f"{self.conflicts} conflict{'s' if self.conflicts != 1 else ''}.")


@dataclass
class Plan:
    objects: list[ObjectPlan]

    @property
    def summary(self) -> Summary:
        summary = Summary()
        for resource in self.resources():
            for write in resource.writes:
                if write.effect == CREATE:
                    summary.create += 1
                elif write.effect == CHANGE:
                    summary.change += 1
                elif write.effect == HELD:
                    summary.held += 1
            summary.conflicts += len(resource.blocked)
        return summary

    def resources(self) -> list[ResourcePlan]:
        return [resource for o in self.objects for a in o.accounts.values() for r in a.regions.values()
                for resource in r.resources.values()]


def split_label(label: str) -> tuple[str, str, str]:
    """"222222222222/ca-central-1/acme-log-archive" -> its account, region and resource; a label
    without them is the resource alone."""
    parts = label.split("/", 2)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else ("", "", label)


def build(results: list[Result]) -> Plan:
    return Plan([_object_plan(r) for r in results])


def _object_plan(result: Result) -> ObjectPlan:
    m = result.manifest
    plan = ObjectPlan(m.kind, m.namespace, m.name, m.source, result.mode)
    ready = get_condition(result.outcome.status.get("conditions"), READY) or {}
    if ready.get("status") != "True":
        plan.error = {"reason": str(ready.get("reason", "Unknown")), "message": str(ready.get("message", ""))}
    report = result.outcome.report
    for target in report.targets if report else []:
        _add_target(plan, target, result.account_names)
    for account in plan.accounts.values():  # a stable order, whatever order the fan-out finished in
        account.regions = dict(sorted(account.regions.items()))
        for region in account.regions.values():
            region.resources = dict(sorted(region.resources.items()))
    plan.accounts = dict(sorted(plan.accounts.items()))
    return plan


def _add_target(plan: ObjectPlan, target: TargetReport, names: Mapping[str, str]) -> None:
    def resource(account: str, region: str, name: str) -> ResourcePlan:
        place = plan.accounts.setdefault(account, AccountPlan(account, names.get(account) or None))
        return place.regions.setdefault(region, RegionPlan(region)).resources.setdefault(name, ResourcePlan(name))

    withheld = {id(a) for a in target.withheld}
    blocked = {b.resource for b in target.blocked}
    for action in target.planned:
        if action.target in blocked:
            effect, allowances = BLOCKED, ()
        elif id(action) in withheld:
            effect = HELD
            allowances = tuple(sorted({w.allowance for w in target.held if w.target == action.target}))
        else:
            effect, allowances = (CREATE if action.creates else CHANGE), ()
        resource(action.account_id, action.region, split_label(action.target)[2]).writes.append(
            PlannedWrite(action, effect, allowances))
    for refusal in target.blocked:
        account, region, name = split_label(refusal.resource)
        if not account:  # a label without its place: the target's
            account, region, _ = split_label(target.target)
        resource(account or "-", region or "-", name).blocked.append(refusal)


def as_document(plan: Plan) -> dict[str, Any]:
    """The plan as docs/plan-output.schema.json describes it: plain JSON types throughout (a
    change's values are what AWS has and what the spec wants, as the planner compared them)."""
    summary = plan.summary
    return {
        "formatVersion": FORMAT_VERSION,
        "summary": {"create": summary.create, "change": summary.change, "held": summary.held,
                    "conflicts": summary.conflicts},
        "objects": [{
            "kind": o.kind, "namespace": o.namespace, "name": o.name, "source": o.source, "mode": o.mode,
            "error": o.error,
            "accounts": [{
                "id": a.id, "name": a.name,
                "regions": [{
                    "region": r.region,
                    "resources": [{
                        "name": res.name,
                        "writes": [{
                            "target": w.action.target, "service": w.action.service,
                            "operation": w.action.operation, "effect": w.effect,
                            "changes": [{"path": c.path, "from": _plain(c.before), "to": _plain(c.after), "text": str(c)}
                                        for c in w.action.changes],
                            "allowances": list(w.allowances),
                        } for w in res.writes],
                        "blocked": [{"reason": b.reason, "message": b.message} for b in res.blocked],
                    } for res in r.resources.values()],
                } for r in a.regions.values()],
            } for a in o.accounts.values()],
        } for o in plan.objects],
    }


def _plain(value: Any) -> Any:
    """A value as JSON holds it: what JSON has no type for (a set, a date) as its text."""
    return json.loads(json.dumps(value, default=str))
