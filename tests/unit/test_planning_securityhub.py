"""SecurityHubBaseline planner: standards resolved through DescribeStandards, the administrator's hub
and designation, the organization configuration, standards and integrations (added, never
removed), the finding aggregator, member enrollment, central configuration (the switch, the
configuration policy with its disabled controls, the root's association) and the organization's
Access Analyzer, table-driven."""

import pytest

from vigil.api.securityhub import SecurityHubBaselineSpec
from vigil.planning.securityhub import (AdministratorConflict, AggregatorConflict, AnalyzerConflict, AnalyzerTarget,
                                        PolicyAssociationFailed, SecurityHubRegion, StandardNotOffered,
                                        aggregation_region, analyzer_problem, configured_centrally, member_account_ids,
                                        plan_administrator, plan_aggregator, plan_analyzer, plan_analyzer_delegation,
                                        plan_central_configuration, plan_configuration_policy, plan_hub,
                                        plan_integrations, plan_member, plan_organization, plan_root_association,
                                        plan_standards, product_arn, resolve_standards, subscribed_product)
from vigil.planning.ownership import Owner
from vigil.planning.weakening import classify
from vigil.state.securityhub import (SELF_MANAGED, AnalyzerState, ConfigurationPolicy, FindingAggregator, HubSettings,
                                     PolicyAssociation, StandardDefinition, StandardSubscription)

SECURITY, MANAGEMENT, WORKLOAD = "333333333333", "123456789012", "555555555555"
REGION = "us-east-1"
OWNER = Owner("baseline", "SecurityHubBaseline", "securityhub")
TAGS = {"vigil.dev/owner": "baseline/SecurityHubBaseline/securityhub", "vigil.dev/installation": "default"}
TARGET = SecurityHubRegion(MANAGEMENT, SECURITY, REGION, OWNER)
AGGREGATING = SecurityHubRegion(MANAGEMENT, SECURITY, REGION, OWNER, aggregates=True)
SPEC = SecurityHubBaselineSpec.model_validate({"organizationRef": {"name": "acme"}})
FSBP = "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0"
PCI = "arn:aws:securityhub:us-east-1::standards/pci-dss/v/3.2.1"
CIS = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
NIST = "arn:aws:securityhub:us-east-1::standards/nist-800-53/v/5.0.0"


def spec(**fields) -> SecurityHubBaselineSpec:
    return SecurityHubBaselineSpec.model_validate({**SPEC.model_dump(by_alias=True), **fields})


def subscribed(*arns: str, status: str = "READY") -> tuple[StandardSubscription, ...]:
    return tuple(StandardSubscription(standards_arn=a, subscription_arn=f"sub/{a}", status=status) for a in arns)


def products(*names: str, account: str = SECURITY) -> frozenset[str]:
    return frozenset(f"arn:aws:securityhub:{REGION}:{account}:product-subscription/aws/{n}" for n in names)


OFFERED = tuple(StandardDefinition(arn=a, name=n) for a, n in (
    (FSBP, "AWS Foundational Security Best Practices v1.0.0"), (PCI, "PCI DSS v3.2.1"),
    (CIS, "CIS AWS Foundations Benchmark v1.2.0"), (NIST, "NIST Special Publication 800-53 Revision 5"),
    ("arn:aws:securityhub:us-east-1::standards/pci-dss/v/4.0.1", "PCI DSS v4.0.1"),
    ("arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/3.0.0",
     "CIS AWS Foundations Benchmark v3.0.0")))
STANDARDS = resolve_standards(SPEC.standards, OFFERED, REGION)


def test_standards_are_resolved_to_the_arns_describe_standards_gives():
    assert STANDARDS == {"aws-foundational-security-best-practices/v/1.0.0": FSBP, "pci-dss/v/3.2.1": PCI,
                         "cis-aws-foundations-benchmark/v/1.2.0": CIS}, "the seed's three, CIS 1.2.0 a global ruleset"
    newer = resolve_standards(["pci-dss/v/4.0.1", "cis-aws-foundations-benchmark/v/3.0.0"], OFFERED, REGION)
    assert newer["pci-dss/v/4.0.1"].endswith("::standards/pci-dss/v/4.0.1")
    with pytest.raises(StandardNotOffered, match="cis-aws-foundations-benchmark/v/1.4.0"):
        resolve_standards(["cis-aws-foundations-benchmark/v/1.4.0"], OFFERED, REGION)


