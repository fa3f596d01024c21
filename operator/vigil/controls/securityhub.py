"""SecurityHubBaseline: in every region, the security account runs Security Hub for the
organization; in the home region, it runs the organization's IAM Access Analyzer.

One group per region. Its first target, ``<security>/<region>``, is what the organization shares:
trusted access (first region only: Organizations is global), the administrator's hub, the
delegated administrator, the organization configuration, the administrator's standards and
integrations and, in the aggregation region, the finding aggregator and, configured centrally,
the switch to central configuration, the configuration policy and its association to the root.
Then
one target per member account, ``<account>/<region>``: enrolled, with the spec's standards and
integrations in the account itself. The members are read once per region (ListMembers), after the
administrator target, and those to enroll are enrolled together (controls.batched). The analyzer
is a group and target of its own, ``<security>/<home>/access-analyzer/<name>``. Last, once every
member is enrolled, the active findings are counted in the administrator's aggregated view.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..api.securityhub import SecurityHubBaselineSpec, SecurityHubV2, Standard
from ..aws import accessanalyzer as aws_accessanalyzer
from ..aws import organizations as aws_organizations
from ..aws import securityhub as aws_securityhub
from ..aws.errors import TargetError, classify
from ..planning.actions import Action
from ..planning.organization import plan_trusted_access, target_regions
from ..planning.securityhub import (ACCESS_ANALYZER_PRINCIPAL, SECURITYHUB_PRINCIPAL, AdministratorConflict,
                                    AggregatorConflict, AnalyzerConflict, AnalyzerTarget, PolicyAssociationFailed,
                                    SecurityHubRegion, StandardNotOffered, aggregation_region, analyzer_problem,
                                    configured_centrally, member_account_ids, plan_administrator, plan_aggregator,
                                    plan_analyzer, plan_analyzer_delegation, plan_central_configuration,
                                    plan_configuration_policy, plan_hub, plan_integrations, plan_member,
                                    plan_organization, plan_root_association, plan_standards, resolve_standards)
from ..planning.ownership import Resource, created_by
from ..state.securityhub import CENTRAL, SELF_MANAGED, ConfigurationPolicy, FindingCounts, HubSettings, PolicyAssociation
from .base import Context, GroupRun, Report, SpecError, TargetRun, run_groups
from .batched import Planned, converge_batched, fail_each

ADMINISTRATOR_CONFLICT = "AdministratorConflict"
ADMINISTRATOR_NOT_READY = "AdministratorNotReady"
AGGREGATOR_CONFLICT = "AggregatorConflict"
ANALYZER_CONFLICT = "AnalyzerConflict"
ANALYZER_NOT_ACTIVE = "AnalyzerNotActive"
CENTRAL_CONFIGURATION = "CentralConfiguration"
DISABLED_CONTROLS_NEED_CENTRAL = "DisabledControlsNeedCentral"
POLICY_ASSOCIATION_FAILED = "PolicyAssociationFailed"
STANDARD_NOT_OFFERED = "StandardNotOffered"
POLICY_RESOURCE = "securityhub-configuration-policy"
TRUSTED_ACCESS_WAIT_SECONDS = 120  # a safety net: the home region's group sets it within a call or two


class _Once:
    """A read shared by targets running in parallel threads: made by the first that asks."""

    def __init__(self, read: Callable[[], set[str]]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._value: set[str] | None = None

    def __call__(self) -> set[str]:
        with self._lock:
            if self._value is None:
                self._value = self._read()
            return self._value


def reconcile(ctx: Context) -> Report:
    spec: SecurityHubBaselineSpec = ctx.spec
    org = ctx.organization
    security = org.spec.accounts.security
    if not security:
        raise SpecError("SecurityHubBaseline needs accounts.security in the Organization: it is the delegated "
                        "administrator")
    regions = target_regions(spec.regions, org.spec.regions.governed)
    try:
        aggregation = aggregation_region(spec, regions, org.home_region)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    members = member_account_ids(org.inventory.active_ids, security)
    # Trusted access is organization-wide: asked for once, in the home region's group if covered.
    # AWS refuses a designation without it, so the other regions wait for that group's step; it
    # is submitted first, so even one worker at a time never waits on a group not started.
    trusted_in = org.home_region if org.home_region in regions else regions[0]
    regions = [trusted_in, *(r for r in regions if r != trusted_in)]
    trusted = _Once(lambda: aws_organizations.trusted_services(ctx.access))
    trusted_settled = threading.Event()

    def trust(run: TargetRun, target: SecurityHubRegion) -> None:
        if target.region != trusted_in:
            trusted_settled.wait(TRUSTED_ACCESS_WAIT_SECONDS)
            return
        try:
            run.converge(plan_trusted_access(SECURITYHUB_PRINCIPAL, trusted(), target.label,
                                             target.management_account_id, target.region))
        finally:
            trusted_settled.set()

    hubs: dict[str, bool] = {}  # region -> whether the administrator's hub is on
    configuration: dict[str, str] = {}  # the aggregation region's configuration type, as last seen

    def group(region: str) -> Callable[[GroupRun], None]:
        target = SecurityHubRegion(org.management_account_id, security, region, ctx.owner,
                                   aggregates=region == aggregation)

        def observe_and_converge(regional: GroupRun) -> None:
            admin: dict[str, Any] = {}
            regional.target(target.label, lambda run: _converge_administrator(
                run, target, trust, admin, hubs, configuration))
            _converge_members(regional, target, members, admin)
        return observe_and_converge

    work = [(f"securityhub/{r}", group(r)) for r in regions]
    if spec.access_analyzer.enabled:
        analyzer = AnalyzerTarget(org.management_account_id, security, org.home_region, spec.access_analyzer.name,
                                  ctx.owner)
        work.append((analyzer.label, lambda g: g.target(analyzer.label,
                                                        lambda run: _converge_analyzer(run, analyzer, trusted))))
    reports = run_groups(ctx, work)
    counted, problems = _count_findings(ctx, SecurityHubRegion(org.management_account_id, security, aggregation,
                                                               ctx.owner, aggregates=True), hubs)
    # A view that could not be read this time keeps its last figures rather than zeros.
    findings = ctx.previous_status.get("findings") if counted is None else counted.model_dump()
    extra = {"findings": findings} if findings else {}
    configuration_type = configuration.get("type") or ctx.previous_status.get("configurationType")
    if configuration_type:
        extra["configurationType"] = configuration_type
    extra["securityHubV2"] = _security_hub_v2(ctx, security, aggregation)
    return Report(reports, extra_status=extra, findings=problems)


def _security_hub_v2(ctx: Context, account_id: str, region: str) -> str:
    """Reported, not managed: the newer Security Hub is a separate service with its own pricing
    and no organization-wide configuration Vigil could keep (docs/api.md). A read AWS refuses
    (an older IAM policy, a region without it) is Unknown, not a failure of the baseline."""
    try:
        return SecurityHubV2.ENABLED.value if aws_securityhub.security_hub_v2(ctx.access, account_id, region) \
            else SecurityHubV2.NOT_ENABLED.value
    except (ClientError, BotoCoreError, TargetError):
        return SecurityHubV2.UNKNOWN.value


def _count_findings(ctx: Context, target: SecurityHubRegion,
                    hubs: dict[str, bool]) -> tuple[FindingCounts | None, list[dict[str, str]]]:
    """The administrator's active findings, read once every member is enrolled. A failed read is
    reported without touching Ready or Compliant: the baseline itself may well hold."""
    if not hubs.get(target.region):
        return None, []  # no administrator hub to ask yet (Audit)
    try:
        return aws_securityhub.active_findings(ctx.access, target.admin_account_id, target.region), []
    except (ClientError, BotoCoreError, TargetError) as exc:
        error = classify(exc)
        return None, [{"target": f"{target.label}/findings", "reason": error.reason, "message": error.message}]


def _converge_administrator(run: TargetRun, target: SecurityHubRegion,
                            trust: Callable[[TargetRun, SecurityHubRegion], None], admin: dict[str, Any],
                            hubs: dict[str, bool], configuration: dict[str, str]) -> None:
    ctx, spec = run.ctx, run.ctx.spec
    access, a, r = ctx.access, target.admin_account_id, target.region
    trust(run, target)
    # The hub is turned on before the designation, which would otherwise turn it on with AWS's
    # default standards rather than the spec's.
    was_on = aws_securityhub.hub_enabled(access, a, r)
    # The administrator's hub is where the organization's Security Hub is recorded as this
    # object's: nothing of it (designation, configuration, members) is written while it is not.
    anchor = Resource("securityhub-hub", a, r, aws_securityhub.hub_arn(a, r), target.label, was_on)
    hub_on = run.converge(plan_hub(target.label, a, r, was_on, ctx.owner), anchor) or was_on
    if run.report.blocked:
        return
    try:
        designate = plan_administrator(target, aws_securityhub.administrators(access, target.management_account_id, r))
    except AdministratorConflict as exc:
        raise TargetError(ADMINISTRATOR_CONFLICT, str(exc), recoverable=False) from None
    administers = run.converge(designate) or not designate
    admin.update(hub_on=hub_on, administers=administers)
    hubs[r] = hub_on

    organization: HubSettings | None = None
    configuration_type: str | None = None
    if hub_on and administers:
        organization, configuration_type = aws_securityhub.organization_configuration(access, a, r)
        if target.aggregates:
            configuration["type"] = configuration_type
    central = configured_centrally(spec.configuration.mode, configuration_type)
    admin["central"] = central
    if configuration_type == CENTRAL and not central:
        raise TargetError(CENTRAL_CONFIGURATION, f"Security Hub in {r} is configured centrally (configuration "
                                                 "policies) and configuration.mode is Local: set it to Central or "
                                                 "Auto for Vigil to keep its configuration policy", False)
    if spec.disabled_controls and not central:
        raise TargetError(DISABLED_CONTROLS_NEED_CENTRAL, f"Security Hub in {r} is configured per account (LOCAL) and "
                                                          "disabledControls are kept in a configuration policy: set "
                                                          "configuration.mode to Central", False)
    # DescribeStandards needs the hub on: before it is (Audit), the plan names the standards only.
    standards = _resolve_standards(run, a, r) if hub_on else {
        Standard(p).value: f"(the {Standard(p).value} ARN DescribeStandards gives)" for p in spec.standards}
    admin["standards"] = standards
    if not central:
        run.converge(plan_organization(spec, target, organization))
    _converge_checks(run, target.label, a, r, hub_on, new_hub=not was_on, standards=None if central else standards)
    if target.aggregates:
        aggregators = aws_securityhub.finding_aggregators(access, a, r) if hub_on else ()
        try:
            run.converge(plan_aggregator(target, aggregators))
        except AggregatorConflict as exc:
            raise TargetError(AGGREGATOR_CONFLICT, str(exc), recoverable=False) from None
        if central and not run.report.blocked:
            _converge_central(run, target, configuration_type, standards or {}, configuration,
                              ready=hub_on and administers)


def _resolve_standards(run: TargetRun, account_id: str, region: str) -> dict[str, str]:
    try:
        return resolve_standards(run.ctx.spec.standards,
                                 aws_securityhub.standards_offered(run.ctx.access, account_id, region), region)
    except StandardNotOffered as exc:
        raise TargetError(STANDARD_NOT_OFFERED, str(exc), recoverable=False) from None


def _converge_central(run: TargetRun, target: SecurityHubRegion, configuration_type: str | None,
                      standards: dict[str, str], configuration: dict[str, str], ready: bool) -> None:
    """In the home (aggregation) region: the organization configured centrally, the configuration
    policy and its association to the root. The root's policy, whoever made it, is the
    organization's: the ownership guard decides whether it is this object's to keep (adopted per
    adoptionPolicy) or another's (Conflict). Vigil never deletes a policy."""
    spec: SecurityHubBaselineSpec = run.ctx.spec
    access, a, r = run.ctx.access, target.admin_account_id, target.region
    switched = run.converge(plan_central_configuration(target, configuration_type))
    is_central = configuration_type == CENTRAL or switched
    if switched:
        configuration["type"] = CENTRAL
    if not (ready and is_central):
        # Audit, or a switch not made: what would follow, nothing read that AWS would refuse.
        run.converge(plan_configuration_policy(spec, target, standards, None))
        return
    root = aws_securityhub.root_id(access, target.management_account_id, r)
    association = aws_securityhub.root_association(access, a, r, root)
    policy = _organization_policy(run, target, association)
    resource = Resource(POLICY_RESOURCE, a, r, policy.arn if policy else spec.configuration.policy_name,
                        f"{target.label}/configuration-policy", policy is not None)
    created = run.converge(plan_configuration_policy(spec, target, standards, policy), resource)
    if run.report.blocked:
        return
    if policy is None and created:
        policy = _organization_policy(run, target, PolicyAssociation(policy_id=SELF_MANAGED))
    try:
        run.converge(plan_root_association(target, root, association, policy.id if policy else None), resource)
    except PolicyAssociationFailed as exc:
        raise TargetError(POLICY_ASSOCIATION_FAILED, str(exc)) from None


