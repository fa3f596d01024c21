"""Which spec edits weaken, judged against the spec they replace: the table admission enforces.

``weakening`` judges the AWS writes a spec leads to against what AWS has now; this table judges an
edit of the spec against the previous spec, so that the API server refuses a weakening edit before
the operator ever sees it (``vigil.admission_policy`` renders the table as the CEL of the
ValidatingAdmissionPolicy in deploy/). An edit is admitted when the object's
``vigil.dev/allow-weakening`` annotation names every change it weakens, in the entries the operator
prints for the same change: ``spec.<field>=<new value>``; a list by one entry per item,
``=-<item>`` lost or ``=+<item>`` gained; free text escaped (``weakening.item_token``).

A rule (``spec_rules``) judges in Python and in CEL alike, over the same values: a field as the API
server holds it, its model default where it is absent (``read``), the rule's ``unset`` where the
model has none. What is not here is not weakening at admission: names and references (moves, which
the operator judges by the writes they lead to), adoption, delivery tuning (formats, buffers,
aggregation intervals, the findings export frequency; a LogSubscriptionPolicy's delivery.type,
either of which brings every event to the bucket), a LogSubscriptionPolicy's method (the other
method's filters or policies stay in place), Object Lock's enableOnExistingBucket and its COMPLIANCE
acknowledgement (S3 undoes neither when they are withdrawn), Config rule parameters (no direction)
and the idle session timeout (not logging). An update that leaves the spec as it is is never judged.

Pure: two specs in, entries out.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from vigil.api import KINDS
from vigil.api.guardduty import GuardDutyFeatures, RuntimeMonitoringAgentManagement

from .spec_rules import (BUCKET, NAME, Added, Covered, Covers, Flag, Filtered, Item, Longer, Narrowed, RecordedDaily,
                         Removed, Rule, Shorter, TagsNarrowed, cel_literal, ranked)
from .weakening import AUTO_ENABLE, DELIVERY_FREQUENCY, READ_WRITE_COVERS, TRAFFIC_COVERS

# --- the table -------------------------------------------------------------------------------------

NO_EXPIRY = 2**63 - 1  # an absent expiry keeps logs for ever: longer than any number of days
SCOPE_COVERS: Covers = {"AllAccounts": ("AllAccounts", "Workloads", "SharedNetwork", "Accounts"),
                        "Workloads": ("Workloads",), "SharedNetwork": ("SharedNetwork",), "Accounts": ("Accounts",)}
# A recorder records global resources (IAM, ...) in every region, in the home region, or nowhere.
GLOBAL_RESOURCE_TYPES = ("None", "HomeRegionOnly", "AllRegions")
# Config records a configuration item once a day, or at every change.
RECORDING_FREQUENCY = ("DAILY", "CONTINUOUS")

CONTROL_ID = Item(lambda control: control["id"], "{}.id")  # a Security Hub control, named by its id

# What every managed kind carries. Audit stops drift correction, which the operator's own guard
# cannot hold (it judges writes, and Audit makes none); Delete lets Vigil delete what it created
# when the object goes; a longer resync leaves drift in place longer.
MANAGED: tuple[Rule, ...] = (
    Covered("managementPolicy", covers=ranked(("Audit", "Enforce"))),
    Covered("deletionPolicy", covers=ranked(("Delete", "Retain"))),
    Longer("resyncInterval"),
)
CONTROL: tuple[Rule, ...] = (*MANAGED, Narrowed("regions"))  # empty: the governed regions
SCOPED: tuple[Rule, ...] = (Covered("scope", covers=SCOPE_COVERS),
                            Removed("accountIds", when=(("scope", "Accounts"),)))
_ON = (("enabled", True),)


def _under(prefix: str, when: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, Any], ...]:
    return tuple((f"{prefix}.{path}", value) for path, value in when)


SPEC_RULES: dict[str, tuple[Rule, ...]] = {
    # Organization only reads AWS: its management and deletion policies do nothing; what it
    # governs is which accounts and regions every control covers.
    "Organization": (
        Longer("resyncInterval"),
        Flag("workloads.all"),
        Removed("workloads.accountIds", when=(("workloads.all", False),)),
        Removed("workloads.organizationalUnits", when=(("workloads.all", False),)),
        Added("workloads.excludeAccountIds"),
        Removed("regions.governed"),
    ),
    "LogArchive": (
        *MANAGED,
        Shorter("retention.expireAfterDays", unset=NO_EXPIRY),
        # Only COMPLIANCE binds everyone: GOVERNANCE can be bypassed with a permission, like no lock.
        Covered("objectLock.mode", covers={"": (), "GOVERNANCE": (), "COMPLIANCE": ("COMPLIANCE",)}),
        Shorter("objectLock.days"),  # no lock: 0 days
    ),
    "OrgTrail": (
        *MANAGED,
        Covered("managementEvents.readWriteType", covers=READ_WRITE_COVERS),
        Flag("managementEvents.excludeKmsEvents", weak=True),
        Flag("dataEvents.s3.enabled"),
        Covered("dataEvents.s3.readWriteType", when=_under("dataEvents.s3", _ON), covers=READ_WRITE_COVERS),
        Narrowed("dataEvents.s3.bucketArns", when=_under("dataEvents.s3", _ON), item=BUCKET),
        Flag("cloudWatchLogs.enabled"),
        Shorter("cloudWatchLogs.retentionDays", when=_under("cloudWatchLogs", _ON)),
        Flag("integrity.verify"),
        Shorter("integrity.lookback", when=(("integrity.verify", True),), duration=True),
        Longer("integrity.interval", when=(("integrity.verify", True),)),
    ),
    "FlowLogPolicy": (
        *CONTROL, *SCOPED,
        TagsNarrowed("vpcSelector.matchTags"),
        Covered("trafficType", covers=TRAFFIC_COVERS),
        Flag("exclusive", weak=True),  # removes other tools' flow logs: their destinations
    ),
    "GuardDutyOrg": (
        *CONTROL,
        Covered("autoEnable", covers=ranked(AUTO_ENABLE)),
        *(Flag(f"features.{f.alias}") for f in GuardDutyFeatures.model_fields.values() if f.annotation is bool),
        # Runtime Monitoring's agent management counts while Runtime Monitoring is on (off, it is left as found).
        *(Flag(f"features.runtimeMonitoringAgentManagement.{f.alias}", when=(("features.runtimeMonitoring", True),))
          for f in RuntimeMonitoringAgentManagement.model_fields.values()),
        Flag("publishFindingsToLogArchive.enabled"),
    ),
    "ConfigBaseline": (
        *CONTROL, *SCOPED,
        Flag("recorder.allSupported"),
        Covered("recorder.includeGlobalResourceTypes", covers=ranked(GLOBAL_RESOURCE_TYPES)),
        Added("recorder.exclusionByResourceTypes"),
        Covered("recorder.recordingMode.recordingFrequency", covers=ranked(RECORDING_FREQUENCY)),
        RecordedDaily("recorder.recordingMode"),
        Covered("deliveryFrequency", covers=ranked(DELIVERY_FREQUENCY)),
        Removed("rules", item=NAME),
        Removed("conformancePacks", item=NAME),
    ),
    "LogSubscriptionPolicy": (
        *CONTROL, Covered("scope", covers=SCOPE_COVERS),
        Added("logGroupSelector.excludePrefixes"),
        Filtered("filterPattern"),
    ),
    "SecurityHubBaseline": (
        *CONTROL,
        Flag("autoEnable"),
        Removed("standards"),
        Added("disabledControls", item=CONTROL_ID),
        Removed("integrations"),
        Flag("accessAnalyzer.enabled"),
    ),
    "SessionLogging": (
        *CONTROL, *SCOPED,
        Flag("cloudWatch.enabled"),
        Shorter("cloudWatch.retentionDays", when=_under("cloudWatch", _ON)),
    ),
    # Guardrails: attached to fewer places, exempting more roles, or a policy type given up.
    "Guardrails": (
        *MANAGED,
        Flag("attachTo.root"),
        Removed("attachTo.organizationalUnits", when=(("attachTo.root", False),)),
        Added("breakGlassRoleNames"),
        Flag("serviceControlPolicies.enabled"),
        Flag("resourceControlPolicies.enabled"),
    ),
}


# --- judging an edit -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SpecWeakening:
    """One field an edit weakens, and the allowance entries that admit it."""

    field: str
    before: str
    after: str
    entries: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.field} {self.before} -> {self.after}"


def _applies(kind: str, rule: Rule, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return all(read(kind, spec, path, None) == value for path, value in rule.when for spec in (old, new))


def spec_weakenings(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[SpecWeakening]:
    """What the edit of ``kind``'s spec from ``old`` to ``new`` weakens; [] when nothing."""
    found = []
    for rule in SPEC_RULES[kind]:
        if not _applies(kind, rule, old, new):
            continue
        before, after = (read(kind, spec, rule.path, rule.unset) for spec in (old, new))
        named = rule.entries(before, after)
        if named:
            found.append(SpecWeakening(rule.field, rule.show(before), rule.show(after), tuple(named)))
    return found


