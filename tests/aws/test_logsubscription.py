"""LogSubscriptionPolicy against the sandbox: the gaps of vigil_sandbox.gaps.logs_subscriptions
(cross-account subscription through a destination, the two-filter rule, PutDestination's checks,
account-level subscription filter policies) and .firehose (the S3 destination's role, bucket and
key), each against plain moto (without_gaps()) and the sandbox; and the adapters vigil.aws.logs and
vigil.aws.firehose: what the planner writes reads back in sync, in how many reads; and .kinesis
(the data stream created with its tags, encrypted only with a key there is) with Firehose reading a
data stream, for delivery.type Kinesis.

Regions no other test uses keep this module's state its own."""

from __future__ import annotations

import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from vigil.api.logsubscription import LogSubscriptionPolicySpec
from vigil.aws import firehose as aws_firehose
from vigil.aws import iam as aws_iam
from vigil.aws import kinesis as aws_kinesis
from vigil.aws import logs as aws_logs
from vigil.aws.apply import execute
from vigil.aws.session import AwsAccess
from vigil.planning.logsubscription import (ROLE_POLICY_NAME, Archive, CoverageError, Names, Source,
                                            data_stream_ready, destination_target, excluded_prefixes,
                                            firehose_role_policy, firehose_trust_policy, logs_role_policy,
                                            logs_trust_policy, plan_account_policy, plan_data_stream,
                                            plan_delivery_log_group, plan_delivery_stream, plan_destination,
                                            plan_log_group, plan_role)
from vigil.planning.ownership import Owner
from vigil_sandbox.gaps import without_gaps

REGION = "us-west-2"
OTHER_REGION = "us-east-2"
ARCHIVE_ACCOUNT = "222222222222"
WORKLOAD = "555555555555"
OTHER_WORKLOAD = "666666666666"
BUCKET = "vigil-test-logsub-archive"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
SPEC = LogSubscriptionPolicySpec.model_validate({"organizationRef": {"name": "acme"},
                                                 "logArchiveRef": {"name": "central"}})
NAMES = Names.of("tests", "logsub")
OWNER = Owner("tests", "LogSubscriptionPolicy", "logsub")


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def client(aws, service: str, account: str, region: str = REGION):
    return aws.client(service, account, region, config=NO_RETRIES)


def converge(access: AwsAccess, actions) -> int:
    for action in actions:
        execute(access, action)
    return len(actions)


@pytest.fixture(scope="module")
def archive(aws, access, organization) -> Archive:
    """The log-archive end in REGION, built by the planner's own actions: roles, error log, stream,
    destination."""
    client(aws, "s3", ARCHIVE_ACCOUNT).create_bucket(Bucket=BUCKET,
                                                     CreateBucketConfiguration={"LocationConstraint": REGION})
    key = client(aws, "kms", ARCHIVE_ACCOUNT).create_key()["KeyMetadata"]["Arn"]
    archive = Archive(ARCHIVE_ACCOUNT, REGION, BUCKET, key, organization.organization_id, OWNER, NAMES)
    a = ARCHIVE_ACCOUNT
    for name, trust, inline in roles(archive):
        converge(access, plan_role(archive, name, trust, inline, aws_iam.observe_role(access, a, name,
                                                                                      ROLE_POLICY_NAME)))
    converge(access, plan_delivery_log_group(archive, REGION,
                                             aws_logs.observe_log_group(access, a, REGION, NAMES.log_group)))
    converge(access, plan_delivery_stream(SPEC, archive, REGION,
                                          aws_firehose.observe_delivery_stream(access, a, REGION, NAMES.stream)))
    converge(access, plan_destination(archive, REGION, aws_logs.observe_destination(access, a, REGION,
                                                                                    NAMES.destination)))
    return archive


def roles(archive: Archive):
    return [(NAMES.firehose_role, firehose_trust_policy(archive), firehose_role_policy(SPEC, archive)),
            (NAMES.logs_role, logs_trust_policy(archive), logs_role_policy(archive))]