def test_product_arns_and_subscriptions_name_the_same_product():
    assert product_arn("guardduty", "ca-central-1") == "arn:aws:securityhub:ca-central-1::product/aws/guardduty"
    assert product_arn("access-analyzer", REGION) == "arn:aws:securityhub:us-east-1::product/aws/access-analyzer"
    assert subscribed_product(next(iter(products("config")))) == "aws/config"


@pytest.mark.parametrize("requested, home, chosen", [
    ("", "ca-central-1", "ca-central-1"),
    ("us-east-1", "ca-central-1", "us-east-1"),
])
def test_aggregation_region_defaults_to_home(requested, home, chosen):
    assert aggregation_region(spec(aggregationRegion=requested), ["ca-central-1", "us-east-1"], home) == chosen


@pytest.mark.parametrize("requested, regions, message", [
    ("eu-west-1", ["ca-central-1", "us-east-1"], "aggregationRegion eu-west-1"),
    ("", ["us-east-1"], "home region"),
])
def test_aggregation_region_outside_the_regions_is_refused(requested, regions, message):
    with pytest.raises(ValueError, match=message):
        aggregation_region(spec(aggregationRegion=requested), regions, "ca-central-1")


@pytest.mark.parametrize("enabled, operations", [(False, ["EnableSecurityHub"]), (True, [])])
def test_hub_is_enabled_without_aws_default_standards(enabled, operations):
    plan = plan_hub(TARGET.label, SECURITY, REGION, enabled, OWNER)
    assert [a.operation for a in plan] == operations
    for action in plan:
        assert action.params == {"EnableDefaultStandards": False, "Tags": TAGS}
        assert action.account_id == SECURITY and action.creates


@pytest.mark.parametrize("admins, operations, creates", [
    ({}, ["EnableOrganizationAdminAccount"], True),
    ({SECURITY: "ENABLED"}, [], None),
    ({SECURITY: "DISABLE_IN_PROGRESS"}, ["EnableOrganizationAdminAccount"], False),
])
def test_security_account_is_designated_from_the_management_account(admins, operations, creates):
    plan = plan_administrator(TARGET, admins)
    assert [a.operation for a in plan] == operations
    for action in plan:
        assert (action.account_id, action.service, action.params) == (
            MANAGEMENT, "securityhub", {"AdminAccountId": SECURITY})
        assert action.creates is creates


def test_another_administrator_is_reported_not_replaced():
    with pytest.raises(AdministratorConflict, match="555555555555"):
        plan_administrator(TARGET, {WORKLOAD: "ENABLED"})


@pytest.mark.parametrize("the_spec, observed, params, creates", [
    (SPEC, None, {"AutoEnable": True, "AutoEnableStandards": "NONE"}, True),
    (SPEC, HubSettings(auto_enable=True, auto_enable_standards="NONE"), None, None),
    (SPEC, HubSettings(auto_enable=False, auto_enable_standards="NONE"),
     {"AutoEnable": True, "AutoEnableStandards": "NONE"}, False),
    (SPEC, HubSettings(auto_enable=True, auto_enable_standards="DEFAULT"),
     {"AutoEnable": True, "AutoEnableStandards": "NONE"}, False),
    (spec(autoEnable=False), HubSettings(auto_enable=True, auto_enable_standards="NONE"),
     {"AutoEnable": False, "AutoEnableStandards": "NONE"}, False),
])
def test_organization_auto_enables_members_with_no_standards_of_aws_choosing(the_spec, observed, params, creates):
    plan = plan_organization(the_spec, TARGET, observed)
    assert [a.params for a in plan] == ([params] if params else [])
    for action in plan:
        assert action.operation == "UpdateOrganizationConfiguration" and action.account_id == SECURITY
        assert action.creates is creates


@pytest.mark.parametrize("observed, enabled_arns, paths", [
    ((), [FSBP, PCI, CIS], ["standards.aws-foundational-security-best-practices/v/1.0.0",
                            "standards.pci-dss/v/3.2.1", "standards.cis-aws-foundations-benchmark/v/1.2.0"]),
    (subscribed(FSBP, CIS), [PCI], ["standards.pci-dss/v/3.2.1"]),
    (subscribed(FSBP, CIS) + subscribed(PCI, status="DELETING"), [PCI], ["standards.pci-dss/v/3.2.1"]),
    (subscribed(FSBP, CIS) + subscribed(PCI, status="PENDING"), [], []),
    (subscribed(FSBP, CIS, PCI, NIST), [], []),
])
def test_missing_standards_are_enabled_in_one_call_and_others_kept(observed, enabled_arns, paths):
    plan = plan_standards(WORKLOAD + "/" + REGION, WORKLOAD, REGION, STANDARDS, observed)
    assert [r["StandardsArn"] for a in plan for r in a.params["StandardsSubscriptionRequests"]] == enabled_arns
    assert [c.path for a in plan for c in a.changes] == paths
    assert all(a.operation == "BatchEnableStandards" and a.account_id == WORKLOAD for a in plan)
    assert not any(a.operation.startswith("BatchDisable") for a in plan), "a standard not in the spec stays"


