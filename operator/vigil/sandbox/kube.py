"""
A Kubernetes API server emulator for the sandbox: kmock's `KubernetesEmulator` taught the object
semantics an operator relies on, served over plain HTTP to kopf, the `kubernetes` client and kubectl.

What it does as the real API server does:

* serves discovery, namespaces, events, secrets, leases, CRDs, and every CRD of a directory
  (``crds/`` by default) with its kind, names, scope, verbs and ``status`` subresource;
  CRDs created later through the API are served as soon as they are stored;
* sets ``uid``, ``creationTimestamp``, a monotonic ``resourceVersion`` on every write, and
  ``generation`` (1 at create, +1 when anything outside metadata and status changes);
  a write that changes nothing changes no version and sends no watch event;
* keeps ``.status`` apart: writes to ``…/status`` change only the status, writes to the main
  resource leave it alone;
* deletes in two phases with finalizers (``deletionTimestamp``, then gone once they are removed);
* JSON merge patch, JSON patch (with ``test``), and apply patch (as a merge that may create);
  strategic merge patch is refused for custom resources (HTTP 415) as the real server does,
  and is read as a merge patch for the built-in kinds;
* admission by the CRD schema (see `vigil.sandbox.admission`): unknown fields pruned and
  reported in ``Warning`` headers (or refused with ``fieldValidation=Strict``), defaults
  applied, invalid objects refused with HTTP 422 and the API server's Status;
* watches resumable from a ``resourceVersion`` (or HTTP 410 when too old), ``timeoutSeconds``,
  ``sendInitialEvents``, label and field selectors; lists with ``limit``/``continue``;
* server-side Table output with the CRDs' printer columns, so ``kubectl get`` shows them.

What it does not: authentication and RBAC, admission webhooks, CEL rules, version conversion
(each served version of a CRD is its own store), garbage collection by owner references
(deleting a CRD drops its objects at once, finalizers or not),
managed fields and real server-side apply, protobuf beyond the bodies of ``kubectl create
namespace|secret``, and OpenAPI beyond what kubectl needs to validate on the server and explain.

Run it with ``python -m vigil.sandbox.kube --port 6443 --kubeconfig PATH``, or in tests with
`start_in_thread` (a background thread with its own event loop) or `serving` (in a running loop).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import copy
import dataclasses
import datetime
import json
import logging
import random
import re
import signal
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import jsonpatch
import kmock
import multidict
import yaml
from kmock._internal import apps, enums, references, rendering

from vigil.sandbox import admission

logger = logging.getLogger(__name__)

DEFAULT_CRDS_DIR = Path(__file__).resolve().parents[3] / "crds"
DEFAULT_NAMESPACES = ("default",)

CRD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUBRESOURCE_VERBS = ("get", "patch", "update")
AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
NAME_COLUMN = {
    "name": "Name", "type": "string", "format": "name", "jsonPath": ".metadata.name",
    "description": "Name must be unique within a namespace.",
}

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"


@dataclasses.dataclass(frozen=True)
class ServedResource:
    """One served resource (a group/version/plural) and what the API server knows of it."""
    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = CRD_VERBS
    subresources: tuple[str, ...] = ()
    schema: Mapping[str, Any] | None = None  # openAPIV3Schema; None admits anything
    printer_columns: tuple[Mapping[str, Any], ...] = (AGE_COLUMN,)
    tracks_generation: bool = True  # custom resources and CRDs do, most built-in kinds do not
    name_rule: str = "subdomain"  # or 'label' (see admission.validate_object_name)

    @property
    def ref(self) -> references.resource:
        return references.resource(self.group, self.version, self.plural)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_kind(self) -> str:
        """As the API server names the kind in "… is invalid" messages: ``OrgTrail.vigil.dev``."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def group_resource(self) -> str:
        """As the API server names the resource in other messages: ``orgtrails.vigil.dev``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


NAMESPACES = ServedResource(
    group="", version="v1", plural="namespaces", kind="Namespace", singular="namespace",
    namespaced=False, short_names=("ns",), subresources=("status", "finalize"),
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    printer_columns=({"name": "Status", "type": "string", "jsonPath": ".status.phase"}, AGE_COLUMN),
    tracks_generation=False, name_rule="label",
)
CRDS = ServedResource(
    group="apiextensions.k8s.io", version="v1", plural="customresourcedefinitions",
    kind="CustomResourceDefinition", singular="customresourcedefinition", namespaced=False,
    short_names=("crd", "crds"), categories=("api-extensions",), subresources=("status",),
    printer_columns=({"name": "Created At", "type": "string", "jsonPath": ".metadata.creationTimestamp"},),
)
BUILTIN_RESOURCES = (
    NAMESPACES,
    CRDS,
    ServedResource(
        group="", version="v1", plural="events", kind="Event", singular="event", namespaced=True,
        short_names=("ev",), tracks_generation=False,
        printer_columns=(
            {"name": "Last Seen", "type": "date", "jsonPath": ".lastTimestamp"},
            {"name": "Type", "type": "string", "jsonPath": ".type"},
            {"name": "Reason", "type": "string", "jsonPath": ".reason"},
            {"name": "Object", "type": "string", "jsonPath": ".involvedObject.name"},
            {"name": "Message", "type": "string", "jsonPath": ".message"},
        ),
    ),
    ServedResource(
        group="", version="v1", plural="secrets", kind="Secret", singular="secret", namespaced=True,
        tracks_generation=False,
        printer_columns=({"name": "Type", "type": "string", "jsonPath": ".type"}, AGE_COLUMN),
    ),
    ServedResource(
        group="coordination.k8s.io", version="v1", plural="leases", kind="Lease", singular="lease",
        namespaced=True, tracks_generation=False,
        printer_columns=({"name": "Holder", "type": "string", "jsonPath": ".spec.holderIdentity"}, AGE_COLUMN),
    ),
)


def served_resources_of_crd(crd: Mapping[str, Any]) -> list[ServedResource]:
    """The resources a CRD serves: one per served version."""
    spec = crd["spec"]
    names = spec["names"]
    return [
        ServedResource(
            group=spec["group"],
            version=version["name"],
            plural=names["plural"],
            kind=names["kind"],
            singular=names.get("singular") or names["kind"].lower(),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=tuple(sorted(version.get("subresources") or ())),
            schema=(version.get("schema") or {}).get("openAPIV3Schema"),
            printer_columns=tuple(version.get("additionalPrinterColumns") or (AGE_COLUMN,)),
        )
        for version in spec.get("versions") or []
        if version.get("served", True)
    ]


def load_crds(directory: Path) -> list[dict[str, Any]]:
    """All CustomResourceDefinitions in the YAML files of a directory (other documents ignored)."""
    crds = []
    for path in sorted(directory.glob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                crds.append(doc)
    return crds


@dataclasses.dataclass(frozen=True)
class _Change:
    """One write, as watchers see it."""
    revision: int
    ref: references.resource
    namespace: str | None
    type: str  # ADDED, MODIFIED, DELETED
    obj: dict[str, Any]
    old: dict[str, Any] | None


@dataclasses.dataclass
class _Reply:
    """What a handler wants added to its response beyond the JSON body."""
    status: int | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)


_WATCH_CLOSED = object()  # put into the watchers' queues when the server stops


@attrs.define(kw_only=True)
class ApiServerEmulator(kmock.KubernetesEmulator):
    """
    kmock's Kubernetes emulator with the API server's object semantics (see the module doc).

    Objects live in kmock's ``objects`` array (``emulator.objects['vigil.dev/v1alpha1/orgtrails',
    'default', 'main']``) with their history, as with the plain `kmock.KubernetesEmulator`.
    Unlike it, the writes happen in the fallback reactions: a test's own reaction on a request
    (e.g. ``emulator['post', kmock.resource('vigil.dev/v1alpha1/orgtrails')] << 500``) answers
    instead of the emulator, and the object is then not stored.

    All state changes are synchronous code in the event loop, so they need no locks; call
    `create_object` before serving or from the event loop only.
    """
    crds_dir: Path | None = DEFAULT_CRDS_DIR
    namespaces: Sequence[str] = DEFAULT_NAMESPACES
    history_depth: int | None = 100  # versions kept per object in `objects[…].history`
    request_log_size: int | None = None  # requests kept in `requests`; None keeps all, as kmock
    change_log_size: int = 10_000  # writes kept to resume watches from a resourceVersion

    _served: dict[references.resource, ServedResource] = attrs.field(factory=dict, init=False)
    _revision: int = attrs.field(default=0, init=False)
    _changes: collections.deque[_Change] = attrs.field(init=False)
    _compacted_revision: int = attrs.field(default=0, init=False)
    _watchers: set[asyncio.Queue[Any]] = attrs.field(factory=set, init=False)
    _replies: dict[rendering.Request, _Reply] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.fallback["get", re.compile(r"/openapi/v3")] << self._serve_openapi_index
        self.fallback["get", re.compile(r"/openapi/v3/.+")] << self._serve_openapi_group_version
        self._changes = collections.deque(maxlen=self.change_log_size)
        for served in BUILTIN_RESOURCES:
            self.serve(served)
        for namespace in dict.fromkeys(["default", *self.namespaces]):
            self.create_object(NAMESPACES, {"metadata": {"name": namespace}})
        for crd in load_crds(self.crds_dir) if self.crds_dir is not None else []:
            self.create_object(CRDS, crd)

    # --- What is served ---------------------------------------------------------------------

    def serve(self, served: ServedResource) -> None:
        """Serve a resource (and make it discoverable)."""
        self._served[served.ref] = served
        self.resources[served.ref] = references.ResourceInfo(
            kind=served.kind, singular=served.singular, namespaced=served.namespaced,
            verbs=served.verbs, shortnames=served.short_names, categories=served.categories,
            subresources=served.subresources,
        )

    def create_object(self, resource: ServedResource | str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create an object as a POST would (admission included); return it as stored."""
        served = resource if isinstance(resource, ServedResource) else self._served[references.resource(resource)]
        namespace = (body.get("metadata", {}).get("namespace") or "default") if served.namespaced else None
        return self._create(served, namespace, body, _Reply())

    def _install_crd(self, crd: Mapping[str, Any]) -> None:
        for served in served_resources_of_crd(crd):
            self.serve(served)

    def _uninstall_crd(self, crd: Mapping[str, Any]) -> None:
        for served in served_resources_of_crd(crd):
            for (ref, namespace, name), obj in list(self._objects.items()):
                if ref == served.ref and not obj.deleted:
                    self._remove(served, (ref, namespace, name), obj.last.raw)
            self._served.pop(served.ref, None)
            self.resources.pop(served.ref, None)

    def _served_for(self, request: rendering.Request, verb: str) -> ServedResource:
        served = self._served.get(request.resource) if request.resource is not None else None
        if served is None or request.resource.plural is None:
            raise _not_found_url()
        if verb not in served.verbs:
            raise _method_not_allowed()
        if request.subresource is not None and request.subresource not in served.subresources:
            raise _not_found_url()
        if served.namespaced and request.namespace is None and request.name is not None:
            raise _not_found_url()
        return served

    # --- HTTP entry ------------------------------------------------------------------------

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        # kmock 0.8 cannot parse the core `namespaces` resource (/api/v1/namespaces[/NAME]) and
        # treats Kubernetes errors as handler failures; so the entry is ours, the routing kmock's.
        await raw_request.read()
        raw_response: aiohttp.web.StreamResponse | None = None
        try:
            request = await _parse_request(raw_request, id=len(self._requests))
            self._requests.append(request)
            if self.request_log_size is not None and len(self._requests) > self.request_log_size:
                del self._requests[:-self.request_log_size]
            try:
                response = await self._handle(request)
            except rendering.StreamingError as e:
                raw_response = e.args[0]
                raise (e.__cause__ or e) from None
            finally:
                reply = self._replies.pop(request, None)
            if reply is not None and not response.prepared:
                if reply.status is not None:
                    response.set_status(reply.status)
                for warning in reply.warnings:
                    response.headers.add("Warning", f"299 - {json.dumps(warning)}")
            return response
        except kmock.KubernetesError as e:
            if raw_response is not None and raw_response.prepared:
                await self._stream_error(e, raw_response)
                await raw_response.write_eof()
                return raw_response
            return await self._render_error(e)
        except Exception as e:
            logger.exception("The Kubernetes API emulator failed on a request.")
            if self._errors:
                self._errors[-1].append(e)
            if raw_response is not None and raw_response.prepared:
                await self._stream_error(e, raw_response)
                await raw_response.write_eof()
                return raw_response
            return await self._render_error(e)

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        # Skip KubernetesEmulator._handle: it stores every write before routing, as a plain
        # dict merge. Here the fallback reactions below own all the writes.
        return await apps.RawHandler._handle(self, request)

    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        if isinstance(exc, kmock.KubernetesNotFoundError) and exc.reason != "NotFound":
            exc = _not_found_url()  # kmock's own 404s, for URLs nothing serves
        if isinstance(exc, kmock.KubernetesError):
            return aiohttp.web.json_response(_status_body(exc), status=exc.status)
        return await super()._render_error(exc)

    def _reply(self, request: rendering.Request) -> _Reply:
        return self._replies.setdefault(request, _Reply())

    # --- Discovery -------------------------------------------------------------------------

    async def _serve_apis(self, request: rendering.Request) -> rendering.Payload:
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            self._api_group(group) for group in sorted({s.group for s in self._served.values()} - {""})
        ]}

    async def _serve_group(self, request: rendering.Request) -> rendering.Payload:
        assert request.resource is not None
        if request.resource.group not in {s.group for s in self._served.values()} - {""}:
            raise _not_found_url()
        return {"kind": "APIGroup", "apiVersion": "v1", **self._api_group(request.resource.group)}

    def _api_group(self, group: str) -> dict[str, Any]:
        versions = list(dict.fromkeys(s.version for s in self._served.values() if s.group == group))
        entries = [{"groupVersion": f"{group}/{version}", "version": version} for version in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    async def _serve_version(self, request: rendering.Request) -> rendering.Payload:
        assert request.resource is not None
        group, version = request.resource.group, request.resource.version
        served = sorted(
            (s for s in self._served.values() if s.group == group and s.version == version),
            key=lambda s: s.plural,
        )
        if not served:
            raise _not_found_url()
        resources: list[dict[str, Any]] = []
        for s in served:
            resources.append({
                "name": s.plural, "singularName": s.singular, "namespaced": s.namespaced,
                "kind": s.kind, "verbs": list(s.verbs),
                **({"shortNames": list(s.short_names)} if s.short_names else {}),
                **({"categories": list(s.categories)} if s.categories else {}),
            })
            resources.extend({
                "name": f"{s.plural}/{sub}", "singularName": "", "namespaced": s.namespaced,
                "kind": s.kind, "verbs": list(SUBRESOURCE_VERBS),
            } for sub in s.subresources)
        group_version = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}

    async def _serve_openapi_index(self, request: rendering.Request) -> rendering.Payload:
        prefixes = {_api_prefix(s.group, s.version) for s in self._served.values()}
        return {"paths": {
            prefix.lstrip("/"): {"serverRelativeURL": f"/openapi/v3{prefix}?hash={self._revision}"}
            for prefix in sorted(prefixes)
        }}

    async def _serve_openapi_group_version(self, request: rendering.Request) -> rendering.Payload:
        """
        A minimal OpenAPI v3 document of a group/version: a PATCH operation per kind that takes
        ``fieldValidation`` (so kubectl validates on the server side instead of downloading the
        OpenAPI v2 document), and the CRDs' schemas (so kubectl explain works).
        """
        prefix = request.url.path.removeprefix("/openapi/v3")
        served = [s for s in self._served.values() if _api_prefix(s.group, s.version) == prefix]
        if not served:
            raise _not_found_url()
        paths, schemas = {}, {}
        for s in served:
            gvk = {"group": s.group, "version": s.version, "kind": s.kind}
            namespace_part = "/namespaces/{namespace}" if s.namespaced else ""
            paths[f"{prefix}{namespace_part}/{s.plural}/{{name}}"] = {"patch": {
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
                "requestBody": {"content": {JSON_PATCH: {}, MERGE_PATCH: {}, APPLY_PATCH: {}}},
                "responses": {"200": {"description": "OK"}},
            }}
            if s.schema is not None:
                name = ".".join(reversed(s.group.split("."))) + f".{s.version}.{s.kind}"
                schemas[name] = {**s.schema, "x-kubernetes-group-version-kind": [gvk]}
        return {
            "openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.30.0"},
            "paths": paths, "components": {"schemas": schemas},
        }

    # --- Reads -----------------------------------------------------------------------------

    async def _serve_fetch(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "get")
        obj = self._get_live(served, request.namespace, request.name)
        if obj is None:
            raise _not_found(served, request.name)
        table = _table_version(request)
        if table is not None:
            return _table(served, [obj], request, table, resource_version=obj["metadata"]["resourceVersion"])
        return obj

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "list")
        matches = _selector(request)
        objs = [obj for obj in self._list_live(served, request.namespace) if matches(obj)]
        objs.sort(key=_sort_key)
        continue_token = None
        limit = int(request.params.get("limit") or 0)
        if request.params.get("continue"):
            start = json.loads(base64.urlsafe_b64decode(request.params["continue"]))
            objs = [obj for obj in objs if list(_sort_key(obj)) > start]
        if limit and len(objs) > limit:
            objs = objs[:limit]
            continue_token = base64.urlsafe_b64encode(json.dumps(_sort_key(objs[-1])).encode()).decode()
        table = _table_version(request)
        if table is not None:
            return _table(served, objs, request, table, resource_version=str(self._revision))
        metadata: dict[str, Any] = {"resourceVersion": str(self._revision)}
        if continue_token:
            metadata["continue"] = continue_token
        return {
            "apiVersion": served.api_version, "kind": f"{served.kind}List",
            "metadata": metadata, "items": objs,
        }

    async def _serve_watch(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "watch")
        matches = _selector(request)
        since = request.params.get("resourceVersion") or "0"
        if not since.isdigit():
            raise _bad_request(f"invalid resource version: {since}")
        queue: asyncio.Queue[Any] = asyncio.Queue()
        initial: list[dict[str, Any]] = []
        if int(since) and int(since) < self._compacted_revision:
            initial.append(_expired(int(since), self._compacted_revision))
            queue.put_nowait(_WATCH_CLOSED)
        elif int(since):
            initial.extend(
                event for change in self._changes
                if change.revision > int(since) and change.ref == served.ref
                if (event := _watch_event(change, request, matches)) is not None
            )
        else:
            initial.extend(
                {"type": "ADDED", "object": obj}
                for obj in sorted(self._list_live(served, request.namespace), key=_sort_key)
                if _in_scope(obj, request) and matches(obj)
            )
        if request.params.get("sendInitialEvents") == "true":
            initial.append({"type": "BOOKMARK", "object": {
                "kind": served.kind, "apiVersion": served.api_version, "metadata": {
                    "resourceVersion": str(self._revision),
                    "annotations": {"k8s.io/initial-events-end": "true"},
                },
            }})
        self._watchers.add(queue)  # in the same synchronous step as the snapshot: nothing is lost
        stream = self._watch_stream(served, request, matches, queue, initial)
        return rendering.Response(headers={"Content-Type": "application/json"}, payload=stream)

    async def _watch_stream(
            self,
            served: ServedResource,
            request: rendering.Request,
            matches: Callable[[Mapping[str, Any]], bool],
            queue: asyncio.Queue[Any],
            initial: list[dict[str, Any]],
    ) -> AsyncIterator[rendering.Payload]:
        table = _table_version(request)
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
                        event = {**event, "object": _table(served, [event["object"]], request, table, columns=first)}
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
                if change is _WATCH_CLOSED:
                    return
                if change.ref != served.ref:
                    pending = []
                    continue
                event = _watch_event(change, request, matches)
                pending = [event] if event is not None else []
        finally:
            self._watchers.discard(queue)

    def close_watches(self) -> None:
        """End every open watch stream (as the server does on shutdown); clients reconnect."""
        for queue in self._watchers:
            queue.put_nowait(_WATCH_CLOSED)

    # --- Writes ----------------------------------------------------------------------------

    async def _serve_create(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "create")
        if request.subresource is not None or request.name is not None:
            raise _method_not_allowed()
        body = _decode_object(request)
        if served.namespaced:
            if request.namespace is None:
                raise _method_not_allowed()
            body_namespace = (body.get("metadata") or {}).get("namespace")
            if body_namespace and body_namespace != request.namespace:
                raise _bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request")
        reply = self._reply(request)
        created = self._create(served, request.namespace, body, reply, options=request.params)
        reply.status = 201
        return created

    async def _serve_update(self, request: rendering.Request) -> rendering.Payload:
        verb = "update" if request.method == enums.method.PUT else "patch"
        served = self._served_for(request, verb)
        if request.name is None:
            raise _method_not_allowed()
        reply = self._reply(request)
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
        old = self._get_live(served, request.namespace, request.name)
        if old is None and verb == "patch" and content_type == APPLY_PATCH and request.subresource is None:
            body = _decode_object(request)
            body.setdefault("metadata", {})["name"] = request.name
            reply.status = 201
            return self._create(served, request.namespace, body, reply, options=request.params)
        if old is None:
            raise _not_found(served, request.name)

        if verb == "update":
            target = _decode_object(request)
            if (target.get("metadata") or {}).get("name", request.name) != request.name:
                raise _bad_request(f"the name of the object ({target['metadata']['name']}) "
                                   f"does not match the name on the URL ({request.name})")
        else:
            target = _patched(served, old, request, content_type)
        expected_version = (target.get("metadata") or {}).get("resourceVersion")
        if expected_version and expected_version != old["metadata"]["resourceVersion"]:
            raise _conflict(served, request.name)

        new = copy.deepcopy(old)
        if request.subresource is None:
            new = target
            if "status" in served.subresources:
                new.pop("status", None)
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
        elif request.subresource == "finalize":
            new["spec"] = target.get("spec") or {}
        elif "status" in target:
            new["status"] = target["status"]
        else:
            new.pop("status", None)
        return self._update(served, old, new, reply, options=request.params)

    async def _serve_delete(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "delete")
        if request.subresource is not None:
            raise _method_not_allowed()
        key = (served.ref, request.namespace if served.namespaced else None, request.name)
        old = self._get_live(served, key[1], key[2])
        if old is None:
            raise _not_found(served, request.name)
        options = request.data if isinstance(request.data, dict) else {}
        preconditions = options.get("preconditions") or {}
        if preconditions.get("uid") and preconditions["uid"] != old["metadata"]["uid"]:
            raise _conflict(served, request.name, f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                                                  f"UID in object meta: {old['metadata']['uid']}")
        expected_version = preconditions.get("resourceVersion")
        if expected_version and expected_version != old["metadata"]["resourceVersion"]:
            raise _conflict(served, request.name)
        if _is_dry_run(request.params, options):
            return old
        remaining = self._delete(served, key, old)
        if remaining is not None:
            return remaining
        return {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {
                "name": request.name, "group": served.group, "kind": served.plural, "uid": old["metadata"]["uid"],
            },
        }

    def _create(
            self,
            served: ServedResource,
            namespace: str | None,
            body: Mapping[str, Any],
            reply: _Reply,
            *,
            options: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        options = options or {}
        body = copy.deepcopy(dict(body))
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise _bad_request("metadata must be an object")
        if meta.get("resourceVersion"):
            raise _bad_request("resourceVersion should not be set on objects to be created")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))
        name = meta.get("name")
        if served.namespaced:
            meta["namespace"] = namespace
            self._check_namespace_accepts(served, namespace, name)
        else:
            meta.pop("namespace", None)
        if name and self._get_live(served, namespace, name) is not None:
            raise _already_exists(served, name)

        obj = self._admit(served, body, None, reply, options)
        if _is_dry_run(options):
            return obj
        self._commit(served, "ADDED", obj, None)
        if served.ref == CRDS.ref:
            self._install_crd(obj)
        return obj

    def _update(
            self,
            served: ServedResource,
            old: dict[str, Any],
            new: dict[str, Any],
            reply: _Reply,
            *,
            options: Mapping[str, str],
    ) -> dict[str, Any]:
        obj = self._admit(served, new, old, reply, options)
        if _without_version(obj) == _without_version(old):
            return old  # a no-op write: no new resourceVersion, no watch event
        if _is_dry_run(options):
            return obj
        self._commit(served, "MODIFIED", obj, old)
        if served.ref == CRDS.ref:
            self._install_crd(obj)
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            key = (served.ref, meta.get("namespace") if served.namespaced else None, meta["name"])
            if served.ref == NAMESPACES.ref:
                self._finalize_namespace(meta["name"])
            else:
                self._remove(served, key, obj)
        return obj

    def _delete(
            self, served: ServedResource, key: tuple[Any, str | None, str], old: dict[str, Any],
    ) -> dict[str, Any] | None:
        """Delete now, or mark for deletion; return the object if it stays (for its finalizers)."""
        if served.ref == NAMESPACES.ref:
            return self._terminate_namespace(old)
        if not old["metadata"].get("finalizers"):
            self._remove(served, key, old)
            return None
        if old["metadata"].get("deletionTimestamp"):
            return old
        obj = copy.deepcopy(old)
        obj["metadata"]["deletionTimestamp"] = _now()
        obj["metadata"]["deletionGracePeriodSeconds"] = 0
        if served.tracks_generation:
            obj["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        self._commit(served, "MODIFIED", obj, old)
        return obj

    def _admit(
            self,
            served: ServedResource,
            body: dict[str, Any],
            old: dict[str, Any] | None,
            reply: _Reply,
            options: Mapping[str, str],
    ) -> dict[str, Any]:
        """Turn a requested object into the object to store, as the API server would, or refuse it."""
        obj = copy.deepcopy(body)
        obj["apiVersion"] = served.api_version
        obj["kind"] = served.kind
        meta = obj.setdefault("metadata", {})
        errors: list[admission.FieldError] = []
        if old is None:
            errors += admission.validate_object_name(meta.get("name"), rule=served.name_rule)
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now())
            for field in ("deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
                meta.pop(field, None)
        else:
            for field in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "resourceVersion", "generation"):
                meta.pop(field, None)
                if field in old["metadata"]:
                    meta[field] = old["metadata"][field]
            if meta.get("deletionTimestamp"):
                kept = old["metadata"].get("finalizers") or []
                added = [f for f in meta.get("finalizers") or [] if f not in kept]
                if added:
                    errors.append(admission.FieldError(
                        path="metadata.finalizers", reason="FieldValueForbidden",
                        message="Forbidden: no new finalizers can be added if the object is being deleted, "
                                f"found new finalizers []string{{{', '.join(json.dumps(f) for f in added)}}}",
                    ))
        _shape_builtin(served, obj)

        result = admission.admit(served.schema or {"x-kubernetes-preserve-unknown-fields": True}, obj)
        obj, meta = result.obj, result.obj["metadata"]
        errors += result.errors
        if served.ref == CRDS.ref:
            errors += _validate_crd(obj)
        if result.pruned:
            field_validation = options.get("fieldValidation", "Warn")
            if field_validation == "Strict":
                unknown = ", ".join(f'unknown field "{path}"' for path in result.pruned)
                raise _bad_request(f'{served.kind} in version "{served.version}" cannot be handled as a '
                                   f'{served.kind}: strict decoding error: {unknown}')
            if field_validation != "Ignore":
                reply.warnings.extend(f'unknown field "{path}"' for path in result.pruned)
        if errors:
            raise _invalid(served, meta.get("name") or "", errors)

        if served.tracks_generation:
            changed = old is None or _spec_part(obj) != _spec_part(old)
            meta["generation"] = 1 if old is None else old["metadata"].get("generation", 1) + int(changed)
        return obj

    def _check_namespace_accepts(self, served: ServedResource, namespace: str | None, name: str | None) -> None:
        ns = self._get_live(NAMESPACES, None, namespace)
        if ns is None:
            raise _not_found(NAMESPACES, namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise kmock.KubernetesError(
                status=403, reason="Forbidden",
                message=f'{served.group_resource} "{name}" is forbidden: unable to create new content '
                        f'in namespace {namespace} because it is being terminated',
                details={"name": name, "group": served.group, "kind": served.plural},
            )

    def _terminate_namespace(self, namespace: dict[str, Any]) -> dict[str, Any] | None:
        """Mark a namespace Terminating and delete what is in it; it goes once it is empty."""
        name = namespace["metadata"]["name"]
        if not namespace["metadata"].get("deletionTimestamp"):
            terminating = copy.deepcopy(namespace)
            terminating["metadata"]["deletionTimestamp"] = _now()
            terminating["metadata"]["deletionGracePeriodSeconds"] = 0
            terminating["status"] = {"phase": "Terminating"}
            self._commit(NAMESPACES, "MODIFIED", terminating, namespace)
        for (ref, ns, obj_name), obj in list(self._objects.items()):
            if ns == name and not obj.deleted and ref in self._served:
                self._delete(self._served[ref], (ref, ns, obj_name), obj.last.raw)
        return self._finalize_namespace(name)

    def _finalize_namespace(self, name: str) -> dict[str, Any] | None:
        namespace = self._get_live(NAMESPACES, None, name)
        if namespace is None:
            return None
        meta = namespace["metadata"]
        contents = [key for key, obj in self._objects.items() if key[1] == name and not obj.deleted]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not contents:
            self._remove(NAMESPACES, (NAMESPACES.ref, None, name), namespace)
            return None
        return namespace

    # --- Storage & watchers ----------------------------------------------------------------

    def _get_live(self, served: ServedResource, namespace: str | None, name: str | None) -> dict[str, Any] | None:
        key = (served.ref, namespace if served.namespaced else None, name)
        if key not in self._objects or self._objects[key].deleted:
            return None
        return self._objects[key].last.raw

    def _list_live(self, served: ServedResource, namespace: str | None) -> list[dict[str, Any]]:
        return [
            obj.last.raw for (ref, ns, _), obj in self._objects.items()
            if ref == served.ref and not obj.deleted and (namespace is None or ns == namespace)
        ]

    def _commit(self, served: ServedResource, type_: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        self._revision += 1
        obj["metadata"]["resourceVersion"] = str(self._revision)
        namespace = obj["metadata"].get("namespace") if served.namespaced else None
        key = (served.ref, namespace, obj["metadata"]["name"])
        if key in self._objects:
            self._objects[key].history.append(obj)
            if self.history_depth is not None and len(self._objects[key].history) > self.history_depth:
                del self._objects[key].history[:-self.history_depth]
        else:
            self._objects[key] = obj
        self._publish(_Change(self._revision, served.ref, namespace, type_, obj, old))

    def _remove(self, served: ServedResource, key: tuple[Any, str | None, str], old: dict[str, Any]) -> None:
        self._revision += 1
        gone = copy.deepcopy(old)
        gone["metadata"]["resourceVersion"] = str(self._revision)
        self._objects[key].delete()
        self._publish(_Change(self._revision, served.ref, key[1], "DELETED", gone, old))
        if served.ref == CRDS.ref:
            self._uninstall_crd(gone)
        namespace = self._get_live(NAMESPACES, None, key[1]) if key[1] else None
        if namespace is not None and namespace["metadata"].get("deletionTimestamp"):
            self._finalize_namespace(key[1])

    def _publish(self, change: _Change) -> None:
        if len(self._changes) == self._changes.maxlen:
            self._compacted_revision = self._changes[0].revision
        self._changes.append(change)
        for queue in self._watchers:
            queue.put_nowait(change)


# --- Requests --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ApiPath:
    """The Kubernetes meaning of a URL path; None fields are absent from it."""
    group: str
    version: str | None = None
    plural: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse_api_path(path: str) -> ApiPath | None:
    """Read ``/api/v1/…`` and ``/apis/GROUP/VERSION/…`` paths, including the core namespaces."""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 2 and parts[0] == "api":
        group, rest = "", parts[1:]
    elif len(parts) >= 2 and parts[0] == "apis":
        group, rest = parts[1], parts[2:]
        if not rest:
            return ApiPath(group=group)
    else:
        return None
    version, rest = rest[0], rest[1:]
    namespace = None
    if rest[:1] == ["namespaces"] and len(rest) >= 2:
        namespace_itself = len(rest) == 2 or (len(rest) == 3 and rest[2] in NAMESPACES.subresources)
        if group != "" or not namespace_itself:
            namespace, rest = rest[1], rest[2:]
    plural = rest[0] if rest else None
    name = rest[1] if len(rest) > 1 else None
    subresource = "/".join(rest[2:]) or None
    return ApiPath(group, version, plural, namespace, name, subresource)


def _api_prefix(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def _guess_action(path: ApiPath | None, method: str, params: Mapping[str, str]) -> enums.action | None:
    if path is None or path.plural is None:
        return None
    match method:
        case "GET" if params.get("watch", "").lower() in ("true", "1"):
            return enums.action.WATCH
        case "GET":
            return enums.action.FETCH if path.name else enums.action.LIST
        case "POST":
            return enums.action.CREATE
        case "PATCH" | "PUT" if path.name:
            return enums.action.UPDATE
        case "DELETE" if path.name:
            return enums.action.DELETE
    return None


async def _parse_request(raw_request: aiohttp.web.BaseRequest, *, id: int) -> rendering.Request:
    body = await raw_request.read()
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    path = parse_api_path(raw_request.path)
    params = dict(raw_request.query)
    resource = None if path is None else references.resource(group=path.group, version=path.version, plural=path.plural)
    return rendering.Request(
        id=id, raw_request=raw_request, url=raw_request.url, method=raw_request.method,
        params=params, headers=multidict.CIMultiDict(raw_request.headers), cookies=dict(raw_request.cookies),
        body=body, text=text, data=data,
        action=_guess_action(path, raw_request.method, params), resource=resource,
        namespace=path.namespace if path else None, name=path.name if path else None,
        subresource=path.subresource if path else None,
    )


def _decode_object(request: rendering.Request) -> dict[str, Any]:
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
    try:
        if content_type == PROTOBUF:
            data = decode_protobuf_object(request.body)
        elif content_type == APPLY_PATCH:
            data = yaml.safe_load(request.text)
        else:
            data = json.loads(request.body or b"null")
    except (ValueError, yaml.YAMLError) as e:
        raise _bad_request(f"the body of the request cannot be decoded: {e}") from e
    except LookupError as e:
        raise kmock.KubernetesError(status=415, reason="UnsupportedMediaType", message=str(e), details={}) from e
    if not isinstance(data, dict):
        raise _bad_request("the body of the request must be an object")
    return data


def _patched(
        served: ServedResource, old: dict[str, Any], request: rendering.Request, content_type: str,
) -> dict[str, Any]:
    if content_type == JSON_PATCH:
        try:
            ops = json.loads(request.body)
            return jsonpatch.apply_patch(copy.deepcopy(old), ops)
        except (ValueError, jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
            message = str(e) or type(e).__name__
            raise kmock.KubernetesError(status=422, reason="Invalid", message=message, details={}) from e
    if content_type == STRATEGIC_PATCH and served.group not in ("", "coordination.k8s.io"):
        raise kmock.KubernetesError(
            status=415, reason="UnsupportedMediaType",
            message=f"the body of the request was in an unknown format - accepted media types include: "
                    f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}",
        )
    if content_type not in (MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH):
        raise kmock.KubernetesError(
            status=415, reason="UnsupportedMediaType",
            message=f"the body of the request was in an unknown format - accepted media types include: "
                    f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}, {STRATEGIC_PATCH}",
        )
    patch = _decode_object(request)
    if content_type == STRATEGIC_PATCH:
        patch = _without_directives(patch)  # an approximation: lists are replaced, not merged by key
    return merge_patch(old, patch)


# kubectl's typed commands (`kubectl create namespace`, `kubectl create secret`) send protobuf.
# The message numbers below are those of k8s.io/api's generated.proto, for the served kinds only.
_OBJECT_META = {
    1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"), 5: ("uid", "str"),
    6: ("resourceVersion", "str"), 11: ("labels", "map"), 12: ("annotations", "map"),
    14: ("finalizers", "strs"),
}
_PROTOBUF_KINDS: dict[str, dict[int, tuple[str, Any]]] = {
    "Namespace": {1: ("metadata", _OBJECT_META), 2: ("spec", {1: ("finalizers", "strs")})},
    "Secret": {
        1: ("metadata", _OBJECT_META), 2: ("data", "map_bytes"), 3: ("type", "str"),
        4: ("stringData", "map"), 5: ("immutable", "bool"),
    },
}
_PROTOBUF_ENVELOPE = {1: ("typeMeta", {1: ("apiVersion", "str"), 2: ("kind", "str")}), 2: ("raw", "bytes")}


def decode_protobuf_object(body: bytes) -> dict[str, Any]:
    """Decode a Kubernetes protobuf body (``k8s\\0`` + runtime.Unknown) of a Namespace or Secret."""
    if not body.startswith(b"k8s\x00"):
        raise ValueError("not a Kubernetes protobuf envelope")
    envelope = _decode_message(body[4:], _PROTOBUF_ENVELOPE)
    type_meta = envelope.get("typeMeta", {})
    kind = type_meta.get("kind")
    if kind not in _PROTOBUF_KINDS:
        raise LookupError(f"protobuf bodies of {kind} are not supported here; send JSON (e.g. kubectl apply -f)")
    return {**type_meta, **_decode_message(envelope.get("raw", b""), _PROTOBUF_KINDS[kind])}


def _decode_message(data: bytes, fields: Mapping[int, tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for number, value in _protobuf_fields(data):
        if number not in fields:
            continue
        name, kind = fields[number]
        if isinstance(kind, Mapping):
            result[name] = _decode_message(value, kind)
        elif kind == "str":
            result[name] = value.decode()
        elif kind == "bytes":
            result[name] = value
        elif kind == "bool":
            result[name] = bool(value)
        elif kind == "strs":
            result.setdefault(name, []).append(value.decode())
        else:  # map entries: key=1, value=2
            entry = dict(_protobuf_fields(value))
            item = entry.get(2, b"")
            item = base64.b64encode(item).decode() if kind == "map_bytes" else item.decode()
            result.setdefault(name, {})[entry.get(1, b"").decode()] = item
    return result


def _protobuf_fields(data: bytes) -> Iterator[tuple[int, Any]]:
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        match key & 7:
            case 0:
                value, position = _varint(data, position)
            case 2:
                length, position = _varint(data, position)
                value, position = data[position:position + length], position + length
            case 1:
                value, position = data[position:position + 8], position + 8
            case 5:
                value, position = data[position:position + 4], position + 4
            case _:
                raise ValueError(f"unsupported protobuf wire type {key & 7}")
        yield key >> 3, value


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if position >= len(data):
            raise ValueError("truncated protobuf varint")
        byte = data[position]
        result |= (byte & 0x7F) << shift
        position, shift = position + 1, shift + 7
        if not byte & 0x80:
            return result, position


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _without_directives(patch: Any) -> Any:
    if isinstance(patch, dict):
        return {k: _without_directives(v) for k, v in patch.items() if not k.startswith("$")}
    if isinstance(patch, list):
        return [_without_directives(item) for item in patch]
    return patch


def _is_dry_run(*options: Mapping[str, Any]) -> bool:
    return any(option.get("dryRun") for option in options)


# --- Selectors -------------------------------------------------------------------------------

_SET_TERM = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*$")
_EQ_TERM = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=(),]*)\s*$")
_EXISTS_TERM = re.compile(r"^\s*(?P<neg>!?)\s*(?P<key>[^\s!=()]+)\s*$")


def _selector(request: rendering.Request) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate for the request's labelSelector and fieldSelector (HTTP 400 if unreadable)."""
    label_terms = [_label_term(term) for term in _split_terms(request.params.get("labelSelector", ""))]
    field_terms = [_field_term(term) for term in _split_terms(request.params.get("fieldSelector", ""))]

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(term(labels) for term in label_terms) and all(term(obj) for term in field_terms)
    return matches


def _split_terms(selector: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term for term in terms if term.strip()]


def _label_term(term: str) -> Callable[[Mapping[str, str]], bool]:
    if m := _SET_TERM.match(term):
        key, values = m["key"], {v.strip() for v in m["values"].split(",") if v.strip()}
        if m["op"] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ_TERM.match(term):
        key, value = m["key"], m["value"]
        if m["op"] == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS_TERM.match(term):
        key, negated = m["key"], bool(m["neg"])
        return lambda labels: (key in labels) != negated
    raise _bad_request(f"unable to parse requirement: {term!r}")


def _field_term(term: str) -> Callable[[Mapping[str, Any]], bool]:
    m = _EQ_TERM.match(term)
    if m is None:
        raise _bad_request(f"invalid field selector: {term!r}")
    path, value, negated = m["key"].split("."), m["value"], m["op"] == "!="

    def matches(obj: Mapping[str, Any]) -> bool:
        found: Any = obj
        for part in path:
            found = found.get(part) if isinstance(found, Mapping) else None
        actual = "" if found is None else str(found).lower() if isinstance(found, bool) else str(found)
        return (actual == value) != negated
    return matches


def _in_scope(obj: Mapping[str, Any], request: rendering.Request) -> bool:
    meta = obj.get("metadata", {})
    return (
        (request.namespace is None or meta.get("namespace") == request.namespace)
        and (request.name is None or meta.get("name") == request.name)
    )


def _watch_event(
        change: _Change, request: rendering.Request, matches: Callable[[Mapping[str, Any]], bool],
) -> dict[str, Any] | None:
    """The event a watcher sees: objects entering or leaving its selector are ADDED or DELETED."""
    if not _in_scope(change.obj, request):
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


def _expired(since: int, oldest: int) -> dict[str, Any]:
    return {"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"too old resource version: {since} ({oldest})", "reason": "Expired", "code": 410,
    }}


# --- Tables (kubectl's server-side printing) ---------------------------------------------------

def _table_version(request: rendering.Request) -> str | None:
    """meta.k8s.io/v1 (or v1beta1) when the client asks for a Table, as kubectl get does."""
    for accepted in request.headers.get("Accept", "").split(","):
        params = dict(p.strip().partition("=")[::2] for p in accepted.split(";")[1:])
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return f"meta.k8s.io/{params.get('v', 'v1')}"
    return None


def _table(
        served: ServedResource,
        objs: Iterable[Mapping[str, Any]],
        request: rendering.Request,
        api_version: str,
        *,
        columns: bool = True,
        resource_version: str | None = None,
) -> dict[str, Any]:
    definitions = [NAME_COLUMN, *served.printer_columns]
    include = request.params.get("includeObject", "Metadata")
    rows = []
    for obj in objs:
        row: dict[str, Any] = {"cells": [_cell(column, obj) for column in definitions]}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            metadata = obj.get("metadata", {})
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": metadata}
        rows.append(row)
    metadata = {"resourceVersion": resource_version} if resource_version else {}
    table: dict[str, Any] = {"kind": "Table", "apiVersion": api_version, "metadata": metadata, "rows": rows}
    if columns:
        table["columnDefinitions"] = [{
            "name": column["name"], "type": column["type"], "format": column.get("format", ""),
            "description": column.get("description", ""), "priority": column.get("priority", 0),
        } for column in definitions]
    return table


def _cell(column: Mapping[str, Any], obj: Mapping[str, Any]) -> Any:
    values = jsonpath_values(obj, column["jsonPath"])
    if not values or values[0] is None:
        return None
    value = values[0]
    match column["type"]:
        case "date":
            try:
                when = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                return "<invalid>"
            return human_duration(datetime.datetime.now(datetime.UTC) - when)
        case "integer" if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        case "number" | "boolean":
            return value
        case _:
            if isinstance(value, bool):
                return "true" if value else "false"
            return value if isinstance(value, str) else json.dumps(value)


_JSONPATH_STEP = re.compile(r"""
    \.(?P<field>[A-Za-z0-9_$-]+)
  | \[['"](?P<quoted>[^'"]+)['"]\]
  | \[(?P<index>-?\d+|\*)\]
  | \[\?\(@\.(?P<filter>[A-Za-z0-9_.-]+)\s*(?P<op>==|!=)\s*(?P<value>"[^"]*"|'[^']*'|[^)\s]+)\s*\)\]
""", re.VERBOSE)


def jsonpath_values(obj: Any, expression: str) -> list[Any]:
    """The values a printer column's JSONPath selects (the subset CRDs use); [] if none."""
    expression = expression.strip()
    if expression.startswith("{") and expression.endswith("}"):
        expression = expression[1:-1]
    nodes, position = [obj], 0
    while position < len(expression):
        step = _JSONPATH_STEP.match(expression, position)
        if step is None:
            return []
        position = step.end()
        nodes = list(_jsonpath_step(nodes, step))
    return nodes


def _jsonpath_step(nodes: list[Any], step: re.Match[str]) -> Iterator[Any]:
    for node in nodes:
        if (field := step["field"] or step["quoted"]) is not None:
            if isinstance(node, Mapping) and field in node:
                yield node[field]
        elif step["index"] == "*":
            yield from node if isinstance(node, list) else node.values() if isinstance(node, Mapping) else ()
        elif step["index"] is not None:
            if isinstance(node, list) and -len(node) <= int(step["index"]) < len(node):
                yield node[int(step["index"])]
        elif isinstance(node, list):
            wanted = step["value"].strip('\'"')
            for item in node:
                found = jsonpath_values(item, "." + step["filter"])
                actual = str(found[0]) if found else None
                if (actual == wanted) != (step["op"] == "!="):
                    yield item


def human_duration(delta: datetime.timedelta) -> str:
    """An age as kubectl shows it (k8s.io/apimachinery duration.HumanDuration)."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24 % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


# --- Object shapes ---------------------------------------------------------------------------

def _shape_builtin(served: ServedResource, obj: dict[str, Any]) -> None:
    """What the API server fills in for the built-in kinds served here."""
    if served.ref == NAMESPACES.ref:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        if not obj["metadata"].get("deletionTimestamp"):
            obj["status"] = {"phase": "Active"}
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"].get("name")
    elif served.plural == "secrets" and served.group == "":
        string_data = obj.pop("stringData", None) or {}
        obj["type"] = obj.get("type") or "Opaque"
        data = obj.setdefault("data", {})
        data.update({key: base64.b64encode(str(value).encode()).decode() for key, value in string_data.items()})
    elif served.ref == CRDS.ref:
        spec = obj.get("spec") or {}
        now = _now()
        obj["status"] = {
            "acceptedNames": spec.get("names", {}),
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
            "conditions": [
                {"type": kind, "status": "True", "reason": reason, "message": message, "lastTransitionTime": now}
                for kind, reason, message in (
                    ("NamesAccepted", "NoConflicts", "no conflicts found"),
                    ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                )
            ],
        }


def _validate_crd(crd: Mapping[str, Any]) -> list[admission.FieldError]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    errors = []
    for field in ("group", "names", "scope", "versions"):
        if not spec.get(field):
            errors.append(admission.FieldError(f"spec.{field}", admission.REQUIRED, "Required value"))
    for field in ("plural", "kind"):
        if spec.get("names") and not names.get(field):
            errors.append(admission.FieldError(f"spec.names.{field}", admission.REQUIRED, "Required value"))
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if not errors and crd["metadata"].get("name") != expected:
        errors.append(admission.FieldError(
            "metadata.name", admission.INVALID,
            f'Invalid value: {json.dumps(crd["metadata"].get("name"))}: must be spec.names.plural+"."+spec.group',
        ))
    return errors


def _spec_part(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a generation counts: everything except metadata and status."""
    return {key: value for key, value in obj.items() if key not in ("metadata", "status")}


def _without_version(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}


def _sort_key(obj: Mapping[str, Any]) -> tuple[str, str]:
    return obj["metadata"].get("namespace") or "", obj["metadata"]["name"]


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Errors, as the API server words them ----------------------------------------------------

def _status_body(exc: kmock.KubernetesError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": exc.message, "reason": exc.reason, "code": exc.status,
    }
    if exc.details:
        body["details"] = exc.details
    return body


def _not_found_url() -> kmock.KubernetesError:
    message = "the server could not find the requested resource"
    return kmock.KubernetesNotFoundError(reason="NotFound", message=message, details={})


def _not_found(served: ServedResource, name: str | None) -> kmock.KubernetesError:
    return kmock.KubernetesNotFoundError(
        reason="NotFound", message=f'{served.group_resource} "{name}" not found',
        details={"name": name, "group": served.group, "kind": served.plural},
    )


def _already_exists(served: ServedResource, name: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(
        status=409, reason="AlreadyExists", message=f'{served.group_resource} "{name}" already exists',
        details={"name": name, "group": served.group, "kind": served.plural},
    )


def _conflict(served: ServedResource, name: str, message: str | None = None) -> kmock.KubernetesError:
    return kmock.KubernetesError(
        status=409, reason="Conflict",
        message=message or (f'Operation cannot be fulfilled on {served.group_resource} "{name}": the object '
                            "has been modified; please apply your changes to the latest version and try again"),
        details={"name": name, "group": served.group, "kind": served.plural},
    )


def _invalid(served: ServedResource, name: str, errors: Sequence[admission.FieldError]) -> kmock.KubernetesError:
    reasons = [str(error) for error in errors]
    summary = reasons[0] if len(reasons) == 1 else f"[{', '.join(reasons)}]"
    return kmock.KubernetesError(
        status=422, reason="Invalid", message=f'{served.group_kind} "{name}" is invalid: {summary}',
        details={"name": name, "group": served.group, "kind": served.kind,
                 "causes": [error.as_cause() for error in errors]},
    )


def _bad_request(message: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=400, reason="BadRequest", message=message, details={})


def _method_not_allowed() -> kmock.KubernetesError:
    return kmock.KubernetesError(
        status=405, reason="MethodNotAllowed",
        message="the server does not allow this method on the requested resource", details={},
    )


# --- Serving ---------------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def serving(
        emulator: ApiServerEmulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
) -> AsyncIterator[tuple[str, ApiServerEmulator]]:
    """Serve an emulator (a default one if None) in the running loop; yield its URL and itself."""
    emulator = emulator if emulator is not None else ApiServerEmulator()
    async with emulator, kmock.Server(emulator, host=host, port=port) as server:
        try:
            yield f"http://{server.host}:{server.port}", emulator
        finally:
            emulator.close_watches()
            await asyncio.sleep(0.1)  # let the streams end before the server waits for them


@dataclasses.dataclass
class RunningEmulator:
    """An emulator served from a background thread (see `start_in_thread`)."""
    url: str
    emulator: ApiServerEmulator
    _loop: asyncio.AbstractEventLoop
    _stopping: asyncio.Event
    _thread: threading.Thread

    def stop(self, timeout: float = 10) -> None:
        """Close the watches and the server, and wait for the thread to end."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout)

    def write_kubeconfig(self, path: Path | str) -> Path:
        return write_kubeconfig(path, self.url)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()


def start_in_thread(
        emulator: ApiServerEmulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 10,
) -> RunningEmulator:
    """Serve an emulator (a default one if None) from a thread with its own event loop."""
    emulator = emulator if emulator is not None else ApiServerEmulator()
    started = threading.Event()
    state: dict[str, Any] = {}

    async def serve_until_stopped() -> None:
        state["loop"] = asyncio.get_running_loop()
        state["stopping"] = asyncio.Event()
        try:
            async with serving(emulator, host=host, port=port) as (url, _):
                state["url"] = url
                started.set()
                await state["stopping"].wait()
        except BaseException as e:
            state["error"] = e
            raise
        finally:
            started.set()

    thread = threading.Thread(target=asyncio.run, args=(serve_until_stopped(),), name="kube-api-emulator", daemon=True)
    thread.start()
    if not started.wait(timeout):
        raise TimeoutError("The Kubernetes API emulator did not start in time.")
    if "error" in state:
        raise RuntimeError("The Kubernetes API emulator failed to start.") from state["error"]
    return RunningEmulator(state["url"], emulator, state["loop"], state["stopping"], thread)


def write_kubeconfig(path: Path | str, url: str, *, namespace: str = "default", name: str = "vigil-sandbox") -> Path:
    """Write a kubeconfig whose current context points at the URL, with no credentials."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": name, "user": {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
    }, sort_keys=False))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vigil.sandbox.kube``: serve the emulator until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m vigil.sandbox.kube", description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6443)
    parser.add_argument("--crds", type=Path, default=DEFAULT_CRDS_DIR, help="a directory of CRD YAML files")
    parser.add_argument("--namespace", action="append", default=[], help="a namespace to create (repeatable)")
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig pointing at the emulator here")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.crds.is_dir():
        parser.error(f"no such CRD directory: {args.crds}")

    async def serve() -> None:
        stopping = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
        emulator = ApiServerEmulator(
            crds_dir=args.crds, namespaces=args.namespace or DEFAULT_NAMESPACES, request_log_size=1000,
        )
        async with serving(emulator, host=args.host, port=args.port) as (url, _):
            if args.kubeconfig:
                write_kubeconfig(args.kubeconfig, url)
            logger.info("Serving the Kubernetes API emulator at %s with %d resources.", url, len(emulator.resources))
            await stopping.wait()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
