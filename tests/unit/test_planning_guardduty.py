"""GuardDutyOrg planner: delegated administrator, detector and features (Runtime Monitoring's agent
management too), organization configuration, member enrollment, findings export and the members'
plans counted for status, table-driven; and the shared trusted-access planner it reuses."""

import pytest

from vigil.api.guardduty import GuardDutyOrgSpec
from vigil.planning.guardduty import (PENDING_DETECTOR, AdministratorConflict, FindingsDestination, GuardDutyRegion,
                                      desired_detector, desired_organization, member_account_ids, plan_administrator,
                                      plan_counts, plan_detector, plan_member, plan_organization, plan_publishing)
from vigil.planning.organization import plan_trusted_access
from vigil.planning.ownership import Owner
from vigil.planning.weakening import classify
from vigil.state.guardduty import (DetectorFeatures, DetectorState, MemberPlans, OrganizationFeatures,
                                   PublishingDestination)

SECURITY, MANAGEMENT = "333333333333", "123456789012"
TARGET = GuardDutyRegion(MANAGEMENT, SECURITY, "us-east-1", Owner("baseline", "GuardDutyOrg", "guardduty", "prod"))
SPEC = GuardDutyOrgSpec.model_validate({"organizationRef": {"name": "acme"}})
DETECTOR = "d0"
ARCHIVE = FindingsDestination("arn:aws:s3:::acme-log-archive", "arn:aws:kms:ca-central-1:222222222222:key/k1")


def spec(**fields) -> GuardDutyOrgSpec:
    return GuardDutyOrgSpec.model_validate({**SPEC.model_dump(by_alias=True), **fields})


def healthy_detector(s: GuardDutyOrgSpec = SPEC) -> DetectorState:
    return DetectorState(exists=True, detector_id=DETECTOR, settings=desired_detector(s))


def test_trusted_access_is_planned_for_the_named_service_only():
    plan = plan_trusted_access("guardduty.amazonaws.com", {"cloudtrail.amazonaws.com"}, TARGET.label, MANAGEMENT,
                               "us-east-1")
    assert [(a.account_id, a.operation, a.params) for a in plan] == [
        (MANAGEMENT, "EnableAWSServiceAccess", {"ServicePrincipal": "guardduty.amazonaws.com"})]
    assert plan_trusted_access("guardduty.amazonaws.com", {"guardduty.amazonaws.com"}, "t", MANAGEMENT, "r") == []


@pytest.mark.parametrize("admins, operations", [
    ({}, ["EnableOrganizationAdminAccount"]),
    ({SECURITY: "ENABLED"}, []),
    ({SECURITY: "DISABLE_IN_PROGRESS"}, ["EnableOrganizationAdminAccount"]),
])
def test_security_account_is_designated_from_the_management_account(admins, operations):
    plan = plan_administrator(TARGET, admins)
    assert [a.operation for a in plan] == operations
    assert all(a.account_id == MANAGEMENT and a.params == {"AdminAccountId": SECURITY} for a in plan)


def test_another_administrator_is_reported_not_replaced():
    with pytest.raises(AdministratorConflict, match="555555555555"):
        plan_administrator(TARGET, {"555555555555": "ENABLED"})


def test_missing_detector_is_created_with_every_managed_feature_set():
    [create] = plan_detector(SPEC, TARGET, DetectorState(exists=False))
    assert create.operation == "CreateDetector" and create.creates and create.account_id == SECURITY
    assert create.params["Enable"] is True and create.params["FindingPublishingFrequency"] == "FIFTEEN_MINUTES"
    assert {f["Name"]: f["Status"] for f in create.params["Features"]} == {
        "S3_DATA_EVENTS": "ENABLED", "EKS_AUDIT_LOGS": "ENABLED", "EBS_MALWARE_PROTECTION": "ENABLED",
        "RDS_LOGIN_EVENTS": "ENABLED", "RUNTIME_MONITORING": "DISABLED", "LAMBDA_NETWORK_LOGS": "ENABLED"}
    assert create.params["Tags"] == {"vigil.dev/owner": "baseline/GuardDutyOrg/guardduty",
                                     "vigil.dev/installation": "prod"}


def test_healthy_detector_needs_nothing():
    assert plan_detector(SPEC, TARGET, healthy_detector()) == []


