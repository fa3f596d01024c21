"""Run one function per target with bounded concurrency; one target's failure never stops the rest."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

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
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(work))), thread_name_prefix="vigil") as pool:
        futures = [pool.submit(run, t, fn) for t, fn in work]
        return [f.result() for f in futures]
