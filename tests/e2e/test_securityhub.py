"""SecurityHubBaseline end to end: the real operator makes the security account Security Hub's
delegated administrator in both governed regions (adopting the hubs the seed turned on), with the
organization's auto-enable and no default standards for members, every account enrolled and
running the spec's standards and integrations (a standard a team added itself stays), one
aggregator linking every region, and the organization's Access Analyzer; status.findings counts the
seeded active findings of every region and account. A standard and an integration turned off out of
band come back within one resync; a steady-state resync reads a fixed number of times and writes
nothing; Audit reports drift as Drifted and writes nothing; an aggregation region outside the
regions is InvalidSpec. Last, configuration.mode Central migrates the organization to central
configuration: one configuration policy of Vigil's, associated to the root, holding the standards
and the disabled control, kept as the spec says when someone edits it."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from vigil_sandbox.seed import (SECURITYHUB_ACTIVE_FINDINGS, SECURITYHUB_SELF_MANAGED,
                                SECURITYHUB_SELF_MANAGED_STANDARD)
from vigil_sandbox.stack import wait_until as stack_wait_until
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant

pytestmark = pytest.mark.e2e
NS = "baseline"
NAME = "securityhub"
MANAGEMENT, SECURITY = "123456789012", "333333333333"
MEMBERS = ("123456789012", "222222222222", "444444444444", "555555555555", "666666666666", "777777777777")
REGIONS = ("ca-central-1", "us-east-1")
HOME, OTHER = REGIONS
RESYNC_SECONDS = 3  # conftest.RESYNC
ONE_RESYNC = RESYNC_SECONDS + 5  # a resync, a timer tick and the reconcile itself
STANDARDS = ("aws-foundational-security-best-practices/v/1.0.0", "pci-dss/v/3.2.1",
             "cis-aws-foundations-benchmark/v/1.2.0")
INTEGRATIONS = ("guardduty", "config", "access-analyzer")


_clients: dict[tuple[str, str, str | None], Any] = {}  # one role session per account and region, not per call


def hub(stack: Stack, region: str, account: str | None = SECURITY) -> Any:
    key = (stack.aws_endpoint, region, account)
    if key not in _clients:
        _clients[key] = stack.aws("securityhub", None if account == MANAGEMENT else account, region)
    return _clients[key]


def standards(stack: Stack, region: str, account: str = SECURITY) -> dict[str, str]:
    """{standard path: subscription ARN}."""
    listed = hub(stack, region, account).get_enabled_standards()["StandardsSubscriptions"]
    return {s["StandardsArn"].split("::", 1)[1].split("/", 1)[1]: s["StandardsSubscriptionArn"] for s in listed
            if s["StandardsStatus"] == "READY"}


def integrations(stack: Stack, region: str, account: str = SECURITY) -> set[str]:
    listed = hub(stack, region, account).list_enabled_products_for_import()["ProductSubscriptions"]
    return {arn.rsplit("/", 1)[1] for arn in listed}


def members(stack: Stack, region: str) -> dict[str, str]:
    listed = hub(stack, region).list_members(OnlyAssociated=False)["Members"]
    return {m["AccountId"]: m["MemberStatus"] for m in listed}


def wait_until(what: str, check, timeout: float = ONE_RESYNC) -> None:
    stack_wait_until(what, check, timeout)


def baseline_uid(stack: Stack) -> str:
    return stack.get("SecurityHubBaseline", NS, NAME)["metadata"]["uid"]


def reason(obj: dict[str, Any], type_: str) -> str:
    return condition(obj, type_).get("reason", "")


def findings_counted(obj: dict[str, Any]) -> bool:
    return (obj.get("status") or {}).get("findings") == SECURITYHUB_ACTIVE_FINDINGS


@pytest.fixture(scope="module")
def built(stack: Stack, manifest) -> dict[str, Any]:
    seeded = {account: standards(stack, HOME, account) for account in (SECURITY, SECURITYHUB_SELF_MANAGED)}
    stack.apply(manifest("Organization", NS))
    # Per account first (the example's Central comes last, as a migration).
    stack.apply(manifest("SecurityHubBaseline", NS, configuration={"mode": "Local"}))
    obj = stack.wait("SecurityHubBaseline", NS, NAME, lambda o: is_ready_and_compliant(o) and findings_counted(o),
                     timeout=45, what="Ready, Compliant and the findings counted")
    return {"seeded": seeded, "object": obj}


def test_security_account_runs_security_hub_for_every_account_in_every_region(stack: Stack, built):
    assert set(built["seeded"][SECURITY]) == {STANDARDS[0], STANDARDS[2]}, "the seed left AWS's defaults on"
    status = built["object"]["status"]
    assert status["targets"] == {"total": 15, "compliant": 15, "failed": 0, "summary": "15/15"}
    for region in REGIONS:
        admins = hub(stack, region, MANAGEMENT).list_organization_admin_accounts()["AdminAccounts"]
        assert admins == [{"AccountId": SECURITY, "Status": "ENABLED"}]
        config = hub(stack, region).describe_organization_configuration()
        assert (config["AutoEnable"], config["AutoEnableStandards"]) == (True, "NONE")
        assert members(stack, region) == dict.fromkeys(MEMBERS, "Enabled")
        for account in (SECURITY, *MEMBERS):
            assert set(STANDARDS) <= set(standards(stack, region, account)), (account, region)
            assert set(INTEGRATIONS) <= integrations(stack, region, account), (account, region)
    assert SECURITYHUB_SELF_MANAGED_STANDARD in standards(stack, HOME, SECURITYHUB_SELF_MANAGED), \
        "a standard the team turned on stays on"
    [aggregator] = hub(stack, HOME).list_finding_aggregators()["FindingAggregators"]
    found = hub(stack, HOME).get_finding_aggregator(FindingAggregatorArn=aggregator["FindingAggregatorArn"])
    assert (found["FindingAggregationRegion"], found["RegionLinkingMode"]) == (HOME, "ALL_REGIONS")
    analyzer = stack.aws("accessanalyzer", SECURITY, HOME).get_analyzer(analyzerName="vigil-org-analyzer")["analyzer"]
    assert (analyzer["type"], analyzer["status"]) == ("ORGANIZATION", "ACTIVE")
    assert analyzer["tags"].items() >= {"vigil.dev/owner": f"{NS}/SecurityHubBaseline/{NAME}",
                                        "vigil.dev/installation": "default",
                                        "vigil.dev/uid": baseline_uid(stack)}.items()
    organizations = stack.aws("organizations")
    trusted = {s["ServicePrincipal"] for s in
               organizations.list_aws_service_access_for_organization()["EnabledServicePrincipals"]}
    assert {"securityhub.amazonaws.com", "access-analyzer.amazonaws.com"} <= trusted
    delegated = organizations.list_delegated_services_for_account(AccountId=SECURITY)["DelegatedServices"]
    assert {"securityhub.amazonaws.com", "access-analyzer.amazonaws.com"} <= {
        s["ServicePrincipal"] for s in delegated}
    assert status["findings"] == SECURITYHUB_ACTIVE_FINDINGS


def test_steady_state_resync_reads_a_fixed_number_of_times_and_writes_nothing(stack: Stack, built):
    calls = stack.calls()
    last = stack.get("SecurityHubBaseline", NS, NAME)["status"]["lastReconcileTime"]
    # One whole resync: from the end of one reconcile to the end of the next.
    obj = stack.wait("SecurityHubBaseline", NS, NAME, lambda o: o["status"]["lastReconcileTime"] != last,
                     timeout=ONE_RESYNC, what="a resync")
    calls.reset()
    last = obj["status"]["lastReconcileTime"]
    stack.wait("SecurityHubBaseline", NS, NAME, lambda o: o["status"]["lastReconcileTime"] != last,
               timeout=ONE_RESYNC, what="the next resync")
    # The Organization's own resync (DescribeOrganization, ListAccounts) is not this kind's.
    mine = [c for c in calls.calls() if c.service in ("securityhub", "accessanalyzer") or c.operation in (
        "ListAWSServiceAccessForOrganization", "ListDelegatedServicesForAccount")]
    assert [c for c in calls.calls() if c.write] == []
    # Per region: ListOrganizationAdminAccounts, DescribeHub, DescribeOrganizationConfiguration,
    # ListMembers, and GetEnabledStandards + ListEnabledProductsForImport for the administrator and
    # each of the 6 members; in the aggregation region ListFindingAggregators, GetFindingAggregator
    # and GetFindings (one page); once: trusted access, Access Analyzer's delegation, the analyzer;
    # DescribeStandards per region (standards by name) and DescribeSecurityHubV2 (reported only).
    assert Counter(c.operation for c in mine) == {
        "ListAWSServiceAccessForOrganization": 1, "ListOrganizationAdminAccounts": 2, "DescribeHub": 2,
        "DescribeStandards": 2, "DescribeSecurityHubV2": 1,
        "DescribeOrganizationConfiguration": 2, "ListMembers": 2, "GetEnabledStandards": 14,
        "ListEnabledProductsForImport": 14, "ListFindingAggregators": 1, "GetFindingAggregator": 1,
        "GetFindings": 1, "ListDelegatedServicesForAccount": 1, "GetAnalyzer": 1}


def test_drift_is_corrected_within_one_resync(stack: Stack, built):
    before = stack.get("SecurityHubBaseline", NS, NAME)["status"]["driftCorrections"]
    pci = standards(stack, OTHER)["pci-dss/v/3.2.1"]
    hub(stack, OTHER).batch_disable_standards(StandardsSubscriptionArns=[pci])
    workload = hub(stack, HOME, "666666666666")
    workload.disable_import_findings_for_product(
        ProductSubscriptionArn=f"arn:aws:securityhub:{HOME}:666666666666:product-subscription/aws/guardduty")
    assert "pci-dss/v/3.2.1" not in standards(stack, OTHER)

    wait_until("the standard re-enabled", lambda: "pci-dss/v/3.2.1" in standards(stack, OTHER))
    wait_until("the integration re-enabled", lambda: "guardduty" in integrations(stack, HOME, "666666666666"))
    obj = stack.wait("SecurityHubBaseline", NS, NAME, lambda o: is_ready_and_compliant(o) and
                     o["status"]["driftCorrections"] >= before + 2, timeout=ONE_RESYNC, what="drift corrected")
    assert reason(obj, "Compliant") in ("InSync", "DriftCorrected")
    stack.wait_events(NS, NAME, lambda e: e["type"] == "Warning" and f"666666666666/{HOME}" in e["message"],
                      what="a Warning naming the corrected target")


def test_audit_reports_drift_and_writes_nothing(stack: Stack, built):
    stack.patch_spec("SecurityHubBaseline", NS, NAME, {"managementPolicy": "Audit"})
    stack.wait("SecurityHubBaseline", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC,
               what="Audit, nothing drifted")
    calls = stack.calls()
    calls.reset()
    member = hub(stack, OTHER, SECURITYHUB_SELF_MANAGED)
    member.batch_disable_standards(StandardsSubscriptionArns=[
        standards(stack, OTHER, SECURITYHUB_SELF_MANAGED)["cis-aws-foundations-benchmark/v/1.2.0"]])
    hub(stack, HOME).update_organization_configuration(AutoEnable=False, AutoEnableStandards="NONE")
    since = len(calls.calls())
    # A pass may start between the two edits: wait for the one that saw both.
    both = {f"{SECURITYHUB_SELF_MANAGED}/{OTHER}", f"{SECURITY}/{HOME}"}
    obj = stack.wait("SecurityHubBaseline", NS, NAME, lambda o: reason(o, "Compliant") == "Drifted" and both <= {
        f["target"] for f in o["status"]["failures"]}, timeout=ONE_RESYNC, what="Compliant=False Drifted, both")
    assert condition(obj, "Ready")["status"] == "True", "Audit ran to the end: Ready, not Compliant"
    failures = {f["target"]: f for f in obj["status"]["failures"]}
    assert "standards.cis-aws-foundations-benchmark" in failures[f"{SECURITYHUB_SELF_MANAGED}/{OTHER}"]["message"]
    assert "auto_enable" in failures[f"{SECURITY}/{HOME}"]["message"]
    time.sleep(RESYNC_SECONDS + 1)  # another resync: still read-only
    assert calls.writes(since) == []
    assert "cis-aws-foundations-benchmark/v/1.2.0" not in standards(stack, OTHER, SECURITYHUB_SELF_MANAGED)
    assert hub(stack, HOME).describe_organization_configuration()["AutoEnable"] is False

    stack.patch_spec("SecurityHubBaseline", NS, NAME, {"managementPolicy": "Enforce"})
    stack.wait("SecurityHubBaseline", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC, what="Enforce corrects it")
    assert hub(stack, HOME).describe_organization_configuration()["AutoEnable"] is True


def test_aggregation_region_outside_the_regions_is_refused(stack: Stack, manifest):
    # Audit: an Enforce twin of the organization's baseline would be a Conflict before anything.
    bad = manifest("SecurityHubBaseline", NS, aggregationRegion="eu-west-1", managementPolicy="Audit")
    bad["metadata"]["name"] = "elsewhere"
    stack.apply(bad)
    obj = stack.wait("SecurityHubBaseline", NS, "elsewhere", lambda o: reason(o, "Ready") == "InvalidSpec",
                     timeout=20, what="InvalidSpec")
    assert "spec.aggregationRegion: eu-west-1" in condition(obj, "Ready")["message"]
    stack.delete("SecurityHubBaseline", NS, "elsewhere")


def test_central_mode_moves_standards_and_disabled_controls_into_one_policy_on_the_root(stack: Stack, built):
    # Last in the module: the organization stays configured centrally.
    allowance = "spec.disabledControls=+EC2.2"
    stack.annotate("SecurityHubBaseline", NS, NAME, {"vigil.dev/allow-weakening": allowance})
    stack.patch_spec("SecurityHubBaseline", NS, NAME, {
        "configuration": {"mode": "Central"},
        "disabledControls": [{"id": "EC2.2", "reason": "default security groups are the network team's"}]})
    obj = stack.wait("SecurityHubBaseline", NS, NAME, lambda o: is_ready_and_compliant(o) and (
        o["status"].get("configurationType") == "CENTRAL"), timeout=ONE_RESYNC * 2, what="Central, Ready, Compliant")
    assert obj["status"]["securityHubV2"] == "NotEnabled"
    admin = hub(stack, HOME)
    for region in REGIONS:
        config = hub(stack, region).describe_organization_configuration()
        assert config["OrganizationConfiguration"]["ConfigurationType"] == "CENTRAL", region
    [summary] = [p for p in admin.list_configuration_policies()["ConfigurationPolicySummaries"]
                 if p["Name"] == "vigil-baseline"]
    assert admin.list_tags_for_resource(ResourceArn=summary["Arn"])["Tags"]["vigil.dev/owner"] == (
        f"{NS}/SecurityHubBaseline/{NAME}")
    root = stack.aws("organizations").list_roots()["Roots"][0]["Id"]
    association = admin.get_configuration_policy_association(Target={"RootId": root})
    assert (association["ConfigurationPolicyId"], association["AssociationStatus"]) == (summary["Id"], "SUCCESS")
    policy = admin.get_configuration_policy(Identifier=summary["Id"])["ConfigurationPolicy"]["SecurityHub"]
    assert policy["SecurityControlsConfiguration"] == {"DisabledSecurityControlIdentifiers": ["EC2.2"]}
    assert {arn.split("/", 1)[1] for arn in policy["EnabledStandardIdentifiers"]} >= set(STANDARDS)
    for account in MEMBERS:
        assert set(STANDARDS) <= set(standards(stack, OTHER, account)), "the root's policy, in every linked region"

    # Someone turns another control off in Vigil's policy: it comes back on within a resync.
    admin.update_configuration_policy(Identifier=summary["Id"], ConfigurationPolicy={"SecurityHub": {
        **policy, "SecurityControlsConfiguration": {"DisabledSecurityControlIdentifiers": ["EC2.2", "S3.1"]}}})
    wait_until("S3.1 back on", lambda: admin.get_configuration_policy(Identifier=summary["Id"])[
        "ConfigurationPolicy"]["SecurityHub"]["SecurityControlsConfiguration"] == {
        "DisabledSecurityControlIdentifiers": ["EC2.2"]})
