"""`vigil get`: the printer columns of every vigil.dev object, as `kubectl get vigil` shows them.

kubectl asks the API server to render the columns (a cluster and the test control plane both
serve them); this renders them client-side from the same CRD definitions, so `vigil get` shows
them where kubectl is not installed.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from .api import GROUP, KINDS, VERSION
from .crdgen import crd

_FILTER = re.compile(r'^\.(?P<list>[\w.]+)\[\?\(@\.(?P<key>\w+)=="(?P<value>[^"]*)"\)\]\.(?P<field>\w+)$')


def column_value(obj: dict[str, Any], json_path: str) -> Any:
    """The subset of JSONPath printer columns use: ``.a.b`` and ``.list[?(@.k=="v")].field``."""
    match = _FILTER.match(json_path)
    if match:
        items = _walk(obj, match["list"]) or []
        hit = next((i for i in items if isinstance(i, dict) and i.get(match["key"]) == match["value"]), None)
        return None if hit is None else hit.get(match["field"])
    return _walk(obj, json_path.lstrip("."))


def _walk(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _age(timestamp: str | None, now: datetime) -> str:
    if not timestamp:
        return "<unknown>"
    seconds = int((now - datetime.fromisoformat(timestamp.replace("Z", "+00:00"))).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def rows(kind: str, objects: list[dict[str, Any]], now: datetime | None = None) -> list[list[str]]:
    """Header and one row per object, priority-0 columns only (as kubectl without -o wide)."""
    now = now or datetime.now(timezone.utc)
    columns = [col for col in crd(KINDS[kind])["spec"]["versions"][0]["additionalPrinterColumns"]
               if not col.get("priority")]
    table = [["NAMESPACE", "NAME", *(col["name"].upper() for col in columns)]]
    for obj in objects:
        meta = obj.get("metadata", {})
        cells = [meta.get("namespace", ""), f"{KINDS[kind].singular}.{GROUP}/{meta.get('name', '')}"]
        for col in columns:
            value = column_value(obj, col["jsonPath"])
            cells.append(_age(value, now) if col["type"] == "date" else ("" if value is None else str(value)))
        table.append(cells)
    return table


def format_table(table: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


def print_status(namespace: str | None = None, kinds: list[str] | None = None) -> int:
    from kubernetes import client, config

    config.load_kube_config()
    api = client.CustomObjectsApi()
    for kind in kinds or list(KINDS):
        plural = KINDS[kind].plural
        if namespace:
            listing = api.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)
        else:
            listing = api.list_cluster_custom_object(GROUP, VERSION, plural)
        if listing.get("items"):
            print(format_table(rows(kind, listing["items"])))
            print()
    return 0
