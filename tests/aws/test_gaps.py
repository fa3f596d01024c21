"""The gaps the sandbox fills in moto (vigil_sandbox.gaps): for each, what plain moto answers
(under without_gaps()) and what the sandbox answers instead, as AWS does; and that gap requests
and answers are held to botocore's shapes."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from vigil_sandbox.gaps import (
    GAPS,
    AwsError,
    SandboxContractError,
    check_request,
    check_response,
    register_public_key,
    without_gaps,
)

HOME = "ca-central-1"
TRAIL_BUCKET = "vigil-test-trail-logs"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
MANAGEMENT_EVENTS_ADVANCED = [
    {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
]


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def service_policy(service: str, *actions: str, resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions), "Resource": resource}
            ],
        }
    )


@pytest.fixture(scope="module")
def trail_destination(aws, organization):
    """The log-archive bucket and key an organization trail writes to, in the log-archive account."""
    s3 = aws.client("s3", organization.log_archive)
    s3.create_bucket(Bucket=TRAIL_BUCKET, CreateBucketConfiguration={"LocationConstraint": HOME})
    s3.put_bucket_policy(
        Bucket=TRAIL_BUCKET,
        Policy=service_policy("cloudtrail.amazonaws.com", "s3:GetBucketAcl", "s3:PutObject"),
    )
    key = aws.client("kms", organization.log_archive).create_key(
        Policy=service_policy("cloudtrail.amazonaws.com", "kms:GenerateDataKey*", "kms:DescribeKey")
    )
    aws.client("organizations").enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    return {"bucket": TRAIL_BUCKET, "key_arn": key["KeyMetadata"]["Arn"]}


@pytest.fixture
def trail(aws, trail_destination, request):
    """An organization trail in the management account, deleted afterwards."""
    name = "vigil-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:80]
    cloudtrail = aws.client("cloudtrail")
    created = cloudtrail.create_trail(
        Name=name,
        S3BucketName=trail_destination["bucket"],
        IsOrganizationTrail=True,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=trail_destination["key_arn"],
    )
    yield created
    cloudtrail.delete_trail(Name=created["TrailARN"])


# --- STS --------------------------------------------------------------------------------------


def test_assume_role_needs_the_role_to_exist(aws, organization):
    missing_role = f"arn:aws:iam::{organization.security}:role/DoesNotExist"
    sts = aws.client("sts")
    with without_gaps():
        assert sts.assume_role(RoleArn=missing_role, RoleSessionName="plain-moto")["Credentials"]

    assert error_code(lambda: sts.assume_role(RoleArn=missing_role, RoleSessionName="sandbox")) == "AccessDenied"


def test_assume_role_needs_the_trust_policy_to_allow_the_caller(aws, organization):
    # Member roles trust the management account only, as AWS Organizations creates them.
    from_log_archive = aws.client("sts", organization.log_archive)
    security_role = organization.role_arn(organization.security)

    assert error_code(lambda: from_log_archive.assume_role(RoleArn=security_role, RoleSessionName="x-account")) == (
        "AccessDenied"
    )


# --- Organizations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("list_accounts", {}),
        ("list_roots", {}),
        ("list_organizational_units_for_parent", {"ParentId": "r-vigl"}),
        ("list_accounts_for_parent", {"ParentId": "r-vigl"}),
        ("list_delegated_administrators", {}),
    ],
)
def test_organization_reads_are_for_the_management_account(aws, organization, method, kwargs):
    member = aws.client("organizations", organization.workloads[0])
    call = partial(getattr(member, method), **kwargs)
    with without_gaps():
        try:
            call()
        except ClientError as plain_moto_error:
            assert plain_moto_error.response["Error"]["Code"] != "AccessDeniedException"

    assert error_code(call) == "AccessDeniedException"
    assert getattr(aws.client("organizations"), method)(**kwargs)


def test_delegated_administrators_filter_by_any_trusted_service(aws, organization):
    organizations = aws.client("organizations")
    organizations.register_delegated_administrator(
        AccountId=organization.security, ServicePrincipal="guardduty.amazonaws.com"
    )
    try:
        with without_gaps():
            assert error_code(
                lambda: organizations.list_delegated_administrators(ServicePrincipal="securityhub.amazonaws.com")
            ) == "InvalidInputException"

        guardduty = organizations.list_delegated_administrators(ServicePrincipal="guardduty.amazonaws.com")
        securityhub = organizations.list_delegated_administrators(ServicePrincipal="securityhub.amazonaws.com")
        assert [a["Id"] for a in guardduty["DelegatedAdministrators"]] == [organization.security]
        assert securityhub["DelegatedAdministrators"] == []
        assert error_code(
            lambda: organizations.list_delegated_administrators(ServicePrincipal="nothing.amazonaws.com")
        ) == "InvalidInputException"
    finally:
        organizations.deregister_delegated_administrator(
            AccountId=organization.security, ServicePrincipal="guardduty.amazonaws.com"
        )


# --- KMS ------------------------------------------------------------------------------------------


def test_key_policy_name_defaults_to_default(aws, organization):
    kms = aws.client("kms", organization.log_archive)
    key_id = kms.create_key(Policy=service_policy("cloudtrail.amazonaws.com", "kms:GenerateDataKey*"))[
        "KeyMetadata"
    ]["KeyId"]
    new_policy = service_policy("delivery.logs.amazonaws.com", "kms:GenerateDataKey*")
    with without_gaps():
        assert error_code(lambda: kms.get_key_policy(KeyId=key_id)) == "NotFoundException"
        assert error_code(lambda: kms.put_key_policy(KeyId=key_id, Policy=new_policy)) == "NotFoundException"

    kms.put_key_policy(KeyId=key_id, Policy=new_policy)
    got = kms.get_key_policy(KeyId=key_id)
    assert (json.loads(got["Policy"]), got["PolicyName"]) == (json.loads(new_policy), "default")
    assert error_code(lambda: kms.get_key_policy(KeyId=key_id, PolicyName="other")) == "NotFoundException"
    assert error_code(lambda: kms.get_key_policy(KeyId="0" * 8 + "-0000-0000-0000-" + "0" * 12)) == (
        "NotFoundException"
    )


# --- S3 -------------------------------------------------------------------------------------------


def test_object_lock_configuration_shows_only_the_period_set(aws, organization):
    s3 = aws.client("s3", organization.log_archive)
    s3.create_bucket(
        Bucket="vigil-test-object-lock",
        CreateBucketConfiguration={"LocationConstraint": HOME},
        ObjectLockEnabledForBucket=True,
    )
    s3.put_object_lock_configuration(
        Bucket="vigil-test-object-lock",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
        },
    )
    with without_gaps():
        plain = s3.get_object_lock_configuration(Bucket="vigil-test-object-lock")
        assert plain["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Years"] == 0

    answered = s3.get_object_lock_configuration(Bucket="vigil-test-object-lock")
    assert answered["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
    }


def test_object_lock_turns_on_for_an_existing_versioned_bucket_holding_objects(aws, organization):
    """S3 turns Object Lock on for an existing bucket once versioning is Enabled, objects and all;
    moto refused any bucket holding an object, even to change the default retention."""
    s3, bucket = aws.client("s3", organization.log_archive, config=NO_RETRIES), "vigil-test-lock-later"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": HOME})
    s3.put_object(Bucket=bucket, Key="AWSLogs/old.json.gz", Body=b"kept")
    lock = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}}
    assert error_code(lambda: s3.get_object_lock_configuration(Bucket=bucket)) == (
        "ObjectLockConfigurationNotFoundError")
    assert error_code(lambda: s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock)) == (
        "InvalidBucketState"), "versioning first"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    with without_gaps():
        assert error_code(lambda: s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock)) == (
            "InvalidBucket")

    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock)
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == lock
    longer = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}}
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=longer)  # the rule changes, objects or not
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == longer
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


# --- CloudTrail -----------------------------------------------------------------------------------


def test_organization_trail_writes_to_a_bucket_in_another_account(aws, organization, trail):
    got = aws.client("cloudtrail").get_trail(Name=trail["Name"])["Trail"]

    assert got["S3BucketName"] == TRAIL_BUCKET
    assert got["TrailARN"].startswith(f"arn:aws:cloudtrail:{HOME}:{organization.management}:trail/")
    assert (got["IsOrganizationTrail"], got["IsMultiRegionTrail"], got["LogFileValidationEnabled"]) == (
        True,
        True,
        True,
    )
    assert got["KmsKeyId"].startswith(f"arn:aws:kms:{HOME}:{organization.log_archive}:key/")
    assert got["HomeRegion"] == HOME


def test_create_trail_refuses_an_existing_name(aws, trail, trail_destination):
    cloudtrail = aws.client("cloudtrail")
    again = partial(cloudtrail.create_trail, Name=trail["Name"], S3BucketName=trail_destination["bucket"])

    assert error_code(again) == "TrailAlreadyExistsException"
    # A multi-region trail's name is taken in every region.
    assert error_code(
        lambda: aws.client("cloudtrail", region="us-east-1").create_trail(
            Name=trail["Name"], S3BucketName=trail_destination["bucket"]
        )
    ) == "TrailAlreadyExistsException"
    with without_gaps():
        again()  # plain moto replaces the trail, losing its settings
    assert cloudtrail.get_trail(Name=trail["Name"])["Trail"]["IsOrganizationTrail"] is False


def test_organization_trail_needs_the_management_account_and_trusted_access(aws, organization, trail_destination):
    def create(client):
        return lambda: client.create_trail(
            Name="vigil-test-org-checks", S3BucketName=trail_destination["bucket"], IsOrganizationTrail=True
        )

    organizations = aws.client("organizations")
    organizations.disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    try:
        assert error_code(create(aws.client("cloudtrail"))) == "CloudTrailAccessNotEnabledException"
    finally:
        organizations.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    member = aws.client("cloudtrail", organization.security)
    assert error_code(create(member)) == "NotOrganizationMasterAccountException"
    with without_gaps():
        create(member)()
        member.delete_trail(Name="vigil-test-org-checks")


def test_trail_bucket_policy_must_allow_cloudtrail(aws, organization):
    s3 = aws.client("s3", organization.log_archive)
    s3.create_bucket(Bucket="vigil-test-no-policy", CreateBucketConfiguration={"LocationConstraint": HOME})
    cloudtrail = aws.client("cloudtrail")
    create = partial(cloudtrail.create_trail, Name="vigil-test-no-policy", S3BucketName="vigil-test-no-policy")

    assert error_code(create) == "InsufficientS3BucketPolicyException"
    s3.put_bucket_policy(
        Bucket="vigil-test-no-policy",
        Policy=service_policy("cloudtrail.amazonaws.com", "s3:GetBucketAcl", "s3:PutObject"),
    )
    create()
    cloudtrail.delete_trail(Name="vigil-test-no-policy")


def test_trail_key_must_exist_and_allow_cloudtrail(aws, organization, trail, trail_destination):
    kms = aws.client("kms", organization.log_archive)
    closed_key = kms.create_key(Policy=service_policy("logs.amazonaws.com", "kms:*"))["KeyMetadata"]["Arn"]
    cloudtrail = aws.client("cloudtrail")
    missing_key = f"arn:aws:kms:{HOME}:{organization.log_archive}:key/00000000-0000-0000-0000-000000000000"

    assert error_code(lambda: cloudtrail.update_trail(Name=trail["Name"], KmsKeyId=closed_key)) == (
        "InsufficientEncryptionPolicyException"
    )
    assert error_code(lambda: cloudtrail.update_trail(Name=trail["Name"], KmsKeyId=missing_key)) == (
        "KmsKeyNotFoundException"
    )
    with without_gaps():
        cloudtrail.update_trail(Name=trail["Name"], KmsKeyId=missing_key)
    cloudtrail.update_trail(Name=trail["Name"], KmsKeyId=trail_destination["key_arn"])


def test_trail_log_delivery_needs_an_existing_group_and_role(aws, organization, trail):
    cloudtrail = aws.client("cloudtrail")
    group_arn = f"arn:aws:logs:{HOME}:{organization.management}:log-group:/vigil/cloudtrail:*"
    role_arn = f"arn:aws:iam::{organization.management}:role/vigil-cloudtrail-logs"
    update = partial(
        cloudtrail.update_trail,
        Name=trail["Name"],
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=role_arn,
    )

    assert error_code(update) == "InvalidCloudWatchLogsLogGroupArnException"
    aws.client("logs").create_log_group(logGroupName="/vigil/cloudtrail")
    assert error_code(update) == "InvalidCloudWatchLogsRoleArnException"
    aws.client("iam").create_role(
        RoleName="vigil-cloudtrail-logs",
        AssumeRolePolicyDocument=service_policy("cloudtrail.amazonaws.com", "sts:AssumeRole"),
    )
    assert update()["CloudWatchLogsLogGroupArn"] == group_arn


def test_describe_trails_selects_by_name_or_arn(aws, trail, trail_destination):
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(Name="vigil-test-other-trail", S3BucketName=trail_destination["bucket"])
    try:
        with without_gaps():
            plain = cloudtrail.describe_trails(trailNameList=[trail["Name"]])["trailList"]
            assert len(plain) > 1

        by_name = cloudtrail.describe_trails(trailNameList=[trail["Name"]])["trailList"]
        by_arn_elsewhere = aws.client("cloudtrail", region="us-east-1").describe_trails(
            trailNameList=[trail["TrailARN"]]
        )["trailList"]
        by_name_elsewhere = aws.client("cloudtrail", region="us-east-1").describe_trails(
            trailNameList=[trail["Name"]]
        )["trailList"]
        shadows_only = aws.client("cloudtrail", region="us-east-1").describe_trails(includeShadowTrails=False)
        assert [t["Name"] for t in by_name] == [trail["Name"]]
        assert [t["TrailARN"] for t in by_arn_elsewhere] == [trail["TrailARN"]]
        assert by_name_elsewhere == []
        assert shadows_only["trailList"] == []
    finally:
        cloudtrail.delete_trail(Name="vigil-test-other-trail")


def test_delete_trail_by_arn_and_unknown_trails(aws, trail_destination):
    cloudtrail = aws.client("cloudtrail")
    arn = cloudtrail.create_trail(Name="vigil-test-delete-me", S3BucketName=trail_destination["bucket"])["TrailARN"]
    with without_gaps():
        cloudtrail.delete_trail(Name=arn)
        assert cloudtrail.get_trail(Name=arn)  # still there

    cloudtrail.delete_trail(Name=arn)
    assert error_code(lambda: cloudtrail.get_trail(Name=arn)) == "TrailNotFoundException"
    assert error_code(lambda: cloudtrail.delete_trail(Name=arn)) == "TrailNotFoundException"


def test_event_selectors_default_and_replace_each_other(aws, trail):
    cloudtrail = aws.client("cloudtrail")
    name = trail["Name"]
    default = {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [],
        "ExcludeManagementEventSources": [],
    }
    advanced = MANAGEMENT_EVENTS_ADVANCED
    with without_gaps():
        assert cloudtrail.get_event_selectors(TrailName=name)["EventSelectors"] == []

    fresh = cloudtrail.get_event_selectors(TrailName=name)
    cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=advanced)
    cloudtrail.put_event_selectors(TrailName=name, EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    classic = cloudtrail.get_event_selectors(TrailName=name)

    assert fresh["EventSelectors"] == [default] and "AdvancedEventSelectors" not in fresh
    assert classic["EventSelectors"] == [{**default, "ReadWriteType": "WriteOnly"}]
    assert "AdvancedEventSelectors" not in classic
    assert cloudtrail.get_trail(Name=name)["Trail"]["HasCustomEventSelectors"] is True
    assert error_code(
        lambda: cloudtrail.put_event_selectors(
            TrailName=name, EventSelectors=[default], AdvancedEventSelectors=advanced
        )
    ) == "InvalidParameterCombinationException"


def test_put_event_selectors_in_plain_moto_keeps_both_kinds(aws, trail):
    cloudtrail = aws.client("cloudtrail")
    advanced = MANAGEMENT_EVENTS_ADVANCED
    with without_gaps():
        cloudtrail.put_event_selectors(TrailName=trail["Name"], AdvancedEventSelectors=advanced)
        cloudtrail.put_event_selectors(TrailName=trail["Name"], EventSelectors=[{"ReadWriteType": "All"}])
        both = cloudtrail.get_event_selectors(TrailName=trail["Name"])
        assert both["EventSelectors"] and both["AdvancedEventSelectors"]
        assert cloudtrail.get_trail(Name=trail["Name"])["Trail"]["HasCustomEventSelectors"] is False


def test_list_public_keys_returns_the_registered_keys_valid_in_the_range(aws):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    month = timedelta(days=30)
    old = register_public_key("ca-central-1", b"\x30\x82old-key", now - 2 * month, now - month)
    current = register_public_key("ca-central-1", b"\x30\x82current-key", now - month, now + month)
    cloudtrail = aws.client("cloudtrail", config=NO_RETRIES)
    with without_gaps():
        assert error_code(cloudtrail.list_public_keys) == "500"

    def registered_here(keys: list[dict]) -> list[dict]:
        # Only this test's keys: the sandbox's own signing key and keys other tests of this
        # process registered (a rotation, in test_integrity_verification) are listed too.
        return [k for k in keys if k["Fingerprint"] in (old.fingerprint, current.fingerprint)]

    latest = registered_here(cloudtrail.list_public_keys()["PublicKeyList"])
    recent = registered_here(cloudtrail.list_public_keys(StartTime=now - timedelta(days=45),
                                                         EndTime=now)["PublicKeyList"])
    assert [(k["Value"], k["Fingerprint"]) for k in latest] == [(current.value, current.fingerprint)]
    assert [k["Fingerprint"] for k in recent] == [old.fingerprint, current.fingerprint]
    assert recent[1]["ValidityEndTime"] == now + timedelta(days=30)
    assert registered_here(aws.client("cloudtrail", region="us-east-1").list_public_keys()["PublicKeyList"]) == []
    assert error_code(
        lambda: cloudtrail.list_public_keys(StartTime=now, EndTime=now - timedelta(days=1))
    ) == "InvalidTimeRangeException"


# --- The contract with botocore's shapes --------------------------------------------------------


def test_a_request_outside_the_input_shape_is_refused(sandbox):
    body = json.dumps({"StartTime": 1, "Unexpected": True}).encode()
    request = AWSRequest(
        method="POST",
        url=sandbox.endpoint + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys",
        },
    )
    SigV4Auth(Credentials("testing", "testing"), "cloudtrail", HOME).add_auth(request)
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        no_proxy.open(urllib.request.Request(request.url, data=body, headers=dict(request.headers), method="POST"))

    answer = json.loads(refused.value.read())
    assert refused.value.code == 400
    assert answer["__type"] == "ValidationException"
    assert "Unexpected" in answer["Message"], answer


def test_gap_answers_are_held_to_the_output_shape():
    list_public_keys = next(gap for gap in GAPS if gap.operation == "ListPublicKeys")

    check_response(list_public_keys, {"PublicKeyList": []})
    with pytest.raises(SandboxContractError, match="Fingerprint"):
        check_response(list_public_keys, {"PublicKeyList": [{"Fingerprint": 42}]})
    with pytest.raises(AwsError, match="ValidationException"):
        check_request(list_public_keys, {"StartTime": "not a time"})


def test_the_docs_list_every_gap():
    docs = (Path(__file__).parents[2] / "docs" / "testing.md").read_text()
    gaps_section = docs.split("### Gaps filled", 1)[1].split("\n#", 1)[0]
    documented = set(re.findall(r"^\| (\w+) \| (\w+) \|", gaps_section, flags=re.MULTILINE))

    assert documented - {("Service", "Operation")} == {(gap.service, gap.operation) for gap in GAPS}
