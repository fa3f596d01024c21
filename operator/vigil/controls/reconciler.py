"""One reconcile of one object, from its raw spec to its new status: validate the spec, resolve
the objects it references, run the kind's control, summarize.

Synchronous and free of kopf, so the operator runs it in a worker thread and the workstation
commands (audit, plan, apply) run it as it is.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ValidationError

from .. import conditions as c
from .. import metrics
from ..api import KINDS
from ..api.common import AdoptionPolicy, ManagementPolicy, parse_duration
from ..api.organization import OrganizationSpec
from ..aws import logarchive as aws_logarchive
from ..aws.errors import TargetError, classify
from ..planning.organization import SelectionError
from ..planning.ownership import Owner
from ..planning.weakening import ALLOW_ANNOTATION, malformed_allowances, parse_allowances
from . import (config, flowlogs, guardduty, guardrails, journal, logarchive, logsubscription, organization,
               orgtrail, securityhub, sessionlogging)
from .base import Context, DependencyNotReady, LogArchiveView, OrganizationView, Report, Runtime, SpecError
from .claims import Claimant, claims_of
from .preflight import check_control, check_organization
from .posture import BOOK
from .status import Event, blocked, summarize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Control:
    reconcile: Callable[[Context], Report]
    delete: Callable[[Context], list[str]] | None = None


# Every kind but Organization (which only reads, and is reconciled on its own) has a control.
CONTROLS: dict[str, Control] = {
    "LogArchive": Control(logarchive.reconcile, logarchive.delete),
    "OrgTrail": Control(orgtrail.reconcile, orgtrail.delete),
    "FlowLogPolicy": Control(flowlogs.reconcile, flowlogs.delete),
    "GuardDutyOrg": Control(guardduty.reconcile, guardduty.delete),
    "ConfigBaseline": Control(config.reconcile, config.delete),
    "SecurityHubBaseline": Control(securityhub.reconcile, securityhub.delete),
    "SessionLogging": Control(sessionlogging.reconcile, sessionlogging.delete),
    "LogSubscriptionPolicy": Control(logsubscription.reconcile, logsubscription.delete),
    "Guardrails": Control(guardrails.reconcile, guardrails.delete),
}


# The kinds other objects reference (the operator keeps them in indexes): a reference is looked up
# among them, so a name that is another kind's object is told apart from a missing one.
REFERENCED_KINDS = ("Organization", "LogArchive")
# Kinds that read every object of their namespace (Guardrails protects what the others manage).
NAMESPACE_READERS = ("Guardrails",)
# Where a kind's LogArchive reference sits in its spec, when not at spec.logArchiveRef.
ARCHIVE_REF_FIELDS = {"GuardDutyOrg": "spec.publishFindingsToLogArchive.logArchiveRef.name"}


class Lookup(Protocol):
    """Where referenced objects come from: the operator's kopf indexes, or manifests on disk."""

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The referenced object's {"spec": ..., "status": ...} (with its "generation" and "uid" when
        read from the API server, for ``ValidatedSpecs``), or None."""

    def secret(self, namespace: str, name: str, key: str) -> str:
        """One key of a Secret; LookupError when the Secret or the key is missing."""

    def in_namespace(self, namespace: str) -> list[tuple[str, str, dict[str, Any]]]:
        """Every Vigil object of the namespace: (kind, name, {"spec": ..., "status": ...})."""


@dataclass
class Outcome:
    status: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    report: Report | None = None
    enforce: bool = True  # whether held weakenings count as held (Audit holds nothing: it writes nothing)


def validation_message(exc: ValidationError) -> str:
    """"spec.accounts.logArchive: String should match pattern '^[0-9]{12}$'", one line per error."""
    lines = []
    for error in exc.errors():
        # A rule across fields names the field the API server points at, below the model it is on.
        below = getattr((error.get("ctx") or {}).get("error"), "field", None)
        path = ".".join(str(p) for p in ("spec", *error["loc"], *([below] if below else [])))
        message = error["msg"].removeprefix("Value error, ")  # pydantic's prefix for our own checks
        lines.append(f"{path}: {message}")
    return "; ".join(lines)


def parse_spec(kind: str, raw: dict[str, Any]) -> BaseModel:
    return KINDS[kind].spec.model_validate(raw)


def reconcile_object(kind: str, namespace: str, name: str, generation: int | None, raw_spec: dict[str, Any],
                     previous: dict[str, Any], lookup: Lookup, runtime: Runtime,
                     now: Callable[[], str] = c.now_iso, meta: dict[str, Any] | None = None) -> Outcome:
    """``meta``: the object's metadata (uid, creationTimestamp, annotations), for ownership and
    weakening allowances."""
    started = time.monotonic()
    outcome = _reconcile(kind, namespace, name, generation, raw_spec, previous, lookup, runtime, now, meta or {})
    if runtime.journal is not None:
        outcome.status = journal.record_reconcile(runtime.journal, kind, namespace, name, generation, raw_spec,
                                                  outcome.status, outcome.report, lookup, runtime.access_for,
                                                  external_id, now())
    ready = c.get_condition(outcome.status.get("conditions"), c.READY) or {}
    metrics.RECONCILE_SECONDS.labels(kind, ready.get("reason", "Unknown")).observe(time.monotonic() - started)
    if ready.get("status") != "True":
        metrics.RECONCILE_ERRORS.labels(kind, ready.get("reason", "Unknown")).inc()
    BOOK.record(kind, namespace, name, outcome.status, outcome.report, outcome.enforce, raw_spec)
    return outcome


def _reconcile(kind: str, namespace: str, name: str, generation: int | None, raw_spec: dict[str, Any],
               previous: dict[str, Any], lookup: Lookup, runtime: Runtime, now: Callable[[], str],
               meta: dict[str, Any]) -> Outcome:
    def stop(reason: str, message: str) -> Outcome:
        return Outcome(*blocked(previous, generation, reason, message, now()))

    try:
        spec = parse_spec(kind, raw_spec)
    except ValidationError as exc:
        return stop(c.INVALID_SPEC, validation_message(exc))
    annotations = meta.get("annotations") or {}
    bad = malformed_allowances(annotations.get(ALLOW_ANNOTATION))
    if bad:
        return stop(c.INVALID_SPEC, f"metadata.annotations[{ALLOW_ANNOTATION}]: {bad}")
    try:
        if kind == "Organization":
            assert isinstance(spec, OrganizationSpec)
            secret = external_id(lookup, namespace, spec)
            report = organization.reconcile(namespace, name, spec, runtime, secret)
            # Organization writes nothing: its checks can follow discovery, whose inventory is cached.
            access = runtime.access_for(spec, secret)
            check_organization(spec, runtime.directory.get((namespace, name), spec, access, math.inf), access,
                               check_regions=not settled(previous, generation))
            enforce = True
        else:
            control = CONTROLS[kind]
            ctx = resolve(kind, namespace, name, spec, lookup, runtime, {**meta, "generation": generation})
            ctx.previous_status = previous
            check_control(ctx)  # what the schema cannot know, before any claim or write
            taken = claim(ctx, meta, runtime)
            if taken:
                metrics.GUARD_BLOCKS.labels(kind, c.CONFLICT).inc()
                return stop(c.CONFLICT, taken)
            report = control.reconcile(ctx)
            enforce = ctx.enforce
    except DependencyNotReady as exc:
        return stop(c.DEPENDENCY_NOT_READY, str(exc))
    except (SpecError, SelectionError) as exc:
        return stop(c.INVALID_SPEC, str(exc))
    except (ClientError, BotoCoreError, TargetError) as exc:
        error = classify(exc)
        return stop(error.reason, error.message)

    status, events = summarize(report, previous, generation, enforce, now())
    for type_, state, reason, message in report.conditions:
        status["conditions"] = c.set_condition(status["conditions"], type_, state, reason, message,  # type: ignore[arg-type]
                                               generation, now())
    _count(kind, report, enforce, status["driftCorrections"] - int(previous.get("driftCorrections") or 0))
    return Outcome(status, events, report, enforce)


def settled(previous: dict[str, Any], generation: int | None) -> bool:
    """Whether the last reconcile of this very spec ended Ready: its one-off checks have passed."""
    ready = c.get_condition(previous.get("conditions"), c.READY) or {}
    return ready.get("status") == "True" and previous.get("observedGeneration") == generation


def claim(ctx: Context, meta: dict[str, Any], runtime: Runtime) -> str | None:
    """Why another object of the cluster holds what this one addresses, or None. Only Enforce
    objects claim: an Audit object reads, and may look at anything."""
    if not ctx.enforce:
        runtime.claims.release(ctx.owner.value)  # switched to Audit: what it held is free again
        return None
    org = ctx.organization
    claims = claims_of(ctx.kind, ctx.spec, org.inventory.organization_id, org.management_account_id,
                       org.spec.accounts.log_archive, org.home_region)
    taken = runtime.claims.claim(Claimant(ctx.owner.value, meta.get("creationTimestamp") or "", ctx.owner.uid), claims)
    if taken is None:
        return None
    what, holder = taken
    return f"{what} is already managed by {holder.owner}; this object writes nothing to it"


def resolve(kind: str, namespace: str, name: str, spec: Any, lookup: Lookup, runtime: Runtime,
            meta: dict[str, Any] | None = None) -> Context:
    """The Context of a control kind: its Organization (Ready) and LogArchive (Ready, if referenced)."""
    org_name = spec.organization_ref.name
    org = ready_reference(lookup, "Organization", namespace, org_name, "spec.organizationRef.name")
    org_spec = OrganizationSpec.model_validate(org["spec"])
    access = runtime.access_for(org_spec, external_id(lookup, namespace, org_spec))
    max_age = parse_duration(org_spec.resync_interval).total_seconds()
    inventory = runtime.directory.get((namespace, org_name), org_spec, access, max_age)
    meta = meta or {}
    ctx = Context(kind, namespace, name, spec, spec.management_policy, access,
                  OrganizationView(org_spec, inventory), runtime.concurrency,
                  owner=Owner(namespace, kind, name, runtime.installation, meta.get("uid") or "",
                              meta.get("generation")),
                  allowances=parse_allowances((meta.get("annotations") or {}).get(ALLOW_ANNOTATION)),
                  adopt=spec.adoption_policy == AdoptionPolicy.ADOPT.value, ledger=runtime.ledger,
                  refusals=runtime.refusals, resync_seconds=parse_duration(spec.resync_interval).total_seconds(),
                  preview=runtime.preview)
    if kind in NAMESPACE_READERS:
        ctx.neighbours = [n for n in lookup.in_namespace(namespace) if n[0] != kind]
    archive_ref = getattr(spec, "log_archive_ref", None)
    if archive_ref is not None:
        ref_field = ARCHIVE_REF_FIELDS.get(kind, "spec.logArchiveRef.name")
        archive = ready_reference(lookup, "LogArchive", namespace, archive_ref.name, ref_field)
        status = archive.get("status") or {}
        if not status.get("kmsKeyArn") or not status.get("bucketArn"):
            raise DependencyNotReady(f"{ref_field}: LogArchive {archive_ref.name} has no bucket or key yet")
        ctx.log_archive = LogArchiveView(bucket=archive["spec"]["bucketName"], bucket_arn=status["bucketArn"],
                                         kms_key_arn=status["kmsKeyArn"], account_id=status.get("accountId", ""),
                                         region=status.get("region", ""))
        _verify_archive(ctx)
    return ctx


def _verify_archive(ctx: Context) -> None:
    """Every delivery API takes a bucket name without its owner, so before any control points a
    delivery at the archive (and at every resync) the bucket must still be the log-archive
    account's: a bucket of that name elsewhere (sniped after a deletion) is never trusted."""
    archive = ctx.log_archive
    assert archive is not None
    account = archive.account_id or ctx.organization.spec.accounts.log_archive
    exists = aws_logarchive.verify_bucket_owner(ctx.access, account, archive.region or ctx.organization.home_region,
                                                archive.bucket)
    if not exists and ctx.enforce:  # Audit writes nothing, so a plan may still show what it would do
        raise DependencyNotReady(f"LogArchive bucket {archive.bucket} does not exist (any more)")


