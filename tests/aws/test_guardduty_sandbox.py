"""GuardDuty against the sandbox: the gaps of vigil_sandbox.gaps.guardduty (for each, what plain
moto answers under without_gaps(), then what the sandbox answers, as AWS does) and the adapter
vigil.aws.guardduty (what it reads, in how many calls, and member writes that fail in their answer
raising like any AWS error). A region no other test governs keeps the state its own."""

from __future__ import annotations

import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from vigil.aws import guardduty as aws_guardduty
from vigil.aws.errors import classify
from vigil_sandbox.gaps import without_gaps
from vigil_sandbox.seed import GUARDDUTY_UNENROLLED

REGION = "eu-west-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
WORKLOAD = "555555555555"
FINDINGS_BUCKET = "vigil-test-guardduty-findings"


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def guardduty(aws, account=None, region=REGION):
    return aws.client("guardduty", account, region, config=NO_RETRIES)


@pytest.fixture(scope="module")
def administrator(aws, organization) -> str:
    """The security account designated in REGION; its detector id."""
    guardduty(aws).enable_organization_admin_account(AdminAccountId=organization.security)
    return guardduty(aws, organization.security).list_detectors()["DetectorIds"][0]


# --- the delegated administrator -----------------------------------------------------------------


def test_only_the_management_account_designates_an_organization_account(aws, organization):
    member = guardduty(aws, organization.log_archive, "eu-central-1")
    with without_gaps():
        member.enable_organization_admin_account(AdminAccountId="999999999999")
        assert member.list_organization_admin_accounts()["AdminAccounts"][0]["AdminAccountId"] == "999999999999"

    assert error_code(lambda: member.enable_organization_admin_account(AdminAccountId=organization.security)) == (
        "BadRequestException")
    assert error_code(lambda: member.list_organization_admin_accounts()) == "BadRequestException"
    management = guardduty(aws, region="eu-central-1")
    assert error_code(lambda: management.enable_organization_admin_account(AdminAccountId="999999999999")) == (
        "BadRequestException"), "not an account of the organization"


def test_designating_turns_guardduty_on_for_the_administrator_once(aws, organization, administrator):
    management = guardduty(aws)
    management.enable_organization_admin_account(AdminAccountId=organization.security)  # again: no change
    assert management.list_organization_admin_accounts()["AdminAccounts"] == [
        {"AdminAccountId": organization.security, "AdminStatus": "ENABLED"}]
    assert guardduty(aws, organization.security).list_detectors()["DetectorIds"] == [administrator]
    trusted = aws.client("organizations").list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert "guardduty.amazonaws.com" in {s["ServicePrincipal"] for s in trusted}
    assert error_code(lambda: management.enable_organization_admin_account(AdminAccountId=WORKLOAD)) == (
        "BadRequestException"), "one administrator per organization and region"


# --- detectors -----------------------------------------------------------------------------------


def test_one_detector_per_account_and_region_listing_every_feature(aws):
    gd = guardduty(aws, WORKLOAD, "ap-south-1")
    with without_gaps():
        first = gd.create_detector(Enable=True)["DetectorId"]
        second = gd.create_detector(Enable=True)["DetectorId"]
        assert gd.get_detector(DetectorId=first)["Features"] == []
        gd.delete_detector(DetectorId=first)
        gd.delete_detector(DetectorId=second)

    detector = gd.create_detector(Enable=True, Features=[{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}])
    try:
        assert error_code(lambda: gd.create_detector(Enable=True)) == "BadRequestException"
        features = {f["Name"]: f["Status"] for f in gd.get_detector(DetectorId=detector["DetectorId"])["Features"]}
        assert features["S3_DATA_EVENTS"] == "ENABLED" and features["EKS_AUDIT_LOGS"] == "DISABLED"
        assert features["CLOUD_TRAIL"] == "ENABLED", "the foundational sources are always on"
    finally:
        gd.delete_detector(DetectorId=detector["DetectorId"])


