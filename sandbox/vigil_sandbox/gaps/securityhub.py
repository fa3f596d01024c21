"""Security Hub for an organization: what moto lacks or answers wrongly.

Moto keeps a hub per account and region and the findings imported into it, but enables no
standard or integration, keeps one organization configuration for every region, answers any
GetFindings with every finding of the caller's own hub whatever the filters, and has no standards,
product imports, finding aggregators or list of administrators at all. The sandbox adds them,
scoped as AWS scopes them:

- the delegated administrator is per organization and region, designated by the management
  account once Security Hub's trusted access is on; designating registers the account in
  Organizations and turns its hub on (with AWS's default standards) if it is off;
- a hub holds its standards, its product subscriptions (the AWS services' integrations come on
  with the hub) and, in the administrator, the organization configuration and the members; an
  account has one finding aggregator, in the region where it was created;
- enrolling an organization account turns its hub on, with the default standards only when the
  organization configuration says DEFAULT; the management account must have turned its own on;
- the administrator's GetFindings in the aggregation region holds its own and its enrolled
  members' findings from every linked region, filtered as AWS filters strings.

- central configuration: the administrator switches it on from the region of its finding
  aggregator (the home region), which configures every linked region centrally; configuration
  policies live in the home region, and one associated to the root (or an account) sets Security
  Hub and the standards of every organization account in every linked region, as the policy says;
- the newer Security Hub (EnableSecurityHubV2), on or off per account and region.

The additions live in an attribute of moto's backend object, so moto's reset forgets them.
Not modelled: AutoEnable enrolling accounts that join the organization later; standards controls
(a policy's control lists are kept, not applied); policies associated to OUs; DisableSecurityHub's
effects beyond moto's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from moto.organizations.models import FakeRoot, OrganizationsBackend
from moto.securityhub import urls as moto_securityhub_urls
from moto.securityhub.models import SecurityHubBackend, securityhub_backends
from moto.securityhub.responses import SecurityHubResponse
from moto.utilities.utils import get_partition

from ._core import AwsError, Gap, Handler
from .organizations import (is_active_account, is_trusted, management_organization, organization_of,
                            register_delegated_administrator)

SECURITYHUB = "securityhub.amazonaws.com"
DEFAULT_STANDARDS = ("aws-foundational-security-best-practices/v/1.0.0", "cis-aws-foundations-benchmark/v/1.2.0")
REGIONAL_STANDARDS = ("aws-foundational-security-best-practices/v/1.0.0", "pci-dss/v/3.2.1", "pci-dss/v/4.0.1",
                      "cis-aws-foundations-benchmark/v/1.4.0", "cis-aws-foundations-benchmark/v/3.0.0",
                      "nist-800-53/v/5.0.0")
STANDARD_NAMES = {
    "aws-foundational-security-best-practices/v/1.0.0": "AWS Foundational Security Best Practices v1.0.0",
    "pci-dss/v/3.2.1": "PCI DSS v3.2.1", "pci-dss/v/4.0.1": "PCI DSS v4.0.1",
    "cis-aws-foundations-benchmark/v/1.2.0": "CIS AWS Foundations Benchmark v1.2.0",
    "cis-aws-foundations-benchmark/v/1.4.0": "CIS AWS Foundations Benchmark v1.4.0",
    "cis-aws-foundations-benchmark/v/3.0.0": "CIS AWS Foundations Benchmark v3.0.0",
    "nist-800-53/v/5.0.0": "NIST Special Publication 800-53 Revision 5",
}
CENTRAL, LOCAL = "CENTRAL", "LOCAL"
SELF_MANAGED = "SELF_MANAGED_SECURITY_HUB"
POLICY_QUOTA = 20  # configuration policies per administrator (Security Hub quotas)
RULESET_STANDARDS = ("cis-aws-foundations-benchmark/v/1.2.0",)  # one ARN for every region
# AWS services whose findings Security Hub imports; their integrations come on with the hub.
AWS_PRODUCTS = ("guardduty", "config", "access-analyzer", "inspector", "macie", "firewall-manager")
LINKING_MODES = ("ALL_REGIONS", "ALL_REGIONS_EXCEPT_SPECIFIED", "SPECIFIED_REGIONS", "NO_REGIONS")
MEMBER_ENABLED = "Enabled"


def not_subscribed(account: str) -> AwsError:
    return AwsError("InvalidAccessException", f"Account {account} is not subscribed to AWS Security Hub")


def invalid(message: str) -> AwsError:
    return AwsError("InvalidInputException", message)


def _management(account: str, region: str) -> OrganizationsBackend:
    return management_organization(account, region, AwsError("AccessDeniedException", "Only the management account of an organization can do this."))








# --- Domain: an account's hub --------------------------------------------------------------------


@dataclass
class Subscription:
    standards_arn: str
    subscription_arn: str
    status: str = "READY"


@dataclass
class Aggregator:
    arn: str
    region: str
    mode: str
    regions: list[str]


@dataclass
class Member:
    account_id: str
    status: str
    invited_at: str
    updated_at: str


@dataclass
class HubAdditions:
    standards: dict[str, Subscription] = field(default_factory=dict)  # by standards ARN
    products: dict[str, str] = field(default_factory=dict)  # product ARN -> subscription ARN
    aggregator: Aggregator | None = None
    # In the management account's hub: the region's delegated administrator.
    administrator: str | None = None
    # In the administrator's hub: the organization configuration and the members.
    auto_enable: bool = False
    auto_enable_standards: str = "DEFAULT"
    configuration: dict[str, str] = field(default_factory=lambda: {"ConfigurationType": "LOCAL", "Status": "ENABLED"})
    members: dict[str, Member] = field(default_factory=dict)
    # In the administrator's hub of the home region, configured centrally: its policies, and the
    # targets (root or account id) each is applied to.
    policies: dict[str, Policy] = field(default_factory=dict)  # by id
    associations: dict[str, str] = field(default_factory=dict)  # target id -> policy id
    # The newer Security Hub (EnableSecurityHubV2): its ARN where it is on.
    hub_v2: str | None = None


@dataclass
class Policy:
    id: str
    arn: str
    name: str
    description: str
    document: dict[str, Any]
    tags: dict[str, str]
    created_at: str
    updated_at: str


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def backend(account: str, region: str) -> SecurityHubBackend:
    return securityhub_backends[account][region]


def additions(account: str, region: str) -> HubAdditions:
    # Kept on moto's backend object: moto's reset replaces the object's __dict__, and them with it.
    hub = backend(account, region)
    found = hub.__dict__.get("vigil_additions")
    if found is None:
        found = hub.__dict__["vigil_additions"] = HubAdditions()
    return found


def require_hub(account: str, region: str) -> HubAdditions:
    if not backend(account, region).enabled:
        raise not_subscribed(account)
    return additions(account, region)


def standards_catalog(region: str) -> dict[str, str]:
    """Every standard's ARN in the region -> its path ("pci-dss/v/3.2.1")."""
    p = get_partition(region)
    catalog = {f"arn:{p}:securityhub:{region}::standards/{path}": path for path in REGIONAL_STANDARDS}
    catalog.update({f"arn:{p}:securityhub:::ruleset/{path}": path for path in RULESET_STANDARDS})
    return catalog


