"""One budget of AWS requests for the whole operator: how many are in flight at once, and how fast
each API of each account and region is called once AWS has asked it to slow down.

AWS throttles per account, per region and per API. So the pace is kept per
``(account, region, service, operation)``: a throttled answer halves that key's rate, each answer
that is not throttled raises it again (additive increase, multiplicative decrease), and a key whose
rate has climbed back out of reach is forgotten. Only throttled keys hold state, so the memory is
bounded by what AWS is throttling now, not by the size of the organization.

A caller waits for its key's pace *before* it takes a place in flight: a throttled account's
threads sleep without holding places, and every other account's calls go on meanwhile. The places
are taken in arrival order (a semaphore's waiters are woken first come, first served), so one
object's large fan-out cannot keep another's calls out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Key = tuple[str, str, str, str]  # account, region, service, operation

DEFAULT_IN_FLIGHT = 64  # VigilSettings.aws_in_flight, VIGIL_AWS_IN_FLIGHT
# After a first throttle a key starts at this many requests a second: below the documented
# per-account rates of the control-plane APIs Vigil calls (docs/performance.md).
START_RATE = 10.0
MIN_RATE = 0.5  # a floor, so a key that keeps being throttled still moves
INCREASE = 0.5  # requests a second gained per answer that is not throttled
FORGET_ABOVE = 50.0  # a key paced this fast no longer needs pacing


@dataclass
class _Pace:
    rate: float
    next_at: float = 0.0


class CallBudget:
    def __init__(self, in_flight: int = DEFAULT_IN_FLIGHT, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.in_flight = max(1, in_flight)
        self._places = threading.BoundedSemaphore(self.in_flight)
        self._paces: dict[Key, _Pace] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def enter(self, key: Key) -> None:
        """Wait for ``key``'s pace, then for a place in flight."""
        pace = self._paces.get(key)
        if pace is not None:
            with self._lock:
                now = self._clock()
                at = max(now, pace.next_at)
                pace.next_at = at + 1.0 / pace.rate
            if at > now:
                self._sleep(at - now)
        self._places.acquire()

    def leave(self, key: Key, throttled: bool) -> None:
        """Give the place back and learn from the answer."""
        self._places.release()
        if throttled:
            with self._lock:
                pace = self._paces.get(key)
                if pace is None:
                    self._paces[key] = _Pace(START_RATE, self._clock() + 1.0 / START_RATE)
                else:
                    pace.rate = max(MIN_RATE, pace.rate / 2)
        elif key in self._paces:
            with self._lock:
                pace = self._paces.get(key)
                if pace is not None:
                    pace.rate += INCREASE
                    if pace.rate > FORGET_ABOVE:
                        del self._paces[key]

    def paced(self) -> dict[Key, float]:
        """The keys being paced now, and their rates (requests a second)."""
        with self._lock:
            return {key: pace.rate for key, pace in self._paces.items()}
