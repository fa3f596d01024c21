"""
Admission by a structural schema, as the Kubernetes API server does it for custom resources.

Three pure passes over plain JSON-like data, in the API server's order: `prune` drops the fields
the schema does not declare (and nulls in non-nullable fields), `default` fills in the schema's
`default` values, `validate` checks the result and returns the API server's field errors.
`admit` runs all three. `validate_object_name` checks `metadata.name` the way the API server does.

Only what a CRD's `openAPIV3Schema` may hold is understood: the OpenAPI v3 value validations,
`nullable`, and the `x-kubernetes-*` extensions (int-or-string, preserve-unknown-fields,
embedded-resource, list-type and list-map-keys). CEL rules (`x-kubernetes-validations`) and
validation ratcheting are not emulated. Messages follow the API server's wording, e.g.
``spec.trailName: Invalid value: "x": spec.trailName in body should match '^[a-z]+$'``.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

# The reasons of `details.causes[]` in the API server's Status (k8s.io/apimachinery field.ErrorType).
REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
TYPE_INVALID = "FieldValueTypeInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"

# The words the API server starts an error's message with, by reason.
_TITLES = {
    REQUIRED: "Required value",
    INVALID: "Invalid value",
    TYPE_INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
    DUPLICATE: "Duplicate value",
    TOO_LONG: "Too long",
    TOO_MANY: "Too many",
}
_VALUELESS = {REQUIRED, TOO_LONG}  # their message does not repeat the bad value

# The fields of ObjectMeta: anything else under the root `metadata` is dropped on decoding.
OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
})

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + r"(\." + _DNS1123_LABEL + r")*"
_NAME_RULES = {
    # rule: (regex, max length, the API server's explanation)
    "subdomain": (
        _DNS1123_SUBDOMAIN, 253,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        f"regex used for validation is '{_DNS1123_SUBDOMAIN}')",
    ),
    "label": (
        _DNS1123_LABEL, 63,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        f"regex used for validation is '{_DNS1123_LABEL}')",
    ),
}


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One field's error as the API server reports it in ``details.causes[]``."""
    path: str  # e.g. "spec.accounts.logArchive", "status.conditions[0].type"
    reason: str  # e.g. "FieldValueRequired", "FieldValueInvalid"
    message: str  # e.g. "Required value", 'Invalid value: "x": spec.x in body should match ...'

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def as_cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.path}


@dataclasses.dataclass(frozen=True)
class Admission:
    """The outcome of `admit`: the object as it would be stored, and what was wrong with it."""
    obj: dict[str, Any]
    pruned: list[str]  # paths of the dropped unknown fields, e.g. ["spec.foo"]
    errors: list[FieldError]


def admit(schema: Mapping[str, Any], obj: Mapping[str, Any]) -> Admission:
    """Prune, default and validate a whole object against its CRD's `openAPIV3Schema`."""
    pruned_obj, pruned = prune(schema, obj)
    defaulted = default(schema, pruned_obj)
    return Admission(obj=defaulted, pruned=pruned, errors=validate(schema, defaulted))


