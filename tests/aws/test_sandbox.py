"""The AWS sandbox itself: the seeded organization, acting in member accounts, the call recorder,
and `python -m vigil_sandbox` as a process of its own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from vigil_sandbox.awsserver import CallLog, SeenOperation, is_write, operation_for
from vigil_sandbox.seed import ACCESS_ROLE, FULL_SLOTS_FILTERS, FULL_SLOTS_LOG_GROUP, workload_account_ids

TRUST_MANAGEMENT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def test_seeded_accounts_have_the_fixed_ids(aws, organization):
    accounts = aws.client("organizations").list_accounts()["Accounts"]

    assert {account["Id"]: account["Name"] for account in accounts} == {
        "123456789012": "master",
        "222222222222": "log-archive",
        "333333333333": "security",
        "444444444444": "shared-network",
        "555555555555": "workload-1",
        "666666666666": "workload-2",
        "777777777777": "workload-3",
    }
    described = aws.client("organizations").describe_organization()["Organization"]
    assert (described["Id"], described["MasterAccountId"], described["FeatureSet"]) == (
        "o-vigilsandbox",
        "123456789012",
        "ALL",
    )
    assert organization.workloads == ("555555555555", "666666666666", "777777777777")


def test_workload_ids_continue_past_nine_with_a_counter():
    assert workload_account_ids(7)[4:] == ["999999999999", "100000000001", "100000000002"]


def test_accounts_sit_in_their_organizational_units(aws, organization):
    organizations = aws.client("organizations")
    members = {
        name: {a["Id"] for a in organizations.list_accounts_for_parent(ParentId=ou)["Accounts"]}
        for name, ou in organization.organizational_units.items()
    }

    assert members == {
        "Security": {"222222222222", "333333333333"},
        "Infrastructure": {"444444444444"},
        "Workloads": {"555555555555", "666666666666", "777777777777"},
    }
    assert organization.organizational_units["Workloads"] == "ou-vigl-workloads"


def test_assumed_role_acts_in_the_member_account(aws, organization, call_log):
    identity = aws.client("sts", organization.shared_network).get_caller_identity()
    aws.client("s3", organization.shared_network).create_bucket(
        Bucket="vigil-test-network-bucket", CreateBucketConfiguration={"LocationConstraint": "ca-central-1"}
    )

    assert identity["Arn"] == f"arn:aws:sts::444444444444:assumed-role/{ACCESS_ROLE}/vigil-tests"
    member_buckets = aws.client("s3", organization.shared_network).list_buckets()["Buckets"]
    management_buckets = aws.client("s3").list_buckets()["Buckets"]
    assert "vigil-test-network-bucket" in {b["Name"] for b in member_buckets}
    assert "vigil-test-network-bucket" not in {b["Name"] for b in management_buckets}
    assert ("444444444444", "CreateBucket") in {(c.account, c.operation) for c in call_log.calls()}


def test_one_shared_network_log_group_has_both_subscription_filter_slots_taken(aws, organization):
    logs = aws.client("logs", organization.shared_network, "ca-central-1")
    filters = logs.describe_subscription_filters(logGroupName=FULL_SLOTS_LOG_GROUP)["subscriptionFilters"]
    assert tuple(f["filterName"] for f in filters) == FULL_SLOTS_FILTERS


@pytest.mark.parametrize("region", ["ca-central-1", "us-east-1"])
def test_network_accounts_have_tagged_vpcs_and_log_groups(aws, organization, region):
    for account in (organization.shared_network, organization.workloads[-1]):
        ec2 = aws.client("ec2", account, region)
        seeded = ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": ["Name"]}])["Vpcs"]
        prod = ec2.describe_vpcs(Filters=[{"Name": "tag:env", "Values": ["prod"]}])["Vpcs"]
        groups = aws.client("logs", account, region).describe_log_groups()["logGroups"]

        assert len(seeded) == 3
        assert len(prod) == 1
        full = {FULL_SLOTS_LOG_GROUP} if (account, region) == (organization.shared_network, "ca-central-1") else set()
        assert {g["logGroupName"] for g in groups} == {"/aws/lambda/orders-api", "/app/web", "/app/worker", *full}


def test_no_vpcs_are_seeded_outside_network_accounts(aws, organization):
    ec2 = aws.client("ec2", organization.log_archive)
    assert ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": ["Name"]}])["Vpcs"] == []


def test_deleting_the_access_role_makes_the_account_unreachable(aws, organization):
    account = organization.workloads[-1]
    iam = aws.client("iam", account)
    # A second way in, to put the access role back afterwards through the API.
    iam.create_role(RoleName="BreakGlass", AssumeRolePolicyDocument=TRUST_MANAGEMENT)
    for policy in iam.list_attached_role_policies(RoleName=ACCESS_ROLE)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=ACCESS_ROLE, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=ACCESS_ROLE)
    sts = aws.client("sts")
    try:
        with pytest.raises(ClientError) as denied:
            sts.assume_role(RoleArn=organization.role_arn(account), RoleSessionName="after-delete")

        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        keys = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/BreakGlass", RoleSessionName="restore")
        restore = boto3.client(
            "iam",
            aws_access_key_id=keys["Credentials"]["AccessKeyId"],
            aws_secret_access_key=keys["Credentials"]["SecretAccessKey"],
            aws_session_token=keys["Credentials"]["SessionToken"],
        )
        restore.create_role(RoleName=ACCESS_ROLE, AssumeRolePolicyDocument=TRUST_MANAGEMENT)
        restore.delete_role(RoleName="BreakGlass")
    assert sts.assume_role(RoleArn=organization.role_arn(account), RoleSessionName="restored")


def test_recorder_names_each_s3_subresource_operation(aws, organization, call_log):
    s3 = aws.client("s3", organization.log_archive)
    bucket = "vigil-test-recorder"
    key = "arn:aws:kms:ca-central-1:222222222222:key/11111111-2222-3333-4444-555555555555"
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )
    call_log.reset()  # the client's AssumeRole is not part of the story

    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": "ca-central-1"},
        ObjectLockEnabledForBucket=True,
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.get_bucket_encryption(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.get_bucket_versioning(Bucket=bucket)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.get_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    s3.get_bucket_policy(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 2555}}]
        },
    )
    s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
        },
    )
    s3.get_object_lock_configuration(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "owner", "Value": "vigil"}]})
    s3.get_bucket_tagging(Bucket=bucket)
    s3.head_bucket(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)

    calls = call_log.calls()
    assert [(c.operation, c.write) for c in calls] == [
        ("CreateBucket", True),
        ("PutBucketEncryption", True),
        ("GetBucketEncryption", False),
        ("PutBucketVersioning", True),
        ("GetBucketVersioning", False),
        ("PutPublicAccessBlock", True),
        ("GetPublicAccessBlock", False),
        ("PutBucketPolicy", True),
        ("GetBucketPolicy", False),
        ("PutBucketLifecycleConfiguration", True),
        ("GetBucketLifecycleConfiguration", False),
        ("PutObjectLockConfiguration", True),
        ("GetObjectLockConfiguration", False),
        ("PutBucketTagging", True),
        ("GetBucketTagging", False),
        ("HeadBucket", False),
        ("DeleteBucket", True),
    ]
    assert {(c.account, c.service, c.region) for c in calls} == {("222222222222", "s3", "ca-central-1")}
    assert all(200 <= c.status < 300 for c in calls)


def test_recorder_names_virtual_hosted_s3_requests():
    host = "acme-logs.s3.ca-central-1.amazonaws.com"

    assert operation_for("s3", "GET", host, "/", {"encryption": [""]}, {}) == "GetBucketEncryption"
    assert operation_for("s3", "PUT", host, "/", {"policy": [""]}, {}) == "PutBucketPolicy"
    assert operation_for("s3", "PUT", host, "/", {}, {}) == "CreateBucket"
    assert operation_for("s3", "PUT", host, "/cloudtrail/x.json", {}, {}) == "PutObject"
    assert operation_for("s3", "PUT", host, "/y", {}, {"x-amz-copy-source": "b/x"}) == "CopyObject"


def test_recorder_names_rest_operations_with_an_arn_in_the_path(aws, organization, call_log):
    """GuardDuty's TagResource puts the detector's ARN, slash included, in one URI label: it is
    matched against the path as sent (%2F), not as decoded."""
    guardduty = aws.client("guardduty", organization.security)
    detector = guardduty.list_detectors()["DetectorIds"][0]
    call_log.reset()
    guardduty.tag_resource(ResourceArn=f"arn:aws:guardduty:ca-central-1:{organization.security}:detector/{detector}",
                           Tags={"team": "recorder-test"})

    assert [c.operation for c in call_log.calls()] == ["TagResource"]


def test_recorder_names_json_and_query_operations_in_the_calling_account(aws, organization, call_log):
    security = organization.security
    aws.client("kms", security)  # assume before the record starts
    call_log.reset()

    aws.client("sts", security).get_caller_identity()
    aws.client("kms", security).list_aliases()
    aws.client("kms", security, "us-east-1").create_key(Description="recorder")
    aws.client("ec2", security).describe_vpcs()
    aws.client("sts").assume_role(RoleArn=organization.role_arn(security), RoleSessionName="recorder")

    assert [(c.account, c.service, c.operation, c.region, c.write) for c in call_log.calls()] == [
        ("333333333333", "sts", "GetCallerIdentity", "ca-central-1", False),
        ("333333333333", "kms", "ListAliases", "ca-central-1", False),
        ("333333333333", "kms", "CreateKey", "us-east-1", True),
        ("333333333333", "ec2", "DescribeVpcs", "ca-central-1", False),
        ("123456789012", "sts", "AssumeRole", "ca-central-1", False),
    ]
    assert [c.operation for c in call_log.writes()] == ["CreateKey"]


def test_call_log_reads_from_an_index_and_resets(aws, call_log):
    sts = aws.client("sts")
    sts.get_caller_identity()
    first = len(call_log.calls())
    aws.client("iam").list_roles()

    assert [c.operation for c in call_log.calls(since=first)] == ["ListRoles"]
    call_log.reset()
    assert call_log.calls() == []


def test_call_log_tells_vigils_calls_and_keeps_what_was_seen_through_resets(aws, organization, call_log):
    """Vigil's clients name vigil/ in their User-Agent (vigil.aws.session); a test's do not."""
    call_log.reset()
    aws.client("iam").list_roles()
    aws.client("iam", config=Config(user_agent_extra="vigil/0.1.0")).list_account_aliases()

    assert [(c.operation, c.by_vigil) for c in call_log.calls()] == [("ListRoles", False),
                                                                       ("ListAccountAliases", True)]
    call_log.reset()
    assert SeenOperation(organization.management, "iam", "ListAccountAliases", True) in call_log.seen()
    assert SeenOperation(organization.management, "iam", "ListRoles", False) in call_log.seen()


@pytest.mark.parametrize(
    ("operation", "write"),
    [
        ("CreateTrail", True),
        ("DeleteBucket", True),
        ("DescribeTrails", False),
        ("GetBucketPolicy", False),
        ("ListAccounts", False),
        ("HeadBucket", False),
        ("LookupEvents", False),
        ("BatchGetItem", False),
        ("AssumeRole", False),
        ("Unknown", True),
    ],
)
def test_reads_and_authentication_are_not_writes(operation, write):
    assert is_write(operation) is write


def test_sandbox_runs_as_a_process_until_sigterm(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "vigil_sandbox", "--port", "0", "--workloads", "1", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = json.loads(process.stdout.readline())
        sts = boto3.client(
            "sts",
            endpoint_url=started["endpoint"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="ca-central-1",
        )
        member = sts.assume_role(RoleArn=f"arn:aws:iam::555555555555:role/{ACCESS_ROLE}", RoleSessionName="probe")

        assert started["workloads"] == ["555555555555"]
        assert member["AssumedRoleUser"]["Arn"].startswith("arn:aws:sts::555555555555:")
        assert [c.operation for c in CallLog(started["endpoint"]).calls()] == ["AssumeRole"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