def external_id(lookup: Lookup, namespace: str, spec: OrganizationSpec) -> str | None:
    """The external id for AssumeRole, from the Secret the Organization names (if any)."""
    ref = spec.access.external_id_secret_ref
    if ref is None:
        return None
    try:
        return lookup.secret(namespace, ref.name, ref.key)
    except LookupError as exc:
        raise DependencyNotReady(f"spec.access.externalIdSecretRef: {exc}") from exc


def ready_reference(lookup: Lookup, kind: str, namespace: str, name: str, field: str) -> dict[str, Any]:
    """The referenced object, Ready. Missing, it may yet appear (DependencyNotReady); but a name
    that is another kind's object is a mistake in the spec (InvalidSpec). Either way, ``field``
    (the reference's, as the API server names it) leads the message."""
    found = lookup.get(kind, namespace, name)
    if found is None:
        other = next((k for k in REFERENCED_KINDS if k != kind and lookup.get(k, namespace, name) is not None), None)
        if other is not None:
            raise SpecError(f"{field}: {namespace}/{name} is {_a(other)}, not {_a(kind)}")
        raise DependencyNotReady(f"{field}: {kind} {namespace}/{name} does not exist")
    ready = c.get_condition((found.get("status") or {}).get("conditions"), c.READY)
    if ready is None or ready.get("status") != "True":
        why = f": {ready.get('reason')}: {ready.get('message')}" if ready else ""
        raise DependencyNotReady(f"{field}: {kind} {name} is not Ready{why}")
    spec = VALIDATED_SPECS.spec(kind, namespace, name, found, ready.get("observedGeneration"))
    if spec is None:
        raise DependencyNotReady(f"{field}: {kind} {name} is reconciling generation {found.get('generation')}")
    return {**found, "spec": spec}


