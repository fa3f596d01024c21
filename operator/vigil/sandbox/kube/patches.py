"""The patch types of PATCH requests: JSON patch, JSON merge patch, apply and strategic merge patch."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch
from kmock._internal import rendering

from . import errors
from .http_requests import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, content_type, decode_object
from .served import ServedResource

# The groups of the built-in kinds served here: only they have the Go types a strategic merge needs.
_BUILTIN_GROUPS = ("", "coordination.k8s.io")


def patched(served: ServedResource, old: dict[str, Any], request: rendering.Request) -> dict[str, Any]:
    """The object the request's patch makes of the old one (HTTP 415 or 422 if it cannot)."""
    media_type = content_type(request)
    if media_type == JSON_PATCH:
        try:
            ops = json.loads(request.body)
            return jsonpatch.apply_patch(copy.deepcopy(old), ops)
        except (ValueError, jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
            raise errors.invalid_patch(str(e) or type(e).__name__) from e
    if media_type == STRATEGIC_PATCH and served.group not in _BUILTIN_GROUPS:
        raise errors.unsupported_media_type(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}")
    if media_type not in (MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH):
        raise errors.unsupported_media_type(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}, {STRATEGIC_PATCH}")
    patch = decode_object(request)
    if media_type == STRATEGIC_PATCH:
        patch = _without_directives(patch)  # an approximation: lists are replaced, not merged by key
    return merge_patch(old, patch)


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
    """A strategic merge patch without its ``$patch``/``$setElementOrder…`` directives."""
    if isinstance(patch, dict):
        return {k: _without_directives(v) for k, v in patch.items() if not k.startswith("$")}
    if isinstance(patch, list):
        return [_without_directives(item) for item in patch]
    return patch
