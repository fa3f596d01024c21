"""Security Hub and IAM Access Analyzer against the sandbox: the gaps of
vigil_sandbox.gaps.securityhub and vigil_sandbox.gaps.accessanalyzer (for each, what plain moto
answers under without_gaps(), then what the sandbox answers, as AWS does), and the adapters
vigil.aws.securityhub and vigil.aws.accessanalyzer (what they read, in how many calls, and the
member write that fails in its answer raising like any AWS error), and deletionPolicy Delete
removing only the analyzer Vigil made, and an Audit of regions Security Hub never ran in, which
plans everything and writes nothing. Regions no other test uses keep
the state their own; the organization's trusted access is put back as it was found."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from vigil.api.organization import OrganizationSpec
from vigil.api.securityhub import SecurityHubBaselineSpec
from vigil.aws import accessanalyzer as aws_accessanalyzer
from vigil.aws import securityhub as aws_securityhub
from vigil.controls import securityhub as control
from vigil.controls.base import Context, OrganizationView
from vigil.planning.ownership import Owner
from vigil_sandbox.gaps import without_gaps
from vigil.state.organizations import Account, OrganizationInventory
from vigil.state.securityhub import FindingCounts

AGGREGATION, LINKED = "eu-west-2", "eu-west-3"  # administered by the security account
STANDALONE = "eu-north-1"  # hubs of single accounts
ELSEWHERE = "sa-east-1"  # for what must not leak between regions
NO_RETRIES = Config(retries={"total_max_attempts": 1})
WORKLOAD, OTHER_WORKLOAD = "555555555555", "666666666666"
SECURITYHUB = "securityhub.amazonaws.com"
ACCESS_ANALYZER = "access-analyzer.amazonaws.com"


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def hub(aws, account=None, region=AGGREGATION):
    return aws.client("securityhub", account, region, config=NO_RETRIES)


def standards_arn(region: str, path: str) -> str:
    return f"arn:aws:securityhub:{region}::standards/{path}"


CIS_1_2 = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"


def trusted(aws) -> set[str]:
    pages = aws.client("organizations").list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    return {s["ServicePrincipal"] for s in pages}


@pytest.fixture
def untrusting(aws) -> Iterator[None]:
    """The organization without trusted access for Security Hub and Access Analyzer, for one test."""
    org = aws.client("organizations")
    before = trusted(aws)
    for principal in (SECURITYHUB, ACCESS_ANALYZER):
        if principal in before:
            org.disable_aws_service_access(ServicePrincipal=principal)
    yield
    for principal in (SECURITYHUB, ACCESS_ANALYZER):
        if principal in before:
            org.enable_aws_service_access(ServicePrincipal=principal)


@pytest.fixture(scope="module")
def administered(aws, organization) -> str:
    """The security account designated in AGGREGATION and LINKED; the workload enrolled in both."""
    aws.client("organizations").enable_aws_service_access(ServicePrincipal=SECURITYHUB)
    for region in (AGGREGATION, LINKED):
        hub(aws, region=region).enable_organization_admin_account(AdminAccountId=organization.security)
        admin = hub(aws, organization.security, region)
        admin.update_organization_configuration(AutoEnable=True, AutoEnableStandards="NONE")
        assert not admin.create_members(AccountDetails=[{"AccountId": WORKLOAD}])["UnprocessedAccounts"]
    return organization.security


# --- the hub -------------------------------------------------------------------------------------


def test_enabling_chooses_default_standards_or_none_and_turns_integrations_on(aws, organization):
    plain = hub(aws, OTHER_WORKLOAD, ELSEWHERE)
    with without_gaps():
        plain.enable_security_hub(EnableDefaultStandards=True)
        plain.enable_security_hub()  # moto: again, no complaint
        assert error_code(lambda: plain.get_enabled_standards())  # moto: no such operation
        plain.disable_security_hub()

    bare, defaults = hub(aws, OTHER_WORKLOAD, STANDALONE), hub(aws, organization.log_archive, STANDALONE)
    bare.enable_security_hub(EnableDefaultStandards=False, Tags={"team": "security"})
    defaults.enable_security_hub()
    assert bare.get_enabled_standards()["StandardsSubscriptions"] == []
    assert {s["StandardsArn"] for s in defaults.get_enabled_standards()["StandardsSubscriptions"]} == {
        standards_arn(STANDALONE, "aws-foundational-security-best-practices/v/1.0.0"), CIS_1_2}
    products = bare.list_enabled_products_for_import()["ProductSubscriptions"]
    assert f"arn:aws:securityhub:{STANDALONE}:{OTHER_WORKLOAD}:product-subscription/aws/guardduty" in products
    assert error_code(lambda: bare.enable_security_hub()) == "ResourceConflictException"


def standalone_hub(aws):
    """OTHER_WORKLOAD's hub in STANDALONE, on (as the test above leaves it, wherever xdist ran that)."""
    account = hub(aws, OTHER_WORKLOAD, STANDALONE)
    try:
        account.enable_security_hub(EnableDefaultStandards=False)
    except ClientError:
        pass  # on already
    return account


