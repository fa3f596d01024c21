"""AWS Config: recorders and delivery channels per account x region; the aggregator, organization
rules and conformance packs of the delegated administrator; the aggregated compliance."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from ..state.config import (AccountConfigState, AggregatorSource, AggregatorState, ChannelSettings, ChannelState,
                            ComplianceCounts, ConformancePackState, DelegationState, OrganizationRuleSettings,
                            OrganizationRuleState, RecorderSettings, RecorderState, ServiceRoleState, recording_mode,
                            rule_parameters, unrecorded_types)
from ..state.documents import canonical
from .errors import or_default
from .organizations import trusted_services
from .session import AwsAccess


def _recorder(recorders: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The account's own recorder. Service-linked recorders (made by other AWS services, and not
    modifiable) live beside it and are not the baseline's."""
    return next((r for r in recorders if not r.get("servicePrincipal")), None)


def observe_account(access: AwsAccess, account_id: str, region: str) -> AccountConfigState:
    config = access.client("config", account_id, region)
    found = _recorder(config.describe_configuration_recorders().get("ConfigurationRecorders", []))
    if found is None:
        recorder = RecorderState(exists=False)
    else:
        statuses = config.describe_configuration_recorder_status(
            ConfigurationRecorderNames=[found["name"]]).get("ConfigurationRecordersStatus", [])
        recorder = RecorderState(exists=True, name=found["name"], settings=_recorder_settings(found),
                                 recording=any(s.get("recording") for s in statuses))
    channels = config.describe_delivery_channels().get("DeliveryChannels", [])
    if not channels:  # AWS allows one per region
        return AccountConfigState(recorder=recorder, channel=ChannelState(exists=False))
    c = channels[0]
    return AccountConfigState(recorder=recorder, channel=ChannelState(
        exists=True, name=c.get("name"), sns_topic_arn=c.get("snsTopicARN"),
        settings=ChannelSettings(s3_bucket_name=c.get("s3BucketName"), s3_key_prefix=c.get("s3KeyPrefix"),
                                 s3_kms_key_arn=c.get("s3KmsKeyArn"),
                                 delivery_frequency=(c.get("configSnapshotDeliveryProperties") or {}).get(
                                     "deliveryFrequency"))))


def _recorder_settings(found: dict[str, Any]) -> RecorderSettings:
    group = found.get("recordingGroup") or {}
    all_supported = bool(group.get("allSupported"))
    include_global = bool(group.get("includeGlobalResourceTypes"))
    # A recorder from before recording strategies has none: allSupported says it.
    strategy = (group.get("recordingStrategy") or {}).get("useOnly") or (
        "ALL_SUPPORTED_RESOURCE_TYPES" if all_supported else "INCLUSION_BY_RESOURCE_TYPES")
    exclusions = (group.get("exclusionByResourceTypes") or {}).get("resourceTypes") or []
    return RecorderSettings(role_arn=found.get("roleARN"), all_supported=all_supported,
                            include_global_resource_types=include_global, recording_strategy=strategy,
                            unrecorded_types=unrecorded_types(all_supported, include_global, strategy, exclusions),
                            recording_mode=recording_mode(found.get("recordingMode")))


def role_exists(access: AwsAccess, account_id: str, role_name: str) -> bool:
    iam = access.client("iam", account_id, "global")
    return or_default(lambda: bool(iam.get_role(RoleName=role_name)["Role"]), False, "NoSuchEntity")


def observe_service_role(access: AwsAccess, account_id: str, role_name: str) -> ServiceRoleState:
    iam = access.client("iam", account_id, "global")
    role = or_default(lambda: iam.get_role(RoleName=role_name)["Role"], None, "NoSuchEntity")
    if role is None:
        return ServiceRoleState(exists=False)
    attached = [p["PolicyArn"] for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
                for p in page["AttachedPolicies"]]
    trust = role.get("AssumeRolePolicyDocument")
    return ServiceRoleState(exists=True, arn=role["Arn"],
                            trust_policy=canonical(unquote(trust) if isinstance(trust, str) else trust),
                            attached_policy_arns=tuple(sorted(attached)))