def product_arn(region: str, name: str) -> str:
    return f"arn:{get_partition(region)}:securityhub:{region}::product/aws/{name}"


def subscribe_standards(account: str, region: str, standards_arns: list[str]) -> list[Subscription]:
    found = require_hub(account, region)
    catalog = standards_catalog(region)
    unknown = [arn for arn in standards_arns if arn not in catalog]
    if unknown:
        raise invalid(f"Invalid standards ARN(s) for {region}: {', '.join(unknown)}")
    subscribed = []
    for arn in standards_arns:
        subscription = found.standards.get(arn) or Subscription(
            arn, f"arn:{get_partition(region)}:securityhub:{region}:{account}:subscription/{catalog[arn]}")
        subscription.status = "READY"
        found.standards[arn] = subscription
        subscribed.append(subscription)
    return subscribed


def unsubscribe_standards(account: str, region: str, subscription_arns: list[str]) -> list[Subscription]:
    found = require_hub(account, region)
    by_arn = {s.subscription_arn: s for s in found.standards.values()}
    unknown = [arn for arn in subscription_arns if arn not in by_arn]
    if unknown:
        raise invalid(f"No standards subscription {', '.join(unknown)} in this account and Region")
    for arn in subscription_arns:
        del found.standards[by_arn[arn].standards_arn]
    return [by_arn[arn] for arn in subscription_arns]


def subscribe_product(account: str, region: str, arn: str, *, again_ok: bool = False) -> str:
    found = require_hub(account, region)
    if arn not in {product_arn(region, name) for name in AWS_PRODUCTS}:
        raise invalid(f"Invalid product ARN {arn} for {region}")
    if arn in found.products and not again_ok:
        raise AwsError("ResourceConflictException", f"The account already imports findings from {arn}")
    subscription = arn.replace("::product/", f":{account}:product-subscription/", 1)
    found.products[arn] = subscription
    return subscription


def enable_hub(account: str, region: str, default_standards: bool, tags: dict[str, str] | None) -> None:
    hub = backend(account, region)
    if hub.enabled:
        raise AwsError("ResourceConflictException", "Account is already subscribed to Security Hub")
    hub.enable_security_hub(enable_default_standards=default_standards, tags=tags or {})
    for name in AWS_PRODUCTS:
        subscribe_product(account, region, product_arn(region, name), again_ok=True)
    if default_standards:
        by_path = {path: arn for arn, path in standards_catalog(region).items()}
        subscribe_standards(account, region, [by_path[path] for path in DEFAULT_STANDARDS])


# --- Domain: the administrator and the organization ----------------------------------------------




def designate_administrator(management: str, region: str, admin: str) -> None:
    organization = _management(management, region)
    if not is_trusted(organization, SECURITYHUB):
        raise AwsError("AccessDeniedException", f"Trusted access for {SECURITYHUB} is not enabled in the "
                                                "organization: enable it in AWS Organizations first.")
    if not is_active_account(organization, admin):
        raise invalid(f"The account {admin} is not an active member of organization {organization.org.id}.")
    region_admin = additions(management, region)
    if region_admin.administrator not in (None, admin):
        raise invalid(f"The organization already has a Security Hub administrator in {region}: "
                      f"{region_admin.administrator}.")
    if admin != management and not any(a.account.id == admin and SECURITYHUB in a.services
                                       for a in organization.admins):
        register_delegated_administrator(management, get_partition(region), admin, SECURITYHUB)
    region_admin.administrator = admin
    if not backend(admin, region).enabled:
        enable_hub(admin, region, default_standards=True, tags=None)


def administrator_of(account: str, region: str) -> str | None:
    """The administrator of the account's organization in the region."""
    organization = organization_of(account, get_partition(region))
    if organization is None:
        return None
    return additions(organization.account_id, region).administrator


def administration(account: str, region: str) -> HubAdditions:
    """The caller's hub, if the caller administers its organization in the region."""
    found = require_hub(account, region)
    if administrator_of(account, region) != account:
        raise AwsError("InvalidAccessException", f"Account {account} is not the Security Hub administrator of its "
                                                  f"organization in {region}.")
    return found