def test_update_detector_merges_features_by_name(aws):
    gd = guardduty(aws, WORKLOAD, "ap-south-1")
    both = [{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}, {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"}]
    one_off = [{"Name": "EKS_AUDIT_LOGS", "Status": "DISABLED"}]
    with without_gaps():
        detector_id = gd.create_detector(Enable=True, Features=both)["DetectorId"]
        gd.update_detector(DetectorId=detector_id, Features=one_off)
        assert gd.get_detector(DetectorId=detector_id)["Features"] == one_off, "moto replaces the list"
        gd.delete_detector(DetectorId=detector_id)

    detector_id = gd.create_detector(Enable=True, Features=both)["DetectorId"]
    try:
        gd.update_detector(DetectorId=detector_id, Features=one_off)
        found = gd.get_detector(DetectorId=detector_id)
        statuses = {f["Name"]: f["Status"] for f in found["Features"]}
        assert (statuses["S3_DATA_EVENTS"], statuses["EKS_AUDIT_LOGS"]) == ("ENABLED", "DISABLED")
        assert found["DataSources"]["Kubernetes"]["AuditLogs"]["Status"] == "DISABLED", "the legacy view agrees"
        assert error_code(lambda: gd.update_detector(DetectorId=detector_id, Features=[
            {"Name": "EKS_RUNTIME_MONITORING", "Status": "ENABLED"},
            {"Name": "RUNTIME_MONITORING", "Status": "ENABLED"}])) == "BadRequestException"
    finally:
        gd.delete_detector(DetectorId=detector_id)


RUNTIME_AGENTS = ("EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT")


def agents(features: list[dict], status: str = "Status") -> dict[str, str]:
    """RUNTIME_MONITORING's additional configurations: {name: Status (or AutoEnable)}."""
    runtime = next(f for f in features if f["Name"] == "RUNTIME_MONITORING")
    return {c["Name"]: c[status] for c in runtime.get("AdditionalConfiguration", [])}


def test_runtime_agent_management_merges_by_name(aws):
    gd = guardduty(aws, WORKLOAD, "ap-south-1")
    ec2_on = [{"Name": "RUNTIME_MONITORING", "Status": "ENABLED",
               "AdditionalConfiguration": [{"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"}]}]
    fargate_on = [{"Name": "RUNTIME_MONITORING", "Status": "ENABLED",
                   "AdditionalConfiguration": [{"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"}]}]
    with without_gaps():
        detector_id = gd.create_detector(Enable=True, Features=ec2_on)["DetectorId"]
        gd.update_detector(DetectorId=detector_id, Features=fargate_on)
        assert agents(gd.get_detector(DetectorId=detector_id)["Features"]) == {
            "ECS_FARGATE_AGENT_MANAGEMENT": "ENABLED"}, "moto replaces the list, the EC2 agent with it"
        gd.delete_detector(DetectorId=detector_id)

    detector_id = gd.create_detector(Enable=True, Features=ec2_on)["DetectorId"]
    try:
        assert agents(gd.get_detector(DetectorId=detector_id)["Features"]) == {
            "EKS_ADDON_MANAGEMENT": "DISABLED", "ECS_FARGATE_AGENT_MANAGEMENT": "DISABLED",
            "EC2_AGENT_MANAGEMENT": "ENABLED"}, "every agent management listed, those not named DISABLED"
        gd.update_detector(DetectorId=detector_id, Features=fargate_on)
        assert agents(gd.get_detector(DetectorId=detector_id)["Features"]) == {
            "EKS_ADDON_MANAGEMENT": "DISABLED", "ECS_FARGATE_AGENT_MANAGEMENT": "ENABLED",
            "EC2_AGENT_MANAGEMENT": "ENABLED"}
        assert error_code(lambda: gd.update_detector(DetectorId=detector_id, Features=[
            {"Name": "S3_DATA_EVENTS", "Status": "ENABLED",
             "AdditionalConfiguration": [{"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"}]}])) == (
            "BadRequestException"), "agent management is Runtime Monitoring's"
    finally:
        gd.delete_detector(DetectorId=detector_id)


# --- the organization configuration --------------------------------------------------------------


def test_organization_configuration_is_the_administrators(aws, organization, administrator):
    admin = guardduty(aws, organization.security)
    with without_gaps():
        assert error_code(lambda: admin.describe_organization_configuration(DetectorId=administrator))

    config = admin.describe_organization_configuration(DetectorId=administrator)
    assert (config["AutoEnableOrganizationMembers"], config["AutoEnable"]) == ("NONE", False)
    admin.update_organization_configuration(DetectorId=administrator, AutoEnableOrganizationMembers="NEW",
                                            Features=[{"Name": "S3_DATA_EVENTS", "AutoEnable": "NEW"}])
    admin.update_organization_configuration(DetectorId=administrator, AutoEnableOrganizationMembers="ALL",
                                            Features=[{"Name": "EKS_AUDIT_LOGS", "AutoEnable": "ALL"}])
    config = admin.describe_organization_configuration(DetectorId=administrator)
    auto = {f["Name"]: f["AutoEnable"] for f in config["Features"]}
    assert (config["AutoEnableOrganizationMembers"], auto["S3_DATA_EVENTS"], auto["EKS_AUDIT_LOGS"]) == (
        "ALL", "NEW", "ALL"), "features merge by name"
    assert error_code(lambda: admin.update_organization_configuration(DetectorId=administrator)) == (
        "BadRequestException"), "AutoEnableOrganizationMembers (or the older AutoEnable) is required"
    workload = guardduty(aws, WORKLOAD)
    own = workload.create_detector(Enable=True)["DetectorId"]
    try:
        assert error_code(lambda: workload.describe_organization_configuration(DetectorId=own)) == (
            "BadRequestException"), "only the delegated administrator"
    finally:
        workload.delete_detector(DetectorId=own)


# --- members -------------------------------------------------------------------------------------


def test_members_are_enrolled_disassociated_stopped_and_resumed(aws, organization, administrator):
    admin = guardduty(aws, organization.security)
    with without_gaps():
        assert error_code(lambda: admin.list_members(DetectorId=administrator))

    details = [{"AccountId": a, "Email": f"{a}@example.com"} for a in (WORKLOAD, "999999999999",
                                                                        organization.security)]
    unprocessed = admin.create_members(DetectorId=administrator, AccountDetails=details)["UnprocessedAccounts"]
    assert {u["AccountId"] for u in unprocessed} == {"999999999999", organization.security}
    [member] = admin.list_members(DetectorId=administrator)["Members"]
    assert (member["AccountId"], member["RelationshipStatus"], member["AdministratorId"]) == (
        WORKLOAD, "Enabled", organization.security)
    assert member["DetectorId"] == guardduty(aws, WORKLOAD).list_detectors()["DetectorIds"][0], \
        "enrolling turned GuardDuty on in the member"

    admin.stop_monitoring_members(DetectorId=administrator, AccountIds=[WORKLOAD])
    assert admin.list_members(DetectorId=administrator)["Members"][0]["RelationshipStatus"] == "Disabled"
    admin.start_monitoring_members(DetectorId=administrator, AccountIds=[WORKLOAD])
    admin.disassociate_members(DetectorId=administrator, AccountIds=[WORKLOAD])
    assert admin.list_members(DetectorId=administrator)["Members"] == [], "OnlyAssociated defaults to true"
    everyone = admin.list_members(DetectorId=administrator, OnlyAssociated="false")["Members"]
    assert [(m["AccountId"], m["RelationshipStatus"]) for m in everyone] == [(WORKLOAD, "Removed")]
    assert admin.start_monitoring_members(DetectorId=administrator, AccountIds=[WORKLOAD])["UnprocessedAccounts"]
    admin.create_members(DetectorId=administrator, AccountDetails=details[:1])
    assert admin.list_members(DetectorId=administrator)["Members"][0]["RelationshipStatus"] == "Enabled"


def test_organization_turns_runtime_monitoring_on_in_every_member(aws, organization, administrator):
    """After the enrolment above: ALL reaches the members' detectors, agent management included,
    and the administrator reads them back; NONE leaves them as they are."""
    admin = guardduty(aws, organization.security)
    with without_gaps():
        assert error_code(lambda: admin.get_member_detectors(DetectorId=administrator, AccountIds=[WORKLOAD]))

    runtime = {"Name": "RUNTIME_MONITORING", "AutoEnable": "ALL", "AdditionalConfiguration": [
        {"Name": "EKS_ADDON_MANAGEMENT", "AutoEnable": "ALL"}, {"Name": "EC2_AGENT_MANAGEMENT", "AutoEnable": "ALL"}]}
    admin.update_organization_configuration(DetectorId=administrator, AutoEnableOrganizationMembers="ALL",
                                            Features=[runtime])
    config = admin.describe_organization_configuration(DetectorId=administrator)
    assert agents(config["Features"], "AutoEnable") == {
        "EKS_ADDON_MANAGEMENT": "ALL", "ECS_FARGATE_AGENT_MANAGEMENT": "NONE", "EC2_AGENT_MANAGEMENT": "ALL"}

    answer = admin.get_member_detectors(DetectorId=administrator, AccountIds=[WORKLOAD, "999999999999"])
    [member] = answer["MemberDataSourceConfigurations"]
    assert [u["AccountId"] for u in answer["UnprocessedAccounts"]] == ["999999999999"]
    statuses = {f["Name"]: f["Status"] for f in member["Features"]}
    assert (member["AccountId"], statuses["RUNTIME_MONITORING"], statuses["EKS_AUDIT_LOGS"]) == (
        WORKLOAD, "ENABLED", "ENABLED"), "the features set to ALL, this one and the one before"
    assert agents(member["Features"]) == {"EKS_ADDON_MANAGEMENT": "ENABLED", "ECS_FARGATE_AGENT_MANAGEMENT": "DISABLED",
                                          "EC2_AGENT_MANAGEMENT": "ENABLED"}
    assert member["DataSources"]["Kubernetes"]["AuditLogs"]["Status"] == "ENABLED", "the legacy view agrees"
    assert error_code(lambda: admin.get_member_detectors(DetectorId=administrator, AccountIds=["999999999999"])) == (
        "BadRequestException"), "the answer lists at least one member"
    admin.update_organization_configuration(DetectorId=administrator, AutoEnableOrganizationMembers="ALL",
                                            Features=[{"Name": "RUNTIME_MONITORING", "AutoEnable": "NONE"}])
    [member] = admin.get_member_detectors(DetectorId=administrator,
                                          AccountIds=[WORKLOAD])["MemberDataSourceConfigurations"]
    assert {f["Name"]: f["Status"] for f in member["Features"]}["RUNTIME_MONITORING"] == "ENABLED", (
        "NONE leaves each member as it is")


def test_seeded_home_region_leaves_one_account_out(aws, organization):
    admin = guardduty(aws, organization.security, "ca-central-1")
    detector_id = admin.list_detectors()["DetectorIds"][0]
    enrolled = {m["AccountId"] for m in admin.list_members(DetectorId=detector_id)["Members"]}
    assert GUARDDUTY_UNENROLLED not in enrolled and WORKLOAD in enrolled
    assert guardduty(aws, GUARDDUTY_UNENROLLED, "ca-central-1").list_detectors()["DetectorIds"] == []


# --- findings export -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def findings_archive(aws, organization) -> dict[str, str]:
    """A bucket and key in the log-archive account that let GuardDuty write."""
    def allow(action: str, resource: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "guardduty.amazonaws.com"}, "Action": action,
            "Resource": resource}]})
    s3 = aws.client("s3", organization.log_archive)
    s3.create_bucket(Bucket=FINDINGS_BUCKET, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    s3.put_bucket_policy(Bucket=FINDINGS_BUCKET, Policy=allow("s3:PutObject", f"arn:aws:s3:::{FINDINGS_BUCKET}/*"))
    key = aws.client("kms", organization.log_archive).create_key(Policy=allow("kms:GenerateDataKey", "*"))
    return {"bucket_arn": f"arn:aws:s3:::{FINDINGS_BUCKET}", "key_arn": key["KeyMetadata"]["Arn"]}


def test_findings_export_needs_a_bucket_and_key_that_let_guardduty_in(aws, organization, administrator,
                                                                      findings_archive):
    admin = guardduty(aws, organization.security)
    properties = {"DestinationArn": f"{findings_archive['bucket_arn']}/guardduty",
                  "KmsKeyArn": findings_archive["key_arn"]}
    with without_gaps():
        assert error_code(lambda: admin.list_publishing_destinations(DetectorId=administrator))

    closed = aws.client("kms", organization.log_archive).create_key()["KeyMetadata"]["Arn"]
    assert error_code(lambda: admin.create_publishing_destination(
        DetectorId=administrator, DestinationType="S3",
        DestinationProperties={**properties, "KmsKeyArn": closed})) == "BadRequestException"
    created = admin.create_publishing_destination(DetectorId=administrator, DestinationType="S3",
                                                  DestinationProperties=properties, Tags={"team": "security"})
    assert error_code(lambda: admin.create_publishing_destination(
        DetectorId=administrator, DestinationType="S3", DestinationProperties=properties)) == "BadRequestException"
    described = admin.describe_publishing_destination(DetectorId=administrator,
                                                      DestinationId=created["DestinationId"])
    assert (described["Status"], described["DestinationProperties"], described["Tags"]) == (
        "PUBLISHING", properties, {"team": "security"})
    admin.delete_publishing_destination(DetectorId=administrator, DestinationId=created["DestinationId"])
    assert admin.list_publishing_destinations(DetectorId=administrator)["Destinations"] == []


# --- the adapter ---------------------------------------------------------------------------------


def test_adapter_reads_the_region_in_five_calls(access, organization, administrator, call_log):
    management, security = organization.management, organization.security
    admins = aws_guardduty.administrators(access, management, REGION)
    detector = aws_guardduty.observe_detector(access, security, REGION)
    settings = aws_guardduty.observe_organization(access, security, REGION, administrator)
    relationships = aws_guardduty.member_relationships(access, security, REGION, administrator)
    assert admins == {security: "ENABLED"}
    assert detector.exists and detector.detector_id == administrator and detector.settings.enabled
    assert settings.auto_enable_organization_members in ("NONE", "NEW", "ALL")
    assert all(status in ("Enabled", "Removed", "Disabled") for status in relationships.values())
    reads = [(c.operation, c.account) for c in call_log.calls() if c.service == "guardduty"]
    assert reads == [("ListOrganizationAdminAccounts", management), ("ListDetectors", security),
                     ("GetDetector", security), ("DescribeOrganizationConfiguration", security),
                     ("ListMembers", security)]
    assert not aws_guardduty.observe_detector(access, GUARDDUTY_UNENROLLED, "ap-northeast-1").exists


def test_adapter_counts_each_members_plans_in_one_call_per_fifty(access, organization, administrator, call_log):
    # A second member, enrolled with Runtime Monitoring no longer auto-enabled, in the second call.
    access.client("guardduty", organization.security, REGION).create_members(DetectorId=administrator, AccountDetails=[
        {"AccountId": organization.log_archive, "Email": "log-archive@example.com"}])
    strangers = [f"1000000000{n:02d}" for n in range(48)]
    call_log.reset()
    counted = aws_guardduty.member_plans(access, organization.security, REGION, administrator,
                                         [WORKLOAD, GUARDDUTY_UNENROLLED, *strangers, organization.log_archive])
    assert counted.members == 2, "accounts that are no members are not counted"
    assert counted.plans["runtime_monitoring"] == 1 and counted.plans["eks_audit_logs"] == 2
    assert counted.plans["runtime_monitoring_agent_management.ec2_agent_management"] == 1
    assert "runtime_monitoring_agent_management.ecs_fargate_agent_management" not in counted.plans
    assert [c.operation for c in call_log.calls() if c.service == "guardduty"] == ["GetMemberDetectors"] * 2


def test_member_write_refused_in_the_answer_raises(access, organization, administrator):
    client = access.client("guardduty", organization.security, REGION)
    with pytest.raises(ClientError) as raised:
        aws_guardduty.create_members(client, {"DetectorId": administrator, "AccountDetails": [
            {"AccountId": "999999999999", "Email": "nobody@example.com"}]})
    error = classify(raised.value)
    assert error.reason == "AWSError" and "999999999999" in error.message
