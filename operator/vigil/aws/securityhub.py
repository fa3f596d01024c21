"""Security Hub: the delegated administrator (as the management account sees it), an account's hub,
standards and product integrations, the administrator's organization configuration, finding
aggregator and members, the active findings by severity; and the member write that reports
failure in its answer instead of raising."""

from __future__ import annotations

from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from ..state.securityhub import (SELF_MANAGED, ConfigurationPolicy, FindingAggregator, FindingCounts, HubSettings,
                                 PolicyAssociation, StandardDefinition, StandardSubscription)
from .errors import is_code, or_default
from .session import AwsAccess, partition

# Security Hub's answer to any read of an account where it is off.
NOT_SUBSCRIBED = "InvalidAccessException"
ACTIVE_FINDINGS = {
    "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}, {"Value": "NOTIFIED", "Comparison": "EQUALS"}],
}
FINDINGS_PAGE = 100  # GetFindings' largest page


def administrators(access: AwsAccess, management_account_id: str, region: str) -> dict[str, str]:
    """The region's delegated administrators: {account id: ENABLED | DISABLE_IN_PROGRESS}."""
    hub = access.client("securityhub", management_account_id, region)
    return {a["AccountId"]: a.get("Status", "")
            for page in hub.get_paginator("list_organization_admin_accounts").paginate()
            for a in page.get("AdminAccounts", [])}


def hub_arn(account_id: str, region: str) -> str:
    return f"arn:{partition(region)}:securityhub:{region}:{account_id}:hub/default"


def hub_enabled(access: AwsAccess, account_id: str, region: str) -> bool:
    hub = access.client("securityhub", account_id, region)
    return or_default(lambda: bool(hub.describe_hub().get("HubArn")), False, NOT_SUBSCRIBED)


def organization_configuration(access: AwsAccess, account_id: str, region: str) -> tuple[HubSettings, str]:
    """The administrator's organization configuration, and whether it is LOCAL or CENTRAL."""
    answer = access.client("securityhub", account_id, region).describe_organization_configuration()
    return (HubSettings(auto_enable=bool(answer.get("AutoEnable")),
                        auto_enable_standards=answer.get("AutoEnableStandards", "DEFAULT")),
            (answer.get("OrganizationConfiguration") or {}).get("ConfigurationType", "LOCAL"))


def enabled_standards(access: AwsAccess, account_id: str, region: str) -> tuple[StandardSubscription, ...]:
    """The account's standards subscriptions; none where Security Hub is off."""
    hub = access.client("securityhub", account_id, region)

    def read() -> tuple[StandardSubscription, ...]:
        return tuple(StandardSubscription(standards_arn=s["StandardsArn"], subscription_arn=s["StandardsSubscriptionArn"],
                                          status=s.get("StandardsStatus", ""))
                     for page in hub.get_paginator("get_enabled_standards").paginate()
                     for s in page.get("StandardsSubscriptions", []))
    return or_default(read, (), NOT_SUBSCRIBED)


def product_subscriptions(access: AwsAccess, account_id: str, region: str) -> frozenset[str]:
    """The products whose findings the account imports, as subscription ARNs; none where it is off."""
    hub = access.client("securityhub", account_id, region)

    def read() -> frozenset[str]:
        return frozenset(arn for page in hub.get_paginator("list_enabled_products_for_import").paginate()
                         for arn in page.get("ProductSubscriptions", []))
    return or_default(read, frozenset(), NOT_SUBSCRIBED)


def finding_aggregators(access: AwsAccess, account_id: str, region: str) -> tuple[FindingAggregator, ...]:
    """The account's finding aggregators (AWS allows one) with their region and linking mode."""
    hub = access.client("securityhub", account_id, region)
    arns = [a["FindingAggregatorArn"] for page in hub.get_paginator("list_finding_aggregators").paginate()
            for a in page.get("FindingAggregators", [])]
    found = []
    for arn in arns:
        got = hub.get_finding_aggregator(FindingAggregatorArn=arn)
        found.append(FindingAggregator(arn=arn, region=got.get("FindingAggregationRegion", ""),
                                       region_linking_mode=got.get("RegionLinkingMode", ""),
                                       regions=tuple(got.get("Regions") or ())))
    return tuple(found)


def standards_offered(access: AwsAccess, account_id: str, region: str) -> tuple[StandardDefinition, ...]:
    """The standards the region offers (DescribeStandards), with their ARNs there."""
    hub = access.client("securityhub", account_id, region)
    return tuple(StandardDefinition(arn=s["StandardsArn"], name=s.get("Name", ""))
                 for page in hub.get_paginator("describe_standards").paginate() for s in page.get("Standards", []))


def root_id(access: AwsAccess, management_account_id: str, region: str) -> str:
    """The organization's root: where Vigil's configuration policy is associated."""
    return access.client("organizations", management_account_id, region).list_roots()["Roots"][0]["Id"]


