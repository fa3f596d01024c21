"""`ApiServerEmulator`: kmock's Kubernetes emulator with the API server's object semantics."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import logging
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal import apps, enums, references, rendering

from . import discovery, errors, tables, watches
from .objects import admit_object, marked_for_deletion, object_after_write
from .patches import patched
from .http_requests import APPLY_PATCH, content_type, decode_object, is_dry_run, parse_request
from .selection import selector
from .served import (
    BUILTIN_RESOURCES, CRDS, DEFAULT_CRDS_DIR, NAMESPACES, ServedResource, load_crds, served_resources_of_crd,
)

logger = logging.getLogger(__name__)

DEFAULT_NAMESPACES = ("default",)

_Key = tuple[references.resource, str | None, str]  # kmock's key of an object: resource, namespace, name


@dataclasses.dataclass
class _Reply:
    """What a handler wants added to its response beyond the JSON body."""
    status: int | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)


@attrs.define(kw_only=True)
class ApiServerEmulator(kmock.KubernetesEmulator):
    """
    kmock's Kubernetes emulator with the API server's object semantics (see `vigil.sandbox.kube`).

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
    _changes: watches.ChangeLog = attrs.field(init=False)
    _replies: dict[rendering.Request, _Reply] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.fallback["get", re.compile(r"/openapi/v3")] << self._serve_openapi_index
        self.fallback["get", re.compile(r"/openapi/v3/.+")] << self._serve_openapi_group_version
        self._changes = watches.ChangeLog(self.change_log_size)
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

    def close_watches(self) -> None:
        """End every open watch stream (as the server does on shutdown); clients reconnect."""
        self._changes.close()

    def _install_crd(self, crd: Mapping[str, Any]) -> None:
        for served in served_resources_of_crd(crd):
            self.serve(served)

    def _uninstall_crd(self, crd: Mapping[str, Any]) -> None:
        for served in served_resources_of_crd(crd):
            for key, obj in list(self._objects.items()):
                if key[0] == served.ref and not obj.deleted:
                    self._remove(served, key, obj.last.raw)
            self._served.pop(served.ref, None)
            self.resources.pop(served.ref, None)

    def _served_for(self, request: rendering.Request, verb: str) -> ServedResource:
        served = self._served.get(request.resource) if request.resource is not None else None
        if served is None or request.resource.plural is None:
            raise errors.not_found_url()
        if verb not in served.verbs:
            raise errors.method_not_allowed()
        if request.subresource is not None and request.subresource not in served.subresources:
            raise errors.not_found_url()
        if served.namespaced and request.namespace is None and request.name is not None:
            raise errors.not_found_url()
        return served

    # --- HTTP entry ------------------------------------------------------------------------

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        # kmock 0.8 cannot parse the core `namespaces` resource (/api/v1/namespaces[/NAME]) and
        # treats Kubernetes errors as handler failures; so the entry is ours, the routing kmock's.
        await raw_request.read()
        raw_response: aiohttp.web.StreamResponse | None = None
        try:
            request = await parse_request(raw_request, id=len(self._requests))
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
        except Exception as e:
            if not isinstance(e, kmock.KubernetesError):
                logger.exception("The Kubernetes API emulator failed on a request.")
                if self._errors:
                    self._errors[-1].append(e)
            if raw_response is not None and raw_response.prepared:  # a watch already streaming
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
            exc = errors.not_found_url()  # kmock's own 404s, for URLs nothing serves
        if isinstance(exc, kmock.KubernetesError):
            return aiohttp.web.json_response(errors.status_body(exc), status=exc.status)
        return await super()._render_error(exc)

    def _reply(self, request: rendering.Request) -> _Reply:
        return self._replies.setdefault(request, _Reply())

    # --- Discovery -------------------------------------------------------------------------

    async def _serve_apis(self, request: rendering.Request) -> rendering.Payload:
        return discovery.api_group_list(self._served.values())

    async def _serve_group(self, request: rendering.Request) -> rendering.Payload:
        assert request.resource is not None
        return discovery.api_group(self._served.values(), request.resource.group)

    async def _serve_version(self, request: rendering.Request) -> rendering.Payload:
        assert request.resource is not None
        return discovery.api_resource_list(self._served.values(), request.resource.group, request.resource.version)

    async def _serve_openapi_index(self, request: rendering.Request) -> rendering.Payload:
        return discovery.openapi_index(self._served.values(), self._revision)

    async def _serve_openapi_group_version(self, request: rendering.Request) -> rendering.Payload:
        return discovery.openapi_group_version(self._served.values(), request.url.path.removeprefix("/openapi/v3"))

    # --- Reads -----------------------------------------------------------------------------

    async def _serve_fetch(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "get")
        obj = self._get_live(served, request.namespace, request.name)
        if obj is None:
            raise errors.not_found(served, request.name)
        table = tables.table_version(request)
        if table is not None:
            return tables.table(served, [obj], request, table, resource_version=obj["metadata"]["resourceVersion"])
        return obj

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "list")
        matches = selector(request)
        objs = sorted((obj for obj in self._list_live(served, request.namespace) if matches(obj)), key=_sort_key)
        continue_token = None
        limit = int(request.params.get("limit") or 0)
        if request.params.get("continue"):
            start = json.loads(base64.urlsafe_b64decode(request.params["continue"]))
            objs = [obj for obj in objs if list(_sort_key(obj)) > start]
        if limit and len(objs) > limit:
            objs = objs[:limit]
            continue_token = base64.urlsafe_b64encode(json.dumps(_sort_key(objs[-1])).encode()).decode()
        table = tables.table_version(request)
        if table is not None:
            return tables.table(served, objs, request, table, resource_version=str(self._revision))
        metadata: dict[str, Any] = {"resourceVersion": str(self._revision)}
        if continue_token:
            metadata["continue"] = continue_token
        return {
            "apiVersion": served.api_version, "kind": f"{served.kind}List",
            "metadata": metadata, "items": objs,
        }

    async def _serve_watch(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "watch")
        matches = selector(request)
        since_param = request.params.get("resourceVersion") or "0"
        if not since_param.isdigit():
            raise errors.bad_request(f"invalid resource version: {since_param}")
        since = int(since_param)
        initial: list[dict[str, Any]] = []
        if since and since < self._changes.compacted_revision:
            initial.append(watches.expired_event(since, self._changes.compacted_revision))
        elif since:
            initial.extend(
                event for change in self._changes.since(since) if change.ref == served.ref
                if (event := watches.watch_event(change, request, matches)) is not None
            )
        else:
            initial.extend(
                {"type": "ADDED", "object": obj}
                for obj in sorted(self._list_live(served, request.namespace), key=_sort_key)
                if watches.in_scope(obj, request) and matches(obj)
            )
        if request.params.get("sendInitialEvents") == "true":
            initial.append(watches.initial_events_end(served, self._revision))
        queue = self._changes.subscribe()  # in the same synchronous step as the snapshot: nothing is lost
        stream = watches.stream(self._changes, queue, served, request, matches, initial)
        return rendering.Response(headers={"Content-Type": "application/json"}, payload=stream)

    # --- Writes ----------------------------------------------------------------------------

    async def _serve_create(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "create")
        if request.subresource is not None or request.name is not None:
            raise errors.method_not_allowed()
        body = decode_object(request)
        if served.namespaced:
            if request.namespace is None:
                raise errors.method_not_allowed()
            body_namespace = (body.get("metadata") or {}).get("namespace")
            if body_namespace and body_namespace != request.namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request")
        reply = self._reply(request)
        created = self._create(served, request.namespace, body, reply, options=request.params)
        reply.status = 201
        return created

    async def _serve_update(self, request: rendering.Request) -> rendering.Payload:
        verb = "update" if request.method == enums.method.PUT else "patch"
        served = self._served_for(request, verb)
        if request.name is None:
            raise errors.method_not_allowed()
        reply = self._reply(request)
        old = self._get_live(served, request.namespace, request.name)
        if old is None and verb == "patch" and content_type(request) == APPLY_PATCH and request.subresource is None:
            body = decode_object(request)
            body.setdefault("metadata", {})["name"] = request.name
            reply.status = 201
            return self._create(served, request.namespace, body, reply, options=request.params)
        if old is None:
            raise errors.not_found(served, request.name)

        if verb == "update":
            target = decode_object(request)
            if (target.get("metadata") or {}).get("name", request.name) != request.name:
                raise errors.bad_request(f"the name of the object ({target['metadata']['name']}) "
                                         f"does not match the name on the URL ({request.name})")
        else:
            target = patched(served, old, request)
        expected_version = (target.get("metadata") or {}).get("resourceVersion")
        if expected_version and expected_version != old["metadata"]["resourceVersion"]:
            raise errors.conflict(served, request.name)
        new = object_after_write(served, old, target, request.subresource)
        return self._update(served, old, new, reply, options=request.params)

    async def _serve_delete(self, request: rendering.Request) -> rendering.Payload:
        served = self._served_for(request, "delete")
        if request.subresource is not None:
            raise errors.method_not_allowed()
        old = self._get_live(served, request.namespace, request.name)
        if old is None:
            raise errors.not_found(served, request.name)
        options = request.data if isinstance(request.data, dict) else {}
        preconditions = options.get("preconditions") or {}
        if preconditions.get("uid") and preconditions["uid"] != old["metadata"]["uid"]:
            raise errors.conflict(served, request.name,
                                  f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                                  f"UID in object meta: {old['metadata']['uid']}")
        expected_version = preconditions.get("resourceVersion")
        if expected_version and expected_version != old["metadata"]["resourceVersion"]:
            raise errors.conflict(served, request.name)
        if is_dry_run(request.params, options):
            return old
        remaining = self._delete(served, _key(served, request.namespace, request.name), old)
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
            raise errors.bad_request("metadata must be an object")
        if meta.get("resourceVersion"):
            raise errors.bad_request("resourceVersion should not be set on objects to be created")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))
        name = meta.get("name")
        if served.namespaced:
            meta["namespace"] = namespace
            self._check_namespace_accepts(served, namespace, name)
        else:
            meta.pop("namespace", None)
        if name and self._get_live(served, namespace, name) is not None:
            raise errors.already_exists(served, name)

        obj, warnings = admit_object(served, body, None, options)
        reply.warnings.extend(warnings)
        if is_dry_run(options):
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
        obj, warnings = admit_object(served, new, old, options)
        reply.warnings.extend(warnings)
        if _without_version(obj) == _without_version(old):
            return old  # a no-op write: no new resourceVersion, no watch event
        if is_dry_run(options):
            return obj
        self._commit(served, "MODIFIED", obj, old)
        if served.ref == CRDS.ref:
            self._install_crd(obj)
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            if served.ref == NAMESPACES.ref:
                self._finalize_namespace(meta["name"])
            else:
                self._remove(served, _key(served, meta.get("namespace"), meta["name"]), obj)
        return obj

    def _delete(self, served: ServedResource, key: _Key, old: dict[str, Any]) -> dict[str, Any] | None:
        """Delete now, or mark for deletion; return the object if it stays (for its finalizers)."""
        if served.ref == NAMESPACES.ref:
            return self._terminate_namespace(old)
        if not old["metadata"].get("finalizers"):
            self._remove(served, key, old)
            return None
        if old["metadata"].get("deletionTimestamp"):
            return old
        obj = marked_for_deletion(old)
        if served.tracks_generation:
            obj["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        self._commit(served, "MODIFIED", obj, old)
        return obj

    # --- Namespaces ------------------------------------------------------------------------

    def _check_namespace_accepts(self, served: ServedResource, namespace: str | None, name: str | None) -> None:
        ns = self._get_live(NAMESPACES, None, namespace)
        if ns is None:
            raise errors.not_found(NAMESPACES, namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden_in_terminating_namespace(served, namespace, name)

    def _terminate_namespace(self, namespace: dict[str, Any]) -> dict[str, Any] | None:
        """Mark a namespace Terminating and delete what is in it; it goes once it is empty."""
        name = namespace["metadata"]["name"]
        if not namespace["metadata"].get("deletionTimestamp"):
            terminating = marked_for_deletion(namespace)
            terminating["status"] = {"phase": "Terminating"}
            self._commit(NAMESPACES, "MODIFIED", terminating, namespace)
        for key, obj in list(self._objects.items()):
            if key[1] == name and not obj.deleted and key[0] in self._served:
                self._delete(self._served[key[0]], key, obj.last.raw)
        return self._finalize_namespace(name)

    def _finalize_namespace(self, name: str) -> dict[str, Any] | None:
        namespace = self._get_live(NAMESPACES, None, name)
        if namespace is None:
            return None
        meta = namespace["metadata"]
        contents = [key for key, obj in self._objects.items() if key[1] == name and not obj.deleted]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not contents:
            self._remove(NAMESPACES, _key(NAMESPACES, None, name), namespace)
            return None
        return namespace

    # --- Storage ---------------------------------------------------------------------------

    def _get_live(self, served: ServedResource, namespace: str | None, name: str | None) -> dict[str, Any] | None:
        key = _key(served, namespace, name)
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
        key = _key(served, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key in self._objects:
            self._objects[key].history.append(obj)
            if self.history_depth is not None and len(self._objects[key].history) > self.history_depth:
                del self._objects[key].history[:-self.history_depth]
        else:
            self._objects[key] = obj
        self._changes.publish(watches.Change(self._revision, served.ref, type_, obj, old))

    def _remove(self, served: ServedResource, key: _Key, old: dict[str, Any]) -> None:
        self._revision += 1
        gone = copy.deepcopy(old)
        gone["metadata"]["resourceVersion"] = str(self._revision)
        self._objects[key].delete()
        self._changes.publish(watches.Change(self._revision, served.ref, "DELETED", gone, old))
        if served.ref == CRDS.ref:
            self._uninstall_crd(gone)
        namespace = self._get_live(NAMESPACES, None, key[1]) if key[1] else None
        if namespace is not None and namespace["metadata"].get("deletionTimestamp"):
            self._finalize_namespace(key[1])


def _key(served: ServedResource, namespace: str | None, name: str | None) -> _Key:
    return served.ref, namespace if served.namespaced else None, name


def _sort_key(obj: Mapping[str, Any]) -> tuple[str, str]:
    return obj["metadata"].get("namespace") or "", obj["metadata"]["name"]


def _without_version(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}