def source(archive: Archive, account: str = WORKLOAD) -> Source:
    return Source(account, REGION, archive.destination_arn(REGION))


def new_group(aws, name: str, account: str = WORKLOAD, region: str = REGION) -> str:
    client(aws, "logs", account, region).create_log_group(logGroupName=name)
    return name


# --- Adapters: the archive end and a log group read back in sync ---------------------------------


def test_the_archive_end_reads_back_in_sync_in_seven_reads(access, archive, call_log):
    a = ARCHIVE_ACCOUNT
    planned = [plan_role(archive, name, trust, inline, aws_iam.observe_role(access, a, name, ROLE_POLICY_NAME))
               for name, trust, inline in roles(archive)]
    planned.append(plan_delivery_log_group(archive, REGION, aws_logs.observe_log_group(access, a, REGION,
                                                                                      NAMES.log_group)))
    stream = aws_firehose.observe_delivery_stream(access, a, REGION, NAMES.stream)
    planned.append(plan_delivery_stream(SPEC, archive, REGION, stream))
    destination = aws_logs.observe_destination(access, a, REGION, NAMES.destination)
    planned.append(plan_destination(archive, REGION, destination))
    assert planned == [[]] * 5
    assert sorted(c.operation for c in call_log.calls()) == [
        "DescribeDeliveryStream", "DescribeDestinations", "DescribeLogGroups", "GetRole", "GetRole",
        "GetRolePolicy", "GetRolePolicy"]
    assert stream.settings.kms_key_arn == archive.kms_key_arn and stream.settings.prefix == "cloudwatch-logs/us-west-2/"
    assert destination.settings.target_arn == archive.stream_arn(REGION)


def test_a_workload_log_group_subscribes_to_the_archive_across_accounts(aws, access, archive, call_log):
    group = new_group(aws, "/vigil/tests/cross-account")
    target = source(archive)
    logs = client(aws, "logs", WORKLOAD)
    with without_gaps():
        assert error_code(lambda: logs.put_subscription_filter(
            logGroupName=group, filterName="x", filterPattern="", destinationArn=target.destination_arn)) == (
            "ResourceNotFoundException"), "moto looks for a log group named after the destination"
    filters = aws_logs.observe_subscription_filters(access, WORKLOAD, REGION, group)
    assert converge(access, plan_log_group(SPEC, target, NAMES, group, filters)) == 1
    call_log.reset()
    filters = aws_logs.observe_subscription_filters(access, WORKLOAD, REGION, group)
    assert plan_log_group(SPEC, target, NAMES, group, filters) == []
    assert [c.operation for c in call_log.calls()] == ["DescribeSubscriptionFilters"]
    [view] = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert (view["filterName"], view["destinationArn"], view["distribution"]) == (
        NAMES.subscription_filter, target.destination_arn, "ByLogStream")
    assert "roleArn" not in view
    assert aws_logs.observe_subscription_filters(access, WORKLOAD, REGION, "/vigil/tests/none") is None


def test_listing_log_groups_pages_through_all_and_honours_a_prefix(aws, access):
    for n in range(55):
        new_group(aws, f"/vigil/tests/many/{n:02d}", OTHER_WORKLOAD)
    assert len(aws_logs.find_log_groups(access, OTHER_WORKLOAD, REGION, "/vigil/tests/many/")) == 55
    assert [g.name for g in aws_logs.find_log_groups(access, OTHER_WORKLOAD, REGION, "/vigil/tests/many/5")] == [
        "/vigil/tests/many/50", "/vigil/tests/many/51", "/vigil/tests/many/52", "/vigil/tests/many/53",
        "/vigil/tests/many/54"]


# --- Gaps: subscription filters ------------------------------------------------------------------


