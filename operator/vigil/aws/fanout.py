"""Run one function per target with bounded concurrency; one target's failure never stops the rest.

Every fan-out of the process shares one set of worker threads (``WORKERS``), as many as the AWS
requests the operator keeps in flight: a fan-out's own thread count would cap one object at it
however idle the rest, and at 1,000 accounts SessionLogging alone makes half the calls. The workers
take the waiting fan-outs' targets in turn, one target from each, so a large fan-out never holds
the workers while a small one waits. The thread that asks for a fan-out works on its own targets
too: a fan-out started from within another's target always has a thread to run it, and a lone
target runs in the caller's thread.

Nothing is made per target but its outcome: a thread pool's submit makes a future per target up
front (with its condition, lock and waiters' deque: about 1.3 KiB), and at 1,000 accounts x 2
regions every object's fan-out held thousands of them at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from .budget import DEFAULT_IN_FLIGHT
from .errors import TargetError, classify, internal_error

T = TypeVar("T")
log = logging.getLogger(__name__)
IDLE_SECONDS = 2.0  # a worker with nothing to take for this long ends; the next fan-out starts it again


@dataclass(frozen=True)
class Outcome(Generic[T]):
    target: str
    value: T | None = None
    error: TargetError | None = None


def _run(target: str, fn: Callable[[], T]) -> Outcome[T]:
    try:
        return Outcome(target, value=fn())
    except (ClientError, BotoCoreError, TargetError) as exc:
        return Outcome(target, error=classify(exc))
    except Exception:  # a bug for one target must not hide every other target's result
        log.exception("reconciling %s failed", target)  # the traceback goes to the log, never to a status
        return Outcome(target, error=internal_error(target))


class _FanOut:
    """One fan-out's targets: those not yet taken, how many are at work, and their outcomes."""

    def __init__(self, work: Sequence[tuple[str, Callable[[], Any]]], limit: int, lock: threading.Lock) -> None:
        self.changed = threading.Condition(lock)  # its caller waits here: a place free, or all done
        self.pending: Iterator[tuple[int, tuple[str, Callable[[], Any]]]] = iter(enumerate(work))
        self.left = len(work)  # not taken yet
        self.unfinished = len(work)
        self.at_work = 0
        self.limit = max(1, limit)
        self.outcomes: list[Outcome[Any] | None] = [None] * len(work)
        self.stopped: BaseException | None = None

    def can_take(self) -> bool:
        return self.left > 0 and self.at_work < self.limit and self.stopped is None

    def take(self) -> tuple[int, tuple[str, Callable[[], Any]]]:
        self.left -= 1
        self.at_work += 1
        return next(self.pending)


class Workers:
    """At most ``size`` threads, started as fan-outs need them, shared by all of them in turn."""

    def __init__(self, size: int = DEFAULT_IN_FLIGHT, idle_seconds: float = IDLE_SECONDS) -> None:
        self.size = max(1, size)
        self.idle_seconds = idle_seconds
        # One lock; each idle worker waits on a condition of its own and each fan-out's caller on
        # its fan-out's, so a target finishing wakes one thread at most, and a waker takes the
        # sleeper it wakes off the list at once: a worker woken but not yet running is never
        # counted idle again by the next fan-out, which would then start too few threads.
        self._lock = threading.Lock()
        self._sleepers: deque[threading.Condition] = deque()
        self._waiting: deque[_FanOut] = deque()  # fan-outs with targets not yet taken
        self._threads = 0

    @property
    def threads(self) -> int:
        with self._lock:
            return self._threads

    def run(self, work: Sequence[tuple[str, Callable[[], T]]], limit: int) -> list[Outcome[T]]:
        """Every ``(target, fn)`` run, at most ``limit`` at once; outcomes in the order given."""
        if len(work) <= 1:
            return [_run(t, fn) for t, fn in work]
        fan = _FanOut(work, limit, self._lock)
        with self._lock:
            self._waiting.append(fan)
            try:
                helpers = min(fan.limit, len(work)) - 1  # the caller is one
                for _ in range(min(self.size - self._threads, helpers - self._wake(helpers))):
                    if not self._start_worker():
                        break  # the threads there are, and the caller, do the work
                while fan.unfinished:
                    if fan.can_take():
                        self._execute(fan, fan.take())
                    else:
                        fan.changed.wait()
            except BaseException:  # the caller interrupted: no worker takes its targets any more
                fan.left = 0
                raise
        if fan.stopped is not None:
            raise fan.stopped
        return cast(list[Outcome[T]], fan.outcomes)  # every place filled: no target was left untaken

    def _next(self) -> _FanOut | None:
        """The first waiting fan-out with a target to give, moved behind the others if it has more."""
        for _ in range(len(self._waiting)):
            fan = self._waiting.popleft()
            if fan.left == 0 or fan.stopped is not None:
                continue  # nothing more to take: it leaves the rotation
            self._waiting.append(fan)
            if fan.can_take():
                return fan
        return None

    def _wake(self, wanted: int) -> int:
        """Wake up to ``wanted`` idle workers; how many were woken."""
        woken = 0
        while woken < wanted and self._sleepers:
            self._sleepers.popleft().notify()
            woken += 1
        return woken

    def _start_worker(self) -> bool:
        self._threads += 1
        try:
            threading.Thread(target=self._work, name=f"vigil-{self._threads}", daemon=True).start()
        except RuntimeError:  # "can't start new thread": out of memory or of the process's limit
            self._threads -= 1
            return False
        return True

    def _work(self) -> None:
        bell = threading.Condition(self._lock)
        with self._lock:
            idle_since = time.monotonic()
            while True:
                fan = self._next()
                if fan is not None:
                    self._execute(fan, fan.take())
                    idle_since = time.monotonic()
                    continue
                # Woken for a target another thread took first, it stays as idle as it was.
                left = self.idle_seconds - (time.monotonic() - idle_since)
                if left <= 0:
                    self._threads -= 1
                    return
                self._sleepers.append(bell)
                bell.wait(left)
                if bell in self._sleepers:  # not woken: no waker took it off
                    self._sleepers.remove(bell)

    def _execute(self, fan: _FanOut, item: tuple[int, tuple[str, Callable[[], Any]]]) -> None:
        """Run one target outside the lock (held on entry and on return) and record its outcome."""
        index, (target, fn) = item
        self._lock.release()
        stopped: BaseException | None = None
        try:
            outcome: Outcome[Any] | None = _run(target, fn)
        except BaseException as exc:  # noqa: BLE001 - not a target's failure (SystemExit, say): the caller's
            outcome, stopped = None, exc
        finally:
            self._lock.acquire()
        fan.outcomes[index] = outcome
        fan.at_work -= 1
        fan.unfinished -= 1
        if stopped is not None and fan.stopped is None:
            fan.stopped = stopped
            fan.unfinished -= fan.left  # the targets not taken are never run
            fan.left = 0
        if fan.unfinished == 0 or fan.can_take():
            fan.changed.notify()  # its caller, if it waits: done, or a place to work in
            if fan.can_take():
                self._wake(1)


WORKERS = Workers()


def fan_out(work: Sequence[tuple[str, Callable[[], T]]], concurrency: int) -> list[Outcome[T]]:
    """Run every ``(target, fn)`` on the process's workers, at most ``concurrency`` at once;
    results come back in the order given."""
    return WORKERS.run(work, concurrency)
