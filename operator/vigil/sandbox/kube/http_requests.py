"""
Reading a request as the API server does: the Kubernetes meaning of its URL, its body by media
type, and its options.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import aiohttp.web
import multidict
import yaml
from kmock._internal import enums, references, rendering

from . import errors
from .protobuf import decode_protobuf_object
from .served import NAMESPACES

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"


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


def api_prefix(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


async def parse_request(raw_request: aiohttp.web.BaseRequest, *, id: int) -> rendering.Request:
    """The request for kmock's routing, its resource and action read by `parse_api_path`."""
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
        action=_action(path, raw_request.method, params), resource=resource,
        namespace=path.namespace if path else None, name=path.name if path else None,
        subresource=path.subresource if path else None,
    )


def _action(path: ApiPath | None, method: str, params: Mapping[str, str]) -> enums.action | None:
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


def content_type(request: rendering.Request) -> str:
    """The media type of the body, without its parameters (``; charset=utf-8``)."""
    return request.headers.get("Content-Type", "").split(";")[0].strip()


def decode_object(request: rendering.Request) -> dict[str, Any]:
    """The object in the body: JSON, YAML for apply patches, or protobuf as kubectl sends it."""
    media_type = content_type(request)
    try:
        if media_type == PROTOBUF:
            data = decode_protobuf_object(request.body)
        elif media_type == APPLY_PATCH:
            data = yaml.safe_load(request.text)
        else:
            data = json.loads(request.body or b"null")
    except (ValueError, yaml.YAMLError) as e:
        raise errors.bad_request(f"the body of the request cannot be decoded: {e}") from e
    except LookupError as e:
        raise errors.unsupported_media_type(str(e)) from e
    if not isinstance(data, dict):
        raise errors.bad_request("the body of the request must be an object")
    return data


def is_dry_run(*options: Mapping[str, Any]) -> bool:
    """Whether the query (or a DeleteOptions body) asks for a dry run."""
    return any(option.get("dryRun") for option in options)
