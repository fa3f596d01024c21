"""SecurityHubBaseline: Security Hub run for the organization by the security account, region by
region, and the organization's IAM Access Analyzer.

Per region the administrator target covers what the organization shares (the administrator's
hub, the delegated administrator, the organization configuration, the administrator's own
standards and integrations, and, in the aggregation region, the cross-region finding aggregator).
Each member account is a target of its own: enrolled, and holding the spec's standards and
integrations. Members get no standards from AWS (AutoEnableStandards NONE), so the standards every
account runs are the spec's, chosen by Vigil alone. A standard or integration someone else turned
on is left on: it only adds checks.

Configured centrally, the standards and controls of every account and linked region are one
configuration policy's, made in the aggregation region (Security Hub's home region) and
associated to the organization's root; members then keep only their enrolment and integrations
here. Standards are named by their ARN's end and resolved to the region's ARNs through
DescribeStandards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..api.securityhub import ConfigurationMode, Integration, SecurityHubBaselineSpec, Standard
from ..state.securityhub import (ADMIN_ENABLED, ANALYZER_ACTIVE, CENTRAL, MEMBER_ENABLED, SELF_MANAGED, AnalyzerState,
                                 ConfigurationPolicy, FindingAggregator, HubSettings, PolicyAssociation,
                                 StandardDefinition, StandardSubscription)
from .ownership import Owner
from .actions import Action, Change, diff
from .weakening import entries
from .organization import DelegatedRegion

SECURITYHUB_PRINCIPAL = "securityhub.amazonaws.com"
ACCESS_ANALYZER_PRINCIPAL = "access-analyzer.amazonaws.com"
ALL_REGIONS = "ALL_REGIONS"
AUTO_ENABLE_STANDARDS = "NONE"
ORGANIZATION_ANALYZER = "ORGANIZATION"
ASSOCIATION_FAILED = "FAILED"


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


class StandardNotOffered(ValueError):
    """A standard of the spec that DescribeStandards does not list in the region."""


class PolicyAssociationFailed(ValueError):
    """AWS could not apply the configuration policy associated to the root."""


def resolve_standards(wanted: Iterable[Standard | str], offered: Iterable[StandardDefinition],
                      region: str) -> dict[str, str]:
    """{spec path: the region's standards ARN}, from DescribeStandards (CIS 1.2.0's is a global
    "ruleset" ARN, the others regional: AWS says which, Vigil does not)."""
    by_path = {s.path: s.arn for s in offered}
    paths = [Standard(w).value for w in dict.fromkeys(wanted)]
    missing = [p for p in paths if p not in by_path]
    if missing:
        raise StandardNotOffered(f"Security Hub does not offer {', '.join(missing)} in {region} (DescribeStandards); "
                                 "remove it from standards or the region from regions")
    return {p: by_path[p] for p in paths}


def configured_centrally(mode: ConfigurationMode | str, configuration_type: str | None) -> bool:
    """Whether the region's standards and controls come from a configuration policy this pass."""
    return mode == ConfigurationMode.CENTRAL or (mode == ConfigurationMode.AUTO and configuration_type == CENTRAL)


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


def plan_central_configuration(target: SecurityHubRegion, configuration_type: str | None) -> list[Action]:
    """The organization configured centrally, switched from the home region (the aggregation
    region, once its aggregator links every region). AWS then keeps AutoEnable false and
    AutoEnableStandards NONE: the root's policy covers every account, those that join too."""
    if not target.aggregates or configuration_type == CENTRAL:
        return []
    return [Action(target.label, target.admin_account_id, target.region, "securityhub",
                   "UpdateOrganizationConfiguration",
                   {"AutoEnable": False, "AutoEnableStandards": AUTO_ENABLE_STANDARDS,
                    "OrganizationConfiguration": {"ConfigurationType": CENTRAL}},
                   (Change("organization_configuration.configuration_type", configuration_type, CENTRAL),),
                   creates=configuration_type is None)]


def _policy_document(standards: Iterable[str], disabled: Iterable[str],
                     custom_parameters: tuple[dict, ...] = ()) -> dict[str, Any]:
    controls: dict[str, Any] = {"DisabledSecurityControlIdentifiers": sorted(disabled)}
    if custom_parameters:
        controls["SecurityControlCustomParameters"] = list(custom_parameters)
    return {"SecurityHub": {"ServiceEnabled": True, "EnabledStandardIdentifiers": sorted(standards),
                            "SecurityControlsConfiguration": controls}}