def observe_delegation(access: AwsAccess, admin_account_id: str) -> DelegationState:
    """Trusted access and the administrator's delegated services, read in the management account."""
    org = access.client("organizations", access.base_account_id(), access.settings.home_region)
    delegated = or_default(lambda: [s["ServicePrincipal"] for page in org.get_paginator(
        "list_delegated_services_for_account").paginate(AccountId=admin_account_id)
        for s in page["DelegatedServices"]], [], "AccountNotRegisteredException")
    return DelegationState(trusted_services=frozenset(trusted_services(access)),
                           delegated_services=frozenset(delegated))


def observe_aggregator(access: AwsAccess, account_id: str, region: str, name: str) -> AggregatorState:
    config = access.client("config", account_id, region)
    found = or_default(lambda: config.describe_configuration_aggregators(ConfigurationAggregatorNames=[name])[
        "ConfigurationAggregators"], [], "NoSuchConfigurationAggregatorException")
    if not found:
        return AggregatorState(exists=False)
    source = found[0].get("OrganizationAggregationSource")
    return AggregatorState(exists=True, arn=found[0].get("ConfigurationAggregatorArn"),
                           organization_source=None if source is None else AggregatorSource(
                               role_arn=source.get("RoleArn"), all_aws_regions=bool(source.get("AllAwsRegions"))))


def observe_organization_rules(access: AwsAccess, account_id: str, region: str) -> dict[str, OrganizationRuleState]:
    """Every organization rule (none named: naming a missing one fails the whole call)."""
    config = access.client("config", account_id, region)
    rules = {}
    for page in config.get_paginator("describe_organization_config_rules").paginate():
        for r in page.get("OrganizationConfigRules", []):
            managed = r.get("OrganizationManagedRuleMetadata")
            rules[r["OrganizationConfigRuleName"]] = OrganizationRuleState(
                name=r["OrganizationConfigRuleName"], managed=managed is not None,
                settings=OrganizationRuleSettings(
                    rule_identifier=(managed or {}).get("RuleIdentifier"),
                    input_parameters=rule_parameters((managed or {}).get("InputParameters")),
                    excluded_accounts=tuple(sorted(r.get("ExcludedAccounts") or []))))
    return rules


def observe_conformance_packs(access: AwsAccess, account_id: str, region: str) -> dict[str, ConformancePackState]:
    config = access.client("config", account_id, region)
    return {p["OrganizationConformancePackName"]: ConformancePackState(
        name=p["OrganizationConformancePackName"], excluded_accounts=tuple(sorted(p.get("ExcludedAccounts") or [])))
        for page in config.get_paginator("describe_organization_conformance_packs").paginate()
        for p in page.get("OrganizationConformancePacks", [])}


def observe_compliance(access: AwsAccess, account_id: str, region: str, aggregator: str) -> ComplianceCounts:
    """Rules counted per account x region they evaluate in (the aggregator's own unit);
    non-compliant resources summed over the non-compliant rules."""
    config = access.client("config", account_id, region)
    compliant = non_compliant = 0
    token: str | None = None
    while True:  # no paginator for this one
        page = config.get_aggregate_config_rule_compliance_summary(
            ConfigurationAggregatorName=aggregator, GroupByKey="ACCOUNT_ID", **({"NextToken": token} if token else {}))
        for group in page.get("AggregateComplianceCounts", []):
            summary = group.get("ComplianceSummary") or {}
            compliant += (summary.get("CompliantResourceCount") or {}).get("CappedCount", 0)
            non_compliant += (summary.get("NonCompliantResourceCount") or {}).get("CappedCount", 0)
        token = page.get("NextToken")
        if not token:
            break
    resources = sum((r.get("Compliance", {}).get("ComplianceContributorCount") or {}).get("CappedCount", 0)
                    for page in config.get_paginator("describe_aggregate_compliance_by_config_rules").paginate(
                        ConfigurationAggregatorName=aggregator, Filters={"ComplianceType": "NON_COMPLIANT"})
                    for r in page.get("AggregateComplianceByConfigRules", []))
    return ComplianceCounts(compliant_rules=compliant, non_compliant_rules=non_compliant,
                            non_compliant_resources=resources)
