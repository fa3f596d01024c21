"""The write fence: whether this process may start an AWS write now.

AWS offers no fencing token, so the operator fences itself. Open by default (a single operator
without leader election, the workstation commands); under leader election it opens only up to a
deadline, which each renewal of the Lease moves: the start of the last successful renewal plus
the renew deadline, shorter than the lease duration. The deadline is checked against the clock at
every write, so writes stop on time even when the event loop that renews is stuck.

``TargetRun.converge`` admits each write through ``WRITES.admit``; a write admitted before the
deadline runs to its end (see docs/design.md, "The write fence"), and ``drain`` waits for those.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..aws.errors import TargetError

NOT_LEADER = "NotLeader"
log = logging.getLogger(__name__)


class NotLeading(TargetError):
    """A write refused because this process does not (or no longer surely) hold the Lease."""


class WriteFence:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Condition()
        self._until = math.inf
        self._why = ""
        self._in_flight = 0

    def hold_until(self, deadline: float) -> None:
        """Admit writes until ``deadline`` (the clock's time), and only until then."""
        with self._lock:
            self._until = deadline
            self._why = "the Lease was not renewed within the renew deadline"

    def close(self, why: str) -> None:
        with self._lock:
            self._until = -math.inf
            self._why = why

    def is_open(self) -> bool:
        with self._lock:
            return self._clock() < self._until

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @contextmanager
    def admit(self, what: str) -> Iterator[None]:
        """Around one write: refused (NotLeading) once the fence is closed, counted while it runs."""
        with self._lock:
            if self._clock() >= self._until:
                refused = NotLeading(NOT_LEADER, f"not written, {self._why}: {what}")
            else:
                refused = None
                self._in_flight += 1
        if refused is not None:
            log.warning("AWS write refused: %s", refused.message)
            raise refused
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._lock.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until no admitted write is running; False if some still are after ``timeout``."""
        with self._lock:
            return self._lock.wait_for(lambda: self._in_flight == 0, timeout)


# The process's one fence: the reconcile's threads check it, the election moves it.
WRITES = WriteFence()
