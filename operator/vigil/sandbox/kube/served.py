"""What the emulator serves: one `ServedResource` per group/version/plural, built in or from a CRD."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from kmock._internal import references

DEFAULT_CRDS_DIR = Path(__file__).resolve().parents[4] / "crds"

CRD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


@dataclasses.dataclass(frozen=True)
class ServedResource:
    """One served resource (a group/version/plural) and what the API server knows of it."""
    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = CRD_VERBS
    subresources: tuple[str, ...] = ()
    schema: Mapping[str, Any] | None = None  # openAPIV3Schema; None admits anything
    printer_columns: tuple[Mapping[str, Any], ...] = (AGE_COLUMN,)
    tracks_generation: bool = True  # custom resources and CRDs do, most built-in kinds do not
    name_rule: str = "subdomain"  # or 'label' (see admission.validate_object_name)

    @property
    def ref(self) -> references.resource:
        return references.resource(self.group, self.version, self.plural)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_kind(self) -> str:
        """As the API server names the kind in "… is invalid" messages: ``OrgTrail.vigil.dev``."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def group_resource(self) -> str:
        """As the API server names the resource in other messages: ``orgtrails.vigil.dev``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


NAMESPACES = ServedResource(
    group="", version="v1", plural="namespaces", kind="Namespace", singular="namespace",
    namespaced=False, short_names=("ns",), subresources=("status", "finalize"),
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    printer_columns=({"name": "Status", "type": "string", "jsonPath": ".status.phase"}, AGE_COLUMN),
    tracks_generation=False, name_rule="label",
)
CRDS = ServedResource(
    group="apiextensions.k8s.io", version="v1", plural="customresourcedefinitions",
    kind="CustomResourceDefinition", singular="customresourcedefinition", namespaced=False,
    short_names=("crd", "crds"), categories=("api-extensions",), subresources=("status",),
    printer_columns=({"name": "Created At", "type": "string", "jsonPath": ".metadata.creationTimestamp"},),
)
SECRETS = ServedResource(
    group="", version="v1", plural="secrets", kind="Secret", singular="secret", namespaced=True,
    tracks_generation=False,
    printer_columns=({"name": "Type", "type": "string", "jsonPath": ".type"}, AGE_COLUMN),
)
BUILTIN_RESOURCES = (
    NAMESPACES,
    CRDS,
    ServedResource(
        group="", version="v1", plural="events", kind="Event", singular="event", namespaced=True,
        short_names=("ev",), tracks_generation=False,
        printer_columns=(
            {"name": "Last Seen", "type": "date", "jsonPath": ".lastTimestamp"},
            {"name": "Type", "type": "string", "jsonPath": ".type"},
            {"name": "Reason", "type": "string", "jsonPath": ".reason"},
            {"name": "Object", "type": "string", "jsonPath": ".involvedObject.name"},
            {"name": "Message", "type": "string", "jsonPath": ".message"},
        ),
    ),
    SECRETS,
    ServedResource(
        group="coordination.k8s.io", version="v1", plural="leases", kind="Lease", singular="lease",
        namespaced=True, tracks_generation=False,
        printer_columns=({"name": "Holder", "type": "string", "jsonPath": ".spec.holderIdentity"}, AGE_COLUMN),
    ),
)


def served_resources_of_crd(crd: Mapping[str, Any]) -> list[ServedResource]:
    """The resources a CRD serves: one per served version."""
    spec = crd["spec"]
    names = spec["names"]
    return [
        ServedResource(
            group=spec["group"],
            version=version["name"],
            plural=names["plural"],
            kind=names["kind"],
            singular=names.get("singular") or names["kind"].lower(),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=tuple(sorted(version.get("subresources") or ())),
            schema=(version.get("schema") or {}).get("openAPIV3Schema"),
            printer_columns=tuple(version.get("additionalPrinterColumns") or (AGE_COLUMN,)),
        )
        for version in spec.get("versions") or []
        if version.get("served", True)
    ]


def load_crds(directory: Path) -> list[dict[str, Any]]:
    """All CustomResourceDefinitions in the YAML files of a directory (other documents ignored)."""
    crds = []
    for path in sorted(directory.glob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                crds.append(doc)
    return crds
