"""SecurityHubBaseline planner: ARNs per region, the administrator's hub and designation, the
organization configuration, standards and integrations (added, never removed), the finding
aggregator, member enrollment and the organization's Access Analyzer, table-driven."""

import pytest

from vigil.api.securityhub import SecurityHubBaselineSpec
from vigil.planning.securityhub import (AdministratorConflict, AggregatorConflict, AnalyzerConflict, AnalyzerTarget,
                                        SecurityHubRegion, aggregation_region, analyzer_problem, member_account_ids,
                                        plan_administrator, plan_aggregator, plan_analyzer, plan_analyzer_delegation,
                                        plan_hub, plan_integrations, plan_member, plan_organization, plan_standards,
                                        product_arn, standards_arn, subscribed_product)
from vigil.planning.ownership import Owner
from vigil.state.securityhub import AnalyzerState, FindingAggregator, HubSettings, StandardSubscription

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


@pytest.mark.parametrize("standard, region, arn", [
    ("aws-foundational-security-best-practices/v/1.0.0", "ca-central-1",
     "arn:aws:securityhub:ca-central-1::standards/aws-foundational-security-best-practices/v/1.0.0"),
    ("pci-dss/v/3.2.1", "us-east-1", PCI),
    ("cis-aws-foundations-benchmark/v/1.2.0", "ca-central-1", CIS),
    ("cis-aws-foundations-benchmark/v/1.4.0", "us-east-1",
     "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/1.4.0"),
    ("nist-800-53/v/5.0.0", "cn-north-1", "arn:aws-cn:securityhub:cn-north-1::standards/nist-800-53/v/5.0.0"),
])
def test_standards_arns_are_regional_but_cis_1_2_is_one_ruleset(standard, region, arn):
    assert standards_arn(standard, region) == arn


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
    plan = plan_standards(SPEC, WORKLOAD + "/" + REGION, WORKLOAD, REGION, observed)
    assert [r["StandardsArn"] for a in plan for r in a.params["StandardsSubscriptionRequests"]] == enabled_arns
    assert [c.path for a in plan for c in a.changes] == paths
    assert all(a.operation == "BatchEnableStandards" and a.account_id == WORKLOAD for a in plan)
    assert not any(a.operation.startswith("BatchDisable") for a in plan), "a standard not in the spec stays"


def test_standards_of_a_new_hub_are_building_not_drift():
    [fresh] = plan_standards(SPEC, "l", SECURITY, REGION, (), new_hub=True)
    [drifted] = plan_standards(SPEC, "l", SECURITY, REGION, subscribed(FSBP, CIS))
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
