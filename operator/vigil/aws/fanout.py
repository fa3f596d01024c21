"""Run one function per target with bounded concurrency; one target's failure never stops the rest.

A fixed set of worker threads takes the targets in the order given, one at a time, and writes
each outcome in its place. Nothing is made per target but its outcome: a thread pool's submit makes a
future per target up front (with its condition, lock and waiters' deque: about 1.3 KiB), and at
1,000 accounts x 2 regions every object's fan-out held thousands of them at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from .errors import TargetError, classify, internal_error

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    target: str
    value: T | None = None
    error: TargetError | None = None


def fan_out(work: Sequence[tuple[str, Callable[[], T]]], concurrency: int) -> list[Outcome[T]]:
    """Run every ``(target, fn)``; results come back in the order given."""

    def run(target: str, fn: Callable[[], T]) -> Outcome[T]:
        try:
            return Outcome(target, value=fn())
        except (ClientError, BotoCoreError, TargetError) as exc:
            return Outcome(target, error=classify(exc))
        except Exception:  # a bug for one target must not hide every other target's result
            log.exception("reconciling %s failed", target)  # the traceback goes to the log, never to a status
            return Outcome(target, error=internal_error(target))

    if len(work) <= 1:
        return [run(t, fn) for t, fn in work]
    outcomes: list[Outcome[T] | None] = [None] * len(work)
    pending = iter(enumerate(work))
    taking = threading.Lock()
    stopped: list[BaseException] = []

    def worker() -> None:
        try:
            while True:
                with taking:
                    item = next(pending, None)
                if item is None:
                    return
                index, (target, fn) = item
                outcomes[index] = run(target, fn)
        except BaseException as exc:  # noqa: BLE001 - not a target's failure (SystemExit, say): the caller's
            stopped.append(exc)

    workers = [threading.Thread(target=worker, name=f"vigil-{n}") for n in range(max(1, min(concurrency, len(work))))]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if stopped:
        raise stopped[0]
    return cast(list[Outcome[T]], outcomes)  # every place filled: each worker ran until none was left
