"""SecurityHubBaseline: Security Hub run for the organization by the security account, region by
region, and the organization's IAM Access Analyzer.

Per region the administrator target covers what the organization shares (the administrator's
hub, the delegated administrator, the organization configuration, the administrator's own
standards and integrations, and, in the aggregation region, the cross-region finding aggregator).
Each member account is a target of its own: enrolled, and holding the spec's standards and
integrations. Members get no standards from AWS (AutoEnableStandards NONE), so the standards every
account runs are the spec's, chosen by Vigil alone. A standard or integration someone else turned
on is left on: it only adds checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..api.securityhub import Integration, SecurityHubBaselineSpec, Standard
from ..state.securityhub import (ADMIN_ENABLED, ANALYZER_ACTIVE, MEMBER_ENABLED, AnalyzerState, FindingAggregator,
                                 HubSettings, StandardSubscription)
from .ownership import Owner
from .actions import Action, Change, diff
from .organization import DelegatedRegion

SECURITYHUB_PRINCIPAL = "securityhub.amazonaws.com"
ACCESS_ANALYZER_PRINCIPAL = "access-analyzer.amazonaws.com"
ALL_REGIONS = "ALL_REGIONS"
AUTO_ENABLE_STANDARDS = "NONE"
ORGANIZATION_ANALYZER = "ORGANIZATION"
# CIS 1.2.0 predates regional standards: its ARN is one "ruleset" for every region.
GLOBAL_STANDARDS = {Standard.CIS_1_2.value: "ruleset"}


class AdministratorConflict(ValueError):
    """Another account is Security Hub's administrator in the region. Replacing it would drop
    every member it enrolled, so Vigil reports it and leaves the choice to a person."""


class AggregatorConflict(ValueError):
    """The administrator already aggregates findings into another region; an account has one
    aggregator, and moving it is a person's decision."""


class AnalyzerConflict(ValueError):
    """An analyzer of the spec's name exists but is not an organization analyzer; the type of an
    analyzer cannot change."""


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def standards_arn(standard: Standard | str, region: str) -> str:
    """The ARN BatchEnableStandards takes for a standard in a region."""
    path = Standard(standard).value
    if path in GLOBAL_STANDARDS:
        return f"arn:{partition(region)}:securityhub:::{GLOBAL_STANDARDS[path]}/{path}"
    return f"arn:{partition(region)}:securityhub:{region}::standards/{path}"


def product_arn(integration: Integration | str, region: str) -> str:
    """The ARN EnableImportFindingsForProduct takes for an AWS service's findings."""
    return f"arn:{partition(region)}:securityhub:{region}::product/aws/{Integration(integration).value}"


def subscribed_product(subscription_arn: str) -> str:
    """"arn:aws:securityhub:r:a:product-subscription/aws/guardduty" -> "aws/guardduty"."""
    return subscription_arn.split(":product-subscription/", 1)[-1]


@dataclass(frozen=True)
class SecurityHubRegion(DelegatedRegion):
    aggregates: bool = False  # the aggregation region: the finding aggregator lives here


@dataclass(frozen=True)
class AnalyzerTarget:
    management_account_id: str
    admin_account_id: str
    region: str
    name: str
    owner: Owner  # who signs what Vigil creates (planning.ownership)

    @property
    def label(self) -> str:
        return f"{self.admin_account_id}/{self.region}/access-analyzer/{self.name}"


def aggregation_region(spec: SecurityHubBaselineSpec, regions: list[str], home: str) -> str:
    """Where findings of every region come together: the spec's choice, else the home region.
    It must be one of the control's regions, where the administrator's hub is on."""
    chosen = spec.aggregation_region or home
    if chosen not in regions:
        field = "aggregationRegion" if spec.aggregation_region else "the home region (aggregationRegion empty)"
        raise ValueError(f"{field} {chosen} is not among the regions this SecurityHubBaseline covers: "
                         f"{', '.join(regions)}")
    return chosen