# --- reading a field -------------------------------------------------------------------------------

_ABSENT = object()


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_submodel, typing.get_args(annotation)) if m is not None), None)


def _field_default(model: type[BaseModel] | None, name: str) -> tuple[Any, type[BaseModel] | None]:
    """The JSON default of ``model``'s field ``name`` (camelCase) and its model, if it is one;
    _ABSENT when the field has none (or is None: unset)."""
    for info in (model.model_fields.values() if model else ()):
        if info.alias == name:
            default = info.get_default(call_default_factory=True) if not info.is_required() else None
            return (_ABSENT if default is None else to_jsonable_python(default, by_alias=True)), \
                _submodel(info.annotation)
    return _ABSENT, None


def read(kind: str, spec: Mapping[str, Any], path: str, unset: Any) -> Any:
    """The value at ``path`` (dotted, under spec) as the operator reads it: a field absent (or
    null) takes its model default; where the model has none, ``unset``."""
    node: Any = spec
    model: type[BaseModel] | None = KINDS[kind].spec
    for name in path.split("."):
        value = node.get(name) if isinstance(node, Mapping) else None
        default, model = _field_default(model, name)
        node = default if value is None else value
        if node is _ABSENT:
            return unset
    return node



# --- the same, in CEL -----------------------------------------------------------------------------

