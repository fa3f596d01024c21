"""What every control shares: the reconcile context, per-target runs, and the runtime objects.

A control's ``reconcile(ctx)`` is synchronous (boto3 is) and runs in a worker thread; it observes
AWS, asks a pure planner for actions, applies them in Enforce, and returns a `Report` that
`vigil.controls.status` turns into the Kubernetes status.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..api.common import ManagementPolicy
from ..api.organization import OrganizationSpec
from ..aws import organizations as aws_organizations
from ..aws.apply import execute
from ..aws.errors import TargetError, classify
from ..aws.fanout import fan_out
from ..aws.session import AccessPool, AccessSettings, AwsAccess
from ..leadership.fence import WRITES
from ..planning.actions import Action
from ..planning.ownership import DEFAULT_INSTALLATION, Owner, Resource
from ..planning.weakening import Weakening
from ..state.organizations import OrganizationInventory
from .claims import ClaimRegistry
from .guard import Blocked, OwnershipLedger, created_here, gate_ownership, ownership, weakenings
from .refusals import RefusalLedger

log = logging.getLogger(__name__)


class DependencyNotReady(Exception):
    """A referenced object is missing or not Ready yet; the reconcile waits for it."""


class SpecError(ValueError):
    """The spec cannot be carried out as written (beyond what the schema can check)."""


@dataclass(frozen=True)
class OrganizationView:
    """An Organization as controls see it: its spec and what AWS says it holds."""

    spec: OrganizationSpec
    inventory: OrganizationInventory

    @property
    def management_account_id(self) -> str:
        return self.spec.accounts.management or self.inventory.management_account_id

    @property
    def home_region(self) -> str:
        return self.spec.regions.home


@dataclass(frozen=True)
class LogArchiveView:
    """What controls need from a Ready LogArchive."""

    bucket: str
    bucket_arn: str
    kms_key_arn: str
    account_id: str
    region: str


@dataclass
class TargetReport:
    """One target's reconcile: what differed, what was written, what went wrong."""

    target: str
    planned: list[Action] = field(default_factory=list)
    applied: list[Action] = field(default_factory=list)
    error: TargetError | None = None
    held: list[Weakening] = field(default_factory=list)  # weakening writes not made (no allowance)
    withheld: list[Action] = field(default_factory=list)  # the writes those are, for a plan to mark
    allowed: list[Weakening] = field(default_factory=list)  # weakening writes made under an allowance
    blocked: list[Blocked] = field(default_factory=list)  # resources of another owner, or of nobody

    @property
    def drifted(self) -> list[Action]:
        """Planned actions that were not (or could not be) applied."""
        done = {id(a) for a in self.applied}
        return [a for a in self.planned if id(a) not in done]

    @property
    def compliant(self) -> bool:
        return self.error is None and not self.drifted and not self.blocked


@dataclass
class Report:
    targets: list[TargetReport]
    extra_status: dict[str, Any] = field(default_factory=dict)
    # Conditions the control judged from AWS besides Ready and Compliant: (type, status, reason, message).
    conditions: list[tuple[str, str, str, str]] = field(default_factory=list)
    # What the control found wrong that is no target's error or drift (integrity findings, say):
    # {"target", "reason", "message"}, listed in status.failures after the targets' own.
    findings: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Context:
    """Everything one reconcile needs, resolved before it starts."""

    kind: str
    namespace: str
    name: str
    spec: Any
    mode: ManagementPolicy | str
    access: AwsAccess
    organization: OrganizationView
    concurrency: int = 16
    log_archive: LogArchiveView | None = None
    # The object's status before this reconcile, for controls that remember across resyncs.
    previous_status: dict[str, Any] = field(default_factory=dict)
    # Who signs what this object manages (planning.ownership), which weakenings its
    # vigil.dev/allow-weakening annotation allows, and whether it adopts resources nobody owns.
    owner: Owner = field(default_factory=lambda: Owner("", "", ""))
    allowances: frozenset[str] = frozenset()
    adopt: bool = False
    ledger: OwnershipLedger = field(default_factory=OwnershipLedger)
    # Writes AWS refused for good are not sent again before the next resync (or a spec change).
    refusals: RefusalLedger = field(default_factory=RefusalLedger)
    resync_seconds: float = 300.0
    # The other Vigil objects of the namespace, for kinds that read them (reconciler.NAMESPACE_READERS).
    neighbours: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    # `vigil plan`: Audit's mode (nothing written), with the owner checks Enforce would make, so
    # that the plan shows the resources Enforce would refuse to touch (Conflict, AdoptionRequired).
    preview: bool = False

    @property
    def enforce(self) -> bool:
        return ManagementPolicy(self.mode) is ManagementPolicy.ENFORCE


