"""
Just enough protobuf for the bodies of ``kubectl create namespace|secret``.

kubectl's typed commands send protobuf, not JSON. The field numbers below are those of
k8s.io/api's generated.proto, for the served kinds only.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from typing import Any

_OBJECT_META = {
    1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"), 5: ("uid", "str"),
    6: ("resourceVersion", "str"), 11: ("labels", "map"), 12: ("annotations", "map"),
    14: ("finalizers", "strs"),
}
_KINDS: dict[str, dict[int, tuple[str, Any]]] = {
    "Namespace": {1: ("metadata", _OBJECT_META), 2: ("spec", {1: ("finalizers", "strs")})},
    "Secret": {
        1: ("metadata", _OBJECT_META), 2: ("data", "map_bytes"), 3: ("type", "str"),
        4: ("stringData", "map"), 5: ("immutable", "bool"),
    },
}
_ENVELOPE = {1: ("typeMeta", {1: ("apiVersion", "str"), 2: ("kind", "str")}), 2: ("raw", "bytes")}


def decode_protobuf_object(body: bytes) -> dict[str, Any]:
    """
    Decode a Kubernetes protobuf body (``k8s\\0`` + runtime.Unknown) of a Namespace or Secret.

    ValueError if it is not one; LookupError for the kinds not decoded here.
    """
    if not body.startswith(b"k8s\x00"):
        raise ValueError("not a Kubernetes protobuf envelope")
    envelope = _decode_message(body[4:], _ENVELOPE)
    type_meta = envelope.get("typeMeta", {})
    kind = type_meta.get("kind")
    if kind not in _KINDS:
        raise LookupError(f"protobuf bodies of {kind} are not supported here; send JSON (e.g. kubectl apply -f)")
    return {**type_meta, **_decode_message(envelope.get("raw", b""), _KINDS[kind])}


def _decode_message(data: bytes, fields: Mapping[int, tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for number, value in _fields(data):
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
            entry = dict(_fields(value))
            item = entry.get(2, b"")
            item = base64.b64encode(item).decode() if kind == "map_bytes" else item.decode()
            result.setdefault(name, {})[entry.get(1, b"").decode()] = item
    return result


def _fields(data: bytes) -> Iterator[tuple[int, Any]]:
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