def cel_read(kind: str, root: str, rule_path: str, unset: Any) -> str:
    """``read`` in CEL: ``<root>.spec.?a.?b.orValue(<default>)``. A parent present with the field
    absent is the API server's to default (the CRD carries the model's defaults)."""
    path = ".?".join(rule_path.split("."))
    return f"{root}.spec.?{path}.orValue({cel_literal(read(kind, {}, rule_path, unset))})"


def cel_entries(kind: str, rule: Rule, old: str = "oldObject", new: str = "object") -> str:
    """The CEL expression of the entries ``rule`` needs for the edit from ``old`` to ``new``."""
    values = [cel_read(kind, root, rule.path, rule.unset) for root in (old, new)]
    guard = " && ".join(f"{cel_read(kind, root, path, None)} == {cel_literal(value)}"
                        for path, value in rule.when for root in (old, new))
    judged = rule.cel(*values)
    return f"{guard} ? ({judged}) : []" if guard else judged


def cel_description(kind: str, rule: Rule, old: str = "oldObject", new: str = "object") -> str:
    """'<field> <old> -> <new>' in CEL."""
    before, after = (rule.cel_show(cel_read(kind, root, rule.path, rule.unset)) for root in (old, new))
    return f"'{rule.field} ' + {before} + ' -> ' + {after}"
