"""One reconcile pass over manifests, with references resolved among them."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..conditions import now_iso
from ..controls.base import OrganizationDirectory, Runtime
from ..controls.reconciler import Outcome, reconcile_object
from ..state.organizations import OrganizationInventory
from .manifests import Manifest

AUDIT, ENFORCE, AS_WRITTEN = "Audit", "Enforce", None


@dataclass
class Result:
    manifest: Manifest
    outcome: Outcome
    mode: str
    # Account id -> name, in the object's organization: a plan names the accounts it writes to.
    account_names: dict[str, str] = field(default_factory=dict)


class InventoryRecord(OrganizationDirectory):
    """The organization directory, keeping every inventory it was given, however old: a pass names
    the accounts of its results from them (``Runtime(directory=InventoryRecord())``)."""

    def __init__(self) -> None:
        super().__init__()
        self.inventories: dict[tuple[str, str], OrganizationInventory] = {}

    def put(self, key: tuple[str, str], inventory: OrganizationInventory) -> None:
        super().put(key, inventory)
        self.inventories[key] = inventory


def account_names(runtime: Runtime, manifest: Manifest) -> dict[str, str]:
    """The names of the accounts of the manifest's organization, when this pass read them."""
    if not isinstance(runtime.directory, InventoryRecord):
        return {}
    organization = manifest.name if manifest.kind == "Organization" else \
        str((manifest.spec.get("organizationRef") or {}).get("name", ""))
    inventory = runtime.directory.inventories.get((manifest.namespace, organization))
    return {a.id: a.name for a in inventory.accounts if a.name} if inventory else {}


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
        results.append(Result(manifest, outcome, spec.get("managementPolicy", ENFORCE),
                              account_names(runtime, manifest)))
        if progress is not None:
            progress(manifest)
    return results
