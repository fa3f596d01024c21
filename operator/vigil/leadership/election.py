"""client-go's leader election, over one Lease: campaign until leading, renew while leading,
release on a graceful stop.

Expiry is judged on this replica's own clock, never on the times written in the Lease (the two
replicas' clocks may differ): a rival's Lease is taken only once ``leaseDurationSeconds`` have
passed since this replica last saw the record change, or at once when its holder is empty
(released). The leader fences its AWS writes at the start of its last successful renewal plus
the renew deadline; a rival saw that renewal after it started, so it cannot take the Lease
before ``lease duration - renew deadline`` seconds after the leader stopped writing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..settings import LeaderElectionSettings
from .fence import WriteFence
from .lease import LeaseConflict, LeaseRecord, LeaseStore, LeaseUnavailable, StoredLease, micro_time

log = logging.getLogger(__name__)
# Wake this long after a rival's Lease expires, so the attempt does not land just before.
EXPIRY_MARGIN = 0.01


@dataclass(frozen=True)
class Attempt:
    """One try to acquire or renew: won, or the holder who keeps it, or why it could not be tried."""

    acquired: bool = False
    holder: str = ""
    error: str = ""


class LeaderElection:
    def __init__(self, store: LeaseStore, identity: str, timings: LeaderElectionSettings, fence: WriteFence,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], str] = micro_time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.identity = identity
        self._store, self._timings, self._fence = store, timings, fence
        self._clock, self._wall, self._sleep = clock, wall, sleep
        self._observed: LeaseRecord | None = None
        self._observed_at = -math.inf
        self._version = ""
        self.deadline = -math.inf  # writes are fenced from this time on (the clock's)
        self.acquired_at = math.nan

    @property
    def leading(self) -> bool:
        return self._clock() < self.deadline

    @property
    def holder(self) -> str:
        return self._observed.holder if self._observed else ""

    def _observe(self, stored: StoredLease) -> None:
        if stored.record != self._observed:
            self._observed, self._observed_at = stored.record, self._clock()
        self._version = stored.version

    def _held_by_rival(self, record: LeaseRecord) -> bool:
        return bool(record.holder) and record.holder != self.identity and \
            self._clock() < self._observed_at + record.duration_seconds

    async def try_acquire_or_renew(self, timeout: float) -> Attempt:
        """client-go's tryAcquireOrRenew: read; create if absent; leave a rival's unexpired Lease
        alone; otherwise write this replica in, conditional on the version read."""
        start = self._clock()

        def left() -> float:
            return timeout - (self._clock() - start)

        try:
            stored = await self._store.get(left())
            if stored is None:
                record = LeaseRecord.first(self.identity, self._timings.lease_duration, self._wall())
                self._observe(await self._store.create(record, left()))
                return Attempt(acquired=True, holder=self.identity)
            self._observe(stored)
            if self._held_by_rival(stored.record):
                return Attempt(holder=stored.record.holder)
            if left() <= 0:
                return Attempt(error="timed out")
            record = stored.record.taken_by(self.identity, self._timings.lease_duration, self._wall())
            self._observe(await self._store.update(record, stored.version, left()))
            return Attempt(acquired=True, holder=self.identity)
        except LeaseConflict as exc:
            return Attempt(error=f"conflict: {exc}")
        except LeaseUnavailable as exc:
            return Attempt(error=str(exc))

    def _renewed(self, attempt_start: float) -> None:
        if not self.leading:
            self.acquired_at = self._clock()
        self.deadline = attempt_start + self._timings.renew_deadline
        self._fence.hold_until(self.deadline)

    def _lost(self, why: str) -> str:
        self.deadline = -math.inf
        self._fence.close(f"the Lease was lost ({why})")
        return why

    async def campaign(self, stop: asyncio.Event | None = None) -> bool:
        """Try every retry period until this replica holds the Lease (True), or ``stop`` is set (False).
        A rival's Lease is tried again right as it expires, not up to a retry period later."""
        said = ""
        while stop is None or not stop.is_set():
            start = self._clock()
            attempt = await self.try_acquire_or_renew(self._timings.retry_period)
            if attempt.acquired:
                self._renewed(start)
                log.info("Leading: %s holds Lease %s/%s (%d transitions)", self.identity,
                         self._timings.lease_namespace, self._timings.lease_name,
                         self._observed.transitions if self._observed else 0)
                return True
            news = f"held by {attempt.holder}" if attempt.holder else attempt.error
            if news != said:
                (log.info if attempt.holder else log.warning)("Not leading: Lease %s/%s %s",
                                                             self._timings.lease_namespace,
                                                             self._timings.lease_name, news)
                said = news
            wait = self._timings.retry_period - (self._clock() - start)
            if attempt.holder and self._observed is not None:
                expiry = self._observed_at + self._observed.duration_seconds + EXPIRY_MARGIN
                wait = min(wait, expiry - self._clock())
            await self._pause(max(wait, 0.0), stop)
        return False

    async def _pause(self, seconds: float, stop: asyncio.Event | None) -> None:
        if stop is None:
            await self._sleep(seconds)
            return
        sleeping, stopping = asyncio.ensure_future(self._sleep(seconds)), asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeping, stopping):
                task.cancel()

    async def hold(self) -> str:
        """Renew every retry period while leading; return why leadership ended. Writes are fenced
        the moment it ends: a rival holds the Lease, or no renewal succeeded within the deadline."""
        last = self._clock()
        said = ""
        while True:
            await self._sleep(max(0.0, last + self._timings.retry_period - self._clock()))
            last = start = self._clock()
            if start >= self.deadline:
                return self._lost(f"not renewed within the {self._timings.renew_deadline:g}s renew deadline"
                                  + (f": {said}" if said else ""))
            # At most half the window per try: one hung request must not use up the whole of it.
            attempt = await self.try_acquire_or_renew(min(self.deadline - start, self._timings.renew_deadline / 2))
            if attempt.acquired:
                self._renewed(start)
                said = ""
            elif attempt.holder:
                return self._lost(f"{attempt.holder} holds it")
            else:
                if attempt.error != said:
                    log.warning("Lease %s/%s not renewed: %s; writes stop in %.1fs unless a renewal succeeds",
                                self._timings.lease_namespace, self._timings.lease_name, attempt.error,
                                self.deadline - self._clock())
                said = attempt.error
                if self._clock() >= self.deadline:
                    return self._lost(f"not renewed within the {self._timings.renew_deadline:g}s renew deadline: "
                                      f"{attempt.error}")

    async def release(self, timeout: float) -> bool:
        """Give the Lease up (client-go's ReleaseOnCancel: no holder, one second), so a rival takes
        it at its next try instead of waiting out the duration. Only a Lease this replica holds."""
        self._lost("released")
        try:
            stored = await self._store.get(timeout)
            if stored is None or stored.record.holder != self.identity:
                return False
            await self._store.update(stored.record.released(self._wall()), stored.version, timeout)
            log.info("Released Lease %s/%s", self._timings.lease_namespace, self._timings.lease_name)
            return True
        except (LeaseConflict, LeaseUnavailable) as exc:
            log.warning("Lease %s/%s not released: %s", self._timings.lease_namespace, self._timings.lease_name, exc)
            return False