def prune(schema: Mapping[str, Any], obj: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """
    Drop the fields the schema does not declare; return the pruned copy and the dropped paths.

    As the API server does for structural schemas: fields are kept only where declared in
    `properties` or allowed by `additionalProperties` or `x-kubernetes-preserve-unknown-fields`.
    The root `metadata` is ObjectMeta and keeps only its own fields. Nulls in fields that are
    not `nullable` and have no `default` are dropped too, silently.
    """
    result = copy.deepcopy(dict(obj))
    dropped: list[str] = []
    meta = result.get("metadata")
    if isinstance(meta, dict):
        for key in [key for key in meta if key not in OBJECT_META_FIELDS]:
            del meta[key]
            dropped.append(f"metadata.{key}")
    _prune(result, schema, "", dropped, root=True)
    return result, dropped


def _prune(value: Any, schema: Mapping[str, Any], path: str, dropped: list[str], *, root: bool = False) -> None:
    if isinstance(value, dict):
        properties: Mapping[str, Any] = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        keeps_unknown = bool(schema.get("x-kubernetes-preserve-unknown-fields")) or additional is True
        implicit = {"apiVersion", "kind", "metadata"} if root or schema.get("x-kubernetes-embedded-resource") else set()
        for key in list(value):
            sub_path = _join(path, key)
            if root and key == "metadata":
                continue  # ObjectMeta: pruned by the field list, not by the schema
            if key in properties:
                sub_schema = properties[key]
            elif isinstance(additional, Mapping):
                sub_schema = additional
            elif keeps_unknown or key in implicit:
                continue
            else:
                del value[key]
                dropped.append(sub_path)
                continue
            if value[key] is None and not sub_schema.get("nullable") and "default" not in sub_schema:
                del value[key]
            else:
                _prune(value[key], sub_schema, sub_path, dropped)
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            _prune(item, schema["items"], f"{path}[{index}]", dropped)


def default(schema: Mapping[str, Any], obj: Mapping[str, Any]) -> dict[str, Any]:
    """
    Fill in the schema's `default` values, recursively, wherever the enclosing object exists.

    As the API server's structural defaulting: an absent field (or a null in a non-nullable one)
    gets a copy of its default, and the defaults inside that default apply too.
    """
    result = copy.deepcopy(dict(obj))
    _default(result, schema)
    return result


def _default(value: Any, schema: Mapping[str, Any]) -> None:
    if isinstance(value, dict):
        properties: Mapping[str, Any] = schema.get("properties") or {}
        for key, sub_schema in properties.items():
            if "default" not in sub_schema:
                continue
            if key not in value or (value[key] is None and not sub_schema.get("nullable")):
                value[key] = copy.deepcopy(sub_schema["default"])
        additional = schema.get("additionalProperties")
        for key, sub_value in value.items():
            if key in properties:
                _default(sub_value, properties[key])
            elif isinstance(additional, Mapping):
                _default(sub_value, additional)
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for item in value:
            _default(item, schema["items"])


def validate(schema: Mapping[str, Any], obj: Mapping[str, Any]) -> list[FieldError]:
    """
    Check an object against an OpenAPI v3 schema; return the API server's field errors.

    The root `metadata` is not checked here (see `validate_object_name`). An empty list
    means the object is valid.
    """
    return list(_validate(obj, schema, "", root=True))


def _validate(value: Any, schema: Mapping[str, Any], path: str, *, root: bool = False) -> Iterator[FieldError]:
    if value is None:
        if not schema.get("nullable") and _types_of(schema):
            yield _type_error(path, value, schema)
        return
    if _types_of(schema) and not _has_type(value, schema):
        yield _type_error(path, value, schema)
        return

    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(_go_quote(str(v)) for v in schema["enum"])
        yield _error(path, NOT_SUPPORTED, value, f"supported values: {supported}")

    if isinstance(value, str):
        yield from _validate_string(value, schema, path)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield from _validate_number(value, schema, path)
    elif isinstance(value, list):
        yield from _validate_array(value, schema, path)
    elif isinstance(value, dict):
        yield from _validate_object(value, schema, path, root=root)

    yield from _validate_combinators(value, schema, path)


def _validate_string(value: str, schema: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        yield _error(path, TOO_LONG, value, f"may not be more than {schema['maxLength']} bytes")
    if "minLength" in schema and len(value) < schema["minLength"]:
        yield _error(path, INVALID, value, f"{path} in body should be at least {schema['minLength']} chars long")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        yield _error(path, INVALID, value, f"{path} in body should match '{schema['pattern']}'")
    if "format" in schema and not _has_format(value, schema["format"]):
        yield _error(path, INVALID, value, f"{path} in body must be of type {schema['format']}: {_go_quote(value)}")


def _validate_number(value: int | float, schema: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    if "minimum" in schema:
        minimum = schema["minimum"]
        if schema.get("exclusiveMinimum") and value <= minimum:
            yield _error(path, INVALID, value, f"{path} in body should be greater than {minimum}")
        elif value < minimum:
            yield _error(path, INVALID, value, f"{path} in body should be greater than or equal to {minimum}")
    if "maximum" in schema:
        maximum = schema["maximum"]
        if schema.get("exclusiveMaximum") and value >= maximum:
            yield _error(path, INVALID, value, f"{path} in body should be less than {maximum}")
        elif value > maximum:
            yield _error(path, INVALID, value, f"{path} in body should be less than or equal to {maximum}")
    if schema.get("multipleOf") and (value / schema["multipleOf"]) % 1:
        yield _error(path, INVALID, value, f"{path} in body should be a multiple of {schema['multipleOf']}")


def _validate_array(value: list[Any], schema: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        yield _error(path, TOO_MANY, len(value), f"must have at most {schema['maxItems']} items")
    if "minItems" in schema and len(value) < schema["minItems"]:
        yield _error(path, INVALID, len(value), f"{path} in body should have at least {schema['minItems']} items")
    items = schema.get("items")
    if isinstance(items, Mapping):
        for index, item in enumerate(value):
            yield from _validate(item, items, f"{path}[{index}]")

    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen: set[str] = set()
        for index, item in enumerate(value):
            if isinstance(item, dict):
                identity = json.dumps({key: item.get(key) for key in keys}, sort_keys=True)
                if identity in seen:
                    yield _error(f"{path}[{index}]", DUPLICATE, {key: item.get(key) for key in keys if key in item})
                seen.add(identity)
    elif list_type == "set" or schema.get("uniqueItems"):
        seen = set()
        for index, item in enumerate(value):
            identity = json.dumps(item, sort_keys=True)
            if identity in seen:
                yield _error(f"{path}[{index}]", DUPLICATE, item)
            seen.add(identity)


def _validate_object(
        value: dict[str, Any], schema: Mapping[str, Any], path: str, *, root: bool,
) -> Iterator[FieldError]:
    for key in schema.get("required") or []:
        if key not in value:
            yield _error(_join(path, key), REQUIRED, None)
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        yield _error(path, TOO_MANY, len(value), f"must have at most {schema['maxProperties']} items")
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        detail = f"{path} in body should have at least {schema['minProperties']} properties"
        yield _error(path, INVALID, len(value), detail)

    properties: Mapping[str, Any] = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    for key, sub_value in value.items():
        if root and key == "metadata":
            continue  # ObjectMeta is validated by the API server's own rules, not by the schema
        if key in properties:
            yield from _validate(sub_value, properties[key], _join(path, key))
        elif isinstance(additional, Mapping):
            yield from _validate(sub_value, additional, _join(path, key))


def _validate_combinators(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    for sub_schema in schema.get("allOf") or []:
        yield from _validate(value, sub_schema, path)
    if schema.get("anyOf") and not any(not list(_validate(value, sub, path)) for sub in schema["anyOf"]):
        yield _error(path, INVALID, value, f"{path} in body must validate at least one schema (anyOf)")
    if schema.get("oneOf"):
        matching = sum(1 for sub in schema["oneOf"] if not list(_validate(value, sub, path)))
        if matching != 1:
            yield _error(path, INVALID, value, f"{path} in body must validate one and only one schema (oneOf)")
    if isinstance(schema.get("not"), Mapping) and not list(_validate(value, schema["not"], path)):
        yield _error(path, INVALID, value, f"{path} in body must not validate the schema (not)")


def validate_object_name(name: Any, *, rule: str = "subdomain", path: str = "metadata.name") -> list[FieldError]:
    """Check a name as the API server does: an RFC 1123 ``subdomain`` (most kinds) or ``label``."""
    regex, max_length, explanation = _NAME_RULES[rule]
    if not name:
        return [_error(path, REQUIRED, None, "name or generateName is required")]
    if not isinstance(name, str):
        return [_type_error(path, name, {"type": "string"})]
    errors = []
    if len(name) > max_length:
        errors.append(_error(path, INVALID, name, f"must be no more than {max_length} characters"))
    if not re.fullmatch(regex, name):
        errors.append(_error(path, INVALID, name, explanation))
    return errors


def _types_of(schema: Mapping[str, Any]) -> set[str]:
    if schema.get("x-kubernetes-int-or-string"):
        return {"integer", "string"}
    kind = schema.get("type")
    return {kind} if isinstance(kind, str) else set(kind or ())


def _has_type(value: Any, schema: Mapping[str, Any]) -> bool:
    kinds = _types_of(schema)
    return any(_is_of_type(value, kind) for kind in kinds)


def _is_of_type(value: Any, kind: str) -> bool:
    match kind:
        case "string":
            return isinstance(value, str)
        case "boolean":
            return isinstance(value, bool)
        case "integer":
            is_int = isinstance(value, int) and not isinstance(value, bool)
            return is_int or (isinstance(value, float) and value.is_integer())
        case "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        case "object":
            return isinstance(value, dict)
        case "array":
            return isinstance(value, list)
    return True


def _json_type_name(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case dict():
            return "object"
    return type(value).__name__


def _type_error(path: str, value: Any, schema: Mapping[str, Any]) -> FieldError:
    actual = _json_type_name(value)
    expected = ",".join(sorted(_types_of(schema)))
    detail = f"{path} in body must be of type {expected}: {_go_quote(actual)}"
    return _error(path, TYPE_INVALID, actual, detail)


_FORMATS = {
    "date-time": re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
}


def _has_format(value: str, fmt: str) -> bool:
    if fmt in _FORMATS:
        if not _FORMATS[fmt].fullmatch(value):
            return False
        try:
            datetime.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    if fmt == "uuid":
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True
    if fmt == "byte":
        try:
            base64.b64decode(value, validate=True)
        except ValueError:
            return False
        return True
    return True  # formats the API server does not check for custom resources


def _error(path: str, reason: str, value: Any, detail: str = "") -> FieldError:
    message = _TITLES[reason]
    if reason not in _VALUELESS:
        message += f": {_go_value(value)}"
    if detail:
        message += f": {detail}"
    return FieldError(path=path, reason=reason, message=message)


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _go_value(value: Any) -> str:
    """Render a bad value as the API server does (Go's %q for strings, %#v for the rest)."""
    match value:
        case None:
            return "null"
        case bool():
            return "true" if value else "false"
        case int() | float():
            return repr(value)
        case str():
            return _go_quote(value)
        case dict():
            items = ", ".join(f"{_go_quote(str(k))}:{_go_value(v)}" for k, v in value.items())
            return f"map[string]interface {{}}{{{items}}}"
        case list():
            return f"[]interface {{}}{{{', '.join(_go_value(v) for v in value)}}}"
    return repr(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