def test_standards_of_a_new_hub_are_building_not_drift():
    [fresh] = plan_standards("l", SECURITY, REGION, STANDARDS, (), new_hub=True)
    [drifted] = plan_standards("l", SECURITY, REGION, STANDARDS, subscribed(FSBP, CIS))
    assert fresh.creates and not drifted.creates


@pytest.mark.parametrize("observed, enabled", [
    (frozenset(), ["guardduty", "config", "access-analyzer"]),
    (products("guardduty", "config", "access-analyzer", "inspector"), []),
    (products("guardduty", "access-analyzer"), ["config"]),
])
def test_missing_integrations_are_enabled_one_product_each(observed, enabled):
    plan = plan_integrations(SPEC, "l", SECURITY, REGION, observed)
    assert [a.params["ProductArn"] for a in plan] == [f"arn:aws:securityhub:{REGION}::product/aws/{n}" for n in enabled]
    assert all(a.operation == "EnableImportFindingsForProduct" and not a.creates for a in plan)
    assert [c.path for a in plan for c in a.changes] == [f"integrations.{n}" for n in enabled]


def aggregator(region: str = REGION, mode: str = "ALL_REGIONS") -> FindingAggregator:
    return FindingAggregator(arn=f"arn:aws:securityhub:{region}:{SECURITY}:finding-aggregator/a1", region=region,
                             region_linking_mode=mode)


@pytest.mark.parametrize("target, observed, operation, params", [
    (TARGET, (), None, None),
    (AGGREGATING, (), "CreateFindingAggregator", {"RegionLinkingMode": "ALL_REGIONS"}),
    (AGGREGATING, (aggregator(),), None, None),
    (AGGREGATING, (aggregator(mode="SPECIFIED_REGIONS"),), "UpdateFindingAggregator",
     {"FindingAggregatorArn": aggregator().arn, "RegionLinkingMode": "ALL_REGIONS"}),
])
def test_one_aggregator_links_every_region(target, observed, operation, params):
    plan = plan_aggregator(target, observed)
    assert [(a.operation, a.params) for a in plan] == ([(operation, params)] if operation else [])


def test_aggregator_in_another_region_is_reported_not_moved():
    with pytest.raises(AggregatorConflict, match="ca-central-1"):
        plan_aggregator(AGGREGATING, (aggregator("ca-central-1"),))


@pytest.mark.parametrize("status, operations, creates", [
    (None, ["CreateMembers"], True),
    ("Removed", ["CreateMembers"], False),
    ("Enabled", [], None),
    ("ENABLED", [], None),
])
def test_member_is_enrolled_by_the_administrator(status, operations, creates):
    plan = plan_member(TARGET, WORKLOAD, status)
    assert [a.operation for a in plan] == operations
    for action in plan:
        assert (action.target, action.account_id) == (f"{WORKLOAD}/{REGION}", SECURITY)
        assert action.params == {"AccountDetails": [{"AccountId": WORKLOAD}]}
        assert action.creates is creates


def test_members_are_every_active_account_but_the_administrator():
    assert member_account_ids([MANAGEMENT, SECURITY, WORKLOAD], SECURITY) == [MANAGEMENT, WORKLOAD]


ANALYZER = AnalyzerTarget(MANAGEMENT, SECURITY, "ca-central-1", "vigil-org-analyzer", OWNER)


@pytest.mark.parametrize("delegated, operations", [
    (frozenset(), ["RegisterDelegatedAdministrator"]),
    (frozenset({"config.amazonaws.com"}), ["RegisterDelegatedAdministrator"]),
    (frozenset({"access-analyzer.amazonaws.com"}), []),
])
def test_analyzer_account_is_access_analyzers_delegated_administrator(delegated, operations):
    plan = plan_analyzer_delegation(ANALYZER, delegated)
    assert [a.operation for a in plan] == operations
    assert all(a.account_id == MANAGEMENT and a.params == {
        "AccountId": SECURITY, "ServicePrincipal": "access-analyzer.amazonaws.com"} for a in plan)