def test_the_destination_admits_only_the_organization(aws, archive):
    """An account outside the organization is refused by the destination policy; so is any
    account once the policy is gone."""
    logs = client(aws, "logs", OTHER_WORKLOAD)
    group = new_group(aws, "/vigil/tests/admission", OTHER_WORKLOAD)
    destination = archive.destination_arn(REGION)
    archive_logs = client(aws, "logs", ARCHIVE_ACCOUNT)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "logs:PutSubscriptionFilter", "Resource": destination,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-someoneelse"}}}]})
    [before] = archive_logs.describe_destinations(DestinationNamePrefix=NAMES.destination)["destinations"]
    archive_logs.put_destination_policy(destinationName=NAMES.destination, accessPolicy=policy, forceUpdate=True)
    try:
        assert error_code(lambda: logs.put_subscription_filter(
            logGroupName=group, filterName="x", filterPattern="", destinationArn=destination)) == (
            "AccessDeniedException")
    finally:
        archive_logs.put_destination_policy(destinationName=NAMES.destination, accessPolicy=before["accessPolicy"],
                                            forceUpdate=True)
    logs.put_subscription_filter(logGroupName=group, filterName="x", filterPattern="", destinationArn=destination)


def test_a_destination_serves_only_its_own_region(aws, archive):
    group = new_group(aws, "/vigil/tests/other-region", WORKLOAD, OTHER_REGION)
    logs = client(aws, "logs", WORKLOAD, OTHER_REGION)
    assert error_code(lambda: logs.put_subscription_filter(
        logGroupName=group, filterName="x", filterPattern="", destinationArn=archive.destination_arn(REGION))) == (
        "InvalidParameterException")
    missing = archive.destination_arn(REGION).replace(NAMES.destination, "nobody")
    assert error_code(lambda: client(aws, "logs", WORKLOAD).put_subscription_filter(
        logGroupName=new_group(aws, "/vigil/tests/missing-destination"), filterName="x", filterPattern="",
        destinationArn=missing)) == "ResourceNotFoundException"


def test_two_filters_per_group_and_a_rewrite_takes_no_new_slot(aws, archive):
    """Straight to the archive account's own stream (same account: a role, no destination)."""
    group = new_group(aws, "/vigil/tests/two-slots", ARCHIVE_ACCOUNT)
    logs = client(aws, "logs", ARCHIVE_ACCOUNT)
    direct = {"destinationArn": archive.stream_arn(REGION), "roleArn": archive.role_arn(NAMES.logs_role)}
    for name in ("first", "second"):
        logs.put_subscription_filter(logGroupName=group, filterName=name, filterPattern="", **direct)
    with without_gaps():
        assert error_code(lambda: logs.put_subscription_filter(
            logGroupName=group, filterName="second", filterPattern="ERROR", **direct)) == "LimitExceededException"
    logs.put_subscription_filter(logGroupName=group, filterName="second", filterPattern="ERROR",
                                 distribution="Random", **direct)
    assert error_code(lambda: logs.put_subscription_filter(
        logGroupName=group, filterName="third", filterPattern="", **direct)) == "LimitExceededException"
    assert error_code(lambda: logs.put_subscription_filter(
        logGroupName=group, filterName="second", filterPattern="", destinationArn=direct["destinationArn"])) == (
        "InvalidParameterException"), "a stream of the account is written through a role"
    filters = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"], f["distribution"]) for f in filters] == [
        ("first", "", "ByLogStream"), ("second", "ERROR", "Random")]
    assert [f["filterName"] for f in logs.describe_subscription_filters(
        logGroupName=group, filterNamePrefix="sec")["subscriptionFilters"]] == ["second"]