def member_account_ids(active_ids: Iterable[str], admin_account_id: str) -> list[str]:
    """Every ACTIVE account of the organization but the administrator itself (the management
    account included: AWS recommends watching it too)."""
    return sorted(a for a in active_ids if a != admin_account_id)


# --- the administrator -----------------------------------------------------------------------------


def plan_hub(label: str, account_id: str, region: str, enabled: bool, owner: Owner) -> list[Action]:
    """Security Hub on in an account, without AWS's default standards: the spec names them."""
    if enabled:
        return []
    return [Action(label, account_id, region, "securityhub", "EnableSecurityHub",
                   {"EnableDefaultStandards": False, "Tags": owner.tags()},
                   (Change("hub", "disabled", "enabled"),), creates=True)]


def plan_administrator(target: SecurityHubRegion, admins: dict[str, str]) -> list[Action]:
    """The security account is the region's delegated administrator, designated by the
    management account."""
    status = admins.get(target.admin_account_id)
    if status == ADMIN_ENABLED:
        return []
    others = sorted(a for a in admins if a != target.admin_account_id)
    if others:
        raise AdministratorConflict(
            f"Security Hub's administrator in {target.region} is {', '.join(others)}, not the security account "
            f"{target.admin_account_id}; Vigil does not replace it (DisableOrganizationAdminAccount first)")
    return [Action(target.label, target.management_account_id, target.region, "securityhub",
                   "EnableOrganizationAdminAccount", {"AdminAccountId": target.admin_account_id},
                   (Change("delegated_administrator", status, target.admin_account_id),), creates=status is None)]


def desired_organization(spec: SecurityHubBaselineSpec) -> HubSettings:
    return HubSettings(auto_enable=spec.auto_enable, auto_enable_standards=AUTO_ENABLE_STANDARDS)


def plan_organization(spec: SecurityHubBaselineSpec, target: SecurityHubRegion,
                      observed: HubSettings | None) -> list[Action]:
    """Accounts that join the organization are enrolled as the spec says, with no standards of
    AWS's choosing. ``observed`` is None before the security account administers the region."""
    desired = desired_organization(spec)
    changes = diff(desired, observed or HubSettings())
    if not changes:
        return []
    # UpdateOrganizationConfiguration requires AutoEnable in every call; both are always sent.
    return [Action(target.label, target.admin_account_id, target.region, "securityhub",
                   "UpdateOrganizationConfiguration",
                   {"AutoEnable": desired.auto_enable, "AutoEnableStandards": desired.auto_enable_standards},
                   tuple(changes), creates=observed is None)]


def plan_aggregator(target: SecurityHubRegion, aggregators: tuple[FindingAggregator, ...]) -> list[Action]:
    """One finding aggregator, in the aggregation region, linking every region."""
    if not target.aggregates:
        return []
    if not aggregators:
        return [Action(target.label, target.admin_account_id, target.region, "securityhub",
                       "CreateFindingAggregator", {"RegionLinkingMode": ALL_REGIONS},
                       (Change("finding_aggregator", None, f"{target.region} {ALL_REGIONS}"),), creates=True)]
    current = aggregators[0]
    if current.region != target.region:
        raise AggregatorConflict(
            f"the security account already aggregates findings into {current.region} ({current.arn}); an account "
            f"has one aggregator: delete it or set aggregationRegion to {current.region}")
    if current.region_linking_mode == ALL_REGIONS:
        return []
    return [Action(target.label, target.admin_account_id, target.region, "securityhub", "UpdateFindingAggregator",
                   {"FindingAggregatorArn": current.arn, "RegionLinkingMode": ALL_REGIONS},
                   (Change("finding_aggregator.region_linking_mode", current.region_linking_mode, ALL_REGIONS),))]


# --- any enrolled account: standards and integrations ---------------------------------------------


