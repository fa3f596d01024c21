"""Server-side Table output (``kubectl get``): printer columns rendered through their JSONPath."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kmock._internal import rendering

from .served import ServedResource

NAME_COLUMN = {
    "name": "Name", "type": "string", "format": "name", "jsonPath": ".metadata.name",
    "description": "Name must be unique within a namespace.",
}


def table_version(request: rendering.Request) -> str | None:
    """meta.k8s.io/v1 (or v1beta1) when the client asks for a Table, as kubectl get does."""
    for accepted in request.headers.get("Accept", "").split(","):
        params = dict(p.strip().partition("=")[::2] for p in accepted.split(";")[1:])
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return f"meta.k8s.io/{params.get('v', 'v1')}"
    return None


def table(
        served: ServedResource,
        objs: Iterable[Mapping[str, Any]],
        request: rendering.Request,
        api_version: str,
        *,
        columns: bool = True,
        resource_version: str | None = None,
) -> dict[str, Any]:
    """A Table of the objects; without `columns`, its rows only (as in a watch's later events)."""
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
    result: dict[str, Any] = {"kind": "Table", "apiVersion": api_version, "metadata": metadata, "rows": rows}
    if columns:
        result["columnDefinitions"] = [{
            "name": column["name"], "type": column["type"], "format": column.get("format", ""),
            "description": column.get("description", ""), "priority": column.get("priority", 0),
        } for column in definitions]
    return result


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
