"""Continuity, not only validity: the hours a trail's digest chains go without digests, and what
CloudTrail's own event history says of them (pure).

CloudTrail starts a chain again (a digest naming no previous one) after the trail was stopped, its
log file validation turned off, or it was deleted and made again; someone deleting a run of digests
with the one that named them leaves the same shape. The chains note where they start again
(`vigil.planning.integrity.Restart`); here those are held against the trail's stops, read from
LookupEvents: a stop explains them and is itself reported, with who stopped the trail and who
started it (`LoggingStopped`, evidence rather than a finding); a restart nothing explains is hours
of digests gone (`DigestMissing` with its range).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .integrity import KEEP_FINDINGS, LOGGING_STOPPED, Finding, FindingKind, Gap, IntegrityResult

# CloudTrail's events that stop a trail's digests, and those that start them again.
STOPPING = frozenset({"StopLogging", "DeleteTrail"})
STARTING = frozenset({"StartLogging", "CreateTrail"})
# How far around a stop a chain may end and start again: CloudTrail digests whole hours.
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class TrailEvent:
    """A management event of the trail, from CloudTrail's event history (LookupEvents)."""

    name: str  # StopLogging, StartLogging, DeleteTrail, CreateTrail, UpdateTrail
    time: str  # RFC 3339
    who: str  # the caller's ARN (userIdentity.arn)
    # UpdateTrail's enableLogFileValidation: False stops the digests as a StopLogging does.
    validation: bool | None = None

    @property
    def stops(self) -> bool:
        return self.name in STOPPING or (self.name == "UpdateTrail" and self.validation is False)

    @property
    def starts(self) -> bool:
        return self.name in STARTING or (self.name == "UpdateTrail" and self.validation is True)


def trail_event(detail: str, trail_name: str) -> TrailEvent | None:
    """A LookupEvents event (its CloudTrailEvent JSON) if it concerns this trail, named by its name
    or ARN in the request; None otherwise, or when it is not what CloudTrail writes."""
    try:
        event = json.loads(detail)
        parameters = event.get("requestParameters") or {}
        named = str(parameters.get("name") or "")
        if named != trail_name and not named.endswith(f":trail/{trail_name}"):
            return None
        validation = parameters.get("enableLogFileValidation")
        return TrailEvent(str(event["eventName"]), str(event["eventTime"]),
                          str((event.get("userIdentity") or {}).get("arn") or "an unknown caller"),
                          validation if isinstance(validation, bool) else None)
    except (ValueError, KeyError, AttributeError, TypeError):
        return None


@dataclass(frozen=True)
class Stop:
    """The digests stopped by ``stopped`` and started again by ``started`` (None: not yet)."""

    stopped: TrailEvent
    started: TrailEvent | None

    def overlaps(self, since: str, until: str) -> bool:
        """Whether the stop falls in the hours a chain went without digests (an hour either side)."""
        started_after = self.started is None or _at(self.started.time) + HOUR >= _at(since)
        return _at(self.stopped.time) - HOUR <= _at(until) and started_after

    def describe(self) -> str:
        said = f"{_how(self.stopped)} at {self.stopped.time} by {self.stopped.who}"
        if self.started is None:
            return said + "; not started again"
        return said + f"; started again at {self.started.time} by {self.started.who}"


def _how(event: TrailEvent) -> str:
    return {"StopLogging": "logging stopped", "DeleteTrail": "trail deleted"}.get(
        event.name, "log file validation turned off")


def _at(time: str) -> datetime:
    return datetime.fromisoformat(time.replace("Z", "+00:00"))


def stops(events: Iterable[TrailEvent]) -> list[Stop]:
    """The stops in time order, each with the start that ended it."""
    found: list[Stop] = []
    stopped: TrailEvent | None = None
    # Event times are to the second: of a stop and a start in the same second, the stop came first
    # (the other order would leave the trail stopped, which OrgTrail reports itself).
    for event in sorted(events, key=lambda e: (_at(e.time), not e.stops)):
        if event.stops and stopped is None:
            stopped = event
        elif event.starts and stopped is not None:
            found.append(Stop(stopped, event))
            stopped = None
    return found + ([Stop(stopped, None)] if stopped is not None else [])


def continuity(result: IntegrityResult, events: Iterable[TrailEvent]) -> None:
    """Judge the chains' restarts against the trail's stops: a restart no stop explains is hours of
    digests gone, a DigestMissing finding with its range; every stop is a LoggingStopped gap."""
    found = stops(events)
    for stop in found:
        result.gaps.append(Gap("*", "*", stop.stopped.time, stop.started.time if stop.started else None,
                               LOGGING_STOPPED, stop.describe()))
    for chain in result.coverage:
        for gone in chain.restarts:
            if any(stop.overlaps(gone.since, gone.until) for stop in found):
                continue
            message = (f"no digest from {gone.since} to {gone.until}: the chain starts again here, and "
                       "CloudTrail's event history records no stop of the trail then")
            result.tally.note(Finding(FindingKind.DIGEST_MISSING, gone.location, message))
            if len(result.gaps) < KEEP_FINDINGS:
                result.gaps.append(Gap(chain.account, chain.region, gone.since, gone.until,
                                       FindingKind.DIGEST_MISSING.value, message))
