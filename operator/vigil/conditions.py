"""Condition bookkeeping, as metav1.Condition wants it (pure; no I/O).

Conditions are a list keyed by ``type``. ``lastTransitionTime`` moves only when ``status`` moves:
a reason or message change is news, but not a transition. Every write stamps
``observedGeneration`` so a reader can tell a stale condition from a fresh one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

ConditionStatus = Literal["True", "False", "Unknown"]

READY = "Ready"
COMPLIANT = "Compliant"
INTEGRITY_VERIFIED = "IntegrityVerified"
JOURNALED = "Journaled"  # this reconcile's verdict is in the namespace's journal (controls.journal)
# kstatus's abnormal-true conditions, which Flux, kstatus and Argo CD read: True only while the
# object is being worked on (Reconciling) or cannot move without a human (Stalled).
RECONCILING = "Reconciling"
STALLED = "Stalled"

# Reasons, one vocabulary for every kind (status.conditions[].reason and status.failures[].reason).
RECONCILED = "Reconciled"
INVALID_SPEC = "InvalidSpec"
DEPENDENCY_NOT_READY = "DependencyNotReady"
ACCESS_DENIED = "AccessDenied"
THROTTLED = "Throttled"
PARTIAL_FAILURE = "PartialFailure"
AWS_ERROR = "AWSError"
# How an AWS call failed (aws.errors.classify): AWS's own fault (5xx), no answer at all, no credentials,
# a bug in Vigil (a request the API model refuses, an unexpected exception).
AWS_UNAVAILABLE = "AWSUnavailable"
ENDPOINT_UNREACHABLE = "EndpointUnreachable"
NO_CREDENTIALS = "NoCredentials"
INTERNAL_ERROR = "InternalError"
# Targets out of reach: they fail alone, and the object stays Ready for every other target.
ACCOUNT_UNREACHABLE = "AccountUnreachable"  # its role cannot be assumed
ACCOUNT_SUSPENDED = "AccountSuspended"  # SUSPENDED or PENDING_CLOSURE in the organization
REGION_DISABLED = "RegionDisabled"  # an opt-in region not enabled for the account
OUT_OF_REACH = frozenset({ACCOUNT_UNREACHABLE, ACCOUNT_SUSPENDED, REGION_DISABLED})
IN_SYNC = "InSync"
DRIFTED = "Drifted"
DRIFT_CORRECTED = "DriftCorrected"
NOT_OBSERVED = "NotObserved"
# The guard (controls.guard): another object's resource, a resource nobody owns, a weakening held.
CONFLICT = "Conflict"
ADOPTION_REQUIRED = "AdoptionRequired"
WEAKENING_HELD = "WeakeningHeld"
WEAKENING_ALLOWED = "WeakeningAllowed"
# A LogArchive bucket found without Object Lock, which only the spec's enableOnExistingBucket turns on.
OBJECT_LOCK_NOT_ENABLED = "ObjectLockNotEnabled"
# Ready reasons that retrying will not clear: a human must change the spec, the AWS side or an
# allowance. Every other not-Ready reason clears by itself (a dependency becomes Ready, AWS
# answers again, a throttle lifts) and counts as still reconciling.
NEEDS_HUMAN = frozenset({INVALID_SPEC, ACCESS_DENIED, NO_CREDENTIALS, INTERNAL_ERROR, AWS_ERROR, CONFLICT,
                         ADOPTION_REQUIRED, WEAKENING_HELD, OBJECT_LOCK_NOT_ENABLED})


def now_iso(now: datetime | None = None) -> str:
    """RFC 3339 in UTC with second precision, as Kubernetes writes times."""
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: list[dict[str, Any]],
    type_: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    generation: int | None,
    now: str,
) -> list[dict[str, Any]]:
    """Return a new list with the condition of ``type_`` set; the others are kept in order."""
    previous = next((c for c in conditions if c.get("type") == type_), None)
    transition = now if previous is None or previous.get("status") != status else previous["lastTransitionTime"]
    updated = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": transition,
    }
    if previous is None:
        return [*conditions, updated]
    return [updated if c.get("type") == type_ else c for c in conditions]


def get_condition(conditions: list[dict[str, Any]] | None, type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions or [] if c.get("type") == type_), None)


def is_true(conditions: list[dict[str, Any]] | None, type_: str) -> bool:
    condition = get_condition(conditions, type_)
    return condition is not None and condition.get("status") == "True"


def set_progress(conditions: list[dict[str, Any]], failure_reasons: list[str], generation: int | None,
                 now: str) -> list[dict[str, Any]]:
    """Reconciling and Stalled, from Ready: Ready=True is neither; Ready=False is Stalled when its
    reason (or, for a partial failure, any failure's reason) needs a human, else Reconciling."""
    ready = get_condition(conditions, READY)
    if ready is None or ready.get("status") == "True":
        conditions = set_condition(conditions, RECONCILING, "False", RECONCILED, "", generation, now)
        return set_condition(conditions, STALLED, "False", RECONCILED, "", generation, now)
    reason, message = ready.get("reason", ""), ready.get("message", "")
    stuck = reason in NEEDS_HUMAN or (reason == PARTIAL_FAILURE and any(r in NEEDS_HUMAN for r in failure_reasons))
    conditions = set_condition(conditions, RECONCILING, "False" if stuck else "True", reason, message, generation,
                               now)
    return set_condition(conditions, STALLED, "True" if stuck else "False", reason, message, generation, now)


def reconciling(conditions: list[dict[str, Any]], generation: int | None, now: str) -> list[dict[str, Any]]:
    """The conditions while a new generation is being worked on: Reconciling, and no longer Stalled
    (the spec that stalled is gone); Ready and Compliant keep what the last reconcile found."""
    message = f"reconciling generation {generation}"
    conditions = set_condition(conditions, RECONCILING, "True", RECONCILING, message, generation, now)
    return set_condition(conditions, STALLED, "False", RECONCILING, message, generation, now)
