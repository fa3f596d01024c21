"""
Watches: the log of recent writes they resume from, the events each watcher sees, and the stream.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from kmock._internal import references, rendering

from . import tables
from .served import ServedResource

Selector = Callable[[Mapping[str, Any]], bool]


@dataclasses.dataclass(frozen=True)
class Change:
    """One write, as watchers see it."""
    revision: int
    ref: references.resource
    type: str  # ADDED, MODIFIED, DELETED
    obj: dict[str, Any]
    old: dict[str, Any] | None


_CLOSED = object()  # put into the watchers' queues when the server stops


class ChangeLog:
    """The recent writes, kept to resume watches from a resourceVersion, and the open watches."""

    def __init__(self, size: int) -> None:
        self._changes: collections.deque[Change] = collections.deque(maxlen=size)
        self._queues: set[asyncio.Queue[Any]] = set()
        self.compacted_revision = 0  # resuming from before it is HTTP 410 Expired

    def publish(self, change: Change) -> None:
        if len(self._changes) == self._changes.maxlen:
            self.compacted_revision = self._changes[0].revision
        self._changes.append(change)
        for queue in self._queues:
            queue.put_nowait(change)

    def since(self, revision: int) -> Iterator[Change]:
        return (change for change in self._changes if change.revision > revision)

    def subscribe(self) -> asyncio.Queue[Any]:
        """A queue of every change from now on, until `unsubscribe` or `close`."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Any]) -> None:
        self._queues.discard(queue)

    def close(self) -> None:
        """End every open watch stream (as the server does on shutdown); clients reconnect."""
        for queue in self._queues:
            queue.put_nowait(_CLOSED)


def in_scope(obj: Mapping[str, Any], request: rendering.Request) -> bool:
    """Whether the object is in the namespace and of the name the URL narrows a watch to."""
    meta = obj.get("metadata", {})
    return (
        (request.namespace is None or meta.get("namespace") == request.namespace)
        and (request.name is None or meta.get("name") == request.name)
    )


def watch_event(change: Change, request: rendering.Request, matches: Selector) -> dict[str, Any] | None:
    """The event a watcher sees: objects entering or leaving its selector are ADDED or DELETED."""
    if not in_scope(change.obj, request):
        return None
    now = matches(change.obj)
    before = change.old is not None and matches(change.old)
    if change.type == "MODIFIED" and now != before:
        return {"type": "ADDED" if now else "DELETED", "object": change.obj}
    if change.type == "DELETED" and not before:
        return None
    if change.type != "DELETED" and not now:
        return None
    return {"type": change.type, "object": change.obj}


def expired_event(since: int, oldest: int) -> dict[str, Any]:
    return {"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"too old resource version: {since} ({oldest})", "reason": "Expired", "code": 410,
    }}


def initial_events_end(served: ServedResource, revision: int) -> dict[str, Any]:
    """The bookmark that ends the initial events when a client asks for them (sendInitialEvents)."""
    return {"type": "BOOKMARK", "object": {
        "kind": served.kind, "apiVersion": served.api_version, "metadata": {
            "resourceVersion": str(revision),
            "annotations": {"k8s.io/initial-events-end": "true"},
        },
    }}


async def stream(
        log: ChangeLog,
        queue: asyncio.Queue[Any],
        served: ServedResource,
        request: rendering.Request,
        matches: Selector,
        initial: list[dict[str, Any]],
) -> AsyncIterator[rendering.Payload]:
    """The initial events, then the changes from the queue, until the timeout, an error or close."""
    table = tables.table_version(request)
    loop = asyncio.get_running_loop()
    timeout = float(request.params.get("timeoutSeconds") or 0) or None
    deadline = loop.time() + timeout if timeout else None
    first = True
    try:
        yield b""  # send the headers now, even if nothing happens for a long time
        pending = list(initial)
        while True:
            for event in pending:
                if table is not None and event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                    rendered = tables.table(served, [event["object"]], request, table, columns=first)
                    event = {**event, "object": rendered}
                    first = False
                yield event
                if event["type"] == "ERROR":
                    return
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return
            try:
                change = await asyncio.wait_for(queue.get(), remaining)
            except TimeoutError:
                return
            if change is _CLOSED:
                return
            if change.ref != served.ref:
                pending = []
                continue
            event = watch_event(change, request, matches)
            pending = [event] if event is not None else []
    finally:
        log.unsubscribe(queue)