def _organization_policy(run: TargetRun, target: SecurityHubRegion,
                         association: PolicyAssociation) -> ConfigurationPolicy | None:
    """The policy applied to the root, else the administrator's policy of the spec's name."""
    access, a, r = run.ctx.access, target.admin_account_id, target.region
    if association.policy_id != SELF_MANAGED:
        return aws_securityhub.configuration_policy(access, a, r, association.policy_id)
    ids = aws_securityhub.policy_ids_named(access, a, r, run.ctx.spec.configuration.policy_name)
    return aws_securityhub.configuration_policy(access, a, r, ids[0]) if ids else None


def _converge_checks(run: TargetRun, label: str, account_id: str, region: str, hub_on: bool, new_hub: bool,
                     standards: dict[str, str] | None) -> None:
    """The spec's standards (``standards``: {path: ARN}; None where a configuration policy holds
    them, or they could not be resolved) and integrations in one account (none can be read while
    its hub is off)."""
    spec: SecurityHubBaselineSpec = run.ctx.spec
    access = run.ctx.access
    if standards is not None:
        subscriptions = aws_securityhub.enabled_standards(access, account_id, region) if hub_on else ()
        run.converge(plan_standards(label, account_id, region, standards, subscriptions, new_hub))
    products = aws_securityhub.product_subscriptions(access, account_id, region) if hub_on else frozenset()
    run.converge(plan_integrations(spec, label, account_id, region, products, new_hub))


