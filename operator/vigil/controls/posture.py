"""Where every object stands after its last reconcile: the gauges Prometheus alerts on, and the
compact per-account book the posture report (``/report``, ``vigil audit -o html``) renders.

Memory is bounded by design: per object, per account, three counts and a capped list of the
targets that are not compliant; never one entry per compliant target (1,000 accounts x 17
regions would otherwise be 17,000 entries per kind).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import conditions as c
from .. import metrics
from ..api.common import REGION_PATTERN, parse_duration
from .base import Report, TargetReport

COMPLIANT, NONCOMPLIANT, FAILED = "compliant", "noncompliant", "failed"
STATES = (COMPLIANT, NONCOMPLIANT, FAILED)
MAX_PROBLEMS = 200  # targets not compliant kept per object for the report; the counts stay exact
REGION = re.compile(REGION_PATTERN)  # a target's second segment, when it is a region (not "scp", say)


@dataclass(frozen=True, slots=True)
class Problem:
    target: str
    state: str  # NONCOMPLIANT or FAILED
    reason: str
    message: str


@dataclass(slots=True)
class ObjectPosture:
    kind: str
    namespace: str
    name: str
    conditions: dict[str, tuple[str, str, str]]  # type -> (status, reason, message)
    reconciled: str  # lastReconcileTime
    # account (or the target's first segment) -> [compliant, noncompliant, failed]
    accounts: dict[str, list[int]] = field(default_factory=dict)
    regions: dict[str, list[int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    held: int = 0
    conflicts: int = 0

    def status_of(self, type_: str) -> str:
        return self.conditions.get(type_, ("Unknown", "", ""))[0]


class PostureBook:
    """The latest posture of every object this process reconciled; thread-safe (reconciles run in
    worker threads, the report is read from the event loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[tuple[str, str, str], ObjectPosture] = {}
        self._accounts: dict[tuple[str, str], set[str]] = {}  # Organization -> accounts with a gauge

    def record(self, kind: str, namespace: str, name: str, status: dict[str, Any], report: Report | None,
               enforce: bool, spec: dict[str, Any] | None = None) -> ObjectPosture:
        posture = _posture(kind, namespace, name, status, report, enforce)
        with self._lock:
            previous = self._objects.get((kind, namespace, name))
            if report is None and previous is not None:
                # A reconcile that could not run (a dependency not Ready, say) found nothing new of
                # the targets: their last known state stands (such a status is never Ready).
                posture.accounts, posture.regions = previous.accounts, previous.regions
                posture.problems = previous.problems
                posture.held = max(posture.held, previous.held)
            self._objects[(kind, namespace, name)] = posture
        _export(posture, status, spec or {})
        if kind == "Organization" and report is not None:
            self._export_accounts(namespace, name, report.targets)
        return posture

    def forget(self, kind: str, namespace: str, name: str) -> None:
        with self._lock:
            self._objects.pop((kind, namespace, name), None)
            accounts = self._accounts.pop((namespace, name), set()) if kind == "Organization" else set()
        labels = (kind, namespace, name)
        for gauge in (metrics.OBJECT_READY, metrics.OBJECT_COMPLIANT, metrics.OBJECT_STALLED,
                      metrics.OBJECT_WEAKENINGS_HELD, metrics.OBJECT_CONFLICTS, metrics.OBJECT_LAST_RECONCILE):
            _remove(gauge, *labels)
        for state in STATES:
            _remove(metrics.OBJECT_TARGETS, *labels, state)
        if kind == "OrgTrail":
            for gauge in (metrics.TRAIL_INTEGRITY_VERIFIED, metrics.TRAIL_LAST_VERIFICATION,
                          metrics.TRAIL_VERIFICATION_INTERVAL):
                _remove(gauge, namespace, name)
        for account in accounts:
            _remove(metrics.ACCOUNT_REACHABLE, namespace, name, account)

    def objects(self) -> list[ObjectPosture]:
        with self._lock:
            return sorted(self._objects.values(), key=lambda p: (p.namespace, p.kind, p.name))

    def _export_accounts(self, namespace: str, name: str, targets: list[TargetReport]) -> None:
        now = {t.target: t.error is None for t in targets}
        with self._lock:
            gone = self._accounts.get((namespace, name), set()) - now.keys()
            self._accounts[(namespace, name)] = set(now)
        for account, reachable in now.items():
            metrics.ACCOUNT_REACHABLE.labels(namespace, name, account).set(1 if reachable else 0)
        for account in gone:  # left the organization
            _remove(metrics.ACCOUNT_REACHABLE, namespace, name, account)


def _posture(kind: str, namespace: str, name: str, status: dict[str, Any], report: Report | None,
             enforce: bool) -> ObjectPosture:
    conditions = {cond["type"]: (cond.get("status", "Unknown"), cond.get("reason", ""), cond.get("message", ""))
                  for cond in status.get("conditions") or []}
    posture = ObjectPosture(kind, namespace, name, conditions, status.get("lastReconcileTime", ""))
    ready_reason = conditions.get(c.READY, ("", "", ""))[1]
    if report is None:
        posture.held = 1 if ready_reason == c.WEAKENING_HELD else 0
        posture.conflicts = 1 if ready_reason in (c.CONFLICT, c.ADOPTION_REQUIRED) else 0
        return posture
    for target in report.targets:
        state = COMPLIANT if target.compliant else FAILED if target.error is not None else NONCOMPLIANT
        account, _, rest = target.target.partition("/")
        region = rest.partition("/")[0]
        posture.accounts.setdefault(account, [0, 0, 0])[STATES.index(state)] += 1
        if REGION.match(region):
            posture.regions.setdefault(region, [0, 0, 0])[STATES.index(state)] += 1
        if state != COMPLIANT and len(posture.problems) < MAX_PROBLEMS:
            posture.problems.append(_problem(target, state, enforce))
    posture.held = sum(len(t.held) for t in report.targets) if enforce else 0
    posture.conflicts = sum(len(t.blocked) for t in report.targets)
    return posture


def _problem(target: TargetReport, state: str, enforce: bool) -> Problem:
    if target.error is not None:
        return Problem(target.target, state, target.error.reason, target.error.message)
    if target.blocked:
        return Problem(target.target, state, target.blocked[0].reason, target.blocked[0].message)
    if target.held and enforce:
        return Problem(target.target, state, c.WEAKENING_HELD, str(target.held[0]))
    return Problem(target.target, state, c.DRIFTED, "; ".join(str(ch) for a in target.drifted for ch in a.changes))


def _export(posture: ObjectPosture, status: dict[str, Any], spec: dict[str, Any]) -> None:
    labels = (posture.kind, posture.namespace, posture.name)
    metrics.OBJECT_READY.labels(*labels).set(posture.status_of(c.READY) == "True")
    metrics.OBJECT_COMPLIANT.labels(*labels).set(posture.status_of(c.COMPLIANT) == "True")
    metrics.OBJECT_STALLED.labels(*labels).set(posture.status_of(c.STALLED) == "True")
    metrics.OBJECT_WEAKENINGS_HELD.labels(*labels).set(posture.held)
    metrics.OBJECT_CONFLICTS.labels(*labels).set(posture.conflicts)
    metrics.OBJECT_LAST_RECONCILE.labels(*labels).set(time.time())
    targets = status.get("targets") or {}
    total, compliant, failed = (int(targets.get(k) or 0) for k in ("total", "compliant", "failed"))
    for state, count in zip(STATES, (compliant, max(total - compliant - failed, 0), failed)):
        metrics.OBJECT_TARGETS.labels(*labels, state).set(count)
    if posture.kind == "OrgTrail":
        _export_integrity(posture, status, spec)


def _export_integrity(posture: ObjectPosture, status: dict[str, Any], spec: dict[str, Any]) -> None:
    labels = (posture.namespace, posture.name)
    verified = posture.status_of(c.INTEGRITY_VERIFIED)
    if verified in ("True", "False"):
        metrics.TRAIL_INTEGRITY_VERIFIED.labels(*labels).set(verified == "True")
    last_good = (status.get("integrity") or {}).get("lastSuccessfulVerificationTime")
    if last_good:
        metrics.TRAIL_LAST_VERIFICATION.labels(*labels).set(
            datetime.fromisoformat(last_good.replace("Z", "+00:00")).timestamp())
    try:
        interval = parse_duration((spec.get("integrity") or {}).get("interval", "1h")).total_seconds()
    except ValueError:
        return
    metrics.TRAIL_VERIFICATION_INTERVAL.labels(*labels).set(interval)


def _remove(gauge: Any, *labels: str) -> None:
    try:
        gauge.remove(*labels)
    except KeyError:
        pass  # never set for this object


BOOK = PostureBook()