@pytest.mark.parametrize("observed, operations", [
    (AnalyzerState(exists=False), ["CreateAnalyzer"]),
    (AnalyzerState(exists=True, arn="a", type="ORGANIZATION", status="ACTIVE"), []),
])
def test_organization_analyzer_is_created_in_the_security_account(observed, operations):
    plan = plan_analyzer(ANALYZER, observed)
    assert [a.operation for a in plan] == operations
    for action in plan:
        assert action.account_id == SECURITY and action.service == "accessanalyzer"
        assert action.params == {"analyzerName": "vigil-org-analyzer", "type": "ORGANIZATION",
                                 "tags": TAGS}


def test_account_analyzer_of_the_same_name_is_a_conflict():
    with pytest.raises(AnalyzerConflict, match="ACCOUNT"):
        plan_analyzer(ANALYZER, AnalyzerState(exists=True, arn="a", type="ACCOUNT", status="ACTIVE"))


@pytest.mark.parametrize("observed, problem", [
    (AnalyzerState(exists=False), None),
    (AnalyzerState(exists=True, arn="a", type="ORGANIZATION", status="CREATING"), None),
    (AnalyzerState(exists=True, arn="a", type="ORGANIZATION", status="DISABLED",
                   status_reason="AWS_SERVICE_ACCESS_DISABLED"), "DISABLED: AWS_SERVICE_ACCESS_DISABLED"),
])
def test_analyzer_that_does_not_analyze_is_named(observed, problem):
    found = analyzer_problem(observed)
    assert (found is None) == (problem is None)
    if problem:
        assert problem in found


# --- central configuration -----------------------------------------------------------------------

ROOT = "r-abcd"
CENTRAL_SPEC = spec(configuration={"mode": "Central"},
                    disabledControls=[{"id": "EC2.2", "reason": "default security groups are managed by the network team"}])
POLICY = ConfigurationPolicy(id="p-1", arn="arn:aws:securityhub:us-east-1:333333333333:configuration-policy/p-1",
                             name="vigil-baseline", service_enabled=True, standards=tuple(sorted((FSBP, PCI, CIS))),
                             disabled_controls=("EC2.2",))


@pytest.mark.parametrize("mode, observed, central", [
    ("Local", "LOCAL", False), ("Local", "CENTRAL", False), ("Central", "LOCAL", True), ("Central", None, True),
    ("Auto", "CENTRAL", True), ("Auto", "LOCAL", False), ("Auto", None, False),
])
def test_auto_follows_the_organization_and_central_always_configures_centrally(mode, observed, central):
    assert configured_centrally(mode, observed) is central


def test_central_configuration_is_switched_on_from_the_aggregation_region_only():
    [switch] = plan_central_configuration(AGGREGATING, "LOCAL")
    assert switch.params == {"AutoEnable": False, "AutoEnableStandards": "NONE",
                             "OrganizationConfiguration": {"ConfigurationType": "CENTRAL"}}
    assert classify(switch) == [], "AutoEnable off here is AWS's rule for CENTRAL, not a weakening"
    assert plan_central_configuration(AGGREGATING, "CENTRAL") == []
    assert plan_central_configuration(TARGET, "LOCAL") == [], "linked regions follow the home region"


def test_a_new_policy_holds_the_spec_standards_and_disabled_controls_and_is_tagged():
    [create] = plan_configuration_policy(CENTRAL_SPEC, AGGREGATING, STANDARDS, None)
    assert create.operation == "CreateConfigurationPolicy" and create.creates
    assert create.params["Name"] == "vigil-baseline" and create.params["Tags"] == OWNER.tags()
    assert create.params["ConfigurationPolicy"] == {"SecurityHub": {
        "ServiceEnabled": True, "EnabledStandardIdentifiers": sorted((FSBP, PCI, CIS)),
        "SecurityControlsConfiguration": {"DisabledSecurityControlIdentifiers": ["EC2.2"]}}}


