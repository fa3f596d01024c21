"""From a reconcile's report (or the reason it could not run) to the Kubernetes status and Events.

Pure: the previous status and the clock come in as arguments, so every rule here (when Ready
flips, what counts as a drift correction, which Events fire) is unit-tested without a cluster.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .. import conditions as c
from ..api.common import MAX_FAILURES
from ..planning.weakening import ALLOW_ANNOTATION
from .base import Report, TargetReport


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _counts(total: int, compliant: int, failed: int) -> dict[str, Any]:
    return {"total": total, "compliant": compliant, "failed": failed, "summary": f"{compliant}/{total}"}


def summarize(report: Report, previous: dict[str, Any], generation: int | None, enforce: bool,
              now: str) -> tuple[dict[str, Any], list[Event]]:
    """The new status and the Events to post, after a reconcile that ran."""
    targets = report.targets
    errors = [t for t in targets if t.error is not None]
    # Targets out of reach (an account whose role cannot be assumed, a region not enabled) fail
    # alone: they are listed and counted, and Ready tells of the targets Vigil could reach.
    # With nothing in reach at all, nothing was reconciled: those are plain failures.
    unreached = [t for t in errors if t.error is not None and t.error.out_of_reach]
    if len(unreached) == len(targets):
        unreached = []
    failed = [t for t in errors if not any(t is u for u in unreached)]
    # Writes the guard kept back, worst first: another's resource, nobody's, a weakening.
    guarded = _guarded(targets, enforce)
    drifted = [t for t in targets if t.error is None and t.drifted]
    compliant = [t for t in targets if t.compliant]
    was_compliant = c.is_true(previous.get("conditions"), c.COMPLIANT)
    # Writes to a baseline that once held are undoing someone's change: that is drift. Writes
    # that build the baseline for the first time (or adopt a resource) are not.
    corrections = [a for t in targets for a in t.applied if not a.creates] if was_compliant else []

    conditions = list(previous.get("conditions") or [])
    # Another's resource, or nobody's, comes first: what fails after it (members of an
    # administrator not owned) follows from it.
    owner_first = bool(guarded) and guarded[0][0] != c.WEAKENING_HELD
    if owner_first:
        reason, items = guarded[0]
        conditions = c.set_condition(conditions, c.READY, "False", reason, _guard_message(reason, items),
                                     generation, now)
    elif failed:
        reasons = Counter(t.error.reason for t in failed if t.error)
        every = len(failed) == len(targets) - len(unreached)
        reason = reasons.most_common(1)[0][0] if len(reasons) == 1 and every else c.PARTIAL_FAILURE
        first = failed[0]
        message = f"{len(errors)} of {_n(len(targets), 'target')} failed; {first.target}: {first.error}"
        conditions = c.set_condition(conditions, c.READY, "False", reason, message, generation, now)
    elif guarded:
        reason, items = guarded[0]
        conditions = c.set_condition(conditions, c.READY, "False", reason, _guard_message(reason, items),
                                     generation, now)
    elif unreached:
        first = unreached[0]
        message = (f"{len(targets) - len(unreached)} of {_n(len(targets), 'target')} reconciled; "
                   f"{len(unreached)} out of reach, listed in failures; {first.target}: {first.error}")
        conditions = c.set_condition(conditions, c.READY, "True", c.RECONCILED, message, generation, now)
    else:
        conditions = c.set_condition(conditions, c.READY, "True", c.RECONCILED,
                                     f"{_n(len(targets), 'target')} reconciled", generation, now)

    if owner_first or (guarded and not errors):
        reason, items = guarded[0]
        conditions = c.set_condition(conditions, c.COMPLIANT, "False", reason, _guard_message(reason, items),
                                     generation, now)
    elif drifted:
        first = drifted[0]
        message = f"{len(drifted)} of {_n(len(targets), 'target')} differ; {first.target}: {_changes(first)}"
        conditions = c.set_condition(conditions, c.COMPLIANT, "False", c.DRIFTED, message, generation, now)
    elif errors:
        conditions = c.set_condition(conditions, c.COMPLIANT, "False", c.NOT_OBSERVED,
                                     f"{len(errors)} of {_n(len(targets), 'target')} could not be checked",
                                     generation, now)
    else:
        message = f"{_n(len(targets), 'target')} match the spec" if len(targets) != 1 else "1 target matches the spec"
        reason = c.DRIFT_CORRECTED if corrections else c.IN_SYNC
        if corrections:
            message += f"; corrected {_n(len(corrections), 'setting')} changed outside Vigil"
        conditions = c.set_condition(conditions, c.COMPLIANT, "True", reason, message, generation, now)

    conditions = c.set_progress(conditions, [t.error.reason for t in failed if t.error] + [r for r, _ in guarded],
                                generation, now)

    guard_failures = [{"target": b.resource, "reason": b.reason, "message": b.message}
                      for t in targets for b in t.blocked] + \
                     [{"target": w.target, "reason": c.WEAKENING_HELD, "message": f"{w}. {_allow_hint([w])}"}
                      for t in targets for w in (t.held if enforce else [])]
    guarded_targets = {f["target"] for f in guard_failures}
    # What Vigil could not do where it could reach comes first: the 20 kept are the ones to act on.
    failures = [{"target": t.target, "reason": t.error.reason, "message": t.error.message}
                for t in failed if t.error] + guard_failures + \
               [{"target": t.target, "reason": c.DRIFTED, "message": _changes(t)} for t in drifted
                if t.target not in guarded_targets] + \
               [{"target": t.target, "reason": t.error.reason, "message": t.error.message}
                for t in unreached if t.error] + \
               [dict(f) for f in report.findings]
    allowed = [{"allowance": w.allowance, "change": str(w), "time": now} for t in targets for w in t.allowed]
    status = {
        **report.extra_status,
        "observedGeneration": generation,
        "conditions": conditions,
        "targets": _counts(len(targets), len(compliant), len(errors)),
        "failures": failures[:MAX_FAILURES],
        "lastReconcileTime": now,
        "driftCorrections": int(previous.get("driftCorrections") or 0) + len(corrections),
        "allowedWeakenings": (allowed + list(previous.get("allowedWeakenings") or []))[:MAX_FAILURES],
    }
    events = _events(previous, status, targets, corrections, enforce)
    events += [Event("Warning", c.WEAKENING_ALLOWED, f"{a['change']} (allowed by {a['allowance']})") for a in allowed]
    return status, events


def _guarded(targets: list[TargetReport], enforce: bool) -> list[tuple[str, list[Any]]]:
    """(reason, what) for each kind of write the guard kept back, the one to act on first first."""
    found = []
    for reason in (c.CONFLICT, c.ADOPTION_REQUIRED):
        items = [b for t in targets for b in t.blocked if b.reason == reason]
        if items:
            found.append((reason, items))
    held = [w for t in targets for w in t.held] if enforce else []
    if held:
        found.append((c.WEAKENING_HELD, held))
    return found


def _guard_message(reason: str, items: list[Any]) -> str:
    if reason == c.WEAKENING_HELD:
        return f"{_n(len(items), 'weakening change')} held: " + "; ".join(str(w) for w in items) + \
            f". {_allow_hint(items)}"
    return "; ".join(f"{b.resource}: {b.message}" for b in items)


def _allow_hint(held: list[Any]) -> str:
    entries = ",".join(dict.fromkeys(w.allowance for w in held))
    return f'To allow, annotate the object {ALLOW_ANNOTATION}: "{entries}"'


def blocked(previous: dict[str, Any], generation: int | None, reason: str, message: str,
            now: str) -> tuple[dict[str, Any], list[Event]]:
    """The status when the reconcile could not start (InvalidSpec, DependencyNotReady)."""
    conditions = c.set_condition(list(previous.get("conditions") or []), c.READY, "False", reason, message,
                                 generation, now)
    if c.get_condition(conditions, c.COMPLIANT) is None or reason == c.INVALID_SPEC:
        conditions = c.set_condition(conditions, c.COMPLIANT, "Unknown", reason,
                                     "not checked: " + message, generation, now)
    conditions = c.set_progress(conditions, [], generation, now)
    status = {"observedGeneration": generation, "conditions": conditions, "lastReconcileTime": now,
              "targets": previous.get("targets") or _counts(0, 0, 0), "failures": previous.get("failures") or []}
    was = c.get_condition(previous.get("conditions"), c.READY)
    fresh = was is None or was.get("reason") != reason or was.get("message") != message
    return status, [Event("Warning", reason, message)] if fresh else []


def _events(previous: dict[str, Any], status: dict[str, Any], targets: list[TargetReport],
            corrections: list[Any], enforce: bool) -> list[Event]:
    events: list[Event] = []
    known = {(f.get("target"), f.get("reason")) for f in previous.get("failures") or []}
    for failure in status["failures"]:
        if (failure["target"], failure["reason"]) not in known:
            events.append(Event("Warning", failure["reason"], f"{failure['target']}: {failure['message']}"))
    corrected = {id(a) for a in corrections}
    for t in targets:
        fixed = [a for a in t.applied if id(a) in corrected]
        if fixed:
            events.append(Event("Warning", c.DRIFT_CORRECTED,
                                f"{t.target}: " + "; ".join(a.summary() for a in fixed)))
    if c.is_true(status["conditions"], c.READY) and not c.is_true(previous.get("conditions"), c.READY):
        mode = "enforcing" if enforce else "auditing"
        events.append(Event("Normal", c.READY, f"{mode} {_n(status['targets']['total'], 'target')}"))
    return events


def _changes(t: TargetReport) -> str:
    return "; ".join(str(ch) for a in t.drifted for ch in a.changes) or "differs"