def enroll(admin: HubAdditions, admin_account: str, region: str, account: str) -> str | None:
    """Make an organization account an Enabled member, turning its hub on. Why not, if it cannot be."""
    organization = organization_of(admin_account, get_partition(region))
    if account == admin_account:
        return "The administrator account cannot be its own member."
    if organization is None or not is_active_account(organization, account):
        return "The account is not an active member of the organization."
    if not backend(account, region).enabled:
        if account == organization.account_id:
            return "The organization management account must enable Security Hub before it is enabled as a member."
        enable_hub(account, region, default_standards=admin.auto_enable_standards == "DEFAULT", tags=None)
    now = _now()
    existing = admin.members.get(account)
    admin.members[account] = Member(account, MEMBER_ENABLED, existing.invited_at if existing else now, now)
    return None


def member_view(member: Member, admin_account: str) -> dict[str, Any]:
    return {"AccountId": member.account_id, "AdministratorId": admin_account, "MasterId": admin_account,
            "MemberStatus": member.status, "InvitedAt": member.invited_at, "UpdatedAt": member.updated_at}


# --- Domain: the finding aggregator --------------------------------------------------------------


def aggregator_of(account: str) -> Aggregator | None:
    """An account's aggregator, wherever it lives (AWS allows one per account)."""
    for hub in list(securityhub_backends[account].values()):
        found = hub.__dict__.get("vigil_additions")
        if found is not None and found.aggregator is not None:
            return found.aggregator
    return None


def check_linking(mode: str, regions: list[str] | None) -> list[str]:
    if mode not in LINKING_MODES:
        raise invalid(f"RegionLinkingMode must be one of {', '.join(LINKING_MODES)}")
    if mode in ("ALL_REGIONS", "NO_REGIONS") and regions:
        raise invalid(f"Regions cannot be given with RegionLinkingMode {mode}")
    if mode in ("ALL_REGIONS_EXCEPT_SPECIFIED", "SPECIFIED_REGIONS") and not regions:
        raise invalid(f"Regions are required with RegionLinkingMode {mode}")
    return list(regions or [])


def aggregator_in(account: str, region: str, arn: str) -> Aggregator:
    found = aggregator_of(account)
    if found is None or found.arn != arn:
        raise AwsError("ResourceNotFoundException", f"Finding aggregator {arn} does not exist")
    if found.region != region:
        raise invalid(f"Finding aggregator {arn} is managed from its aggregation Region, {found.region}")
    return found


def aggregator_view(found: Aggregator) -> dict[str, Any]:
    view: dict[str, Any] = {"FindingAggregatorArn": found.arn, "FindingAggregationRegion": found.region,
                            "RegionLinkingMode": found.mode}
    if found.regions:
        view["Regions"] = found.regions
    return view


def linked_regions(account: str, region: str) -> list[str]:
    """The regions whose findings the account sees from ``region``: its own, plus the linked ones
    when it aggregates there."""
    found = aggregator_of(account)
    if found is None or found.region != region or found.mode == "NO_REGIONS":
        return [region]
    if found.mode == "SPECIFIED_REGIONS":
        others = found.regions
    else:
        # Regions the account has never used hold nothing to link.
        others = [r for r in list(securityhub_backends[account].keys()) if r not in found.regions]
    return [region, *sorted(set(others) - {region})]


# --- Domain: central configuration --------------------------------------------------------------


def switch_configuration(admin: str, region: str, configuration_type: str) -> None:
    """Central configuration on or off, from the home region: every region it links follows."""
    found = administration(admin, region)
    aggregator = aggregator_of(admin)
    if configuration_type == CENTRAL and (aggregator is None or aggregator.region != region):
        raise invalid("Central configuration is managed from the home Region: create a finding aggregator in "
                      f"{region} (CreateFindingAggregator) first.")
    if configuration_type == LOCAL and found.associations:
        raise invalid("Disassociate every configuration policy before switching to local configuration.")
    for linked in linked_regions(admin, region):
        view = additions(admin, linked)
        view.configuration = {"ConfigurationType": configuration_type, "Status": "ENABLED"}
        if configuration_type == CENTRAL:
            view.auto_enable, view.auto_enable_standards = False, "NONE"


def home(admin: str, region: str) -> HubAdditions:
    """The administrator's hub in the home region of its central configuration."""
    found = administration(admin, region)
    aggregator = aggregator_of(admin)
    if found.configuration.get("ConfigurationType") != CENTRAL or aggregator is None or aggregator.region != region:
        raise AwsError("AccessDeniedException", "Configuration policies are managed by the delegated administrator "
                                                 "in the home Region, with central configuration turned on.")
    return found


def check_document(region: str, document: dict[str, Any]) -> None:
    hub = document.get("SecurityHub")
    if hub is None:
        raise invalid("ConfigurationPolicy.SecurityHub is required.")
    if not hub.get("ServiceEnabled"):
        if hub.get("EnabledStandardIdentifiers") or hub.get("SecurityControlsConfiguration"):
            raise invalid("Standards and controls cannot be configured with ServiceEnabled false.")
        return
    if "EnabledStandardIdentifiers" not in hub:
        raise invalid("EnabledStandardIdentifiers is required when ServiceEnabled is true.")
    unknown = [arn for arn in hub["EnabledStandardIdentifiers"] if arn not in standards_catalog(region)]
    if unknown:
        raise invalid(f"Invalid standards ARN(s) for {region}: {', '.join(unknown)}")
    controls = hub.get("SecurityControlsConfiguration")
    if controls is None or (("EnabledSecurityControlIdentifiers" in controls)
                            == ("DisabledSecurityControlIdentifiers" in controls)):
        raise invalid("SecurityControlsConfiguration needs exactly one of EnabledSecurityControlIdentifiers and "
                      "DisabledSecurityControlIdentifiers when ServiceEnabled is true.")