def test_put_destination_needs_a_stream_and_a_role_logs_can_use(aws, archive):
    logs = client(aws, "logs", ARCHIVE_ACCOUNT)
    iam = client(aws, "iam", ARCHIVE_ACCOUNT)
    stream = archive.stream_arn(REGION)
    nobody = f"arn:aws:iam::{ARCHIVE_ACCOUNT}:role/vigil-tests-nobody"
    with without_gaps():
        logs.put_destination(destinationName="vigil-tests-moto", targetArn=stream, roleArn=nobody)
    assert error_code(lambda: logs.put_destination(destinationName="d", targetArn=stream, roleArn=nobody)) == (
        "InvalidParameterException")
    trust_ec2 = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    wrong = iam.create_role(RoleName="vigil-tests-ec2", AssumeRolePolicyDocument=trust_ec2)["Role"]["Arn"]
    assert error_code(lambda: logs.put_destination(destinationName="d", targetArn=stream, roleArn=wrong)) == (
        "InvalidParameterException"), "a role CloudWatch Logs cannot assume"
    trust_logs = trust_ec2.replace("ec2.amazonaws.com", "logs.amazonaws.com")
    powerless = iam.create_role(RoleName="vigil-tests-powerless", AssumeRolePolicyDocument=trust_logs)["Role"]["Arn"]
    assert error_code(lambda: logs.put_destination(destinationName="d", targetArn=stream, roleArn=powerless)) == (
        "InvalidParameterException"), "a role that may not put records"
    ours = archive.role_arn(NAMES.logs_role)
    assert error_code(lambda: logs.put_destination(destinationName="d", targetArn=stream.replace(
        NAMES.stream, "nope"), roleArn=ours)) == "InvalidParameterException", "a stream that does not exist"


# --- Gaps: account-level subscription filter policies --------------------------------------------


def test_account_policy_round_trip_and_aws_rules(aws, access, archive, call_log):
    account = "777777777777"
    logs = client(aws, "logs", account)
    target = source(archive, account)
    spec = SPEC.model_copy(update={"method": "AccountPolicy"})
    with without_gaps():
        with pytest.raises(ClientError):
            logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")
    new_group(aws, NAMES.log_group + "-lookalike", account)  # under Vigil's own prefix: excluded by name
    excluded = [g.name for p in excluded_prefixes(spec) for g in aws_logs.find_log_groups(access, account, REGION, p)]
    assert excluded == [NAMES.log_group + "-lookalike"]
    observed = aws_logs.observe_subscription_policies(access, account, REGION)
    assert converge(access, plan_account_policy(spec, target, NAMES, observed, excluded)) == 1
    call_log.reset()
    observed = aws_logs.observe_subscription_policies(access, account, REGION)
    assert plan_account_policy(spec, target, NAMES, observed, excluded) == []
    assert [c.operation for c in call_log.calls()] == ["DescribeAccountPolicies"]
    [view] = logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"]
    assert view["selectionCriteria"] == f'LogGroupName NOT IN ["{NAMES.log_group}-lookalike"]'
    assert (view["scope"], view["accountId"]) == ("ALL", account)

    document = json.dumps({"DestinationArn": target.destination_arn, "FilterPattern": ""})
    assert error_code(lambda: logs.put_account_policy(
        policyName="someone-else", policyDocument=document, policyType="SUBSCRIPTION_FILTER_POLICY")) == (
        "LimitExceededException"), "one subscription filter policy per account and region"
    assert error_code(lambda: logs.put_account_policy(
        policyName=NAMES.account_policy, policyDocument=document, policyType="SUBSCRIPTION_FILTER_POLICY",
        selectionCriteria='LogGroupName LIKE "/aws/%"')) == "InvalidParameterException"
    too_many = json.dumps([f"/g/{n}" for n in range(51)])
    assert error_code(lambda: logs.put_account_policy(
        policyName=NAMES.account_policy, policyDocument=document, policyType="SUBSCRIPTION_FILTER_POLICY",
        selectionCriteria=f"LogGroupName NOT IN {too_many}")) == "InvalidParameterException"
    elsewhere = json.dumps({"DestinationArn": archive.destination_arn(REGION).replace(NAMES.destination, "x")})
    assert error_code(lambda: logs.put_account_policy(
        policyName=NAMES.account_policy, policyDocument=elsewhere, policyType="SUBSCRIPTION_FILTER_POLICY")) == (
        "ResourceNotFoundException")
    logs.delete_account_policy(policyName=NAMES.account_policy, policyType="SUBSCRIPTION_FILTER_POLICY")
    assert logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"] == []
    assert error_code(lambda: logs.delete_account_policy(
        policyName=NAMES.account_policy, policyType="SUBSCRIPTION_FILTER_POLICY")) == "ResourceNotFoundException"