def _members(ctx: Context, target: SecurityHubRegion,
             admin: dict[str, Any]) -> tuple[dict[str, str], TargetError | None]:
    """The administrator's members, or why they could not be read (each member target reports it)."""
    if "hub_on" not in admin:
        return {}, TargetError(ADMINISTRATOR_NOT_READY, f"Security Hub's administrator in {target.region} could not "
                                                        f"be reconciled; see {target.label}")
    if not admin["hub_on"]:
        return {}, None  # no administrator hub yet (Audit): no account is enrolled
    try:
        return aws_securityhub.member_statuses(ctx.access, target.admin_account_id, target.region), None
    except (ClientError, BotoCoreError, TargetError) as exc:
        return {}, classify(exc)


def _converge_members(regional: GroupRun, target: SecurityHubRegion, members: list[str],
                      admin: dict[str, Any]) -> None:
    """One target per member account: enrolled (the accounts to enroll together, 50 a call), then
    its standards and integrations."""
    ctx = regional.ctx
    statuses, failure = _members(ctx, target, admin)
    if failure is not None:
        fail_each(regional, [target.member_label(account) for account in members], failure)
        return

    def planned(account_id: str) -> Planned:
        status = statuses.get(account_id)
        enroll = plan_member(target, account_id, status)
        rest = functools.partial(_converge_member, target=target, account_id=account_id, admin=admin,
                                 new_hub=bool(enroll) and status is None)
        if enroll and account_id == target.management_account_id:
            # AWS enrolls the management account only once its own hub is on: it is enrolled on its
            # own, after its hub.
            return Planned(target.member_label(account_id), [], functools.partial(rest, enroll=enroll))
        return Planned(target.member_label(account_id), enroll, rest)

    def landed() -> set[str]:
        again, failed = _members(ctx, target, admin)
        return set() if failed else {target.member_label(account) for account in members
                                     if not plan_member(target, account, again.get(account))}

    converge_batched(regional, [planned(account) for account in members], landed)