def policy_of(found: HubAdditions, identifier: str) -> Policy:
    policy = found.policies.get(identifier) or next((p for p in found.policies.values() if p.arn == identifier), None)
    if policy is None:
        raise AwsError("ResourceNotFoundException", f"Configuration policy {identifier} does not exist.")
    return policy


def apply_policy(admin: str, region: str, found: HubAdditions, account: str, policy: Policy) -> None:
    """What the policy says, in the account, in every linked region: Security Hub on, exactly
    the policy's standards (controls are kept on the policy, not applied)."""
    hub = policy.document["SecurityHub"]
    for linked in linked_regions(admin, region):
        if not hub.get("ServiceEnabled"):
            continue
        if not backend(account, linked).enabled:
            enable_hub(account, linked, default_standards=False, tags=None)
        view = additions(account, linked)
        catalog = standards_catalog(linked)
        paths = {standards_catalog(region)[arn] for arn in hub.get("EnabledStandardIdentifiers", [])}
        wanted = [arn for arn, path in catalog.items() if path in paths]
        gone = [s.subscription_arn for s in view.standards.values() if s.standards_arn not in wanted]
        if gone:
            unsubscribe_standards(account, linked, gone)
        subscribe_standards(account, linked, wanted)


def governed_accounts(admin: str, region: str, found: HubAdditions, target: str) -> list[str]:
    """The organization accounts a target's policy configures: an account's own association
    wins over the root's."""
    organization = organization_of(admin, get_partition(region))
    assert organization is not None
    accounts = [a.id for a in organization.accounts if is_active_account(organization, a.id)]
    if target in accounts:
        return [target]
    return [a for a in accounts if a not in found.associations]


def associate(admin: str, region: str, found: HubAdditions, target: dict[str, str], identifier: str) -> dict[str, Any]:
    if len(target) != 1:
        raise invalid("Target takes exactly one of AccountId, OrganizationalUnitId and RootId.")
    kind, target_id = next(iter(target.items()))
    organization = organization_of(admin, get_partition(region))
    assert organization is not None
    if kind == "OrganizationalUnitId":
        raise invalid("vigil-sandbox: policies associated to organizational units are not modelled")
    if kind == "RootId" and target_id not in [ou.id for ou in organization.ou if isinstance(ou, FakeRoot)]:
        raise AwsError("ResourceNotFoundException", f"Root {target_id} is not the organization's root.")
    if kind == "AccountId" and not is_active_account(organization, target_id):
        raise AwsError("ResourceNotFoundException", f"Account {target_id} is not an active member of the organization.")
    if identifier == SELF_MANAGED:
        found.associations[target_id] = SELF_MANAGED
    else:
        policy = policy_of(found, identifier)
        found.associations[target_id] = policy.id
        for account in governed_accounts(admin, region, found, target_id):
            apply_policy(admin, region, found, account, policy)
    return association_view(found, target_id, "ROOT" if kind == "RootId" else "ACCOUNT", "PENDING")


def association_view(found: HubAdditions, target_id: str, target_type: str, status: str = "SUCCESS") -> dict[str, Any]:
    applied = found.associations.get(target_id)
    inherited = target_type == "ACCOUNT" and applied is None
    root_policy = next((p for t, p in found.associations.items() if t.startswith("r-")), SELF_MANAGED)
    return {"ConfigurationPolicyId": root_policy if inherited else applied or SELF_MANAGED, "TargetId": target_id,
            "TargetType": target_type, "AssociationType": "INHERITED" if inherited else "APPLIED",
            "UpdatedAt": _now(), "AssociationStatus": status}


def policy_view(policy: Policy) -> dict[str, Any]:
    return {"Arn": policy.arn, "Id": policy.id, "Name": policy.name, "Description": policy.description,
            "UpdatedAt": policy.updated_at, "CreatedAt": policy.created_at, "ConfigurationPolicy": policy.document}


# --- Domain: findings ----------------------------------------------------------------------------


def _finding_fields(finding: dict[str, Any], region: str) -> dict[str, str]:
    """The string fields the sandbox filters on, with AWS's defaults for those not imported."""
    severity = finding.get("Severity") or {}
    workflow = finding.get("Workflow") or {}
    return {
        "Id": finding.get("Id", ""), "AwsAccountId": finding.get("AwsAccountId", ""),
        "Region": finding.get("Region", region), "ProductArn": finding.get("ProductArn", ""),
        "GeneratorId": finding.get("GeneratorId", ""), "Title": finding.get("Title", ""),
        "SeverityLabel": severity.get("Label", "INFORMATIONAL"),
        "RecordState": finding.get("RecordState", "ACTIVE"),
        "WorkflowStatus": workflow.get("Status", "NEW"),
        "ComplianceStatus": (finding.get("Compliance") or {}).get("Status", ""),
    }