# What a reconcile reads of a referenced object's status besides its Ready condition: the
# LogArchive's outputs (resolve), the key Guardrails protects (planning.guardrail_catalogue).
OUTPUTS = ("bucketArn", "kmsKeyArn", "accountId", "region")


def references(kind: str, raw_spec: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The Organization, and the LogArchive if any, an object of ``kind`` names (kind, name): what
    its reconciles and its deletion read (``resolve``). None for an Organization or an invalid spec."""
    if kind == "Organization":
        return ()
    try:
        spec = parse_spec(kind, raw_spec)
    except ValidationError:
        return ()
    named = [("Organization", spec.organization_ref.name)]  # type: ignore[attr-defined]
    archive_ref = getattr(spec, "log_archive_ref", None)
    if archive_ref is not None:
        named.append(("LogArchive", archive_ref.name))
    return tuple(named)


def dependency_state(kind: str, namespace: str, raw_spec: dict[str, Any], lookup: Lookup) -> tuple[Any, ...]:
    """What a reconcile of this object would read of other objects (resolve): whether its
    references exist and are Ready, and then what it reads of their specs and their outputs; for a
    namespace reader, its neighbours' specs and outputs too. It changes whenever that does, so the
    operator compares it with what its last reconcile saw instead of polling. A not-Ready
    reference's own reason is left out: it changes nothing but a message, and waking every
    dependent for it would make a pass each. An Organization reads only its Secret, which is not
    watched."""
    names = [name for _, name in references(kind, raw_spec)]
    if not names:
        return ()  # an Organization, or an InvalidSpec whatever the others are
    # Each name among every referenced kind: another kind's object of that name is an InvalidSpec.
    state: list[Any] = [(name, tuple(_as_referenced(k, namespace, name, lookup.get(k, namespace, name))
                                     for k in REFERENCED_KINDS))
                        for name in names]
    if kind in NAMESPACE_READERS:
        state += [(k, n, _read_of_neighbour(body.get("spec")), _outputs(body)) for k, n, body in
                  sorted(lookup.in_namespace(namespace), key=lambda n: n[:2]) if k != kind]
    return tuple(state)


def _read_of_neighbour(spec: Any) -> Any:
    """A neighbour's spec as a namespace reader uses it: its resync period protects nothing, and an
    edit of it alone (a GitOps change of the periods of every object) wakes no Guardrails."""
    return {k: v for k, v in spec.items() if k != "resyncInterval"} if isinstance(spec, dict) else spec


def _as_referenced(kind: str, namespace: str, name: str,
                   found: dict[str, Any] | None) -> tuple[Any, ...] | bool | None:
    """Missing (None), not Ready (False: resolve reads no further, whatever the reason), or what
    resolve reads of its spec as of the generation its Ready describes, and its outputs."""
    if found is None:
        return None
    ready = c.get_condition((found.get("status") or {}).get("conditions"), c.READY) or {}
    if ready.get("status") != "True":
        return False
    validated = ready.get("observedGeneration")
    spec = VALIDATED_SPECS.spec(kind, namespace, name, found, validated)
    return (read_of_reference(kind, spec) if spec is not None else ("generation", validated)), _outputs(found)


def read_of_reference(kind: str, spec: Any) -> Any:
    """What resolve reads of a referenced object's spec: of a LogArchive its bucket's name (the rest,
    retention or lifecycle, changes nothing a dependent does); of an Organization all but its resync
    period. An edit of anything else, reconciled, wakes no dependent: at 1,000 accounts each wake
    of every dependent is a pass over the whole organization."""
    if kind == "LogArchive":
        return spec.get("bucketName") if isinstance(spec, dict) else spec
    return _read_of_neighbour(spec)


class ValidatedSpecs:
    """Each referenced object's spec as of the generation its Ready describes: what its dependents
    act on. A spec edit is in the object at once, but its reconcile, which may find it invalid, ends
    later; until then its dependents go on with the generation it last found valid, remembered here
    from when its Ready described the spec the operator's index held, and are woken when the new
    one turns Ready (``dependency_state``). Manifests read from disk (the workstation commands)
    carry no generation: what is there is what is used."""

    def __init__(self) -> None:
        self._specs: dict[tuple[str, str, str, Any], tuple[int, dict[str, Any]]] = {}

    def spec(self, kind: str, namespace: str, name: str, found: dict[str, Any],
             validated: Any) -> dict[str, Any] | None:
        """None when not known: the operator started while the object reconciled a new generation."""
        if "generation" not in found:
            return found.get("spec")
        key = (kind, namespace, name, found.get("uid"))  # a namesake made anew is another object
        if validated is not None and found["generation"] == validated:
            self._specs[key] = (validated, found.get("spec") or {})
            return found.get("spec") or {}
        remembered = self._specs.get(key)
        return remembered[1] if remembered is not None and remembered[0] == validated else None

    def forget(self, kind: str, namespace: str, name: str) -> None:
        # list() copies the keys at once: the event loop's thread may add one meanwhile.
        for key in [k for k in list(self._specs) if k[:3] == (kind, namespace, name)]:
            self._specs.pop(key, None)


VALIDATED_SPECS = ValidatedSpecs()


def _outputs(found: dict[str, Any]) -> tuple[Any, ...]:
    status = found.get("status") or {}
    return tuple(status.get(key) for key in OUTPUTS)


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind}"


def delete_object(kind: str, namespace: str, name: str, raw_spec: dict[str, Any], lookup: Lookup,
                  runtime: Runtime, meta: dict[str, Any] | None = None) -> list[str]:
    """What deletionPolicy says to do when the custom resource goes. Returns notes for an Event."""
    runtime.claims.release(Owner(namespace, kind, name).value)
    BOOK.forget(kind, namespace, name)
    VALIDATED_SPECS.forget(kind, namespace, name)
    try:
        spec = parse_spec(kind, raw_spec)
    except ValidationError:
        return ["spec is invalid: nothing in AWS was touched"]
    policy = getattr(spec, "deletion_policy", "Retain")
    if policy == "Retain":
        return ["deletionPolicy Retain: AWS resources left in place"]
    if getattr(spec, "management_policy", None) == ManagementPolicy.AUDIT.value:
        return ["managementPolicy Audit never writes: AWS resources left in place"]
    control = CONTROLS.get(kind)
    if control is None or control.delete is None:
        return [f"{kind} creates nothing to delete"]
    ctx = resolve(kind, namespace, name, spec, lookup, runtime, meta)
    return control.delete(ctx)


def _count(kind: str, report: Report, enforce: bool, corrections: int) -> None:
    if corrections:
        metrics.DRIFT_CORRECTIONS.labels(kind).inc(corrections)
    drifted = sum(1 for t in report.targets if t.planned)
    if drifted:
        metrics.DRIFT_DETECTED.labels(kind, "Enforce" if enforce else "Audit").inc(drifted)
    if enforce:
        metrics.WEAKENINGS_HELD.labels(kind).inc(sum(len(t.held) for t in report.targets))
        metrics.WEAKENINGS_ALLOWED.labels(kind).inc(sum(len(t.allowed) for t in report.targets))
    for blocked_write in (b for t in report.targets for b in t.blocked):
        metrics.GUARD_BLOCKS.labels(kind, blocked_write.reason).inc()
