"""AWS Config against the sandbox: the gaps of vigil_sandbox.gaps.config and .iam, and the
Organizations one Config needs (for each, what plain moto answers under without_gaps(), then what
the sandbox answers, as AWS does); and the adapter vigil.aws.config, which reads back as in sync
what the ConfigBaseline planner wrote. A region no other test uses keeps the state its own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from vigil.api.config import ConfigBaselineSpec
from vigil.aws import config as aws_config
from vigil.aws.apply import execute
from vigil.planning.config import (AGGREGATOR_ROLE_NAME, SERVICE_LINKED_ROLE_NAME, OrganizationTarget,
                                   RecorderTarget, plan_aggregator, plan_aggregator_role, plan_delegation,
                                   plan_recorder, plan_rules, plan_service_linked_role)
from vigil.planning.ownership import Owner
from vigil_sandbox.gaps import without_gaps

REGION = "ap-southeast-2"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
CONFIG, SETUP = "config.amazonaws.com", "config-multiaccountsetup.amazonaws.com"
ARCHIVE_BUCKET = "vigil-test-config-archive"
MANAGED = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
CONFIG_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": CONFIG}, "Action": "sts:AssumeRole"}]})


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def config(aws, account=None, region=REGION):
    return aws.client("config", account, region, config=NO_RETRIES)


def slr_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/aws-service-role/{CONFIG}/{SERVICE_LINKED_ROLE_NAME}"


@pytest.fixture(scope="module")
def archive(aws, organization) -> str:
    """A bucket in the log-archive account that Config may write to."""
    s3 = aws.client("s3", organization.log_archive, REGION)
    s3.create_bucket(Bucket=ARCHIVE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket=ARCHIVE_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": CONFIG}, "Action": ["s3:GetBucketAcl", "s3:PutObject"],
         "Resource": [f"arn:aws:s3:::{ARCHIVE_BUCKET}", f"arn:aws:s3:::{ARCHIVE_BUCKET}/*"]}]}))
    return ARCHIVE_BUCKET


@pytest.fixture(scope="module")
def delegated(aws, organization) -> Iterator[str]:
    """The security account as Config's delegated administrator, trusted access on; undone after."""
    organizations = aws.client("organizations")
    for principal in (CONFIG, SETUP):
        organizations.enable_aws_service_access(ServicePrincipal=principal)
        organizations.register_delegated_administrator(AccountId=organization.security, ServicePrincipal=principal)
    yield organization.security
    for principal in (CONFIG, SETUP):
        organizations.deregister_delegated_administrator(AccountId=organization.security, ServicePrincipal=principal)


def spec(**fields) -> ConfigBaselineSpec:
    return ConfigBaselineSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "c"},
                                              **fields})


# --- IAM ----------------------------------------------------------------------------------------


def test_service_linked_role_takes_the_name_aws_gives_it(aws, organization):
    iam = aws.client("iam", organization.workloads[2])
    with without_gaps():
        plain = iam.create_service_linked_role(AWSServiceName=CONFIG)["Role"]["RoleName"]
        iam.delete_role(RoleName=plain)
    assert plain == "AWSServiceRoleForconfig"

    role = iam.create_service_linked_role(AWSServiceName=CONFIG)["Role"]
    assert role["RoleName"] == "AWSServiceRoleForConfig" and role["Arn"] == slr_arn(organization.workloads[2])
    assert error_code(lambda: iam.create_service_linked_role(AWSServiceName=CONFIG)) == "InvalidInput"


def test_aws_managed_policies_can_be_attached(aws, organization):
    iam = aws.client("iam", organization.workloads[2])
    iam.create_role(RoleName="vigil-test-managed", AssumeRolePolicyDocument=CONFIG_TRUST)
    with without_gaps():
        assert error_code(lambda: iam.attach_role_policy(RoleName="vigil-test-managed", PolicyArn=MANAGED)) == (
            "NoSuchEntity")

    iam.attach_role_policy(RoleName="vigil-test-managed", PolicyArn=MANAGED)
    attached = iam.list_attached_role_policies(RoleName="vigil-test-managed")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSConfigRoleForOrganizations", "PolicyArn": MANAGED}]
    missing = "arn:aws:iam::aws:policy/NoSuchPolicy"
    assert error_code(lambda: iam.attach_role_policy(RoleName="vigil-test-managed", PolicyArn=missing)) == (
        "NoSuchEntity")