# --- Gaps: Firehose's S3 destination -------------------------------------------------------------


def s3_configuration(archive: Archive, **changes) -> dict:
    configuration = {"RoleARN": archive.role_arn(NAMES.firehose_role), "BucketARN": f"arn:aws:s3:::{BUCKET}",
                     "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": archive.kms_key_arn}}}
    return {**configuration, **changes}


def test_a_stream_needs_a_role_firehose_can_assume_and_a_key_of_the_bucket_region(aws, archive):
    firehose = client(aws, "firehose", ARCHIVE_ACCOUNT)
    nobody = f"arn:aws:iam::{ARCHIVE_ACCOUNT}:role/vigil-tests-nobody"
    with without_gaps():
        firehose.create_delivery_stream(DeliveryStreamName="vigil-tests-moto",
                                        ExtendedS3DestinationConfiguration=s3_configuration(archive, RoleARN=nobody))

    def create(**changes) -> str:
        return error_code(lambda: firehose.create_delivery_stream(
            DeliveryStreamName="vigil-tests-refused", ExtendedS3DestinationConfiguration=s3_configuration(
                archive, **changes)))

    other_key = client(aws, "kms", ARCHIVE_ACCOUNT, OTHER_REGION).create_key()["KeyMetadata"]["Arn"]
    missing_key = archive.kms_key_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    assert create(RoleARN=nobody) == "InvalidArgumentException"
    assert create(RoleARN=archive.role_arn(NAMES.logs_role)) == "InvalidArgumentException", "trusts logs, not firehose"
    assert create(BucketARN="arn:aws:s3:::vigil-tests-no-such-bucket") == "InvalidArgumentException"
    assert create(EncryptionConfiguration={"KMSEncryptionConfig": {"AWSKMSKeyARN": other_key}}) == (
        "InvalidArgumentException")
    assert create(EncryptionConfiguration={"KMSEncryptionConfig": {"AWSKMSKeyARN": missing_key}}) == (
        "InvalidKMSResourceException")
    assert create(CloudWatchLoggingOptions={"Enabled": True}) == "InvalidArgumentException"
    stream = firehose.describe_delivery_stream(DeliveryStreamName=NAMES.stream)["DeliveryStreamDescription"]
    assert error_code(lambda: firehose.update_destination(
        DeliveryStreamName=NAMES.stream, CurrentDeliveryStreamVersionId=stream["VersionId"],
        DestinationId=stream["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"EncryptionConfiguration": {"KMSEncryptionConfig": {
            "AWSKMSKeyARN": missing_key}}})) == "InvalidKMSResourceException"


# --- delivery.type Kinesis: CloudWatch Logs -> Kinesis Data Streams -> Firehose -> S3 -------------

KINESIS_SPEC = SPEC.model_copy(update={"delivery": SPEC.delivery.model_copy(update={"type": "Kinesis"})})
KINESIS_NAMES = Names.of("tests", "kds")