def _matches(value: str, conditions: list[dict[str, str]]) -> bool:
    """AWS's rule: positive comparisons on one field are ORed, negative ones ANDed."""
    positive = [c for c in conditions if not c["Comparison"].startswith(("NOT_", "PREFIX_NOT"))]
    negative = [c for c in conditions if c not in positive]
    tests = {
        "EQUALS": lambda v, x: v == x, "NOT_EQUALS": lambda v, x: v != x,
        "PREFIX": lambda v, x: v.startswith(x), "PREFIX_NOT_EQUALS": lambda v, x: not v.startswith(x),
        "CONTAINS": lambda v, x: x in v, "NOT_CONTAINS": lambda v, x: x not in v,
    }
    for c in conditions:
        if c["Comparison"] not in tests:
            raise invalid(f"vigil-sandbox: comparison {c['Comparison']} is not modelled")
    return ((not positive or any(tests[c["Comparison"]](value, c["Value"]) for c in positive))
            and all(tests[c["Comparison"]](value, c["Value"]) for c in negative))


def visible_findings(account: str, region: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """The caller's findings view: its own and its enrolled members', from every linked region."""
    unknown = sorted(set(filters) - set(_finding_fields({}, region)))
    if unknown:
        raise invalid(f"vigil-sandbox: filters on {', '.join(unknown)} are not modelled")
    found = []
    for linked in linked_regions(account, region):
        view = additions(account, linked)
        accounts = [account, *sorted(a for a, m in view.members.items() if m.status == MEMBER_ENABLED)]
        for source in accounts:
            for finding in backend(source, linked).findings:
                data = {"Region": linked, **finding.as_dict()}
                fields = _finding_fields(data, linked)
                if all(_matches(fields[name], conditions) for name, conditions in filters.items()):
                    found.append(data)
    return found


# --- Wire: one handler per gap -------------------------------------------------------------------


def _enable_security_hub(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    enable_hub(self.current_account, self.region, params.get("EnableDefaultStandards", True), params.get("Tags"))
    return {}


def _tags_of_arn(account: str, region: str, arn: str) -> dict[str, str]:
    """The tags of the caller's hub or configuration policy named by ``arn``; AWS answers
    ResourceNotFound for anyone else's."""
    if arn == f"arn:{get_partition(region)}:securityhub:{region}:{account}:hub/default":
        require_hub(account, region)
        return backend(account, region).tags
    policy = next((p for p in additions(account, region).policies.values() if p.arn == arn), None)
    if policy is None:
        raise AwsError("ResourceNotFoundException", f"The request was rejected because no resource was found with "
                                                    f"ARN {arn}.")
    return policy.tags


def _tag_resource(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    _tags_of_arn(self.current_account, self.region, params["ResourceArn"]).update(params["Tags"])
    return {}


def _list_tags_for_resource(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": dict(_tags_of_arn(self.current_account, self.region, params["ResourceArn"]))}


def _enable_organization_admin_account(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    designate_administrator(self.current_account, self.region, params["AdminAccountId"])
    return {"AdminAccountId": params["AdminAccountId"], "Feature": params.get("Feature", "SecurityHub")}


def _list_organization_admin_accounts(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    _management(self.current_account, self.region)
    admin = additions(self.current_account, self.region).administrator
    return {"AdminAccounts": [{"AccountId": admin, "Status": "ENABLED"}] if admin else []}


def _describe_organization_configuration(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = administration(self.current_account, self.region)
    return {"AutoEnable": found.auto_enable, "MemberAccountLimitReached": False,
            "AutoEnableStandards": found.auto_enable_standards, "OrganizationConfiguration": found.configuration}


def _update_organization_configuration(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = administration(self.current_account, self.region)
    standards = params.get("AutoEnableStandards", found.auto_enable_standards)
    if standards not in ("NONE", "DEFAULT"):
        raise invalid("AutoEnableStandards must be NONE or DEFAULT")
    wanted = (params.get("OrganizationConfiguration") or {}).get("ConfigurationType",
                                                                  found.configuration["ConfigurationType"])
    if wanted == CENTRAL and (params["AutoEnable"] or standards != "NONE"):
        raise invalid("With central configuration, AutoEnable must be false and AutoEnableStandards NONE: "
                      "configuration policies enable Security Hub in the accounts.")
    if wanted != found.configuration["ConfigurationType"]:
        switch_configuration(self.current_account, self.region, wanted)
    found.auto_enable, found.auto_enable_standards = params["AutoEnable"], standards
    return {}


def _describe_standards(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    require_hub(self.current_account, self.region)
    return {"Standards": [{"StandardsArn": arn, "Name": STANDARD_NAMES[path], "Description": STANDARD_NAMES[path],
                           "EnabledByDefault": path in DEFAULT_STANDARDS,
                           "StandardsManagedBy": {"Company": "AWS", "Product": "Security Hub"}}
                          for arn, path in sorted(standards_catalog(self.region).items(), key=lambda i: i[1])]}


def _create_configuration_policy(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = home(self.current_account, self.region)
    if len(found.policies) >= POLICY_QUOTA:
        raise AwsError("LimitExceededException", f"An administrator has at most {POLICY_QUOTA} configuration policies.")
    check_document(self.region, params["ConfigurationPolicy"])
    policy_id, now = str(uuid.uuid4()), _now()
    arn = (f"arn:{get_partition(self.region)}:securityhub:{self.region}:{self.current_account}:configuration-policy/"
           f"{policy_id}")
    policy = Policy(policy_id, arn, params["Name"], params.get("Description", ""), params["ConfigurationPolicy"],
                    dict(params.get("Tags") or {}), now, now)
    found.policies[policy_id] = policy
    return policy_view(policy)


def _get_configuration_policy(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    return policy_view(policy_of(home(self.current_account, self.region), params["Identifier"]))


def _update_configuration_policy(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = home(self.current_account, self.region)
    policy = policy_of(found, params["Identifier"])
    if "ConfigurationPolicy" in params:
        check_document(self.region, params["ConfigurationPolicy"])
        policy.document = params["ConfigurationPolicy"]
    policy.name = params.get("Name", policy.name)
    policy.description = params.get("Description", policy.description)
    policy.updated_at = _now()
    for target, applied in list(found.associations.items()):
        if applied == policy.id:
            for account in governed_accounts(self.current_account, self.region, found, target):
                apply_policy(self.current_account, self.region, found, account, policy)
    return policy_view(policy)


def _list_configuration_policies(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = home(self.current_account, self.region)
    return {"ConfigurationPolicySummaries": [
        {"Arn": p.arn, "Id": p.id, "Name": p.name, "Description": p.description, "UpdatedAt": p.updated_at,
         "ServiceEnabled": bool(p.document["SecurityHub"].get("ServiceEnabled"))} for p in found.policies.values()]}


def _start_configuration_policy_association(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = home(self.current_account, self.region)
    return associate(self.current_account, self.region, found, params["Target"],
                     params["ConfigurationPolicyIdentifier"])


def _start_configuration_policy_disassociation(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = home(self.current_account, self.region)
    target = params["Target"]
    if len(target) != 1:
        raise invalid("Target takes exactly one of AccountId, OrganizationalUnitId and RootId.")
    target_id = next(iter(target.values()))
    applied = found.associations.get(target_id)
    identifier = params["ConfigurationPolicyIdentifier"]
    if applied is None or identifier not in (applied, found.policies[applied].arn if applied in found.policies
                                             else applied):
        raise AwsError("ResourceNotFoundException", f"No configuration policy is associated to {target_id}.")
    del found.associations[target_id]  # the accounts keep what the policy set, as on AWS
    return {}


def _get_configuration_policy_association(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = home(self.current_account, self.region)
    target = params["Target"]
    if len(target) != 1:
        raise invalid("Target takes exactly one of AccountId, OrganizationalUnitId and RootId.")
    kind, target_id = next(iter(target.items()))
    if kind == "OrganizationalUnitId":
        raise invalid("vigil-sandbox: policies associated to organizational units are not modelled")
    return association_view(found, target_id, "ROOT" if kind == "RootId" else "ACCOUNT")


def _enable_security_hub_v2(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = additions(self.current_account, self.region)
    found.hub_v2 = found.hub_v2 or (f"arn:{get_partition(self.region)}:securityhub:{self.region}:"
                                    f"{self.current_account}:hubv2/{uuid.uuid4()}")
    return {"HubV2Arn": found.hub_v2}


def _describe_security_hub_v2(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = additions(self.current_account, self.region)
    if found.hub_v2 is None:
        raise AwsError("ResourceNotFoundException", f"Security Hub is not enabled for account {self.current_account}.")
    return {"HubV2Arn": found.hub_v2, "SubscribedAt": _now(), "Features": {}}


def _subscription_view(subscription: Subscription, status: str | None = None) -> dict[str, Any]:
    return {"StandardsSubscriptionArn": subscription.subscription_arn, "StandardsArn": subscription.standards_arn,
            "StandardsInput": {}, "StandardsStatus": status or subscription.status}


def _get_enabled_standards(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = require_hub(self.current_account, self.region)
    wanted = params.get("StandardsSubscriptionArns")
    listed = [s for s in found.standards.values() if wanted is None or s.subscription_arn in wanted]
    return {"StandardsSubscriptions": [_subscription_view(s) for s in listed]}


def _batch_enable_standards(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    arns = [r["StandardsArn"] for r in params["StandardsSubscriptionRequests"]]
    # AWS answers PENDING and gets the standard READY shortly after; the next read sees READY.
    return {"StandardsSubscriptions": [_subscription_view(s, "PENDING")
                                       for s in subscribe_standards(self.current_account, self.region, arns)]}


def _batch_disable_standards(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    removed = unsubscribe_standards(self.current_account, self.region, params["StandardsSubscriptionArns"])
    return {"StandardsSubscriptions": [_subscription_view(s, "DELETING") for s in removed]}


def _enable_import_findings_for_product(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    return {"ProductSubscriptionArn": subscribe_product(self.current_account, self.region, params["ProductArn"])}


def _disable_import_findings_for_product(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = require_hub(self.current_account, self.region)
    product = next((p for p, s in found.products.items() if s == params["ProductSubscriptionArn"]), None)
    if product is None:
        raise AwsError("ResourceNotFoundException", f"No product subscription {params['ProductSubscriptionArn']}")
    del found.products[product]
    return {}


def _list_enabled_products_for_import(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    return {"ProductSubscriptions": sorted(require_hub(self.current_account, self.region).products.values())}


def _create_finding_aggregator(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = require_hub(self.current_account, self.region)
    existing = aggregator_of(self.current_account)
    if existing is not None:
        raise invalid(f"The account already has a finding aggregator, in {existing.region}: {existing.arn}")
    regions = check_linking(params["RegionLinkingMode"], params.get("Regions"))
    arn = (f"arn:{get_partition(self.region)}:securityhub:{self.region}:{self.current_account}:finding-aggregator/"
           f"{uuid.uuid4()}")
    found.aggregator = Aggregator(arn, self.region, params["RegionLinkingMode"], regions)
    return aggregator_view(found.aggregator)


def _list_finding_aggregators(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    require_hub(self.current_account, self.region)
    found = aggregator_of(self.current_account)
    return {"FindingAggregators": [{"FindingAggregatorArn": found.arn}] if found else []}


def _get_finding_aggregator(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    require_hub(self.current_account, self.region)
    found = aggregator_of(self.current_account)
    if found is None or found.arn != params["FindingAggregatorArn"]:
        raise AwsError("ResourceNotFoundException", f"Finding aggregator {params['FindingAggregatorArn']} "
                                                     "does not exist")
    return aggregator_view(found)


def _update_finding_aggregator(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = aggregator_in(self.current_account, self.region, params["FindingAggregatorArn"])
    found.regions = check_linking(params["RegionLinkingMode"], params.get("Regions"))
    found.mode = params["RegionLinkingMode"]
    return aggregator_view(found)


def _delete_finding_aggregator(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    aggregator_in(self.current_account, self.region, params["FindingAggregatorArn"])
    additions(self.current_account, self.region).aggregator = None
    return {}


def _create_members(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    admin = administration(self.current_account, self.region)
    unprocessed = []
    for detail in params["AccountDetails"]:
        why = enroll(admin, self.current_account, self.region, detail["AccountId"])
        if why:
            unprocessed.append({"AccountId": detail["AccountId"], "ProcessingResult": why})
    return {"UnprocessedAccounts": unprocessed}


def _list_members(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = require_hub(self.current_account, self.region)
    only_associated = str(params.get("OnlyAssociated", True)).lower() != "false"
    members = [m for _, m in sorted(found.members.items()) if not only_associated or m.status == MEMBER_ENABLED]
    start, size = int(params.get("NextToken") or 0), int(params.get("MaxResults") or 50)
    answer: dict[str, Any] = {"Members": [member_view(m, self.current_account) for m in members[start:start + size]]}
    if start + size < len(members):
        answer["NextToken"] = str(start + size)
    return answer


def _disassociate_members(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = administration(self.current_account, self.region)
    for account in params["AccountIds"]:
        member = found.members.get(account)
        if member is None:
            raise AwsError("ResourceNotFoundException", f"Account {account} is not a member")
        member.status, member.updated_at = "Removed", _now()
    return {}


def _get_findings(self: SecurityHubResponse, params: dict[str, Any]) -> dict[str, Any]:
    require_hub(self.current_account, self.region)
    size = params.get("MaxResults") or 100
    if not 1 <= size <= 100:
        raise invalid("MaxResults must be a number between 1 and 100")
    # SortCriteria is not modelled: findings come in import order.
    found = visible_findings(self.current_account, self.region, params.get("Filters") or {})
    start = int(params.get("NextToken") or 0)
    answer: dict[str, Any] = {"Findings": found[start:start + size]}
    if start + size < len(found):
        answer["NextToken"] = str(start + size)
    return answer


def _guard_hub_enabled(self: SecurityHubResponse, params: dict[str, Any]) -> None:
    require_hub(self.current_account, self.region)


# moto's server routes a request by its URL before looking for a method: the added operations'
# paths join moto's Security Hub URL table on import. Without the gaps, moto finds no method there
# and answers that it does not implement the operation, as it would have before.
_ADDED_PATHS = (
    "{0}/organization/admin$",
    "{0}/standards/get$",
    "{0}/standards/register$",
    "{0}/standards/deregister$",
    "{0}/productSubscriptions$",
    "{0}/productSubscriptions/(?P<ProductSubscriptionArn>.+)$",
    "{0}/findingAggregator/create$",
    "{0}/findingAggregator/list$",
    "{0}/findingAggregator/update$",
    "{0}/findingAggregator/get/(?P<FindingAggregatorArn>.+)$",
    "{0}/findingAggregator/delete/(?P<FindingAggregatorArn>.+)$",
    "{0}/members/disassociate$",
    "{0}/tags/(?P<ResourceArn>.+)$",
    "{0}/standards$",
    "{0}/configurationPolicy/create$",
    "{0}/configurationPolicy/list$",
    "{0}/configurationPolicy/get/(?P<Identifier>.+)$",
    "{0}/configurationPolicy/(?P<Identifier>.+)$",
    "{0}/configurationPolicyAssociation/associate$",
    "{0}/configurationPolicyAssociation/get$",
    "{0}/configurationPolicyAssociation/disassociate$",
    "{0}/hubv2$",
)
for _path in _ADDED_PATHS:
    moto_securityhub_urls.url_paths.setdefault(_path, SecurityHubResponse.dispatch)


def _gap(operation: str, kind: Literal["guard", "fix", "addition"], handler: Handler, moto: str,
         sandbox: str) -> Gap:
    return Gap("securityhub", operation, kind, SecurityHubResponse, handler, moto=moto, sandbox=sandbox)


_NOT_IMPLEMENTED = "not implemented"

GAPS: tuple[Gap, ...] = (
    _gap("EnableSecurityHub", "fix", _enable_security_hub,
         moto="ignores EnableDefaultStandards; enables no integration; succeeds again on an enabled hub",
         sandbox="default standards (FSBP, CIS 1.2.0) unless EnableDefaultStandards is false; the AWS services' "
                 "integrations on; ResourceConflictException when already on"),
    _gap("TagResource", "addition", _tag_resource, moto=_NOT_IMPLEMENTED,
         sandbox="tags the caller's hub, by its ARN; ResourceNotFoundException for another's or a hub that is off"),
    _gap("ListTagsForResource", "addition", _list_tags_for_resource, moto=_NOT_IMPLEMENTED,
         sandbox="the caller's hub's tags (those EnableSecurityHub was given, and TagResource's)"),
    _gap("EnableOrganizationAdminAccount", "fix", _enable_organization_admin_account,
         moto="one administrator for every region; no trusted access needed; the hub stays off",
         sandbox="per organization and region; management account and trusted access required; registers the "
                 "delegated administrator and turns its hub on"),
    _gap("ListOrganizationAdminAccounts", "addition", _list_organization_admin_accounts,
         moto=_NOT_IMPLEMENTED, sandbox="the region's administrator; management account only"),
    _gap("DescribeOrganizationConfiguration", "fix", _describe_organization_configuration,
         moto="one configuration for every region", sandbox="the region administrator's configuration"),
    _gap("UpdateOrganizationConfiguration", "fix", _update_organization_configuration,
         moto="one configuration for every region; ignores OrganizationConfiguration",
         sandbox="per region, administrator only; ConfigurationType CENTRAL from the aggregator's region only, with "
                 "AutoEnable false and AutoEnableStandards NONE, for every linked region"),
    _gap("DescribeStandards", "addition", _describe_standards, moto=_NOT_IMPLEMENTED,
         sandbox="the region's standards with their ARNs and names"),
    _gap("CreateConfigurationPolicy", "addition", _create_configuration_policy, moto=_NOT_IMPLEMENTED,
         sandbox="the administrator in the home region, configured centrally; the policy checked; 20 at most"),
    _gap("GetConfigurationPolicy", "addition", _get_configuration_policy, moto=_NOT_IMPLEMENTED,
         sandbox="by id or ARN"),
    _gap("UpdateConfigurationPolicy", "addition", _update_configuration_policy, moto=_NOT_IMPLEMENTED,
         sandbox="checked as on create; applied again where associated"),
    _gap("ListConfigurationPolicies", "addition", _list_configuration_policies, moto=_NOT_IMPLEMENTED,
         sandbox="every policy, one page"),
    _gap("StartConfigurationPolicyAssociation", "addition", _start_configuration_policy_association,
         moto=_NOT_IMPLEMENTED,
         sandbox="to the root or an account; applied at once (hub on, exactly the policy's standards in every "
                 "linked region); answered PENDING, read SUCCESS"),
    _gap("StartConfigurationPolicyDisassociation", "addition", _start_configuration_policy_disassociation,
         moto=_NOT_IMPLEMENTED, sandbox="the target's own association removed (for tests: Vigil never disassociates)"),
    _gap("GetConfigurationPolicyAssociation", "addition", _get_configuration_policy_association,
         moto=_NOT_IMPLEMENTED, sandbox="the root's or an account's (APPLIED, or INHERITED from the root)"),
    _gap("EnableSecurityHubV2", "addition", _enable_security_hub_v2, moto=_NOT_IMPLEMENTED,
         sandbox="on in the account and region"),
    _gap("DescribeSecurityHubV2", "addition", _describe_security_hub_v2, moto=_NOT_IMPLEMENTED,
         sandbox="its ARN where on; ResourceNotFoundException where not"),
    _gap("GetEnabledStandards", "addition", _get_enabled_standards,
         moto=_NOT_IMPLEMENTED, sandbox="the hub's standards subscriptions, READY"),
    _gap("BatchEnableStandards", "addition", _batch_enable_standards,
         moto=_NOT_IMPLEMENTED,
         sandbox="known standards ARNs of the region (CIS 1.2.0 as its global ruleset ARN); answered PENDING"),
    _gap("BatchDisableStandards", "addition", _batch_disable_standards,
         moto=_NOT_IMPLEMENTED, sandbox="removes subscriptions; answered DELETING"),
    _gap("EnableImportFindingsForProduct", "addition", _enable_import_findings_for_product,
         moto=_NOT_IMPLEMENTED,
         sandbox="AWS services' product ARNs of the region; ResourceConflictException when already on"),
    _gap("DisableImportFindingsForProduct", "addition", _disable_import_findings_for_product,
         moto=_NOT_IMPLEMENTED, sandbox="by product subscription ARN"),
    _gap("ListEnabledProductsForImport", "addition", _list_enabled_products_for_import,
         moto=_NOT_IMPLEMENTED, sandbox="the hub's product subscription ARNs"),
    _gap("CreateFindingAggregator", "addition", _create_finding_aggregator,
         moto=_NOT_IMPLEMENTED, sandbox="one per account, in the calling region; linking modes checked"),
    _gap("ListFindingAggregators", "addition", _list_finding_aggregators,
         moto=_NOT_IMPLEMENTED, sandbox="the account's aggregator, from any region"),
    _gap("GetFindingAggregator", "addition", _get_finding_aggregator,
         moto=_NOT_IMPLEMENTED, sandbox="region and linking mode"),
    _gap("UpdateFindingAggregator", "addition", _update_finding_aggregator,
         moto=_NOT_IMPLEMENTED, sandbox="from the aggregation region only"),
    _gap("DeleteFindingAggregator", "addition", _delete_finding_aggregator,
         moto=_NOT_IMPLEMENTED, sandbox="from the aggregation region only"),
    _gap("CreateMembers", "fix", _create_members,
         moto="enrolls any account id, as MemberStatus ENABLED, from any caller",
         sandbox="administrator only; ACTIVE organization accounts become Enabled members with their hub on; the "
                 "management account only once its own hub is on"),
    _gap("ListMembers", "fix", _list_members,
         moto="reads OnlyAssociated=false as true; MemberStatus ENABLED",
         sandbox="every member with OnlyAssociated=false; MemberStatus Enabled / Removed; paginated"),
    _gap("DisassociateMembers", "addition", _disassociate_members,
         moto=_NOT_IMPLEMENTED, sandbox="members become Removed"),
    _gap("GetFindings", "fix", _get_findings,
         moto="ignores Filters; the caller's own region and account only",
         sandbox="string filters (EQUALS, PREFIX, CONTAINS and negations) on the modelled fields; the "
                 "administrator's members and, in the aggregation region, every linked region"),
    _gap("BatchImportFindings", "guard", _guard_hub_enabled,
         moto="imports into an account where Security Hub is off",
         sandbox="InvalidAccessException unless the hub is on"),
)