@pytest.mark.parametrize("settings, params, paths", [
    ({"enabled": False}, {"Enable": True}, ["enabled"]),
    ({"finding_publishing_frequency": "SIX_HOURS"}, {"FindingPublishingFrequency": "FIFTEEN_MINUTES"},
     ["finding_publishing_frequency"]),
    ({"features": DetectorFeatures(**{**desired_detector(SPEC).features.model_dump(), "eks_audit_logs": False})},
     {"Features": [{"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"}]}, ["features.eks_audit_logs"]),
    ({"features": DetectorFeatures(**{**desired_detector(SPEC).features.model_dump(), "runtime_monitoring": True})},
     {"Features": [{"Name": "RUNTIME_MONITORING", "Status": "DISABLED"}]}, ["features.runtime_monitoring"]),
])
def test_drifted_detector_is_one_update_of_what_differs(settings, params, paths):
    detector = healthy_detector()
    drifted = detector.model_copy(update={"settings": detector.settings.model_copy(update=settings)})
    [update] = plan_detector(SPEC, TARGET, drifted)
    assert update.operation == "UpdateDetector" and not update.creates
    assert update.params == {"DetectorId": DETECTOR, **params}
    assert [c.path for c in update.changes] == paths


def test_organization_auto_enables_members_and_the_enabled_features():
    desired = desired_organization(spec(autoEnable="NEW"))
    assert desired.auto_enable_organization_members == "NEW"
    assert desired.features.s3_data_events == "NEW" and desired.features.runtime_monitoring == "NONE"
    assert plan_organization(spec(autoEnable="NEW"), TARGET, DETECTOR, desired) == []


@pytest.mark.parametrize("observed_update, features", [
    ({"auto_enable_organization_members": "NONE"}, None),
    ({"features": OrganizationFeatures(**{**desired_organization(SPEC).features.model_dump(),
                                          "lambda_network_logs": "NONE"})},
     [{"Name": "LAMBDA_NETWORK_LOGS", "AutoEnable": "ALL"}]),
])
def test_drifted_organization_configuration_is_restored(observed_update, features):
    observed = desired_organization(SPEC).model_copy(update=observed_update)
    [update] = plan_organization(SPEC, TARGET, DETECTOR, observed)
    assert update.operation == "UpdateOrganizationConfiguration" and update.account_id == SECURITY
    assert update.params["AutoEnableOrganizationMembers"] == "ALL", "AWS wants it in every call"
    assert update.params.get("Features") == features and not update.creates


def test_organization_without_a_detector_yet_is_planned_against_a_placeholder():
    [update] = plan_organization(SPEC, TARGET, None, None)
    assert update.params["DetectorId"] == PENDING_DETECTOR and update.creates
    assert len(update.params["Features"]) == 5, "the five features the spec turns on"


@pytest.mark.parametrize("relationship, operation, creates", [
    (None, "CreateMembers", True),
    ("Removed", "CreateMembers", False),
    ("Resigned", "CreateMembers", False),
    ("Disabled", "StartMonitoringMembers", False),
    ("Enabled", None, False),
])
def test_member_is_enrolled_and_monitored(relationship, operation, creates):
    plan = plan_member(TARGET, "555555555555", "w1@example.com", DETECTOR, relationship)
    assert [a.operation for a in plan] == ([operation] if operation else [])
    for action in plan:
        assert action.target == "555555555555/us-east-1" and action.account_id == SECURITY
        assert action.creates is creates
        assert action.changes[0].before == relationship and action.changes[0].after == "Enabled"
    if operation == "CreateMembers":
        assert plan[0].params == {"DetectorId": DETECTOR, "AccountDetails": [
            {"AccountId": "555555555555", "Email": "w1@example.com"}]}


def test_members_are_every_active_account_but_the_administrator():
    assert member_account_ids(["123456789012", SECURITY, "555555555555"], SECURITY) == [
        "123456789012", "555555555555"]


PUBLISHING = spec(publishFindingsToLogArchive={"enabled": True, "logArchiveRef": {"name": "central"}})


@pytest.mark.parametrize("the_spec, destinations, operations", [
    (SPEC, (), []),
    (PUBLISHING, (), ["CreatePublishingDestination"]),
    (PUBLISHING, (PublishingDestination(destination_id="p1", destination_arn=ARCHIVE.destination_arn,
                                        kms_key_arn=ARCHIVE.kms_key_arn),), []),
    (PUBLISHING, (PublishingDestination(destination_id="p1", destination_arn="arn:aws:s3:::elsewhere",
                                        kms_key_arn=ARCHIVE.kms_key_arn),), ["UpdatePublishingDestination"]),
])
def test_findings_go_to_the_log_archive_when_asked(the_spec, destinations, operations):
    plan = plan_publishing(the_spec, TARGET, DETECTOR, destinations, ARCHIVE)
    assert [a.operation for a in plan] == operations
    for action in plan:
        assert action.params["DestinationProperties"] == {
            "DestinationArn": "arn:aws:s3:::acme-log-archive/guardduty", "KmsKeyArn": ARCHIVE.kms_key_arn}


# --- Runtime Monitoring's agent management, and what the members run ---------------------------------