def test_standards_take_the_regions_arns_and_read_ready(aws):
    account = standalone_hub(aws)
    pci = standards_arn(STANDALONE, "pci-dss/v/3.2.1")
    answer = account.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": pci},
                                                                           {"StandardsArn": CIS_1_2}])
    assert [s["StandardsStatus"] for s in answer["StandardsSubscriptions"]] == ["PENDING", "PENDING"]
    found = {s["StandardsArn"]: s for s in account.get_enabled_standards()["StandardsSubscriptions"]}
    assert {arn: s["StandardsStatus"] for arn, s in found.items()} == {pci: "READY", CIS_1_2: "READY"}
    assert found[pci]["StandardsSubscriptionArn"] == (
        f"arn:aws:securityhub:{STANDALONE}:{OTHER_WORKLOAD}:subscription/pci-dss/v/3.2.1")
    assert error_code(lambda: account.batch_enable_standards(StandardsSubscriptionRequests=[
        {"StandardsArn": standards_arn(ELSEWHERE, "pci-dss/v/3.2.1")}])) == "InvalidInputException"
    account.batch_disable_standards(StandardsSubscriptionArns=[found[pci]["StandardsSubscriptionArn"]])
    assert [s["StandardsArn"] for s in account.get_enabled_standards()["StandardsSubscriptions"]] == [CIS_1_2]
    off = hub(aws, OTHER_WORKLOAD, "ap-southeast-1")
    assert error_code(lambda: off.get_enabled_standards()) == "InvalidAccessException"


def test_product_imports_are_turned_off_and_on_by_arn(aws):
    account = standalone_hub(aws)
    product = f"arn:aws:securityhub:{STANDALONE}::product/aws/config"
    subscription = f"arn:aws:securityhub:{STANDALONE}:{OTHER_WORKLOAD}:product-subscription/aws/config"
    with without_gaps():
        assert error_code(lambda: account.list_enabled_products_for_import())
    account.disable_import_findings_for_product(ProductSubscriptionArn=subscription)
    assert subscription not in account.list_enabled_products_for_import()["ProductSubscriptions"]
    assert error_code(lambda: account.disable_import_findings_for_product(
        ProductSubscriptionArn=subscription)) == "ResourceNotFoundException"
    assert account.enable_import_findings_for_product(ProductArn=product)["ProductSubscriptionArn"] == subscription
    assert error_code(lambda: account.enable_import_findings_for_product(ProductArn=product)) == (
        "ResourceConflictException")
    assert error_code(lambda: account.enable_import_findings_for_product(
        ProductArn=f"arn:aws:securityhub:{STANDALONE}::product/aws/nothing")) == "InvalidInputException"


def test_findings_are_imported_only_where_the_hub_is_on(aws, organization):
    off = hub(aws, OTHER_WORKLOAD, "ap-southeast-1")
    finding = {"SchemaVersion": "2018-10-08", "Id": "t1", "GeneratorId": "g", "AwsAccountId": OTHER_WORKLOAD,
               "ProductArn": f"arn:aws:securityhub:ap-southeast-1:{OTHER_WORKLOAD}:product/{OTHER_WORKLOAD}/default",
               "CreatedAt": "2026-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z", "Title": "t",
               "Description": "d", "Resources": [{"Type": "Other", "Id": "r"}]}
    with without_gaps():
        assert off.batch_import_findings(Findings=[finding])["SuccessCount"] == 1
    assert error_code(lambda: off.batch_import_findings(Findings=[{**finding, "Id": "t2"}])) == (
        "InvalidAccessException")


# --- the organization ----------------------------------------------------------------------------