@pytest.fixture(scope="module")
def kinesis_archive(aws, access, archive) -> Archive:
    """The Kinesis end in REGION, built by the planner's own actions as the control orders them:
    roles, the data stream (created, then encrypted), the error log, the Firehose reading the data
    stream, the destination writing to it."""
    built = Archive(ARCHIVE_ACCOUNT, REGION, BUCKET, archive.kms_key_arn, archive.organization_id,
                    Owner("tests", "LogSubscriptionPolicy", "kds"), KINESIS_NAMES)
    a = ARCHIVE_ACCOUNT
    for name, trust, inline in ((KINESIS_NAMES.firehose_role, firehose_trust_policy(built),
                                 firehose_role_policy(KINESIS_SPEC, built)),
                                (KINESIS_NAMES.logs_role, logs_trust_policy(built),
                                 logs_role_policy(built, KINESIS_SPEC))):
        converge(access, plan_role(built, name, trust, inline, aws_iam.observe_role(access, a, name,
                                                                                     ROLE_POLICY_NAME)))
    observed = aws_kinesis.observe_data_stream(access, a, REGION, KINESIS_NAMES.data_stream)
    assert [x.operation for x in plan_data_stream(built, REGION, observed)] == ["CreateStream"]
    converge(access, plan_data_stream(built, REGION, observed))
    observed = aws_kinesis.observe_data_stream(access, a, REGION, KINESIS_NAMES.data_stream)
    assert (observed.status, observed.mode, observed.encryption_type) == ("ACTIVE", "ON_DEMAND", "NONE")
    assert not data_stream_ready(observed), "no destination writes to a stream in the clear"
    converge(access, plan_data_stream(built, REGION, observed, created=True))
    converge(access, plan_delivery_log_group(built, REGION, aws_logs.observe_log_group(access, a, REGION,
                                                                                     KINESIS_NAMES.log_group)))
    converge(access, plan_delivery_stream(KINESIS_SPEC, built, REGION, aws_firehose.observe_delivery_stream(
        access, a, REGION, KINESIS_NAMES.kinesis_stream)))
    converge(access, plan_destination(built, REGION, aws_logs.observe_destination(
        access, a, REGION, KINESIS_NAMES.destination), destination_target(KINESIS_SPEC, built, REGION)))
    return built


def test_the_kinesis_end_reads_back_in_sync_and_a_workload_group_subscribes_to_it(aws, access, kinesis_archive,
                                                                                  call_log):
    a, built = ARCHIVE_ACCOUNT, kinesis_archive
    call_log.reset()
    stream = aws_kinesis.observe_data_stream(access, a, REGION, KINESIS_NAMES.data_stream)
    firehose = aws_firehose.observe_delivery_stream(access, a, REGION, KINESIS_NAMES.kinesis_stream)
    destination = aws_logs.observe_destination(access, a, REGION, KINESIS_NAMES.destination)
    assert data_stream_ready(stream) and stream.key_id == "alias/aws/kinesis"
    assert plan_data_stream(built, REGION, stream) == []
    assert plan_delivery_stream(KINESIS_SPEC, built, REGION, firehose) == []
    assert plan_destination(built, REGION, destination, destination_target(KINESIS_SPEC, built, REGION)) == []
    assert [c.operation for c in call_log.calls()] == ["DescribeStreamSummary", "DescribeDeliveryStream",
                                                       "DescribeDestinations"]
    assert (firehose.stream_type, firehose.source_stream_arn) == ("KinesisStreamAsSource",
                                                                  built.data_stream_arn(REGION))
    assert destination.settings.target_arn == built.data_stream_arn(REGION)
    assert aws_kinesis.stream_tags(access, a, REGION, KINESIS_NAMES.data_stream) == built.owner.tags()

    group = new_group(aws, "/vigil/tests/through-kinesis")
    target = Source(WORKLOAD, REGION, built.destination_arn(REGION))
    filters = aws_logs.observe_subscription_filters(access, WORKLOAD, REGION, group)
    assert converge(access, plan_log_group(KINESIS_SPEC, target, KINESIS_NAMES, group, filters)) == 1
    [view] = client(aws, "logs", WORKLOAD).describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert view["destinationArn"] == built.destination_arn(REGION)

    # The Firehose of the other type, under the name of this one, is reported, never rewritten.
    with pytest.raises(CoverageError) as mismatch:
        plan_delivery_stream(SPEC, built, REGION, firehose)
    assert mismatch.value.reason == "DeliveryStreamMismatch"