RUNTIME = spec(features={**SPEC.features.model_dump(by_alias=True), "runtimeMonitoring": True})
AGENTS_ON = [{"Name": "EKS_ADDON_MANAGEMENT", "Status": "ENABLED"},
             {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"},
             {"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"}]


def with_agents(s: GuardDutyOrgSpec, **agents: bool) -> GuardDutyOrgSpec:
    features = s.features.model_dump(by_alias=True)
    return spec(features={**features, "runtimeMonitoringAgentManagement": {
        **features["runtimeMonitoringAgentManagement"], **agents}})


def test_runtime_monitoring_on_manages_its_agent_everywhere_by_default():
    [create] = plan_detector(RUNTIME, TARGET, DetectorState(exists=False))
    [runtime] = [f for f in create.params["Features"] if f["Name"] == "RUNTIME_MONITORING"]
    assert runtime == {"Name": "RUNTIME_MONITORING", "Status": "ENABLED", "AdditionalConfiguration": AGENTS_ON}
    [update] = plan_organization(RUNTIME, TARGET, DETECTOR, desired_organization(SPEC))
    [runtime] = update.params["Features"]
    assert runtime == {"Name": "RUNTIME_MONITORING", "AutoEnable": "ALL", "AdditionalConfiguration": [
        {"Name": a["Name"], "AutoEnable": "ALL"} for a in AGENTS_ON]}


def test_an_agent_management_turned_off_is_one_update_of_runtime_monitoring_whole():
    observed = healthy_detector(RUNTIME)
    [update] = plan_detector(with_agents(RUNTIME, ec2AgentManagement=False), TARGET, observed)
    assert [c.path for c in update.changes] == ["features.runtime_monitoring_agent_management.ec2_agent_management"]
    assert update.params["Features"] == [{"Name": "RUNTIME_MONITORING", "Status": "ENABLED", "AdditionalConfiguration": [
        *AGENTS_ON[:2], {"Name": "EC2_AGENT_MANAGEMENT", "Status": "DISABLED"}]}]
    assert [w.allowance for w in classify(update)] == [
        "spec.features.runtimeMonitoringAgentManagement.ec2AgentManagement=false"]
    [organization] = plan_organization(with_agents(RUNTIME, ec2AgentManagement=False), TARGET, DETECTOR,
                                       desired_organization(RUNTIME))
    assert [w.allowance for w in classify(organization)] == [
        "spec.features.runtimeMonitoringAgentManagement.ec2AgentManagement=false"]


def test_agent_management_is_left_as_found_while_runtime_monitoring_is_off():
    found = healthy_detector(RUNTIME).settings.features.model_copy(update={"runtime_monitoring": False})
    observed = healthy_detector().model_copy(update={"settings": healthy_detector().settings.model_copy(
        update={"features": found})})
    assert plan_detector(with_agents(SPEC, eksAddonManagement=False), TARGET, observed) == []
    organization = desired_organization(RUNTIME).features.model_copy(update={"runtime_monitoring": "NONE"})
    observed_org = desired_organization(SPEC).model_copy(update={"features": organization})
    assert plan_organization(SPEC, TARGET, DETECTOR, observed_org) == []


def test_runtime_monitoring_off_takes_its_agents_with_it_in_one_feature():
    [update] = plan_detector(SPEC, TARGET, healthy_detector(RUNTIME))
    assert update.params["Features"] == [{"Name": "RUNTIME_MONITORING", "Status": "DISABLED"}]
    assert [w.allowance for w in classify(update)] == ["spec.features.runtimeMonitoring=false"]


def test_member_plans_are_counted_as_the_spec_names_them():
    counted = MemberPlans(members=4, plans={"s3_data_events": 4, "runtime_monitoring": 2,
                                            "runtime_monitoring_agent_management.eks_addon_management": 1})
    assert plan_counts(counted).model_dump(by_alias=True) == {
        "s3DataEvents": 4, "eksAuditLogs": 0, "ebsMalwareProtection": 0, "rdsLoginEvents": 0, "runtimeMonitoring": 2,
        "runtimeMonitoringAgentManagement": {"eksAddonManagement": 1, "ecsFargateAgentManagement": 0,
                                             "ec2AgentManagement": 0},
        "lambdaNetworkLogs": 0}


def test_a_member_detector_reads_its_plans_and_agents():
    features = DetectorFeatures.from_features([
        {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}, {"Name": "RUNTIME_MONITORING", "Status": "ENABLED",
                                                          "AdditionalConfiguration": AGENTS_ON[2:]}])
    assert features.plans_on() == ["s3_data_events", "runtime_monitoring",
                                   "runtime_monitoring_agent_management.ec2_agent_management"]
