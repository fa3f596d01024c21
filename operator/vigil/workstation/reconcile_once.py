"""One reconcile pass over manifests, with references resolved among them."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..conditions import now_iso
from ..controls.base import Runtime
from ..controls.reconciler import Outcome, reconcile_object
from .manifests import Manifest

AUDIT, ENFORCE, AS_WRITTEN = "Audit", "Enforce", None


@dataclass
class Result:
    manifest: Manifest
    outcome: Outcome
    mode: str


class ManifestLookup:
    """References resolve to the other manifests and to the statuses this pass produced."""

    def __init__(self, planning: bool) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._planning = planning

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((kind, namespace, name))

    def secret(self, namespace: str, name: str, key: str) -> str:
        # Outside a cluster there is no Secret to read: the external id comes from the environment.
        value = os.environ.get("VIGIL_EXTERNAL_ID")
        if value is None:
            raise LookupError(f"Secret {namespace}/{name} is not read outside a cluster; set VIGIL_EXTERNAL_ID")
        return value

    def in_namespace(self, namespace: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [(kind, name, body) for (kind, ns, name), body in self.objects.items() if ns == namespace]

    def record(self, manifest: Manifest, status: dict[str, Any]) -> None:
        status = copy.deepcopy(status)
        if self._planning and manifest.kind == "LogArchive" and not status.get("kmsKeyArn"):
            # A plan on a fresh organization: the key does not exist yet, but the trail's plan can
            # still be shown against the key the LogArchive will create.
            alias = (manifest.spec.get("kms") or {}).get("alias", "alias/vigil-log-archive")
            status["kmsKeyArn"] = f"(the key {alias} will create)"
        self.objects[manifest.key] = {"spec": manifest.spec, "status": status}


def reconcile_all(manifests: list[Manifest], mode: str | None, runtime: Runtime, regions: list[str] | None = None,
                  progress: Callable[[Manifest], None] | None = None) -> list[Result]:
    """Reconcile each manifest once, in order. ``mode`` forces Audit (read only) or Enforce;
    None keeps each manifest's own managementPolicy, as the operator would."""
    lookup = ManifestLookup(planning=mode == AUDIT)
    results = []
    for manifest in manifests:
        spec = copy.deepcopy(manifest.spec)
        if mode is not None:
            spec["managementPolicy"] = mode
        if regions and manifest.kind not in ("Organization", "LogArchive", "OrgTrail"):
            spec["regions"] = [r for r in (spec.get("regions") or regions) if r in regions]
        outcome = reconcile_object(manifest.kind, manifest.namespace, manifest.name, 1, spec, {}, lookup, runtime,
                                   now=now_iso, meta={"annotations": manifest.annotations})
        lookup.record(manifest, outcome.status)
        results.append(Result(manifest, outcome, spec.get("managementPolicy", ENFORCE)))
        if progress is not None:
            progress(manifest)
    return results
