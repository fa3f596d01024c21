"""`vigil get`: the printer columns of every vigil.dev object, as `kubectl get vigil` shows them.

kubectl asks the API server to render the columns (a cluster and the test control plane both
serve them); this renders them client-side from the same CRD definitions, so `vigil get` shows
them where kubectl is not installed.
"""

from __future__ import annotations

import os
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


def resolve_kind(name: str) -> str:
    """A kind by its kind name, plural or short name, any case, as kubectl takes it (``orgtrail``,
    ``OrgTrails``, ``vtrail``, ``orgtrail.vigil.dev``); KeyError when none is (``kind_names``)."""
    wanted = name.lower().removesuffix(f".{GROUP}")
    for kind, info in KINDS.items():
        if wanted in (kind.lower(), info.plural, *info.short_names):
            return kind
    raise KeyError(name)


def kind_names() -> str:
    """Every kind and its other names, as one line."""
    return ", ".join(f"{info.singular} ({info.plural}, {', '.join(info.short_names)})" for info in KINDS.values())


def print_status(namespace: str | None = None, kinds: list[str] | None = None, names: list[str] | None = None) -> int:
    """The table of each kind in ``kinds`` (kind names: every kind when None) that has objects,
    only ``names`` when given. ``ClusterError`` when the cluster cannot be asked."""
    api = _cluster_api()
    found: set[str] = set()
    for kind in kinds or list(KINDS):
        plural = KINDS[kind].plural
        try:
            if namespace:
                listing = api.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)
            else:
                listing = api.list_cluster_custom_object(GROUP, VERSION, plural)
        except Exception as exc:  # the kubernetes client's errors are told as ClusterError; anything else is a bug
            told = _cluster_error(exc, f"list {plural}.{GROUP}")
            if told is None:
                raise
            raise told from exc
        items = [i for i in listing.get("items") or [] if not names or i.get("metadata", {}).get("name") in names]
        found |= {i.get("metadata", {}).get("name") for i in items}
        if items:
            print(format_table(rows(kind, items)))
            print()
    missing = [n for n in names or [] if n not in found]
    if missing:
        where = f"namespace {namespace}" if namespace else "any namespace"
        listing_command = f"vigil get {kinds[0].lower()}" if kinds else "vigil get"
        raise ClusterError(f"{', '.join(missing)} not found in {where}", f"list what there is with `{listing_command}`")
    return 0


class ClusterError(Exception):
    """The cluster could not be asked: no kubeconfig, no answer, a refusal; what is wrong and what to do."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what, fix)
        self.what, self.fix = what, fix


def _cluster_api() -> Any:
    from kubernetes import client, config

    try:
        config.load_kube_config()
    except Exception as exc:  # whatever a kubeconfig that cannot be used raises (YAML, keys, files)
        if not os.environ.get("KUBERNETES_SERVICE_HOST"):
            told = os.environ.get("KUBECONFIG")
            if told or os.path.exists(os.path.expanduser("~/.kube/config")):
                why = " ".join(str(getattr(exc, "problem", None) or exc).split())[:200]
                what = f"cannot use the kubeconfig {told or '~/.kube/config'} ({type(exc).__name__}: {why})"
            else:
                what = "no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist"
            raise ClusterError(what, "set KUBECONFIG to the cluster's kubeconfig, or choose a context with "
                                     "`kubectl config use-context`") from exc
        config.load_incluster_config()  # in a pod: its ServiceAccount
    return client.CustomObjectsApi()


def _cluster_error(exc: Exception, what: str) -> ClusterError | None:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    if isinstance(exc, ApiException):
        if exc.status == 404:
            return ClusterError(f"the cluster does not serve {what.split()[-1]}",
                                "install Vigil's CRDs: kubectl apply -k deploy/")
        if exc.status in (401, 403):
            return ClusterError(f"the cluster refused to {what} ({exc.status} {exc.reason})",
                                "check the kubeconfig's credentials and that they may get and list vigil.dev objects")
        return ClusterError(f"the cluster answered {exc.status} {exc.reason} to {what}", "try again")
    if isinstance(exc, HTTPError):
        return ClusterError(f"the cluster did not answer ({type(exc).__name__})",
                            "check that the kubeconfig's current context points at a running cluster")
    return None