def test_a_policy_as_the_spec_says_needs_nothing_and_a_drifted_one_is_updated():
    assert plan_configuration_policy(CENTRAL_SPEC, AGGREGATING, STANDARDS, POLICY) == []
    drifted = POLICY.model_copy(update={"standards": (FSBP, NIST), "disabled_controls": ("EC2.2", "S3.1")})
    [update] = plan_configuration_policy(CENTRAL_SPEC, AGGREGATING, STANDARDS, drifted)
    hub = update.params["ConfigurationPolicy"]["SecurityHub"]
    assert hub["EnabledStandardIdentifiers"] == sorted((FSBP, PCI, CIS, NIST)), "a standard someone added stays"
    assert hub["SecurityControlsConfiguration"]["DisabledSecurityControlIdentifiers"] == ["EC2.2"], \
        "a control someone turned off comes back on"
    assert update.params["Identifier"] == "p-1" and "EC2.2: default security groups" in update.params["UpdatedReason"]
    assert classify(update) == [], "standards added and a control turned back on weaken nothing"


def test_disabling_a_control_in_the_policy_is_a_weakening_named_as_admission_names_it():
    more = spec(configuration={"mode": "Central"}, disabledControls=[
        {"id": "EC2.2", "reason": "network team"}, {"id": "IAM.6", "reason": "hardware MFA on root: break-glass"}])
    [update] = plan_configuration_policy(more, AGGREGATING, STANDARDS, POLICY)
    assert [w.allowance for w in classify(update)] == ["spec.disabledControls=+IAM.6"]


def test_the_policy_turning_security_hub_off_weakens():
    from vigil.planning.actions import Action, Change
    off = Action("t", SECURITY, REGION, "securityhub", "UpdateConfigurationPolicy", {},
                 (Change("configuration_policy.service_enabled", True, False),))
    assert [w.allowance for w in classify(off)] == ["configurationPolicy.serviceEnabled=false"]


def test_custom_parameters_of_an_adopted_policy_are_kept():
    adopted = POLICY.model_copy(update={"service_enabled": False, "custom_parameters": (
        {"SecurityControlId": "IAM.7", "Parameters": {"MaxPasswordAge": {"ValueType": "CUSTOM"}}},)})
    [update] = plan_configuration_policy(CENTRAL_SPEC, AGGREGATING, STANDARDS, adopted)
    controls = update.params["ConfigurationPolicy"]["SecurityHub"]["SecurityControlsConfiguration"]
    assert controls["SecurityControlCustomParameters"][0]["SecurityControlId"] == "IAM.7"
    assert [c.path for c in update.changes] == ["configuration_policy.service_enabled"]


def test_a_policy_listing_enabled_controls_is_moved_to_disabled_ones_and_each_needs_allowing():
    listing = POLICY.model_copy(update={"disabled_controls": (), "enabled_controls": ("EC2.1", "EC2.2")})
    [update] = plan_configuration_policy(CENTRAL_SPEC, AGGREGATING, STANDARDS, listing)
    assert [w.allowance for w in classify(update)] == ["spec.disabledControls=+EC2.2"]


@pytest.mark.parametrize("association, planned", [
    (PolicyAssociation(policy_id=SELF_MANAGED), True),
    (PolicyAssociation(policy_id="p-1", association_type="APPLIED", status="SUCCESS"), False),
    (PolicyAssociation(policy_id="p-1", association_type="APPLIED", status="PENDING"), False),
    (PolicyAssociation(policy_id="other", association_type="APPLIED", status="SUCCESS"), True),
])
def test_the_policy_is_applied_to_the_root(association, planned):
    plan = plan_root_association(AGGREGATING, ROOT, association, "p-1")
    assert bool(plan) is planned
    for action in plan:
        assert action.params == {"ConfigurationPolicyIdentifier": "p-1", "Target": {"RootId": ROOT}}


def test_a_failed_association_is_reported_and_a_policy_to_create_is_planned_by_name():
    failed = PolicyAssociation(policy_id="p-1", association_type="APPLIED", status="FAILED", message="quota")
    with pytest.raises(PolicyAssociationFailed, match="quota"):
        plan_root_association(AGGREGATING, ROOT, failed, "p-1")
    [planned] = plan_root_association(AGGREGATING, ROOT, PolicyAssociation(policy_id=SELF_MANAGED), None)
    assert planned.creates


def test_disabled_controls_need_a_reason_and_a_policy():
    with pytest.raises(ValueError, match="reason"):
        spec(configuration={"mode": "Central"}, disabledControls=[{"id": "EC2.2"}])
    with pytest.raises(ValueError, match="configuration policy"):
        spec(configuration={"mode": "Local"}, disabledControls=[{"id": "EC2.2", "reason": "r"}])
    with pytest.raises(ValueError, match="twice"):
        spec(configuration={"mode": "Central"}, disabledControls=[{"id": "EC2.2", "reason": "r"}] * 2)
    assert SPEC.configuration.mode == "Auto" and SPEC.disabled_controls == []