def _converge_member(run: TargetRun, target: SecurityHubRegion, account_id: str, admin: dict[str, Any],
                     new_hub: bool, enroll: list[Action] | None = None) -> None:
    """A member account once enrolled (``enroll``: the management account's enrolment, made here
    after its own hub is turned on; enrolling turns it on in every other account). An account not
    enrolled may still run Security Hub on its own: its checks are read either way (an account
    where it is off reads as having none)."""
    access, r = run.ctx.access, target.region
    if enroll:
        own = aws_securityhub.hub_enabled(access, account_id, r)
        run.converge(plan_hub(target.member_label(account_id), account_id, r, own, run.ctx.owner))
        run.converge(enroll)
    standards = None if admin.get("central") else admin.get("standards")
    _converge_checks(run, target.member_label(account_id), account_id, r, hub_on=True, new_hub=new_hub,
                     standards=standards)


def _converge_analyzer(run: TargetRun, target: AnalyzerTarget, trusted: Callable[[], set[str]]) -> None:
    access, a, r = run.ctx.access, target.admin_account_id, target.region
    run.converge(plan_trusted_access(ACCESS_ANALYZER_PRINCIPAL, trusted(), target.label,
                                     target.management_account_id, r))
    run.converge(plan_analyzer_delegation(target, aws_accessanalyzer.delegated_services(access, a)))
    analyzer = aws_accessanalyzer.observe_analyzer(access, a, r, target.name)
    try:
        run.converge(plan_analyzer(target, analyzer))
    except AnalyzerConflict as exc:
        raise TargetError(ANALYZER_CONFLICT, str(exc), recoverable=False) from None
    problem = analyzer_problem(analyzer)
    if problem is not None:
        raise TargetError(ANALYZER_NOT_ACTIVE, problem)


def delete(ctx: Context) -> list[str]:
    """deletionPolicy: Delete. Removes the organization analyzer if Vigil created it (its findings
    are recomputed by any new analyzer). Security Hub stays on, with its standards, integrations,
    members and aggregator: turning them off would discard findings and leave accounts unchecked."""
    spec: SecurityHubBaselineSpec = ctx.spec
    org = ctx.organization
    notes = ["Security Hub left enabled, with its standards, integrations, members and aggregator: turning it "
             "off would discard its findings"]
    if not spec.access_analyzer.enabled:
        return notes
    security, home, name = org.spec.accounts.security, org.home_region, spec.access_analyzer.name
    analyzer = aws_accessanalyzer.observe_analyzer(ctx.access, security, home, name)
    if analyzer.exists and created_by(analyzer.tags, ctx.owner):
        aws_accessanalyzer.delete_analyzer(ctx.access, security, home, name)
        notes.insert(0, f"analyzer {name} deleted")
    elif analyzer.exists:
        notes.insert(0, f"analyzer {name} was not created by this SecurityHubBaseline; left in place")
    return notes