def test_designation_needs_trusted_access_and_holds_per_region(aws, organization, untrusting):
    management = hub(aws, region=ELSEWHERE)
    with without_gaps():
        assert error_code(lambda: management.list_organization_admin_accounts())  # moto: no such operation

    assert error_code(lambda: management.enable_organization_admin_account(
        AdminAccountId=organization.security)) == "AccessDeniedException"
    aws.client("organizations").enable_aws_service_access(ServicePrincipal=SECURITYHUB)
    assert error_code(lambda: hub(aws, WORKLOAD, ELSEWHERE).enable_organization_admin_account(
        AdminAccountId=organization.security)) == "AccessDeniedException", "the management account only"
    assert error_code(lambda: management.enable_organization_admin_account(AdminAccountId="999999999999")) == (
        "InvalidInputException")
    management.enable_organization_admin_account(AdminAccountId=organization.security)
    assert management.list_organization_admin_accounts()["AdminAccounts"] == [
        {"AccountId": organization.security, "Status": "ENABLED"}]
    assert hub(aws, region="ap-southeast-1").list_organization_admin_accounts()["AdminAccounts"] == []
    assert error_code(lambda: management.enable_organization_admin_account(AdminAccountId=WORKLOAD)) == (
        "InvalidInputException"), "one administrator per organization and region"
    assert hub(aws, organization.security, ELSEWHERE).describe_hub()["HubArn"], "designating turned its hub on"
    admins = aws.client("organizations").list_delegated_administrators(ServicePrincipal=SECURITYHUB)
    assert [a["Id"] for a in admins["DelegatedAdministrators"]] == [organization.security]


def test_organization_configuration_is_the_regions_administrators(aws, organization, administered):
    plain_management = hub(aws, region="ap-northeast-2")
    with without_gaps():
        plain_management.enable_organization_admin_account(AdminAccountId=organization.security)
        admin_here, admin_there = (hub(aws, organization.security, r) for r in ("ap-northeast-2", "ap-northeast-3"))
        admin_here.update_organization_configuration(AutoEnable=True)
        assert admin_there.describe_organization_configuration()["AutoEnable"] is True, "moto: one for all regions"
        admin_here.update_organization_configuration(AutoEnable=False)

    admin = hub(aws, organization.security, AGGREGATION)
    config = admin.describe_organization_configuration()
    assert (config["AutoEnable"], config["AutoEnableStandards"]) == (True, "NONE")
    assert config["OrganizationConfiguration"]["ConfigurationType"] == "LOCAL"
    assert error_code(lambda: hub(aws, organization.security, STANDALONE).describe_organization_configuration()) == (
        "InvalidAccessException"), "not the administrator there"
    assert error_code(lambda: hub(aws, WORKLOAD, AGGREGATION).update_organization_configuration(
        AutoEnable=False)) == "InvalidAccessException"


def test_members_are_organization_accounts_enrolled_with_their_hub_on(aws, organization, administered):
    admin = hub(aws, organization.security, LINKED)
    with without_gaps():
        assert admin.create_members(AccountDetails=[{"AccountId": "999999999999"}])["UnprocessedAccounts"] == []
        listed = admin.list_members(OnlyAssociated=False)["Members"]
        assert {m["MemberStatus"] for m in listed} == {"ENABLED"}, "moto: any account, upper case"

    unprocessed = admin.create_members(AccountDetails=[
        {"AccountId": a} for a in ("999999999999", organization.security, organization.management)])
    assert {u["AccountId"] for u in unprocessed["UnprocessedAccounts"]} == {
        "999999999999", organization.security, organization.management}
    assert "management account" in {u["AccountId"]: u["ProcessingResult"] for u in
                                    unprocessed["UnprocessedAccounts"]}[organization.management]
    assert hub(aws, WORKLOAD, LINKED).get_enabled_standards()["StandardsSubscriptions"] == [], \
        "enrolled with AutoEnableStandards NONE: no standards"
    admin.disassociate_members(AccountIds=[WORKLOAD])
    assert admin.list_members()["Members"] == [], "OnlyAssociated defaults to true"
    [member] = admin.list_members(OnlyAssociated=False)["Members"]
    assert (member["AccountId"], member["MemberStatus"], member["AdministratorId"]) == (
        WORKLOAD, "Removed", organization.security)
    admin.create_members(AccountDetails=[{"AccountId": WORKLOAD}])
    assert admin.list_members()["Members"][0]["MemberStatus"] == "Enabled"