def plan_standards(spec: SecurityHubBaselineSpec, label: str, account_id: str, region: str,
                   subscriptions: tuple[StandardSubscription, ...], new_hub: bool = False) -> list[Action]:
    """The spec's standards on, in one call. Standards not in the spec are left as they are."""
    found = {s.standards_arn: s for s in subscriptions}
    missing: list[tuple[str, str, str | None]] = []
    for standard in dict.fromkeys(spec.standards):
        arn = standards_arn(standard, region)
        current = found.get(arn)
        if current is None or not current.on:
            missing.append((Standard(standard).value, arn, current.status if current else None))
    if not missing:
        return []
    return [Action(label, account_id, region, "securityhub", "BatchEnableStandards",
                   {"StandardsSubscriptionRequests": [{"StandardsArn": arn} for _, arn, _ in missing]},
                   tuple(Change(f"standards.{path}", status, "READY") for path, _, status in missing),
                   creates=new_hub)]


def plan_integrations(spec: SecurityHubBaselineSpec, label: str, account_id: str, region: str,
                      subscriptions: frozenset[str], new_hub: bool = False) -> list[Action]:
    """Findings of GuardDuty, Config and Access Analyzer imported: one call per product."""
    have = {subscribed_product(s) for s in subscriptions}
    actions = []
    for integration in dict.fromkeys(spec.integrations):
        product = f"aws/{Integration(integration).value}"
        if product not in have:
            actions.append(Action(label, account_id, region, "securityhub", "EnableImportFindingsForProduct",
                                  {"ProductArn": product_arn(integration, region)},
                                  (Change(f"integrations.{Integration(integration).value}", "disabled", "enabled"),),
                                  creates=new_hub))
    return actions


# --- members -------------------------------------------------------------------------------------


def plan_member(target: SecurityHubRegion, account_id: str, status: str | None) -> list[Action]:
    """An organization account enrolled by the administrator; CreateMembers also takes back one
    that was disassociated. Enrolling turns Security Hub on in the account."""
    if status is not None and status.lower() == MEMBER_ENABLED.lower():
        return []
    return [Action(target.member_label(account_id), target.admin_account_id, target.region, "securityhub",
                   "CreateMembers", {"AccountDetails": [{"AccountId": account_id}]},
                   (Change("member.status", status, MEMBER_ENABLED),), creates=status is None)]


# --- IAM Access Analyzer ---------------------------------------------------------------------------


def plan_analyzer_delegation(target: AnalyzerTarget, delegated_services: frozenset[str]) -> list[Action]:
    """An organization analyzer outside the management account needs the account registered as
    Access Analyzer's delegated administrator (trusted access is planned before this)."""
    if ACCESS_ANALYZER_PRINCIPAL in delegated_services:
        return []
    return [Action(target.label, target.management_account_id, target.region, "organizations",
                   "RegisterDelegatedAdministrator",
                   {"AccountId": target.admin_account_id, "ServicePrincipal": ACCESS_ANALYZER_PRINCIPAL},
                   (Change("delegated_administrator", sorted(delegated_services), ACCESS_ANALYZER_PRINCIPAL),),
                   creates=True)]


def plan_analyzer(target: AnalyzerTarget, observed: AnalyzerState) -> list[Action]:
    if observed.exists:
        if observed.type != ORGANIZATION_ANALYZER:
            raise AnalyzerConflict(f"analyzer {target.name} in {target.admin_account_id}/{target.region} is of type "
                                   f"{observed.type}, not {ORGANIZATION_ANALYZER}; an analyzer's type cannot change: "
                                   "delete it or choose another accessAnalyzer.name")
        return []
    params: dict[str, Any] = {"analyzerName": target.name, "type": ORGANIZATION_ANALYZER,
                              "tags": target.owner.tags()}
    return [Action(target.label, target.admin_account_id, target.region, "accessanalyzer", "CreateAnalyzer", params,
                   (Change("analyzer", None, f"{target.name} ({ORGANIZATION_ANALYZER})"),), creates=True)]


def analyzer_problem(observed: AnalyzerState) -> str | None:
    """Why an existing analyzer is not analyzing, if it is not (no write fixes that by itself)."""
    if not observed.exists or observed.status in (ANALYZER_ACTIVE, "CREATING"):
        return None
    reason = f": {observed.status_reason}" if observed.status_reason else ""
    return f"analyzer {observed.arn} is {observed.status}{reason}"
