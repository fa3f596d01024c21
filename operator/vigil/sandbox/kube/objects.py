"""
What the API server makes of a requested object before it stores it: the metadata it sets, the
fields of the built-in kinds, admission by the CRD schema, and the generation.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import uuid
from collections.abc import Mapping
from typing import Any

from vigil.sandbox import admission

from . import errors
from .served import CRDS, NAMESPACES, SECRETS, ServedResource

# Set by the server only: a write keeps the stored values whatever it sends.
_SERVER_SET_METADATA = (
    "name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
    "resourceVersion", "generation",
)
_ADMIT_ANYTHING = {"x-kubernetes-preserve-unknown-fields": True}


def admit_object(
        served: ServedResource,
        body: dict[str, Any],
        old: dict[str, Any] | None,
        options: Mapping[str, str],
) -> tuple[dict[str, Any], list[str]]:
    """
    Turn a requested object into the object to store, as the API server would, or refuse it.

    Returns the object and the warnings for the response (the unknown fields pruned);
    raises HTTP 400 for unknown fields with ``fieldValidation=Strict``, HTTP 422 if invalid.
    """
    obj = copy.deepcopy(body)
    obj["apiVersion"] = served.api_version
    obj["kind"] = served.kind
    meta = obj.setdefault("metadata", {})
    errors_found: list[admission.FieldError] = []
    if old is None:
        errors_found += admission.validate_object_name(meta.get("name"), rule=served.name_rule)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now())
        for field in ("deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            meta.pop(field, None)
    else:
        for field in _SERVER_SET_METADATA:
            meta.pop(field, None)
            if field in old["metadata"]:
                meta[field] = old["metadata"][field]
        if meta.get("deletionTimestamp"):
            errors_found += _finalizers_added_while_deleting(old, meta)
    _shape_builtin(served, obj)

    result = admission.admit(served.schema or _ADMIT_ANYTHING, obj)
    obj, meta = result.obj, result.obj["metadata"]
    errors_found += result.errors
    if served.ref == CRDS.ref:
        errors_found += _validate_crd(obj)
    warnings: list[str] = []
    if result.pruned:
        field_validation = options.get("fieldValidation", "Warn")
        if field_validation == "Strict":
            unknown = ", ".join(f'unknown field "{path}"' for path in result.pruned)
            raise errors.bad_request(f'{served.kind} in version "{served.version}" cannot be handled as a '
                                     f'{served.kind}: strict decoding error: {unknown}')
        if field_validation != "Ignore":
            warnings = [f'unknown field "{path}"' for path in result.pruned]
    if errors_found:
        raise errors.invalid(served, meta.get("name") or "", errors_found)

    if served.tracks_generation:
        changed = old is None or _spec_part(obj) != _spec_part(old)
        meta["generation"] = 1 if old is None else old["metadata"].get("generation", 1) + int(changed)
    return obj, warnings


def object_after_write(
        served: ServedResource, old: dict[str, Any], target: dict[str, Any], subresource: str | None,
) -> dict[str, Any]:
    """
    What a PUT or PATCH of `target` leaves, before admission: a write to the main resource keeps
    the old status (when there is a status subresource), a write to ``status`` changes only the
    status, and a namespace's ``finalize`` only its spec.
    """
    if subresource is None:
        new = target
        if "status" in served.subresources:
            new.pop("status", None)
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
        return new
    new = copy.deepcopy(old)
    if subresource == "finalize":
        new["spec"] = target.get("spec") or {}
    elif "status" in target:
        new["status"] = target["status"]
    else:
        new.pop("status", None)
    return new


def marked_for_deletion(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with the deletionTimestamp set: the object stays until its finalizers are removed."""
    marked = copy.deepcopy(dict(obj))
    marked["metadata"]["deletionTimestamp"] = now()
    marked["metadata"]["deletionGracePeriodSeconds"] = 0
    return marked


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _finalizers_added_while_deleting(
        old: Mapping[str, Any], meta: Mapping[str, Any],
) -> list[admission.FieldError]:
    kept = old["metadata"].get("finalizers") or []
    added = [f for f in meta.get("finalizers") or [] if f not in kept]
    if not added:
        return []
    return [admission.FieldError(
        path="metadata.finalizers", reason="FieldValueForbidden",
        message="Forbidden: no new finalizers can be added if the object is being deleted, "
                f"found new finalizers []string{{{', '.join(json.dumps(f) for f in added)}}}",
    )]


def _shape_builtin(served: ServedResource, obj: dict[str, Any]) -> None:
    """What the API server fills in for the built-in kinds served here."""
    if served.ref == NAMESPACES.ref:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        if not obj["metadata"].get("deletionTimestamp"):
            obj["status"] = {"phase": "Active"}
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"].get("name")
    elif served.ref == SECRETS.ref:
        string_data = obj.pop("stringData", None) or {}
        obj["type"] = obj.get("type") or "Opaque"
        data = obj.setdefault("data", {})
        data.update({key: base64.b64encode(str(value).encode()).decode() for key, value in string_data.items()})
    elif served.ref == CRDS.ref:
        spec = obj.get("spec") or {}
        timestamp = now()
        obj["status"] = {
            "acceptedNames": spec.get("names", {}),
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
            "conditions": [
                {"type": kind, "status": "True", "reason": reason, "message": message,
                 "lastTransitionTime": timestamp}
                for kind, reason, message in (
                    ("NamesAccepted", "NoConflicts", "no conflicts found"),
                    ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                )
            ],
        }


def _validate_crd(crd: Mapping[str, Any]) -> list[admission.FieldError]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    found = []
    for field in ("group", "names", "scope", "versions"):
        if not spec.get(field):
            found.append(admission.FieldError(f"spec.{field}", admission.REQUIRED, "Required value"))
    for field in ("plural", "kind"):
        if spec.get("names") and not names.get(field):
            found.append(admission.FieldError(f"spec.names.{field}", admission.REQUIRED, "Required value"))
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if not found and crd["metadata"].get("name") != expected:
        found.append(admission.FieldError(
            "metadata.name", admission.INVALID,
            f'Invalid value: {json.dumps(crd["metadata"].get("name"))}: must be spec.names.plural+"."+spec.group',
        ))
    return found


def _spec_part(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a generation counts: everything except metadata and status."""
    return {key: value for key, value in obj.items() if key not in ("metadata", "status")}
