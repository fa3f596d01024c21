"""Writes AWS refused for good, remembered so the same write is not sent again before the object's
next resync or a change of its spec.

A terminal refusal (validation, an invalid parameter, a limit, access denied to the action) is an
answer: the same request to the same AWS gets the same answer. The object may still be
reconciled sooner than its resync interval (another target was throttled, a dependency came
back), and each such pass would otherwise send the refused write again, a hot loop that changes
nothing in AWS. So a refused write is keyed by the object (its uid and generation), the target
and the request itself, and held for one resync interval; a new generation is a new key, so a
spec change tries at once.

"The same AWS": AWS often refuses a write as invalid for something another of the object's own
writes is about to fix (a destination whose role policy is not put yet, a role not propagated).
So a refusal is held only while the object has written nothing since: any other write it makes
sends the held ones again at its next pass. A steady-state object writes nothing, so there a
refused write waits for the resync interval.

Kept in memory: a restarted operator tries each refused write once more, then remembers again.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from ..aws.errors import TargetError
from ..planning.actions import Action
from ..planning.ownership import Owner

Key = tuple[str, str, int | None, str, str, str, str, str, str]


@dataclass(frozen=True)
class Refusal:
    error: TargetError  # as reported, with when the write is tried again
    until: float  # monotonic seconds
    writes: int  # how many writes the object had made when AWS refused this one


def _key(owner: Owner, action: Action) -> Key:
    params = json.dumps(action.params, sort_keys=True, default=str)
    return (owner.value, owner.uid, owner.generation, action.target, action.account_id, action.region,
            action.service, action.operation, hashlib.sha256(params.encode()).hexdigest())


class RefusalLedger:
    """The terminal refusals of every object's writes, each until its object's next resync."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._held: dict[Key, Refusal] = {}
        self._writes: dict[tuple[str, str], int] = {}  # per object: writes made, an ever-growing count

    def refused(self, owner: Owner, action: Action) -> TargetError | None:
        """The refusal this very write got, if it is still held; None to send it."""
        with self._lock:
            found = self._held.get(_key(owner, action))
            if found is None or found.until <= self._clock() or found.writes != self._count(owner):
                return None
            return found.error

    def wrote(self, owner: Owner) -> None:
        """The object made a write: what AWS holds changed, so its held refusals may not hold."""
        with self._lock:
            self._writes[(owner.value, owner.uid)] = self._count(owner) + 1

    def _count(self, owner: Owner) -> int:
        return self._writes.get((owner.value, owner.uid), 0)

    def record(self, owner: Owner, action: Action, error: TargetError, hold_seconds: float) -> TargetError:
        """Hold the write for ``hold_seconds`` (the object's resync interval); returns the error as
        status should tell it, saying when the write is tried again."""
        again = (self._wall() + timedelta(seconds=hold_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        told = replace(error, message=f"{error.message} Not sent again before {again}, unless the spec changes or "
                                      "another write of this object changes what AWS holds.")
        now = self._clock()
        with self._lock:
            # Expired entries and older generations of the object are never asked for again.
            self._held = {k: r for k, r in self._held.items() if r.until > now
                          and not (k[:2] == (owner.value, owner.uid) and k[2] != owner.generation)}
            self._held[_key(owner, action)] = Refusal(told, now + hold_seconds, self._count(owner))
        return told

    def __len__(self) -> int:
        return len(self._held)