def test_one_finding_aggregator_per_account_managed_from_its_region(aws, organization, administered):
    admin, linked = hub(aws, organization.security, AGGREGATION), hub(aws, organization.security, LINKED)
    with without_gaps():
        assert error_code(lambda: admin.list_finding_aggregators())

    assert error_code(lambda: admin.create_finding_aggregator(RegionLinkingMode="ALL_REGIONS", Regions=[LINKED])) == (
        "InvalidInputException")
    created = admin.create_finding_aggregator(RegionLinkingMode="SPECIFIED_REGIONS", Regions=[LINKED])
    assert created["FindingAggregationRegion"] == AGGREGATION
    assert error_code(lambda: linked.create_finding_aggregator(RegionLinkingMode="ALL_REGIONS")) == (
        "InvalidInputException"), "one per account"
    arn = created["FindingAggregatorArn"]
    assert linked.list_finding_aggregators()["FindingAggregators"] == [{"FindingAggregatorArn": arn}]
    assert error_code(lambda: linked.update_finding_aggregator(FindingAggregatorArn=arn,
                                                               RegionLinkingMode="ALL_REGIONS")) == (
        "InvalidInputException"), "from the aggregation region only"
    admin.update_finding_aggregator(FindingAggregatorArn=arn, RegionLinkingMode="ALL_REGIONS")
    got = admin.get_finding_aggregator(FindingAggregatorArn=arn)
    assert (got["RegionLinkingMode"], got.get("Regions")) == ("ALL_REGIONS", None)


