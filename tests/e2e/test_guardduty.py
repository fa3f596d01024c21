"""GuardDutyOrg end to end: the real operator makes the security account GuardDuty's delegated
administrator in both governed regions, with its detector's features, the organization's
auto-enable, and every account enrolled (adopting the seeded home-region setup, where one workload
account was left out); corrects a disabled detector, a disassociated member, auto-enable turned
off and a feature turned off within one resync; a steady-state resync reads a fixed number of
times and writes nothing; Audit reports drift as Drifted and writes nothing; an export without its
archive is refused at apply; findings exported to the LogArchive bucket, encrypted with its key;
Runtime Monitoring with its agent management auto-enabled in every member, status counting the
members running each plan per region, and an agent management turned off held until allowed."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from vigil_sandbox.seed import GUARDDUTY_UNENROLLED
from vigil_sandbox.stack import wait_until as stack_wait_until
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant

pytestmark = pytest.mark.e2e
NS = "baseline"
NAME = "guardduty"
MANAGEMENT, SECURITY = "123456789012", "333333333333"
MEMBERS = ("123456789012", "222222222222", "444444444444", "555555555555", "666666666666", "777777777777")
REGIONS = ("ca-central-1", "us-east-1")
HOME, OTHER = REGIONS
RESYNC_SECONDS = 3  # conftest.RESYNC
ONE_RESYNC = RESYNC_SECONDS + 5  # a resync, a timer tick and the reconcile itself
FEATURES_ON = {"S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS",
               "LAMBDA_NETWORK_LOGS"}


def guardduty(stack: Stack, region: str, account: str = SECURITY) -> Any:
    return stack.aws("guardduty", None if account == MANAGEMENT else account, region)


def detector_id(stack: Stack, region: str, account: str = SECURITY) -> str:
    return guardduty(stack, region, account).list_detectors()["DetectorIds"][0]


def detector(stack: Stack, region: str) -> dict[str, Any]:
    return guardduty(stack, region).get_detector(DetectorId=detector_id(stack, region))


def enabled_features(found: dict[str, Any]) -> set[str]:
    return {f["Name"] for f in found["Features"] if f["Status"] == "ENABLED"} - {"CLOUD_TRAIL", "DNS_LOGS",
                                                                                 "FLOW_LOGS"}


def members(stack: Stack, region: str) -> dict[str, str]:
    gd = guardduty(stack, region)
    listed = gd.list_members(DetectorId=detector_id(stack, region), OnlyAssociated="false")["Members"]
    return {m["AccountId"]: m["RelationshipStatus"] for m in listed}


def organization_configuration(stack: Stack, region: str) -> dict[str, Any]:
    return guardduty(stack, region).describe_organization_configuration(DetectorId=detector_id(stack, region))


def wait_until(what: str, check, timeout: float = ONE_RESYNC) -> None:
    stack_wait_until(what, check, timeout)


def reason(obj: dict[str, Any], type_: str) -> str:
    return condition(obj, type_).get("reason", "")


@pytest.fixture(scope="module")
def built(stack: Stack, manifest) -> dict[str, Any]:
    seeded = members(stack, HOME)
    for kind in ("Organization", "LogArchive", "GuardDutyOrg"):
        stack.apply(manifest(kind, NS))
    obj = stack.wait("GuardDutyOrg", NS, NAME, is_ready_and_compliant, timeout=45, what="Ready and Compliant")
    return {"seeded": seeded, "object": obj}


def test_security_account_runs_guardduty_for_every_account_in_every_region(stack: Stack, built):
    assert GUARDDUTY_UNENROLLED not in built["seeded"], "the sandbox seeds one account not enrolled"
    assert built["seeded"], "and the others enrolled in the home region, for Vigil to adopt"
    status = built["object"]["status"]
    assert status["targets"] == {"total": 14, "compliant": 14, "failed": 0, "summary": "14/14"}
    for region in REGIONS:
        admins = guardduty(stack, region, MANAGEMENT).list_organization_admin_accounts()["AdminAccounts"]
        assert admins == [{"AdminAccountId": SECURITY, "AdminStatus": "ENABLED"}]
        found = detector(stack, region)
        assert (found["Status"], found["FindingPublishingFrequency"]) == ("ENABLED", "FIFTEEN_MINUTES")
        assert enabled_features(found) == FEATURES_ON
        config = organization_configuration(stack, region)
        assert config["AutoEnableOrganizationMembers"] == "ALL"
        assert {f["Name"] for f in config["Features"] if f["AutoEnable"] == "ALL"} == FEATURES_ON
        assert members(stack, region) == dict.fromkeys(MEMBERS, "Enabled")
        assert guardduty(stack, region, GUARDDUTY_UNENROLLED).list_detectors()["DetectorIds"], \
            "enrolling turned GuardDuty on in the member"
    trusted = stack.aws("organizations").list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert "guardduty.amazonaws.com" in {s["ServicePrincipal"] for s in trusted}


def next_reconcile(stack: Stack, after: str) -> str:
    """Wait for the reconcile after the one finished at ``after``; when it finished."""
    obj = stack.wait("GuardDutyOrg", NS, NAME, lambda o: o["status"]["lastReconcileTime"] != after,
                     timeout=ONE_RESYNC, what="the next resync")
    return obj["status"]["lastReconcileTime"]


def test_steady_state_resync_reads_thirteen_times_and_writes_nothing(stack: Stack, built):
    calls = stack.calls()
    finished = next_reconcile(stack, stack.get("GuardDutyOrg", NS, NAME)["status"]["lastReconcileTime"])
    calls.reset()  # between two resyncs: the record holds whole ones only
    next_reconcile(stack, next_reconcile(stack, finished))
    recorded = calls.calls()
    assert [c for c in recorded if c.write] == []
    mine = Counter(c.operation for c in recorded
                   if c.service == "guardduty" or c.operation == "ListAWSServiceAccessForOrganization")
    # Per region: ListOrganizationAdminAccounts, ListDetectors, GetDetector,
    # DescribeOrganizationConfiguration, ListMembers, GetMemberDetectors (the plans the members run,
    # 6 < 50 of them); once: ListAWSServiceAccessForOrganization.
    assert {op: n / 2 for op, n in mine.items()} == {
        "ListAWSServiceAccessForOrganization": 1, "ListOrganizationAdminAccounts": 2, "ListDetectors": 2,
        "GetDetector": 2, "DescribeOrganizationConfiguration": 2, "ListMembers": 2, "GetMemberDetectors": 2}


def test_drift_is_corrected_within_one_resync(stack: Stack, built):
    before = stack.get("GuardDutyOrg", NS, NAME)["status"]["driftCorrections"]
    home, other = guardduty(stack, HOME), guardduty(stack, OTHER)
    other.update_detector(DetectorId=detector_id(stack, OTHER), Enable=False)
    home.disassociate_members(DetectorId=detector_id(stack, HOME), AccountIds=["555555555555"])
    home.update_organization_configuration(DetectorId=detector_id(stack, HOME), AutoEnableOrganizationMembers="NONE")
    home.update_detector(DetectorId=detector_id(stack, HOME),
                         Features=[{"Name": "EKS_AUDIT_LOGS", "Status": "DISABLED"}])

    wait_until("the detector re-enabled", lambda: detector(stack, OTHER)["Status"] == "ENABLED")
    wait_until("the member re-enrolled", lambda: members(stack, HOME)["555555555555"] == "Enabled")
    wait_until("auto-enable restored",
               lambda: organization_configuration(stack, HOME)["AutoEnableOrganizationMembers"] == "ALL")
    wait_until("the feature restored", lambda: enabled_features(detector(stack, HOME)) == FEATURES_ON)
    obj = stack.wait("GuardDutyOrg", NS, NAME, lambda o: is_ready_and_compliant(o) and
                     o["status"]["driftCorrections"] >= before + 4, timeout=ONE_RESYNC, what="drift corrected")
    assert reason(obj, "Compliant") in ("InSync", "DriftCorrected")
    stack.wait_events(NS, NAME, lambda e: e["type"] == "Warning" and "555555555555/ca-central-1" in e["message"],
                      what="a Warning naming the corrected target")


def test_audit_reports_drift_and_writes_nothing(stack: Stack, built):
    stack.patch_spec("GuardDutyOrg", NS, NAME, {"managementPolicy": "Audit"})
    stack.wait("GuardDutyOrg", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC, what="Audit, nothing drifted")
    other = guardduty(stack, OTHER)
    calls = stack.calls()
    calls.reset()
    other.update_detector(DetectorId=detector_id(stack, OTHER), FindingPublishingFrequency="SIX_HOURS")
    other.stop_monitoring_members(DetectorId=detector_id(stack, OTHER), AccountIds=["666666666666"])
    since = len(calls.calls())
    # A pass may start between the two edits: wait for the one that saw both.
    both = {f"{SECURITY}/{OTHER}", f"666666666666/{OTHER}"}
    obj = stack.wait("GuardDutyOrg", NS, NAME, lambda o: reason(o, "Compliant") == "Drifted" and both <= {
        f["target"] for f in o["status"]["failures"]}, timeout=ONE_RESYNC, what="Compliant=False Drifted, both")
    assert condition(obj, "Ready")["status"] == "True", "Audit ran to the end: Ready, not Compliant"
    failures = {f["target"]: f for f in obj["status"]["failures"]}
    assert failures[f"{SECURITY}/{OTHER}"]["reason"] == "Drifted"
    assert "finding_publishing_frequency" in failures[f"{SECURITY}/{OTHER}"]["message"]
    assert "relationship_status" in failures[f"666666666666/{OTHER}"]["message"]
    time.sleep(RESYNC_SECONDS + 1)  # another resync: still read-only
    assert calls.writes(since) == []
    assert detector(stack, OTHER)["FindingPublishingFrequency"] == "SIX_HOURS"
    assert members(stack, OTHER)["666666666666"] == "Disabled"

    stack.patch_spec("GuardDutyOrg", NS, NAME, {"managementPolicy": "Enforce"})
    stack.wait("GuardDutyOrg", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC, what="Enforce corrects it")
    assert members(stack, OTHER)["666666666666"] == "Enabled"


def test_invalid_spec_is_refused(stack: Stack, manifest):
    # Findings exported without an archive to export to: the CRD's CEL rule refuses it at apply.
    bad = manifest("GuardDutyOrg", NS, publishFindingsToLogArchive={"enabled": True}, managementPolicy="Audit")
    bad["metadata"]["name"] = "no-archive"
    assert "spec.publishFindingsToLogArchive.logArchiveRef" in stack.refusal(bad)
    assert not stack.exists("GuardDutyOrg", NS, "no-archive")


def test_findings_are_exported_to_the_log_archive(stack: Stack, built):
    stack.patch_spec("GuardDutyOrg", NS, NAME, {"publishFindingsToLogArchive": {
        "enabled": True, "logArchiveRef": {"name": "central"}}})
    stack.wait("GuardDutyOrg", NS, NAME, lambda o: o["status"].get("observedGeneration") == o["metadata"]["generation"]
               and is_ready_and_compliant(o), timeout=ONE_RESYNC, what="the export configured")
    archive = stack.get("LogArchive", NS, "central")["status"]
    for region in REGIONS:
        gd = stack.aws("guardduty", SECURITY, region)
        detector = gd.list_detectors()["DetectorIds"][0]
        destinations = gd.list_publishing_destinations(DetectorId=detector)["Destinations"]
        assert len(destinations) == 1
        described = gd.describe_publishing_destination(DetectorId=detector,
                                                       DestinationId=destinations[0]["DestinationId"])
        properties = described["DestinationProperties"]
        assert properties["DestinationArn"].startswith(archive["bucketArn"])
        assert properties["KmsKeyArn"] == archive["kmsKeyArn"]


AGENTS = ("EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT")


def runtime_agents(features: list[dict[str, Any]], value: str = "Status") -> dict[str, str]:
    runtime = next(f for f in features if f["Name"] == "RUNTIME_MONITORING")
    return {c["Name"]: c[value] for c in runtime.get("AdditionalConfiguration", [])}


def protection(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["region"]: p for p in obj["status"].get("protection", [])}


def test_runtime_monitoring_reaches_every_member_and_status_counts_the_plans(stack: Stack, built):
    """Last in the module: it leaves Runtime Monitoring on. Every plan is an organization auto-enable
    setting in each region; status counts the members running each; an agent management turned off
    waits for its allowance."""
    before = protection(stack.get("GuardDutyOrg", NS, NAME))
    for region in REGIONS:
        plans = before[region]["plans"]
        assert before[region]["members"] == len(MEMBERS)
        assert (plans["s3DataEvents"], plans["lambdaNetworkLogs"], plans["runtimeMonitoring"]) == (
            len(MEMBERS), len(MEMBERS), 0), "the five plans on in every member, Runtime Monitoring in none"

    stack.patch_spec("GuardDutyOrg", NS, NAME, {"features": {"runtimeMonitoring": True}})
    obj = stack.wait("GuardDutyOrg", NS, NAME, lambda o: is_ready_and_compliant(o) and all(
        protection(o).get(r, {}).get("plans", {}).get("runtimeMonitoring") == len(MEMBERS) for r in REGIONS),
        timeout=ONE_RESYNC, what="Runtime Monitoring on in every member")
    for region in REGIONS:
        config = organization_configuration(stack, region)
        assert {f["Name"]: f["AutoEnable"] for f in config["Features"]}["RUNTIME_MONITORING"] == "ALL"
        assert runtime_agents(config["Features"], "AutoEnable") == dict.fromkeys(AGENTS, "ALL")
        assert runtime_agents(detector(stack, region)["Features"]) == dict.fromkeys(AGENTS, "ENABLED")
        assert protection(obj)[region]["plans"]["runtimeMonitoringAgentManagement"] == {
            "eksAddonManagement": len(MEMBERS), "ecsFargateAgentManagement": len(MEMBERS),
            "ec2AgentManagement": len(MEMBERS)}

    allowance = "spec.features.runtimeMonitoringAgentManagement.ec2AgentManagement=false"
    stack.patch_spec("GuardDutyOrg", NS, NAME, {"features": {"runtimeMonitoringAgentManagement": {
        "ec2AgentManagement": False}}})
    held = stack.wait("GuardDutyOrg", NS, NAME, lambda o: reason(o, "Ready") == "WeakeningHeld",
                      timeout=ONE_RESYNC, what="WeakeningHeld")
    assert allowance in condition(held, "Ready")["message"]
    assert runtime_agents(detector(stack, HOME)["Features"])["EC2_AGENT_MANAGEMENT"] == "ENABLED", "held"
    stack.annotate("GuardDutyOrg", NS, NAME, {"vigil.dev/allow-weakening": allowance})
    stack.wait("GuardDutyOrg", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC, what="allowed and applied")
    for region in REGIONS:
        assert runtime_agents(detector(stack, region)["Features"])["EC2_AGENT_MANAGEMENT"] == "DISABLED"
        assert runtime_agents(organization_configuration(stack, region)["Features"], "AutoEnable") == {
            "EKS_ADDON_MANAGEMENT": "ALL", "ECS_FARGATE_AGENT_MANAGEMENT": "ALL", "EC2_AGENT_MANAGEMENT": "NONE"}
