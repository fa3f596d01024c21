"""Wake-ups for the objects' reconcile loops (``handlers``): one asyncio.Event per loop, by
namespace; and the loops' waits, which end at once when kopf stops a loop.

A reconcile reads other objects of its namespace (its Organization and LogArchive; a Guardrails,
all of them), so any event of a Vigil object wakes every loop of that namespace, and each loop
decides whether it is due by comparing what it would read with what its last reconcile read.
Waking one too many costs that comparison; waking one too few would leave an object waiting for
its next tick. Everything here runs on the operator's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any


class Wakeups:
    def __init__(self) -> None:
        self._loops: dict[str, dict[tuple[str, str], asyncio.Event]] = {}

    @contextmanager
    def loop(self, namespace: str, key: tuple[str, str]) -> Iterator[asyncio.Event]:
        """The Event of one object's loop (``key``: its kind and name), set by ``wake`` until the loop ends."""
        event = asyncio.Event()
        loops = self._loops.setdefault(namespace, {})
        loops[key] = event
        try:
            yield event
        finally:
            if loops.get(key) is event:  # not a successor's, registered before this one ended
                del loops[key]
            if not loops and self._loops.get(namespace) is loops:
                del self._loops[namespace]

    def wake(self, namespace: str) -> None:
        for event in self._loops.get(namespace, {}).values():
            event.set()


async def pause(wake: asyncio.Event, stop: Awaitable[Any], seconds: float) -> None:
    """Until ``wake`` is set, ``stop`` is done, or ``seconds`` have passed, whichever comes first."""
    waits = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop)}
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


async def unless_stopped(work: asyncio.Task[Any], stop: Awaitable[Any]) -> bool:
    """Until ``work`` ends (True) or ``stop`` is done (False). A stop leaves ``work`` running, to its end."""
    stopping = asyncio.ensure_future(stop)
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    return work.done()