class _Unread:
    """Marks tags not observed yet (None already means "the resource has none")."""


UNREAD = _Unread()


class TargetRun:
    """Accumulates one target's plan and writes. ``converge(actions)`` applies in Enforce only:
    Audit never writes, whatever the plan says."""

    def __init__(self, ctx: Context, target: str) -> None:
        self.ctx = ctx
        self.report = TargetReport(target)

    def converge(self, actions: Sequence[Action], resource: Resource | None = None,
                 tags: dict[str, str] | None | _Unread = UNREAD) -> bool:
        """Record and (in Enforce) apply; True when anything was written.

        ``resource``: what the actions write to, so its owner is checked first (``tags`` when the
        observation already holds them). Nothing is written to another's resource, nor to one
        nobody owns unless the object adopts; a weakening write waits for its allowance."""
        ctx = self.ctx
        completing = False
        # Audit observes any resource, whoever owns it. Enforce, and a plan of what Enforce would
        # do, first check the owner (a tag read); only Enforce then writes.
        if (ctx.enforce or ctx.preview) and resource is not None and (actions or resource.exists):
            verdict, found = ownership(ctx.access, ctx.ledger, ctx.owner, resource,
                                       None if isinstance(tags, _Unread) else tags,
                                       known=not isinstance(tags, _Unread), writing=bool(actions))
            gate = gate_ownership(verdict, resource, ctx.owner, found, ctx.adopt, actions)
            if gate.blocked is not None:
                self.report.planned.extend(actions)
                self.report.blocked.append(gate.blocked)
                return False
            actions = gate.apply
            completing = created_here(verdict, found, ctx.owner)
        self.report.planned.extend(actions)
        apply, held, allowed = weakenings(actions, ctx.allowances, completing)
        self.report.held.extend(held)
        self.report.withheld.extend(a for a in actions if a not in apply)
        if not ctx.enforce:
            return False
        for action in apply:
            self._execute(action)
            self.report.applied.append(action)
            # Recorded as each is made: a later failure must not hide an allowance already used.
            self.report.allowed.extend(w for w in allowed if w.target == action.target
                                       and w not in self.report.allowed)
        return bool(apply)

    def _execute(self, action: Action) -> None:
        """One write. A terminal refusal is remembered, and the same write is not sent again before
        the object's next resync or a spec change: it fails here as it did, without an AWS call."""
        ctx = self.ctx
        refused = ctx.refusals.refused(ctx.owner, action)
        if refused is not None:
            log.info("%s %s: %s not sent again yet (refused: %s)", ctx.kind, ctx.owner, action.describe(),
                     refused.code or refused.reason)
            raise replace(refused)  # a fresh exception: the remembered one may be raised in another thread
        # Under leader election only the Lease's holder writes: refused (NotLeading) once it is not.
        with WRITES.admit(action.describe()):
            log.info("%s %s: %s", ctx.kind, ctx.owner, action.describe())
            try:
                execute(ctx.access, action)
            except (ClientError, BotoCoreError, TargetError) as exc:
                error = classify(exc)
                if error.terminal and not error.out_of_reach:
                    raise ctx.refusals.record(ctx.owner, action, error, ctx.resync_seconds) from None
                raise error from None
            ctx.refusals.wrote(ctx.owner)


