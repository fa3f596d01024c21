"""ConfigBaseline: a Config recorder and delivery channel in every account x region of the scope,
and the organization's aggregator, rules and conformance packs in the security account.

Targets: one per account x region (``<account>/<region>/config-recorder``), grouped by account so
the account's service-linked role is looked at once; and one for the organization's pieces
(``<security>/<home>/config-organization``), whose steps depend on each other in order
(trusted access, delegation, the aggregator's role, the aggregator, rules and packs per region).
"""

from __future__ import annotations

from collections.abc import Callable
from ..api.config import ConfigBaselineSpec
from ..aws import config as aws_config
from ..planning.config import (AGGREGATOR_ROLE_NAME, MULTI_ACCOUNT_SETUP_PRINCIPAL, SERVICE_LINKED_ROLE_NAME,
                               OrganizationTarget, RecorderTarget, needs_service_linked_role, plan_aggregator,
                               plan_aggregator_role, plan_conformance_packs, plan_delegation, plan_recorder,
                               plan_rules, plan_service_linked_role)
from ..planning.organization import scope_account_ids, target_regions
from ..planning.ownership import Resource
from ..state.config import ComplianceCounts
from .base import Context, DependencyNotReady, GroupRun, Report, TargetRun, run_groups


def targets(ctx: Context) -> tuple[list[RecorderTarget], OrganizationTarget]:
    spec: ConfigBaselineSpec = ctx.spec
    if ctx.log_archive is None:
        raise DependencyNotReady(f"LogArchive {spec.log_archive_ref.name} is not Ready")
    org = ctx.organization
    accounts = scope_account_ids(spec.scope, spec.account_ids, org.spec, org.inventory)
    regions = target_regions(spec.regions, org.spec.regions.governed)
    recorders = [RecorderTarget(a, r, org.home_region, ctx.log_archive.bucket, ctx.log_archive.kms_key_arn)
                 for a in accounts for r in regions]
    # Organization rules reach every account; those outside the scope have no recorder to run them.
    excluded = tuple(sorted(set(org.inventory.active_ids) - set(accounts)))
    organization = OrganizationTarget(org.spec.accounts.security, org.management_account_id, org.home_region,
                                      tuple(regions), excluded, ctx.owner)
    return recorders, organization


def reconcile(ctx: Context) -> Report:
    spec: ConfigBaselineSpec = ctx.spec
    recorders, organization = targets(ctx)
    seen: dict[str, ComplianceCounts] = {}

    def account_group(account_targets: list[RecorderTarget]) -> Callable[[GroupRun], None]:
        def converge(group: GroupRun) -> None:
            role: dict[str, bool | None] = {"exists": None}  # looked up once per account, only if needed
            for target in account_targets:
                group.target(target.label, lambda run, t=target: _converge_recorder(run, spec, t, role))
        return converge

    def organization_group(group: GroupRun) -> None:
        group.target(organization.label("config-organization"),
                     lambda run: _converge_organization(run, spec, organization, seen))

    by_account: dict[str, list[RecorderTarget]] = {}
    for target in recorders:
        by_account.setdefault(target.account_id, []).append(target)
    work = [(f"{account}/config", account_group(ts)) for account, ts in by_account.items()]
    work.append((organization.label("config-organization"), organization_group))
    reports = run_groups(ctx, work)
    c = seen.get("compliance")
    # An aggregator that could not be read this time keeps its last figures rather than zeros.
    compliance = ctx.previous_status.get("compliance") if c is None else {
        "compliantRules": c.compliant_rules, "nonCompliantRules": c.non_compliant_rules,
        "nonCompliantResources": c.non_compliant_resources}
    return Report(reports, extra_status={"compliance": compliance} if compliance else {})


def _converge_recorder(run: TargetRun, spec: ConfigBaselineSpec, target: RecorderTarget,
                       role: dict[str, bool | None]) -> None:
    access = run.ctx.access
    observed = aws_config.observe_account(access, target.account_id, target.region)
    if needs_service_linked_role(spec, target, observed):
        if role["exists"] is None:
            role["exists"] = aws_config.role_exists(access, target.account_id, SERVICE_LINKED_ROLE_NAME)
        if run.converge(plan_service_linked_role(target, bool(role["exists"]))):
            role["exists"] = True
    run.converge(plan_recorder(spec, target, observed))


def _converge_organization(run: TargetRun, spec: ConfigBaselineSpec, target: OrganizationTarget,
                           seen: dict[str, ComplianceCounts]) -> None:
    access, admin, home = run.ctx.access, target.admin_account_id, target.home_region
    delegation = aws_config.observe_delegation(access, admin)
    run.converge(plan_delegation(target, delegation))

    role = aws_config.observe_service_role(access, admin, AGGREGATOR_ROLE_NAME)
    run.converge(plan_aggregator_role(target, role),
                 Resource("iam-role", admin, "global", AGGREGATOR_ROLE_NAME, target.label(f"role/{AGGREGATOR_ROLE_NAME}"),
                          role.exists))
    aggregator = aws_config.observe_aggregator(access, admin, home, spec.aggregator.name)
    # The aggregator is where the organization's Config is recorded as this object's: the rules
    # and packs are put only while it is.
    created = run.converge(plan_aggregator(spec, target, aggregator, role.arn or target.aggregator_role_arn),
                           Resource("config-aggregator", admin, home, aggregator.arn or "",
                                    target.label(spec.aggregator.name), aggregator.exists))
    if run.report.blocked:
        return

    # Without the delegation the administrator cannot even read the organization's rules: in
    # Audit the missing delegation is the finding, and the rules are looked at once it is there.
    administers = (run.ctx.enforce or not target.delegated
                   or MULTI_ACCOUNT_SETUP_PRINCIPAL in delegation.delegated_services)
    if administers:
        for region in target.regions:
            if spec.rules:
                run.converge(plan_rules(spec, target, region,
                                        aws_config.observe_organization_rules(access, admin, region)))
            if spec.conformance_packs:
                run.converge(plan_conformance_packs(spec, target, region,
                                                    aws_config.observe_conformance_packs(access, admin, region)))
    if aggregator.exists or created:
        seen["compliance"] = aws_config.observe_compliance(access, admin, home, spec.aggregator.name)
    else:
        seen["compliance"] = ComplianceCounts()


def delete(ctx: Context) -> list[str]:
    """deletionPolicy: Delete leaves Config as it is: a recorder is the account's one and only,
    other tools (Security Hub, Control Tower) rely on it, and the delivered history is log data."""
    return ["AWS Config left in place: recorders, the aggregator and organization rules serve other tools too"]