def root_association(access: AwsAccess, account_id: str, region: str, root: str) -> PolicyAssociation:
    """The policy the root is configured by; SELF_MANAGED_SECURITY_HUB where none is associated."""
    hub = access.client("securityhub", account_id, region)
    try:
        got = hub.get_configuration_policy_association(Target={"RootId": root})
    except ClientError as exc:
        if is_code(exc, "ResourceNotFoundException"):
            return PolicyAssociation(policy_id=SELF_MANAGED)
        raise
    return PolicyAssociation(policy_id=got.get("ConfigurationPolicyId", SELF_MANAGED),
                             association_type=got.get("AssociationType", ""),
                             status=got.get("AssociationStatus", ""),
                             message=got.get("AssociationStatusMessage", ""))


def policy_ids_named(access: AwsAccess, account_id: str, region: str, name: str) -> list[str]:
    """The ids of the administrator's configuration policies of that name (AWS allows several)."""
    hub = access.client("securityhub", account_id, region)
    return [p["Id"] for page in hub.get_paginator("list_configuration_policies").paginate()
            for p in page.get("ConfigurationPolicySummaries", []) if p.get("Name") == name]


def configuration_policy(access: AwsAccess, account_id: str, region: str, identifier: str) -> ConfigurationPolicy:
    got = access.client("securityhub", account_id, region).get_configuration_policy(Identifier=identifier)
    hub = (got.get("ConfigurationPolicy") or {}).get("SecurityHub") or {}
    controls = hub.get("SecurityControlsConfiguration") or {}
    enabled = controls.get("EnabledSecurityControlIdentifiers")
    return ConfigurationPolicy(
        id=got["Id"], arn=got["Arn"], name=got.get("Name", ""), service_enabled=bool(hub.get("ServiceEnabled")),
        standards=tuple(hub.get("EnabledStandardIdentifiers") or ()),
        disabled_controls=tuple(controls.get("DisabledSecurityControlIdentifiers") or ()),
        enabled_controls=None if enabled is None else tuple(enabled),
        custom_parameters=tuple(controls.get("SecurityControlCustomParameters") or ()))


def security_hub_v2(access: AwsAccess, account_id: str, region: str) -> bool:
    """Whether the newer Security Hub (EnableSecurityHubV2) is on: DescribeSecurityHubV2 answers
    ResourceNotFoundException where it is not."""
    hub = access.client("securityhub", account_id, region)
    return or_default(lambda: bool(hub.describe_security_hub_v2().get("HubV2Arn")), False,
                      "ResourceNotFoundException")


def member_statuses(access: AwsAccess, account_id: str, region: str) -> dict[str, str]:
    """Every member the administrator has, disassociated ones included: {account id: MemberStatus}."""
    hub = access.client("securityhub", account_id, region)
    pages = hub.get_paginator("list_members").paginate(OnlyAssociated=False)
    return {m["AccountId"]: m.get("MemberStatus", "") for page in pages for m in page.get("Members", [])}


def active_findings(access: AwsAccess, account_id: str, region: str) -> FindingCounts:
    """Active findings (record ACTIVE, workflow NEW or NOTIFIED) by severity, counted a page of
    100 at a time: one call per 100 findings, where an insight would cost a resource to keep."""
    hub = access.client("securityhub", account_id, region)
    counts: Counter[str] = Counter()
    for page in hub.get_paginator("get_findings").paginate(
            Filters=ACTIVE_FINDINGS, PaginationConfig={"PageSize": FINDINGS_PAGE}):
        counts.update(str((f.get("Severity") or {}).get("Label", "INFORMATIONAL")).lower()
                      for f in page.get("Findings", []))
    return FindingCounts(**{label: counts[label] for label in FindingCounts.model_fields})


# --- writes (see vigil.aws.apply) ----------------------------------------------------------------


def create_members(client: Any, params: dict[str, Any]) -> None:
    """CreateMembers answers 200 with the accounts it could not enroll in UnprocessedAccounts (the
    management account while its own hub is off, an account outside the organization): that is
    a failure of the target."""
    unprocessed = client.create_members(**params).get("UnprocessedAccounts") or []
    if unprocessed:
        message = "; ".join(f"{u.get('AccountId', '')}: {u.get('ProcessingResult', '')}" for u in unprocessed)
        # Shaped as botocore would raise it, so vigil.aws.errors.classify sorts it like any other.
        raise ClientError({"Error": {"Code": "UnprocessedAccounts", "Message": message}}, "CreateMembers")


def batch_enable_standards(client: Any, params: dict[str, Any]) -> None:
    """A standard AWS could not subscribe comes back FAILED in the answer, not as an error."""
    answer = client.batch_enable_standards(**params)
    failed = [s for s in answer.get("StandardsSubscriptions", []) if s.get("StandardsStatus") == "FAILED"]
    if failed:
        message = "; ".join(f"{s['StandardsArn']}: {(s.get('StandardsStatusReason') or {}).get('StatusReasonCode', '')}"
                            for s in failed)
        raise ClientError({"Error": {"Code": "StandardsFailed", "Message": message}}, "BatchEnableStandards")