# --- Organizations --------------------------------------------------------------------------------


def test_config_can_have_a_delegated_administrator(aws, organization):
    organizations = aws.client("organizations")
    register = lambda: organizations.register_delegated_administrator(  # noqa: E731
        AccountId=organization.shared_network, ServicePrincipal=CONFIG)
    with without_gaps():
        assert error_code(register) == "InvalidInputException"

    register()
    try:
        services = organizations.list_delegated_services_for_account(AccountId=organization.shared_network)
        assert [s["ServicePrincipal"] for s in services["DelegatedServices"]] == [CONFIG]
        assert error_code(register) == "AccountAlreadyRegisteredException"
        from_member = aws.client("organizations", organization.security)
        assert error_code(lambda: from_member.register_delegated_administrator(
            AccountId=organization.shared_network, ServicePrincipal=SETUP)) == "AccessDeniedException"
    finally:
        organizations.deregister_delegated_administrator(AccountId=organization.shared_network,
                                                         ServicePrincipal=CONFIG)


# --- Config: what a recorder is given -------------------------------------------------------------


def test_recorder_role_must_exist_and_trust_config(aws, organization):
    account = organization.workloads[1]
    client = config(aws, account)
    recorder = {"name": "default", "roleARN": f"arn:aws:iam::{account}:role/nobody",
                "recordingGroup": {"allSupported": True}}
    with without_gaps():
        client.put_configuration_recorder(ConfigurationRecorder=recorder)
        client.delete_configuration_recorder(ConfigurationRecorderName="default")

    assert error_code(lambda: client.put_configuration_recorder(ConfigurationRecorder=recorder)) == (
        "InvalidRoleException")
    aws.client("iam", account).create_role(RoleName="vigil-test-not-config", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    untrusting = {**recorder, "roleARN": f"arn:aws:iam::{account}:role/vigil-test-not-config"}
    assert error_code(lambda: client.put_configuration_recorder(ConfigurationRecorder=untrusting)) == (
        "InvalidRoleException")


def test_delivery_channel_needs_a_bucket_config_may_write_to(aws, organization, archive):
    account = organization.workloads[2]  # its service-linked role exists (see above)
    client = config(aws, account)
    client.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": slr_arn(account)})
    try:
        nowhere = {"name": "default", "s3BucketName": "vigil-test-no-such-bucket"}
        closed = "vigil-test-config-closed"
        aws.client("s3", organization.log_archive, REGION).create_bucket(
            Bucket=closed, CreateBucketConfiguration={"LocationConstraint": REGION})
        with without_gaps():
            client.put_delivery_channel(DeliveryChannel=nowhere)
            client.delete_delivery_channel(DeliveryChannelName="default")

        assert error_code(lambda: client.put_delivery_channel(DeliveryChannel=nowhere)) == "NoSuchBucketException"
        assert error_code(lambda: client.put_delivery_channel(DeliveryChannel={
            "name": "default", "s3BucketName": closed})) == "InsufficientDeliveryPolicyException"
        key = f"arn:aws:kms:{REGION}:{organization.log_archive}:key/0000"
        assert error_code(lambda: client.put_delivery_channel(DeliveryChannel={
            "name": "default", "s3BucketName": archive, "s3KmsKeyArn": key})) == "InvalidS3KmsKeyArnException"
        client.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": archive})
        client.delete_delivery_channel(DeliveryChannelName="default")
    finally:
        client.delete_configuration_recorder(ConfigurationRecorderName="default")


def test_recorder_keeps_its_recording_mode(aws, organization):
    account = organization.workloads[2]  # its service-linked role exists (see above)
    client = config(aws, account)
    daily = {"recordingFrequency": "DAILY", "recordingModeOverrides": [
        {"description": "instances as they change", "resourceTypes": ["AWS::EC2::Instance"],
         "recordingFrequency": "CONTINUOUS"}]}
    recorder = {"name": "default", "roleARN": slr_arn(account), "recordingGroup": {"allSupported": True},
                "recordingMode": daily}
    with without_gaps():
        client.put_configuration_recorder(ConfigurationRecorder=recorder)
        assert "recordingMode" not in client.describe_configuration_recorders()["ConfigurationRecorders"][0]
        client.delete_configuration_recorder(ConfigurationRecorderName="default")

    client.put_configuration_recorder(ConfigurationRecorder=recorder)
    try:
        [found] = client.describe_configuration_recorders()["ConfigurationRecorders"]
        assert found["recordingMode"] == daily
        assert found["recordingGroup"] == {"allSupported": True, "includeGlobalResourceTypes": False,
                                           "recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"}}
        compliance_daily = {"recordingFrequency": "CONTINUOUS", "recordingModeOverrides": [
            {"resourceTypes": ["AWS::Config::ResourceCompliance"], "recordingFrequency": "DAILY"}]}
        assert error_code(lambda: client.put_configuration_recorder(ConfigurationRecorder={
            **recorder, "recordingMode": compliance_daily})) == "InvalidRecordingGroupException"
        client.put_configuration_recorder(ConfigurationRecorder={k: v for k, v in recorder.items()
                                                                 if k != "recordingMode"})
        assert client.describe_configuration_recorders()["ConfigurationRecorders"][0]["recordingMode"] == {
            "recordingFrequency": "CONTINUOUS", "recordingModeOverrides": []}, "Config's default"
    finally:
        client.delete_configuration_recorder(ConfigurationRecorderName="default")