def _disabled_reasons(spec: SecurityHubBaselineSpec) -> str:
    return "; ".join(f"{c.id}: {c.reason}" for c in spec.disabled_controls)


def plan_configuration_policy(spec: SecurityHubBaselineSpec, target: SecurityHubRegion, standards: dict[str, str],
                              observed: ConfigurationPolicy | None) -> list[Action]:
    """The configuration policy: Security Hub on, the spec's standards (ARNs from DescribeStandards)
    and no other control off than the spec's. A standard someone added to the policy stays, as in
    an account; a control someone turned off in it comes back on."""
    disabled = sorted({c.id for c in spec.disabled_controls})
    if observed is None:
        params: dict[str, Any] = {
            "Name": spec.configuration.policy_name,
            "Description": f"Security Hub baseline of {target.owner.value}, kept by Vigil",
            "ConfigurationPolicy": _policy_document(standards.values(), disabled), "Tags": target.owner.tags()}
        return [Action(target.label, target.admin_account_id, target.region, "securityhub",
                       "CreateConfigurationPolicy", params,
                       (Change("configuration_policy", None, spec.configuration.policy_name),), creates=True)]
    wanted = sorted(set(observed.standards) | set(standards.values()))
    changes: list[Change] = []
    if not observed.service_enabled:
        changes.append(Change("configuration_policy.service_enabled", False, True))
    if wanted != sorted(observed.standards):
        changes.append(Change("configuration_policy.standards", sorted(observed.standards), wanted))
    if observed.enabled_controls is not None or sorted(observed.disabled_controls) != disabled:
        before = sorted(observed.disabled_controls) if observed.enabled_controls is None else None
        added = [c for c in disabled if before is None or c not in before]
        changes.append(Change("configuration_policy.disabled_controls", before, disabled,
                              spec=entries("spec.disabledControls", "+", added) if added else ""))
    if not changes:
        return []
    params = {"Identifier": observed.id,
              "ConfigurationPolicy": _policy_document(wanted, disabled, observed.custom_parameters),
              "UpdatedReason": (f"Vigil: {target.owner.value}; disabled: {_disabled_reasons(spec)}"
                                if spec.disabled_controls else f"Vigil: {target.owner.value}")[:1024]}
    return [Action(target.label, target.admin_account_id, target.region, "securityhub", "UpdateConfigurationPolicy",
                   params, tuple(changes))]


def plan_root_association(target: SecurityHubRegion, root: str, association: PolicyAssociation,
                          policy_id: str | None) -> list[Action]:
    """The policy applied to the organization's root, so every account and OU inherits it (those
    that join later too). ``policy_id`` None: the policy is yet to be created (a plan, Audit)."""
    if policy_id is not None and association.policy_id == policy_id and association.association_type != "INHERITED":
        if association.status == ASSOCIATION_FAILED:
            raise PolicyAssociationFailed(f"configuration policy {policy_id} could not be applied to the root {root}: "
                                          f"{association.message or 'no reason given'}")
        return []
    before = None if association.policy_id == SELF_MANAGED else association.policy_id
    return [Action(target.label, target.admin_account_id, target.region, "securityhub",
                   "StartConfigurationPolicyAssociation",
                   {"ConfigurationPolicyIdentifier": policy_id or "(the policy to create)", "Target": {"RootId": root}},
                   (Change(f"configuration_policy_association.{root}", before, policy_id or "(new policy)"),),
                   creates=before is None)]


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


def plan_standards(label: str, account_id: str, region: str, standards: dict[str, str],
                   subscriptions: tuple[StandardSubscription, ...], new_hub: bool = False) -> list[Action]:
    """The spec's standards (``standards``: {path: the region's ARN}) on, in one call. Standards
    not in the spec are left as they are."""
    found = {s.standards_arn: s for s in subscriptions}
    missing: list[tuple[str, str, str | None]] = []
    for path, arn in standards.items():
        current = found.get(arn)
        if current is None or not current.on:
            missing.append((path, arn, current.status if current else None))
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