def test_findings_view_filters_and_aggregates_members_and_regions(aws, organization, administered):
    def finding(account: str, region: str, n: int, label: str, state: str = "ACTIVE") -> dict:
        return {"SchemaVersion": "2018-10-08", "Id": f"agg-{n}", "GeneratorId": "g", "AwsAccountId": account,
                "ProductArn": f"arn:aws:securityhub:{region}:{account}:product/{account}/default",
                "CreatedAt": "2026-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z", "Title": "t",
                "Description": "d", "Resources": [{"Type": "Other", "Id": "r"}], "Severity": {"Label": label},
                "RecordState": state}
    security = organization.security
    hub(aws, security, AGGREGATION).batch_import_findings(Findings=[
        finding(security, AGGREGATION, 1, "HIGH"), finding(security, AGGREGATION, 2, "LOW", "ARCHIVED")])
    hub(aws, security, LINKED).batch_import_findings(Findings=[finding(security, LINKED, 3, "CRITICAL")])
    hub(aws, WORKLOAD, LINKED).batch_import_findings(Findings=[finding(WORKLOAD, LINKED, 4, "MEDIUM")])
    active = {"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}
    admin = hub(aws, security, AGGREGATION)
    if not admin.list_finding_aggregators()["FindingAggregators"]:
        admin.create_finding_aggregator(RegionLinkingMode="ALL_REGIONS")
    with without_gaps():
        assert len(admin.get_findings(Filters=active)["Findings"]) == 2, "moto: filters ignored, own region only"
    assert hub(aws, security, LINKED).get_findings(Filters=active)["Findings"][0]["Id"] in ("agg-3", "agg-4")
    ours = {**active, "Id": [{"Value": "agg-", "Comparison": "PREFIX"}]}  # ALL_REGIONS links the seeded ones too
    found = admin.get_findings(Filters=ours)["Findings"]
    assert sorted((f["Id"], f["Region"]) for f in found) == [
        ("agg-1", AGGREGATION), ("agg-3", LINKED), ("agg-4", LINKED)], "the aggregator links every region"
    not_high = admin.get_findings(Filters={**ours, "SeverityLabel": [
        {"Value": "HIGH", "Comparison": "NOT_EQUALS"}, {"Value": "MEDIUM", "Comparison": "NOT_EQUALS"}]})
    assert [f["Id"] for f in not_high["Findings"]] == ["agg-3"]
    page = admin.get_findings(Filters=active, MaxResults=2)
    assert len(page["Findings"]) == 2 and page["NextToken"]
    assert error_code(lambda: admin.get_findings(Filters={"ResourceType": [
        {"Value": "Other", "Comparison": "EQUALS"}]})) == "InvalidInputException", "an unmodelled filter says so"


# --- IAM Access Analyzer -------------------------------------------------------------------------


def analyzer(aws, account, region=STANDALONE):
    return aws.client("accessanalyzer", account, region, config=NO_RETRIES)


def test_access_analyzer_exists_only_in_the_sandbox(aws, organization):
    with without_gaps():
        with pytest.raises(ClientError):
            analyzer(aws, WORKLOAD).list_analyzers()
    account = analyzer(aws, WORKLOAD)
    arn = account.create_analyzer(analyzerName="team", type="ACCOUNT", tags={"team": "a"})["arn"]
    assert arn == f"arn:aws:access-analyzer:{STANDALONE}:{WORKLOAD}:analyzer/team"
    assert error_code(lambda: account.create_analyzer(analyzerName="team", type="ACCOUNT")) == "ConflictException"
    got = account.get_analyzer(analyzerName="team")["analyzer"]
    assert (got["type"], got["status"], got["tags"]) == ("ACCOUNT", "ACTIVE", {"team": "a"})
    assert [a["name"] for a in account.list_analyzers(type="ACCOUNT")["analyzers"]] == ["team"]
    account.delete_analyzer(analyzerName="team")
    assert error_code(lambda: account.get_analyzer(analyzerName="team")) == "ResourceNotFoundException"


def test_organization_analyzer_needs_trust_and_delegation(aws, access, organization, untrusting):
    security = analyzer(aws, organization.security)
    assert error_code(lambda: security.create_analyzer(analyzerName="org", type="ORGANIZATION")) == (
        "ValidationException"), "trusted access first"
    org = aws.client("organizations")
    org.enable_aws_service_access(ServicePrincipal=ACCESS_ANALYZER)
    assert error_code(lambda: security.create_analyzer(analyzerName="org", type="ORGANIZATION")) == (
        "AccessDeniedException"), "the management account or the delegated administrator"
    if ACCESS_ANALYZER not in aws_accessanalyzer.delegated_services(access, organization.security):
        org.register_delegated_administrator(AccountId=organization.security, ServicePrincipal=ACCESS_ANALYZER)
    security.create_analyzer(analyzerName="org", type="ORGANIZATION")
    assert security.get_analyzer(analyzerName="org")["analyzer"]["status"] == "ACTIVE"
    org.disable_aws_service_access(ServicePrincipal=ACCESS_ANALYZER)
    got = security.get_analyzer(analyzerName="org")["analyzer"]
    assert (got["status"], got["statusReason"]["code"]) == ("DISABLED", "AWS_SERVICE_ACCESS_DISABLED")
    security.delete_analyzer(analyzerName="org")


# --- the adapters --------------------------------------------------------------------------------


def test_adapter_reads_the_administrator_one_call_each(access, organization, administered, call_log):
    management, security = organization.management, organization.security
    admins = aws_securityhub.administrators(access, management, AGGREGATION)
    on = aws_securityhub.hub_enabled(access, security, AGGREGATION)
    settings, configuration_type = aws_securityhub.organization_configuration(access, security, AGGREGATION)
    standards = aws_securityhub.enabled_standards(access, security, AGGREGATION)
    products = aws_securityhub.product_subscriptions(access, security, AGGREGATION)
    members = aws_securityhub.member_statuses(access, security, AGGREGATION)
    assert admins == {security: "ENABLED"} and on and configuration_type == "LOCAL"
    assert (settings.auto_enable, settings.auto_enable_standards) == (True, "NONE")
    assert CIS_1_2 in {s.standards_arn for s in standards} and all(s.on for s in standards)
    assert any(p.endswith("product-subscription/aws/access-analyzer") for p in products)
    assert members == {WORKLOAD: "Enabled"}
    reads = [(c.operation, c.account) for c in call_log.calls() if c.service == "securityhub"]
    assert reads == [("ListOrganizationAdminAccounts", management), ("DescribeHub", security),
                     ("DescribeOrganizationConfiguration", security), ("GetEnabledStandards", security),
                     ("ListEnabledProductsForImport", security), ("ListMembers", security)]


def test_adapter_reads_an_account_where_security_hub_is_off_as_empty(access, organization):
    assert not aws_securityhub.hub_enabled(access, OTHER_WORKLOAD, "ap-southeast-1")
    assert aws_securityhub.enabled_standards(access, OTHER_WORKLOAD, "ap-southeast-1") == ()
    assert aws_securityhub.product_subscriptions(access, OTHER_WORKLOAD, "ap-southeast-1") == frozenset()


def test_adapter_counts_active_findings_by_severity_a_page_at_a_time(access, organization, call_log):
    # The seeded security account, home region: no aggregator there, so its own findings only.
    counts = aws_securityhub.active_findings(access, organization.security, "ca-central-1")
    assert counts == FindingCounts(critical=1, high=2, medium=1, low=1, informational=1)
    assert [c.operation for c in call_log.calls() if c.service == "securityhub"] == ["GetFindings"]


def test_adapter_reads_the_aggregator_with_its_mode(aws, access, organization, administered):
    admin = hub(aws, organization.security, AGGREGATION)
    made = not admin.list_finding_aggregators()["FindingAggregators"]  # xdist may run this one first
    arn = admin.create_finding_aggregator(RegionLinkingMode="ALL_REGIONS")["FindingAggregatorArn"] if made else ""
    try:
        [found] = aws_securityhub.finding_aggregators(access, organization.security, LINKED)
        assert found.region == AGGREGATION and found.region_linking_mode in ("ALL_REGIONS", "SPECIFIED_REGIONS")
    finally:
        if made:
            admin.delete_finding_aggregator(FindingAggregatorArn=arn)


def test_member_write_refused_in_the_answer_raises(access, organization, administered):
    client = access.client("securityhub", organization.security, AGGREGATION)
    with pytest.raises(ClientError) as raised:
        aws_securityhub.create_members(client, {"AccountDetails": [{"AccountId": "999999999999"}]})
    assert raised.value.response["Error"]["Code"] == "UnprocessedAccounts"
    assert "999999999999" in raised.value.response["Error"]["Message"]


def test_analyzer_adapter_reads_state_tags_and_delegation(aws, access, organization):
    assert not aws_accessanalyzer.observe_analyzer(access, WORKLOAD, ELSEWHERE, "nothing").exists
    analyzer(aws, WORKLOAD, ELSEWHERE).create_analyzer(analyzerName="mine", type="ACCOUNT",
                                                       tags={"vigil.dev/owner": "ns/name"})
    found = aws_accessanalyzer.observe_analyzer(access, WORKLOAD, ELSEWHERE, "mine")
    assert (found.exists, found.type, found.status, found.tags) == (
        True, "ACCOUNT", "ACTIVE", {"vigil.dev/owner": "ns/name"})
    aws_accessanalyzer.delete_analyzer(access, WORKLOAD, ELSEWHERE, "mine")
    assert aws_accessanalyzer.delegated_services(access, OTHER_WORKLOAD) == frozenset(), "never registered"


# --- deletionPolicy: Delete ----------------------------------------------------------------------


def test_delete_removes_only_the_analyzer_vigil_created(aws, access, organization):
    org = OrganizationSpec.model_validate({
        "accounts": {"logArchive": organization.log_archive, "security": organization.security},
        "regions": {"home": ELSEWHERE, "governed": [ELSEWHERE]}})
    view = OrganizationView(org, OrganizationInventory(organization.organization_id, organization.management))
    hub_owner, other = Owner("ns", "SecurityHubBaseline", "hub"), Owner("ns", "SecurityHubBaseline", "other")

    def context(name: str) -> Context:
        spec = SecurityHubBaselineSpec.model_validate({"organizationRef": {"name": "acme"}, "deletionPolicy": "Delete",
                                                       "accessAnalyzer": {"name": name}})
        return Context("SecurityHubBaseline", "ns", "hub", spec, "Enforce", access, view, owner=hub_owner)

    security = analyzer(aws, organization.security, ELSEWHERE)
    security.create_analyzer(analyzerName="ours", type="ACCOUNT", tags=hub_owner.tags())
    security.create_analyzer(analyzerName="theirs", type="ACCOUNT", tags=other.tags())
    assert control.delete(context("ours"))[0] == "analyzer ours deleted"
    assert "left in place" in control.delete(context("theirs"))[0]
    assert [a["name"] for a in security.list_analyzers()["analyzers"]] == ["theirs"]
    security.delete_analyzer(analyzerName="theirs")


def test_audit_of_an_organization_without_security_hub_plans_everything_and_writes_nothing(
        access, organization, call_log):
    untouched = ("eu-south-1", "eu-south-2")
    org = OrganizationSpec.model_validate({
        "accounts": {"logArchive": organization.log_archive, "security": organization.security},
        "regions": {"home": untouched[0], "governed": list(untouched)}})
    accounts = (organization.management, *organization.members)
    inventory = OrganizationInventory(organization.organization_id, organization.management, tuple(
        Account(a, a, "ACTIVE") for a in accounts))
    spec = SecurityHubBaselineSpec.model_validate({"organizationRef": {"name": "acme"}, "managementPolicy": "Audit",
                                                   "accessAnalyzer": {"name": "audit-only"}})
    report = control.reconcile(Context("SecurityHubBaseline", "ns", "audit", spec, "Audit", access,
                                       OrganizationView(org, inventory)))
    assert [t.target for t in report.targets if t.error] == []
    assert len(report.targets) == 2 * len(accounts) + 1 and all(t.planned for t in report.targets)
    admin = next(t for t in report.targets if t.target == f"{organization.security}/{untouched[0]}")
    operations = [a.operation for a in admin.planned]
    assert operations[operations.index("EnableSecurityHub"):] == [
        "EnableSecurityHub", "EnableOrganizationAdminAccount", "UpdateOrganizationConfiguration",
        "BatchEnableStandards", "EnableImportFindingsForProduct", "EnableImportFindingsForProduct",
        "EnableImportFindingsForProduct", "CreateFindingAggregator"]
    assert report.extra_status == {"securityHubV2": "NotEnabled"}, "no administrator hub: no findings to count"
    assert call_log.writes() == []


# --- central configuration and the newer Security Hub ---------------------------------------------


@pytest.fixture
def centrally(aws, organization, administered) -> Iterator[Any]:
    """AGGREGATION as the home region, its aggregator linking every region, for one test; put back
    to LOCAL after it, with the organization configurations and the workload's standards as they were."""
    admin = hub(aws, organization.security, AGGREGATION)
    found = admin.list_finding_aggregators()["FindingAggregators"]
    made = not found
    arn = (admin.create_finding_aggregator(RegionLinkingMode="ALL_REGIONS")["FindingAggregatorArn"] if made
           else found[0]["FindingAggregatorArn"])
    mode = admin.get_finding_aggregator(FindingAggregatorArn=arn)
    admin.update_finding_aggregator(FindingAggregatorArn=arn, RegionLinkingMode="ALL_REGIONS")
    regions = (AGGREGATION, LINKED)
    configurations = {r: hub(aws, organization.security, r).describe_organization_configuration() for r in regions}
    standards = {r: {s["StandardsArn"]: s["StandardsSubscriptionArn"] for s in
                     hub(aws, WORKLOAD, r).get_enabled_standards()["StandardsSubscriptions"]} for r in regions}
    yield admin
    for target in ({"AccountId": WORKLOAD}, {"RootId": aws.client("organizations").list_roots()["Roots"][0]["Id"]}):
        try:
            applied = admin.get_configuration_policy_association(Target=target)
        except ClientError:
            break  # never switched to CENTRAL
        if applied["AssociationType"] == "APPLIED" and applied["ConfigurationPolicyId"] != "SELF_MANAGED_SECURITY_HUB":
            admin.start_configuration_policy_disassociation(Target=target,
                                                            ConfigurationPolicyIdentifier=applied["ConfigurationPolicyId"])
    admin.update_organization_configuration(AutoEnable=False, AutoEnableStandards="NONE",
                                            OrganizationConfiguration={"ConfigurationType": "LOCAL"})
    for region, configuration in configurations.items():
        hub(aws, organization.security, region).update_organization_configuration(
            AutoEnable=configuration["AutoEnable"], AutoEnableStandards=configuration["AutoEnableStandards"])
        workload = hub(aws, WORKLOAD, region)
        now = {s["StandardsArn"]: s["StandardsSubscriptionArn"]
               for s in workload.get_enabled_standards()["StandardsSubscriptions"]}
        if set(now) - set(standards[region]):
            workload.batch_disable_standards(StandardsSubscriptionArns=[now[a] for a in set(now) - set(standards[region])])
        if set(standards[region]) - set(now):
            workload.batch_enable_standards(StandardsSubscriptionRequests=[
                {"StandardsArn": a} for a in set(standards[region]) - set(now)])
    if made:
        admin.delete_finding_aggregator(FindingAggregatorArn=arn)
    else:
        admin.update_finding_aggregator(FindingAggregatorArn=arn, RegionLinkingMode=mode["RegionLinkingMode"],
                                        **({"Regions": mode["Regions"]} if mode.get("Regions") else {}))


def paths(client) -> set[str]:
    return {s["StandardsArn"].split("/", 1)[1] for s in client.get_enabled_standards()["StandardsSubscriptions"]}


def test_standards_are_described_with_the_regions_arns_and_their_names(aws, organization, administered):
    admin = hub(aws, organization.security, LINKED)
    with without_gaps():
        assert error_code(lambda: admin.describe_standards())
    offered = {s["Name"]: s["StandardsArn"] for s in admin.describe_standards()["Standards"]}
    assert offered["CIS AWS Foundations Benchmark v1.2.0"] == CIS_1_2, "CIS 1.2.0: one ruleset for every region"
    assert offered["PCI DSS v4.0.1"] == standards_arn(LINKED, "pci-dss/v/4.0.1")
    assert {"CIS AWS Foundations Benchmark v3.0.0", "NIST Special Publication 800-53 Revision 5"} <= set(offered)
    assert error_code(lambda: hub(aws, OTHER_WORKLOAD, "ap-east-1").describe_standards()) == "InvalidAccessException"


def test_central_configuration_is_run_from_the_home_region_with_policies(aws, access, organization, centrally):
    admin, linked = centrally, hub(aws, organization.security, LINKED)
    central = {"ConfigurationType": "CENTRAL"}
    with without_gaps():
        assert error_code(lambda: admin.list_configuration_policies())
    assert error_code(lambda: admin.create_configuration_policy(
        Name="early", ConfigurationPolicy={"SecurityHub": {"ServiceEnabled": False}})) == "AccessDeniedException", \
        "no policy while configured locally"
    assert error_code(lambda: linked.update_organization_configuration(
        AutoEnable=False, AutoEnableStandards="NONE", OrganizationConfiguration=central)) == "InvalidInputException", \
        "switched from the aggregator's region only"
    assert error_code(lambda: admin.update_organization_configuration(
        AutoEnable=True, OrganizationConfiguration=central)) == "InvalidInputException", "policies enable accounts"
    admin.update_organization_configuration(AutoEnable=False, AutoEnableStandards="NONE",
                                            OrganizationConfiguration=central)
    for client in (admin, linked):
        got = client.describe_organization_configuration()
        assert (got["OrganizationConfiguration"]["ConfigurationType"], got["AutoEnable"]) == ("CENTRAL", False)

    offered = {s["Name"]: s["StandardsArn"] for s in admin.describe_standards()["Standards"]}
    fsbp, pci4 = offered["AWS Foundational Security Best Practices v1.0.0"], offered["PCI DSS v4.0.1"]
    assert error_code(lambda: admin.create_configuration_policy(Name="bad", ConfigurationPolicy={"SecurityHub": {
        "ServiceEnabled": True, "EnabledStandardIdentifiers": [fsbp]}})) == "InvalidInputException", "controls missing"
    policy = {"SecurityHub": {"ServiceEnabled": True, "EnabledStandardIdentifiers": [fsbp, pci4],
                              "SecurityControlsConfiguration": {"DisabledSecurityControlIdentifiers": ["EC2.2"]}}}
    created = admin.create_configuration_policy(Name="baseline", ConfigurationPolicy=policy, Tags={"team": "sec"})
    assert error_code(lambda: linked.get_configuration_policy(Identifier=created["Id"])) == "AccessDeniedException"
    assert admin.get_configuration_policy(Identifier=created["Arn"])["ConfigurationPolicy"] == policy
    assert admin.list_tags_for_resource(ResourceArn=created["Arn"])["Tags"] == {"team": "sec"}
    assert created["Id"] in [p["Id"] for p in admin.list_configuration_policies()["ConfigurationPolicySummaries"]]

    answer = admin.start_configuration_policy_association(ConfigurationPolicyIdentifier=created["Id"],
                                                          Target={"AccountId": WORKLOAD})
    assert answer["AssociationStatus"] == "PENDING"
    got = admin.get_configuration_policy_association(Target={"AccountId": WORKLOAD})
    assert (got["ConfigurationPolicyId"], got["AssociationType"], got["AssociationStatus"]) == (
        created["Id"], "APPLIED", "SUCCESS")
    for region in (AGGREGATION, LINKED):
        assert paths(hub(aws, WORKLOAD, region)) == {"aws-foundational-security-best-practices/v/1.0.0",
                                                     "pci-dss/v/4.0.1"}, "exactly the policy's, in every region"
    admin.update_configuration_policy(Identifier=created["Id"], ConfigurationPolicy={"SecurityHub": {
        **policy["SecurityHub"], "EnabledStandardIdentifiers": [fsbp, pci4, CIS_1_2]}})
    assert "cis-aws-foundations-benchmark/v/1.2.0" in paths(hub(aws, WORKLOAD, LINKED)), "applied again"

    # The adapter's reads.
    root = aws.client("organizations").list_roots()["Roots"][0]["Id"]
    assert aws_securityhub.root_id(access, organization.management, AGGREGATION) == root
    assert aws_securityhub.root_association(access, organization.security, AGGREGATION, root).policy_id == (
        "SELF_MANAGED_SECURITY_HUB"), "nothing associated to the root"
    read = aws_securityhub.configuration_policy(access, organization.security, AGGREGATION, created["Id"])
    assert (read.service_enabled, read.disabled_controls, read.enabled_controls) == (True, ("EC2.2",), None)
    assert aws_securityhub.policy_ids_named(access, organization.security, AGGREGATION, "baseline") == [created["Id"]]


def test_the_newer_security_hub_is_read_where_it_is_on(aws, access):
    client = hub(aws, OTHER_WORKLOAD, ELSEWHERE)
    with without_gaps():
        assert error_code(lambda: client.describe_security_hub_v2())
    assert aws_securityhub.security_hub_v2(access, OTHER_WORKLOAD, ELSEWHERE) is False
    client.enable_security_hub_v2()
    assert aws_securityhub.security_hub_v2(access, OTHER_WORKLOAD, ELSEWHERE) is True