def test_exclusions_and_recording_mode_are_written_and_read_back_in_sync(aws, organization, access):
    """Outside the home region, a recorder of every type but EBS volumes also excludes the global
    IAM types (HomeRegionOnly), which Config would record otherwise; DAILY but for roles."""
    account = organization.workloads[2]
    s = spec(recorder={"allSupported": False, "recordingStrategy": "EXCLUSION_BY_RESOURCE_TYPES",
                       "exclusionByResourceTypes": ["AWS::EC2::Volume"],
                       "recordingMode": {"recordingFrequency": "DAILY", "recordingModeOverrides": [
                           {"resourceTypes": ["AWS::IAM::Role"], "recordingFrequency": "CONTINUOUS"}]}})
    target = RecorderTarget(account, REGION, "ca-central-1", ARCHIVE_BUCKET, "unused")

    def recorder_writes() -> list:
        observed = aws_config.observe_account(access, account, REGION)
        return [a for a in plan_recorder(s, target, observed) if a.operation == "PutConfigurationRecorder"]

    for action in recorder_writes():
        execute(access, action)
    try:
        assert recorder_writes() == [], "read back in sync: a steady resync writes nothing"
        [found] = config(aws, account).describe_configuration_recorders()["ConfigurationRecorders"]
        assert found["recordingGroup"] == {
            "allSupported": False, "includeGlobalResourceTypes": False,
            "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
            "exclusionByResourceTypes": {"resourceTypes": [
                "AWS::EC2::Volume", "AWS::IAM::Group", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User"]}}
        assert found["recordingMode"]["recordingFrequency"] == "DAILY"
        home = RecorderTarget(account, REGION, REGION, ARCHIVE_BUCKET, "unused")
        [put] = [a for a in plan_recorder(s, home, aws_config.observe_account(access, account, REGION))
                 if a.operation == "PutConfigurationRecorder"]
        assert put.params["ConfigurationRecorder"]["recordingGroup"]["exclusionByResourceTypes"] == {
            "resourceTypes": ["AWS::EC2::Volume"]}, "in the home region the IAM types are recorded"
    finally:
        config(aws, account).delete_configuration_recorder(ConfigurationRecorderName="default")


# --- Config: the organization's pieces -------------------------------------------------------------


def test_organization_aggregator_needs_the_delegated_administrator(aws, organization):
    role = f"arn:aws:iam::{organization.shared_network}:role/vigil-test-aggregator"
    aws.client("iam", organization.shared_network).create_role(RoleName="vigil-test-aggregator",
                                                               AssumeRolePolicyDocument=CONFIG_TRUST)
    client = config(aws, organization.shared_network)
    put = lambda: client.put_configuration_aggregator(  # noqa: E731
        ConfigurationAggregatorName="vigil-test", OrganizationAggregationSource={"RoleArn": role,
                                                                                 "AllAwsRegions": True})
    with without_gaps():
        put()
        client.delete_configuration_aggregator(ConfigurationAggregatorName="vigil-test")

    assert error_code(put) == "OrganizationAccessDeniedException"


def test_organization_rules_are_kept_per_organization_and_region(aws, organization, delegated):
    admin, management = config(aws, delegated), config(aws)
    rule = {"OrganizationConfigRuleName": "vigil-test-volumes",
            "OrganizationManagedRuleMetadata": {"RuleIdentifier": "ENCRYPTED_VOLUMES"},
            "ExcludedAccounts": [organization.shared_network]}
    with without_gaps():
        assert error_code(lambda: admin.put_organization_config_rule(**rule))

    member = config(aws, organization.workloads[0])
    assert error_code(lambda: member.put_organization_config_rule(**rule)) == "OrganizationAccessDeniedException"
    arn = admin.put_organization_config_rule(**rule)["OrganizationConfigRuleArn"]
    try:
        seen_by_management = management.describe_organization_config_rules()["OrganizationConfigRules"]
        assert [(r["OrganizationConfigRuleArn"], r["ExcludedAccounts"]) for r in seen_by_management] == [
            (arn, [organization.shared_network])]
        assert config(aws, delegated, "ca-central-1").describe_organization_config_rules()[
            "OrganizationConfigRules"] == [], "rules are regional"
        assert error_code(lambda: admin.describe_organization_config_rules(
            OrganizationConfigRuleNames=["vigil-test-nothing"])) == "NoSuchOrganizationConfigRuleException"
    finally:
        admin.delete_organization_config_rule(OrganizationConfigRuleName="vigil-test-volumes")
    assert error_code(lambda: admin.delete_organization_config_rule(
        OrganizationConfigRuleName="vigil-test-volumes")) == "NoSuchOrganizationConfigRuleException"


def test_conformance_packs_are_listed_without_names(aws, organization, delegated):
    admin = config(aws, delegated)
    admin.put_organization_conformance_pack(OrganizationConformancePackName="vigil-test-pack",
                                            TemplateS3Uri="s3://vigil-test-packs/pack.yaml")
    try:
        with without_gaps():
            assert error_code(admin.describe_organization_conformance_packs)

        packs = admin.describe_organization_conformance_packs()["OrganizationConformancePacks"]
        assert [p["OrganizationConformancePackName"] for p in packs] == ["vigil-test-pack"]
        member = config(aws, organization.workloads[0])
        assert error_code(lambda: member.put_organization_conformance_pack(
            OrganizationConformancePackName="vigil-test-pack", TemplateS3Uri="s3://vigil-test-packs/pack.yaml")) == (
            "OrganizationAccessDeniedException")
    finally:
        admin.delete_organization_conformance_pack(OrganizationConformancePackName="vigil-test-pack")


# --- The adapter, and what the aggregator sees ----------------------------------------------------


def test_planner_writes_and_the_adapter_reads_back_in_sync(aws, organization, access, archive, delegated):
    """Two accounts recording (an unencrypted volume in one), one excluded: the baseline written
    from the plans, read back with nothing left to do, and the aggregated compliance."""
    s = spec(scope="Accounts", accountIds=[organization.workloads[0], organization.workloads[1]], regions=[],
             rules=[{"name": "vigil-test-volumes", "identifier": "ENCRYPTED_VOLUMES"},
                    {"name": "vigil-test-keys", "identifier": "ACCESS_KEYS_ROTATED",
                     "inputParameters": {"maxAccessKeyAge": "90"}}])
    key = aws.client("kms", organization.log_archive, REGION).create_key()["KeyMetadata"]["Arn"]
    in_scope = s.account_ids
    aws.client("ec2", in_scope[0], REGION).create_volume(AvailabilityZone=f"{REGION}a", Size=1, Encrypted=False)
    for account in in_scope:
        target = RecorderTarget(account, REGION, REGION, archive, key)
        observed = aws_config.observe_account(access, account, REGION)
        role = aws_config.role_exists(access, account, SERVICE_LINKED_ROLE_NAME)
        for action in [*plan_service_linked_role(target, role), *plan_recorder(s, target, observed)]:
            execute(access, action)
        assert plan_recorder(s, target, aws_config.observe_account(access, account, REGION)) == []

    excluded = tuple(sorted((set(organization.members) | {organization.management}) - set(in_scope)))
    org = OrganizationTarget(delegated, organization.management, REGION, (REGION,), excluded,
                             Owner("test", "ConfigBaseline", "config"))
    for action in plan_delegation(org, aws_config.observe_delegation(access, delegated)):
        execute(access, action)
    assert plan_delegation(org, aws_config.observe_delegation(access, delegated)) == []
    for action in plan_aggregator_role(org, aws_config.observe_service_role(access, delegated, AGGREGATOR_ROLE_NAME)):
        execute(access, action)
    role = aws_config.observe_service_role(access, delegated, AGGREGATOR_ROLE_NAME)
    assert plan_aggregator_role(org, role) == []
    aggregator = aws_config.observe_aggregator(access, delegated, REGION, s.aggregator.name)
    for action in [*plan_aggregator(s, org, aggregator, role.arn),
                   *plan_rules(s, org, REGION, aws_config.observe_organization_rules(access, delegated, REGION))]:
        execute(access, action)
    assert plan_aggregator(s, org, aws_config.observe_aggregator(access, delegated, REGION, s.aggregator.name),
                           role.arn) == []
    rules = aws_config.observe_organization_rules(access, delegated, REGION)
    try:
        assert plan_rules(s, org, REGION, rules) == []

        # ENCRYPTED_VOLUMES: non-compliant where the volume is, nothing in scope elsewhere;
        # ACCESS_KEYS_ROTATED is not evaluated by the sandbox: insufficient data, counted nowhere.
        compliance = aws_config.observe_compliance(access, delegated, REGION, s.aggregator.name)
        assert (compliance.compliant_rules, compliance.non_compliant_rules, compliance.non_compliant_resources) == (
            0, 1, 1)
        client = config(aws, delegated)
        rows = client.describe_aggregate_compliance_by_config_rules(
            ConfigurationAggregatorName=s.aggregator.name)["AggregateComplianceByConfigRules"]
        assert {(r["AccountId"], r["Compliance"]["ComplianceType"]) for r in rows} == {
            (in_scope[0], "NON_COMPLIANT"), (in_scope[0], "INSUFFICIENT_DATA"), (in_scope[1], "INSUFFICIENT_DATA")}
        assert len(rows) == 4, "two rules in two accounts"
        assert all(r["ConfigRuleName"].startswith("OrgConfigRule-vigil-test-") for r in rows)
        # A stopped recorder runs no rule.
        config(aws, in_scope[0]).stop_configuration_recorder(ConfigurationRecorderName="default")
        by_region = client.get_aggregate_config_rule_compliance_summary(
            ConfigurationAggregatorName=s.aggregator.name, GroupByKey="AWS_REGION")["AggregateComplianceCounts"]
        assert by_region == [] or by_region[0]["ComplianceSummary"]["NonCompliantResourceCount"]["CappedCount"] == 0
        assert error_code(lambda: client.get_aggregate_config_rule_compliance_summary(
            ConfigurationAggregatorName="vigil-test-nothing")) == "NoSuchConfigurationAggregatorException"
        with without_gaps():
            assert error_code(lambda: client.get_aggregate_config_rule_compliance_summary(
                ConfigurationAggregatorName=s.aggregator.name))
            assert error_code(lambda: client.describe_aggregate_compliance_by_config_rules(
                ConfigurationAggregatorName=s.aggregator.name))
    finally:
        for name in rules:
            config(aws, delegated).delete_organization_config_rule(OrganizationConfigRuleName=name)
