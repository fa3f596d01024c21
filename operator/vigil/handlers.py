"""kopf registration, and nothing else: every handler hands off to ``vigil.controls.reconciler``.

kopf's handlers are edge-triggered, and AWS drifts without telling anyone, so each object has one
reconcile loop, a kopf daemon, that reconciles whenever a reconcile is due (``_due``) and waits
between passes for a wake-up or the next tick. Any event of a Vigil object wakes the loops of its
namespace (``wakeups``), so a new object, a spec edit, or a dependency turning Ready is acted on at
once; the tick only bounds how late a resync or a retry starts. A per-object lock keeps a
reconcile and a delete of the same object apart.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any

import kopf
from kopf._cogs.clients.patching import patch_obj
from kopf._cogs.structs.patches import Patch

from . import conditions as c
from .api import GROUP, KINDS, VERSION
from .api.common import parse_duration
from .aws import fanout
from .aws.budget import CallBudget
from .aws.session import AccessPool
from .controls.base import Runtime
from .controls.journal import JournalWriter
from .controls.reconciler import delete_object, dependency_state, reconcile_object, references
from .leadership.fence import WRITES
from .planning.weakening import ALLOW_ANNOTATION
from .memory import release_free_memory
from .secrets import SecretReader
from .settings import VigilSettings
from .wakeups import Wakeups, pause, unless_stopped

log = logging.getLogger(__name__)
SETTINGS = VigilSettings.from_env()
RECONCILES_AT_ONCE = 16
# Kinds whose objects others reference: kept in kopf indexes, so a reference resolves in memory.
REFERENCED = {"Organization": "organizations", "LogArchive": "logarchives"}
# Ready reasons worth retrying sooner than a full resync (a held write waits for an allowance or
# an owner's departure, which come without a spec change).
TRANSIENT = {c.DEPENDENCY_NOT_READY, c.THROTTLED, c.AWS_UNAVAILABLE, c.ENDPOINT_UNREACHABLE, c.PARTIAL_FAILURE,
             c.AWS_ERROR, c.CONFLICT, c.ADOPTION_REQUIRED, c.WEAKENING_HELD}


# Vigil's own name on everything it leaves on objects and Events (kopf's are the defaults).
FINALIZER = f"{GROUP}/finalizer"
KOPF_FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"  # what versions before 0.2 left on objects
COMPONENT = "vigil"
KOPF_SETTINGS: list[kopf.OperatorSettings] = []  # the running operator's, for the patches made mid-handler


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.posting.reporting_component = COMPONENT
    settings.posting.event_name_prefix = f"{COMPONENT}-event-"
    KOPF_SETTINGS[:] = [settings]
    # Keep kopf's bookkeeping in annotations: the CRDs' status schemas hold only Vigil's fields.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration")
    settings.posting.loggers = False  # post only the Events Vigil means to post, not kopf's log lines
    # kopf's threads for sync handlers: objects reconciled at once. Their targets run on the
    # process's fan-out workers, as many as the AWS requests in flight.
    settings.execution.max_workers = RECONCILES_AT_ONCE
    fanout.WORKERS.size = SETTINGS.aws_in_flight
    # kopf's --verbose is for the operator's own story; botocore's wire dumps drown it.
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger(noisy).level))
    memo.runtime = Runtime(concurrency=SETTINGS.concurrency, installation=SETTINGS.installation,
                           journal=JournalWriter(), access_pool=AccessPool(CallBudget(SETTINGS.aws_in_flight)))


SECRETS = SecretReader()


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return SECRETS.login(**kwargs)


class IndexLookup:
    """Referenced objects, read from kopf's in-memory indexes; Secrets, read on demand."""

    def __init__(self, indexes: dict[str, Any]) -> None:
        self._indexes = indexes
        self._loop = asyncio.get_running_loop()  # created in a handler; used from worker threads

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        store = self._indexes[f"{REFERENCED[kind]}_by_name"].get((namespace, name))
        return next(iter(store), None) if store is not None else None

    def secret(self, namespace: str, name: str, key: str) -> str:
        return SECRETS.value_from_thread(self._loop, namespace, name, key)

    def in_namespace(self, namespace: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [(kind, name, body) for kind, plural in NEIGHBOURS.items()
                for store in [self._indexes[f"{plural}_by_namespace"].get(namespace)] if store is not None
                for name, body in (entry for entry in store)]

    def referrers(self, kind: str, namespace: str, name: str) -> list[tuple[str, str]]:
        """The objects (kind, name) that name this Organization or LogArchive, deleting or not."""
        return sorted(entry for plural in REFERRING.values()
                      for store in [self._indexes[f"{plural}_references"].get((namespace, kind, name))]
                      if store is not None for entry in store)


def _index(namespace: str, name: str, spec: Any, status: Any, meta: Any, **_: Any) -> dict[Any, Any]:
    # The generation tells whether Ready describes the spec held here (reconciler.ValidatedSpecs).
    return {(namespace, name): {"spec": copy.deepcopy(dict(spec)), "status": copy.deepcopy(dict(status)),
                                "generation": meta.get("generation"), "uid": meta.get("uid")}}


for _kind, _plural in REFERENCED.items():
    kopf.index(GROUP, VERSION, _plural, id=f"{_plural}_by_name")(_index)


def _by_namespace(namespace: str, name: str, spec: Any, status: Any, **_: Any) -> dict[Any, Any]:
    return {namespace: (name, {"spec": copy.deepcopy(dict(spec)), "status": copy.deepcopy(dict(status))})}


# Every kind a Guardrails protects: read by namespace, in memory (controls.reconciler.NAMESPACE_READERS).
NEIGHBOURS = {k.kind: k.plural for k in KINDS.values() if k.kind not in ("Organization", "Guardrails")}
for _plural in NEIGHBOURS.values():
    kopf.index(GROUP, VERSION, _plural, id=f"{_plural}_by_namespace")(_by_namespace)


def _references(namespace: str, name: str, spec: Any, body: Any, **_: Any) -> dict[Any, Any]:
    kind = body.get("kind", "")
    return {(namespace, *named): (kind, name) for named in references(kind, dict(spec))}


# Every kind that names an Organization (all but the Organization): who holds each one's deletion.
REFERRING = {k.kind: k.plural for k in KINDS.values() if k.kind != "Organization"}
for _plural in REFERRING.values():
    kopf.index(GROUP, VERSION, _plural, id=f"{_plural}_references")(_references)


WAKEUPS = Wakeups()


async def _reconcile(kind: str, body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped,
                     resource: kopf.Resource, logger: Any, **kwargs: Any) -> None:
    """One pass of the object's loop: a reconcile if one is due, its status patched at its end."""
    async with memo.setdefault("lock", asyncio.Lock()):
        meta = body.get("metadata", {})
        if stopped or meta.get("deletionTimestamp"):
            return  # being deleted: the release handler has it now
        # Read together, before any await: kopf updates the body in place as events come.
        namespace, name, generation = meta.get("namespace", ""), meta.get("name", ""), meta.get("generation")
        spec = copy.deepcopy(dict(body.get("spec") or {}))
        status = copy.deepcopy(dict(body.get("status") or {}))
        lookup = IndexLookup(kwargs)
        version = (generation, (meta.get("annotations") or {}).get(ALLOW_ANNOTATION),
                   dependency_state(kind, namespace, spec, lookup))
        if not _due(memo, version, spec, status):
            return
        object_meta = _meta(meta)
        if status.get("observedGeneration") != generation:
            # A generation not yet worked on: say so now, not when the reconcile (minutes, for a
            # large organization) ends, so that kstatus, Flux and Argo CD wait rather than read
            # the last generation's Ready as this one's.
            status = {**status, "observedGeneration": generation,
                      "conditions": c.reconciling(list(status.get("conditions") or []), generation, c.now_iso())}
            await _patch(resource, meta, {"status": status}, logger)
        outcome = await asyncio.to_thread(reconcile_object, kind, namespace, name, generation, spec, status, lookup,
                                          memo.runtime, meta=object_meta)
        release_free_memory()
        memo["last"] = (version, time.monotonic(), _ready_reason(outcome.status))
        await _patch(resource, meta, {"status": outcome.status}, logger)
        for event in outcome.events:
            kopf.event(body, type=event.type, reason=event.reason, message=event.message[:1024])


async def _patch(resource: kopf.Resource, meta: Any, patch: dict[str, Any], logger: Any) -> None:
    """A merge patch sent now, not at the handler's end (kopf offers no public call for it; its
    internal one is kept, as kopf's version is pinned in pyproject.toml)."""
    await patch_obj(settings=KOPF_SETTINGS[0], resource=resource, namespace=meta.get("namespace"),
                    name=meta.get("name", ""), patch=Patch(patch), logger=logger)


def _meta(meta: Any) -> dict[str, Any]:
    """What the reconcile needs of the metadata: who the object is, and its annotations."""
    return {"uid": meta.get("uid"), "creationTimestamp": meta.get("creationTimestamp"),
            "annotations": dict(meta.get("annotations") or {})}


def _due(memo: kopf.Memo, version: tuple[Any, ...], spec: dict[str, Any], status: dict[str, Any]) -> bool:
    """``version``: the generation, the weakening allowance and what the reconcile reads of other
    objects (``dependency_state``); a change of any is due at once, as is a first reconcile."""
    last = memo.get("last")
    if last is None:
        return True
    last_version, at, reason = last
    if last_version != version:
        return True
    try:
        period = parse_duration(spec.get("resyncInterval", "5m")).total_seconds()
    except ValueError:
        period = 300.0
    if reason in TRANSIENT:
        period = min(period, SETTINGS.retry_seconds)
    return time.monotonic() - at >= period


def _ready_reason(status: dict[str, Any]) -> str | None:
    ready = c.get_condition(status.get("conditions"), c.READY)
    return ready.get("reason") if ready else None


def _delete(*args: Any) -> list[str]:
    """A delete's AWS calls do not pass ``converge``: the whole delete is one admitted write, so
    none starts once the fence is closed, and a graceful stop waits for one under way."""
    with WRITES.admit(f"delete of {args[0]} {args[1]}/{args[2]}"):
        return delete_object(*args)


def _register(kind: str, plural: str) -> None:
    async def reconcile_loop(body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, **kwargs: Any) -> None:
        meta = body.get("metadata", {})
        with WAKEUPS.loop(meta.get("namespace", ""), (kind, meta.get("name", ""))) as wake:
            while not stopped:
                wake.clear()  # before the pass: an event during it wakes the next one
                # kopf stops the loop on a deletion and when the operator stops: the loop ends at
                # once, and a reconcile under way goes on to its end holding the object's lock,
                # which the release handler waits for (kopf would re-check a loop still running
                # only a minute later, holding the deletion back meanwhile).
                reconciling = asyncio.create_task(_reconcile(kind, body, memo, stopped, **kwargs))
                if not await unless_stopped(reconciling, stopped.wait()):
                    return
                reconciling.result()  # an error: kopf logs it and starts the loop again
                await pause(wake, stopped.wait(), SETTINGS.tick_seconds)

    async def on_delete(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
        meta = body.get("metadata", {})
        lookup = IndexLookup(kwargs)
        if kind in REFERENCED:
            await _outlive_referrers(body, kind, lookup)
        async with memo.setdefault("lock", asyncio.Lock()):
            notes = await asyncio.to_thread(_delete, kind, meta.get("namespace", ""), meta.get("name", ""),
                                            copy.deepcopy(dict(body.get("spec") or {})), lookup,
                                            memo.runtime, _meta(meta))
        kopf.event(body, type="Normal", reason="Deleted", message="; ".join(notes)[:1024])

    async def on_event(body: kopf.Body, memo: kopf.Memo, resource: kopf.Resource, logger: Any,
                       **kwargs: Any) -> None:
        """Objects from before Vigil had its own finalizer carry kopf's, which this kopf no longer
        clears: swap it for Vigil's, or, on an object being deleted, release it and let it go."""
        meta = body.get("metadata", {})
        finalizers = list(meta.get("finalizers") or [])
        if KOPF_FINALIZER not in finalizers:
            return
        if meta.get("deletionTimestamp"):
            if FINALIZER in finalizers:
                return  # kopf runs the release handler for Vigil's own finalizer
            await on_delete(body, memo, **kwargs)
            kept = [f for f in finalizers if f != KOPF_FINALIZER]
        else:
            kept = list(dict.fromkeys(FINALIZER if f == KOPF_FINALIZER else f for f in finalizers))
        # resourceVersion makes the patch fail rather than overwrite a list changed meanwhile.
        await _patch(resource, meta, {"metadata": {"finalizers": kept, "resourceVersion": meta.get("resourceVersion")}},
                     logger)

    resource = (GROUP, VERSION, plural)
    # Started for every object the operator sees (created, or there when it starts) and stopped on
    # deletion or when the operator stops (kopf runs only while this replica leads). An error ends
    # the pass; kopf starts the loop again after VIGIL_RETRY_SECONDS.
    kopf.daemon(*resource, id="reconcile", backoff=SETTINGS.retry_seconds)(reconcile_loop)
    # After kopf has indexed the event: the woken loops read the object as it now is.
    kopf.on.event(*resource, id="wake-namespace")(wake_namespace)
    # Delete errors are retried a few times, then the finalizer goes: a stuck CR helps no one.
    kopf.on.delete(*resource, id="release", retries=5, backoff=10)(on_delete)
    kopf.on.event(*resource, id="migrate-finalizer")(on_event)


async def _outlive_referrers(body: kopf.Body, kind: str, lookup: IndexLookup) -> None:
    """An Organization or LogArchive goes after every object that names it, as a claimed volume
    waits for its Pods: their deletion reads it (``deletionPolicy: Delete`` needs the accounts and
    the archive), and `kubectl delete -k`, an Argo CD prune or a namespace's deletion deletes all
    at once, in no order. An Event says what it waits for, again whenever that changes."""
    meta = body.get("metadata", {})
    namespace, name = meta.get("namespace", ""), meta.get("name", "")
    told: list[tuple[str, str]] = []
    with WAKEUPS.loop(namespace, (kind, name)) as wake:
        while referrers := lookup.referrers(kind, namespace, name):
            if referrers != told:
                named = ", ".join(f"{k} {n}" for k, n in referrers)
                kopf.event(body, type="Normal", reason="WaitingForReferrers",
                           message=f"deleted once nothing names it; named by {named}"[:1024])
                told = referrers
            wake.clear()
            never = asyncio.get_running_loop().create_future()  # only a wake-up or the tick ends it
            await pause(wake, never, SETTINGS.tick_seconds)


async def wake_namespace(namespace: str | None, **_: Any) -> None:
    WAKEUPS.wake(namespace or "")


for _info in KINDS.values():
    _register(_info.kind, _info.plural)