def _attempt(ctx: Context, target: str, fn: Callable[[TargetRun], None]) -> TargetReport:
    """Run one target; an AWS error is kept in its report with what was done before it."""
    run = TargetRun(ctx, target)
    try:
        fn(run)
    except (ClientError, BotoCoreError, TargetError) as exc:
        run.report.error = classify(exc)
    return run.report


class GroupRun:
    """One unit of work (say, an account x region) that reports several targets (its VPCs, its
    log groups): observed together, one call for all, then planned and applied target by target."""

    def __init__(self, ctx: Context, label: str) -> None:
        self.ctx = ctx
        self.label = label
        self.reports: list[TargetReport] = []

    def target(self, label: str, fn: Callable[[TargetRun], None]) -> None:
        """Reconcile one target of the group; its failure never stops the group's other targets."""
        self.reports.append(_attempt(self.ctx, label, fn))


def run_groups(ctx: Context, work: Sequence[tuple[str, Callable[[GroupRun], None]]]) -> list[TargetReport]:
    """Run the groups concurrently (bounded). A group that fails before reporting any target (it
    could not even be observed) counts as one failed target named after the group."""

    def wrap(label: str, fn: Callable[[GroupRun], None]) -> Callable[[], list[TargetReport]]:
        def call() -> list[TargetReport]:
            group = GroupRun(ctx, label)
            try:
                fn(group)
            except (ClientError, BotoCoreError, TargetError) as exc:
                group.reports.append(TargetReport(label, error=classify(exc)))
            return group.reports
        return call

    outcomes = fan_out([(label, wrap(label, fn)) for label, fn in work], ctx.concurrency)
    return [report for o in outcomes
            for report in (o.value if o.value is not None else [TargetReport(o.target, error=o.error)])]


def run_targets(ctx: Context, work: Sequence[tuple[str, Callable[[TargetRun], None]]]) -> list[TargetReport]:
    """Run each target concurrently (bounded); an error is kept with what was done so far."""
    outcomes = fan_out([(t, (lambda t=t, fn=fn: _attempt(ctx, t, fn))) for t, fn in work], ctx.concurrency)
    return [o.value if o.value is not None else TargetReport(o.target, error=o.error) for o in outcomes]


class OrganizationDirectory:
    """The organizations' inventories, shared by every control in the process.

    The Organization reconcile refreshes an entry; controls read it, and discover it themselves
    only when it is missing or older than ``max_age`` (after a restart, say), so a steady-state
    control resync costs no Organizations call at all.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, OrganizationInventory]] = {}
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}

    def put(self, key: tuple[str, str], inventory: OrganizationInventory) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), inventory)

    def get(self, key: tuple[str, str], spec: OrganizationSpec, access: AwsAccess,
            max_age: float) -> OrganizationInventory:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one discovery per organization at a time, however many controls ask
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None and time.monotonic() - entry[0] < max_age:
                return entry[1]
            inventory = aws_organizations.discover(access, with_ou_paths=bool(spec.workloads.organizational_units))
            self.put(key, inventory)
            return inventory


@dataclass
class Runtime:
    """Process-wide objects: shared AWS access, the organization directory, limits."""

    concurrency: int = 16
    access_pool: AccessPool = field(default_factory=AccessPool)
    directory: OrganizationDirectory = field(default_factory=OrganizationDirectory)
    # Written into every ownership tag: two Vigils pointed at one organization never share a resource.
    installation: str = DEFAULT_INSTALLATION
    ledger: OwnershipLedger = field(default_factory=OwnershipLedger)
    claims: ClaimRegistry = field(default_factory=ClaimRegistry)
    refusals: RefusalLedger = field(default_factory=RefusalLedger)
    preview: bool = False  # a plan: see Context.preview
    # The operator's journal writer (controls.journal.JournalWriter); None: no record kept (workstation commands).
    journal: Any = None

    def access_for(self, spec: OrganizationSpec, external_id: str | None = None) -> AwsAccess:
        return self.access_pool.get(AccessSettings(
            role_name=spec.access.role_name, external_id=external_id,
            session_duration_seconds=spec.access.session_duration_seconds,
            concurrency=self.concurrency, home_region=spec.regions.home))