def test_a_data_stream_is_created_with_its_tags_and_encrypted_only_with_a_key_there_is(aws):
    kinesis = client(aws, "kinesis", ARCHIVE_ACCOUNT)
    tags = {"vigil.dev/owner": "tests/LogSubscriptionPolicy/tagged"}
    with without_gaps():
        kinesis.create_stream(StreamName="vigil-tests-moto", StreamModeDetails={"StreamMode": "ON_DEMAND"}, Tags=tags)
        assert kinesis.list_tags_for_stream(StreamName="vigil-tests-moto")["Tags"] == [], "moto drops them"
        kinesis.start_stream_encryption(StreamName="vigil-tests-moto", EncryptionType="KMS", KeyId="alias/nothing")
    kinesis.create_stream(StreamName="vigil-tests-tagged", StreamModeDetails={"StreamMode": "ON_DEMAND"}, Tags=tags)
    assert kinesis.list_tags_for_stream(StreamName="vigil-tests-tagged")["Tags"] == [
        {"Key": "vigil.dev/owner", "Value": "tests/LogSubscriptionPolicy/tagged"}]
    assert error_code(lambda: kinesis.create_stream(StreamName="vigil-tests-no-shards")) == (
        "InvalidArgumentException"), "a provisioned stream needs its shards"

    def encrypt(key: str) -> str:
        return error_code(lambda: kinesis.start_stream_encryption(StreamName="vigil-tests-tagged",
                                                                  EncryptionType="KMS", KeyId=key))

    assert encrypt("alias/nothing") == "KMSNotFoundException"
    assert encrypt("alias/aws/s3") == "KMSNotFoundException", "another service's managed key"
    assert encrypt(f"arn:aws:kms:{REGION}:{ARCHIVE_ACCOUNT}:key/00000000-0000-0000-0000-000000000000") == (
        "KMSNotFoundException")
    kms = client(aws, "kms", ARCHIVE_ACCOUNT)
    disabled = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)
    assert encrypt(disabled) == "KMSDisabledException"
    own = kms.create_key()["KeyMetadata"]["Arn"]
    kinesis.start_stream_encryption(StreamName="vigil-tests-tagged", EncryptionType="KMS", KeyId=own)
    kinesis.start_stream_encryption(StreamName="vigil-tests-tagged", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    summary = kinesis.describe_stream_summary(StreamName="vigil-tests-tagged")["StreamDescriptionSummary"]
    assert (summary["EncryptionType"], summary["KeyId"]) == ("KMS", "alias/aws/kinesis")


def test_a_firehose_reads_only_a_data_stream_there_is_through_a_role_that_may(aws, kinesis_archive):
    firehose = client(aws, "firehose", ARCHIVE_ACCOUNT)
    built = kinesis_archive
    reader = built.role_arn(KINESIS_NAMES.firehose_role)
    missing = built.data_stream_arn(REGION).replace(KINESIS_NAMES.data_stream, "nothing")

    def create(name: str, source_arn: str, role: str) -> None:
        firehose.create_delivery_stream(
            DeliveryStreamName=name, DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": source_arn, "RoleARN": role},
            ExtendedS3DestinationConfiguration=s3_configuration(built, RoleARN=reader))

    with without_gaps():
        create("vigil-tests-moto-kds", missing, reader)
    assert error_code(lambda: create("vigil-tests-kds", missing, reader)) == "ResourceNotFoundException"
    assert error_code(lambda: create("vigil-tests-kds", built.data_stream_arn(OTHER_REGION), reader)) == (
        "InvalidArgumentException"), "a data stream of another region"
    plain_reader = built.role_arn(NAMES.firehose_role)  # the Firehose type's role: no kinesis:GetRecords
    assert error_code(lambda: create("vigil-tests-kds", built.data_stream_arn(REGION), plain_reader)) == (
        "InvalidArgumentException")

