"""Who a bucket answers (vigil_sandbox.gaps.s3, the bucket-access patch): moto resolves a bucket
name in any account and serves it to every caller, whatever ExpectedBucketOwner says. AWS answers
AccessDenied (403) when the expected owner is not the owner, keeps a bucket's configuration to
its owner's account, and lets another account read or write objects only as the bucket policy
grants. Each shown against plain moto (without_gaps()) first. Bucket names are global, which
moto already gets right."""

from __future__ import annotations

import json
from contextlib import nullcontext

import pytest
from botocore.exceptions import ClientError

from vigil_sandbox.gaps import without_gaps
from vigil_sandbox.gaps.s3 import owner_only

HOME = "ca-central-1"
BUCKET = "vigil-test-owned-by-workload"
SOURCE = "vigil-test-copy-source"
KEY = "report.json"


def status(call) -> int:
    try:
        return call()["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def workload(organization) -> str:
    return organization.workloads[0]


@pytest.fixture(scope="module")
def owner_s3(aws, workload):
    """The workload account's client, and its bucket with one object and versioning on."""
    s3 = aws.client("s3", workload)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": HOME})
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"{}")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return s3


@pytest.fixture(scope="module")
def archive_s3(aws, organization):
    return aws.client("s3", organization.log_archive)


@pytest.fixture
def policy(owner_s3):
    """Set the bucket's policy for a test; none afterwards."""
    def put(*statements: dict) -> None:
        owner_s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17",
                                                                     "Statement": list(statements)}))
    yield put
    owner_s3.delete_bucket_policy(Bucket=BUCKET)


def grant(account: str, *actions: str) -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": list(actions),
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}


def test_a_caller_expecting_another_owner_is_refused(owner_s3, archive_s3, organization, workload):
    """The log-archive account names the workload's bucket expecting to own it (a bucket of that
    name it thought was its archive): AWS refuses, whatever the operation."""
    expected = {"Bucket": BUCKET, "ExpectedBucketOwner": organization.log_archive}
    with without_gaps():
        assert status(lambda: archive_s3.get_bucket_versioning(**expected)) == 200
        assert status(lambda: archive_s3.put_object(**expected, Key="planted", Body=b"x")) == 200
        owner_s3.delete_object(Bucket=BUCKET, Key="planted")

    for call in (lambda: archive_s3.head_bucket(**expected),
                 lambda: archive_s3.get_bucket_versioning(**expected),
                 lambda: archive_s3.put_bucket_versioning(**expected, VersioningConfiguration={"Status": "Suspended"}),
                 lambda: archive_s3.list_objects_v2(**expected),
                 lambda: archive_s3.get_object(**expected, Key=KEY),
                 lambda: archive_s3.head_object(**expected, Key=KEY),
                 lambda: archive_s3.put_object(**expected, Key="planted", Body=b"x"),
                 # the owner itself, naming the wrong owner
                 lambda: owner_s3.get_bucket_encryption(**expected),
                 lambda: owner_s3.get_object(**expected, Key=KEY)):
        assert status(call) == 403
    assert error_code(lambda: archive_s3.put_object(**expected, Key="planted", Body=b"x")) == "AccessDenied"
    assert "planted" not in {o["Key"] for o in owner_s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert owner_s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"


def test_the_owner_expecting_itself_is_served(owner_s3, workload):
    mine = {"Bucket": BUCKET, "ExpectedBucketOwner": workload}
    assert status(lambda: owner_s3.head_bucket(**mine)) == 200
    assert owner_s3.get_object(**mine, Key=KEY)["Body"].read() == b"{}"
    owner_s3.put_bucket_tagging(**mine, Tagging={"TagSet": [{"Key": "team", "Value": "orders"}]})
    assert owner_s3.get_bucket_tagging(**mine)["TagSet"] == [{"Key": "team", "Value": "orders"}]
    assert owner_s3.get_bucket_versioning(**mine)["Status"] == "Enabled"


CONFIGURATION_CALLS = {
    "PutBucketPolicy": lambda s3: s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [grant("222222222222", "s3:*")]})),
    "PutBucketEncryption": lambda s3: s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
    "PutBucketVersioning": lambda s3: s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"}),
    "PutPublicAccessBlock": lambda s3: s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False}),
    "PutBucketLifecycleConfiguration": lambda s3: s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [
            {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]}),
    "PutBucketTagging": lambda s3: s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": []}),
    "DeleteBucketPolicy": lambda s3: s3.delete_bucket_policy(Bucket=BUCKET),
    "DeleteBucket": lambda s3: s3.delete_bucket(Bucket=BUCKET),
    "GetBucketPolicy": lambda s3: s3.get_bucket_policy(Bucket=BUCKET),
    "GetBucketEncryption": lambda s3: s3.get_bucket_encryption(Bucket=BUCKET),
    "GetBucketVersioning": lambda s3: s3.get_bucket_versioning(Bucket=BUCKET),
    "GetPublicAccessBlock": lambda s3: s3.get_public_access_block(Bucket=BUCKET),
    "GetBucketLifecycleConfiguration": lambda s3: s3.get_bucket_lifecycle_configuration(Bucket=BUCKET),
    "GetBucketTagging": lambda s3: s3.get_bucket_tagging(Bucket=BUCKET),
}


def test_another_account_changing_the_configuration_changes_it_in_plain_moto(owner_s3, archive_s3):
    with without_gaps():
        CONFIGURATION_CALLS["PutBucketVersioning"](archive_s3)
        assert owner_s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Suspended"
        owner_s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


@pytest.mark.parametrize("operation", CONFIGURATION_CALLS)
def test_a_buckets_configuration_is_its_owners_alone(owner_s3, archive_s3, policy, organization, operation):
    """Even a bucket policy granting the other account everything does not open these."""
    assert owner_only(operation)
    policy(grant(organization.log_archive, "s3:*"))
    assert error_code(lambda: CONFIGURATION_CALLS[operation](archive_s3)) == "AccessDenied"
    assert owner_s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"


def test_another_account_reads_and_writes_objects_only_as_the_policy_grants(aws, owner_s3, archive_s3, policy,
                                                                            organization):
    with without_gaps():
        assert archive_s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"{}"

    assert status(lambda: archive_s3.get_object(Bucket=BUCKET, Key=KEY)) == 403
    assert status(lambda: archive_s3.list_objects_v2(Bucket=BUCKET)) == 403
    assert status(lambda: archive_s3.get_bucket_location(Bucket=BUCKET)) == 403

    policy(grant(organization.log_archive, "s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"))
    assert archive_s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"{}"
    assert [o["Key"] for o in archive_s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == [KEY]
    assert archive_s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == HOME
    assert status(lambda: archive_s3.put_object(Bucket=BUCKET, Key="planted", Body=b"x")) == 403
    assert status(lambda: archive_s3.delete_object(Bucket=BUCKET, Key=KEY)) == 403
    # a third account the policy does not name
    assert status(lambda: aws.client("s3", organization.security).get_object(Bucket=BUCKET, Key=KEY)) == 403


def test_a_copy_checks_the_source_buckets_expected_owner(owner_s3, archive_s3, organization, workload):
    archive_s3.create_bucket(Bucket=SOURCE, CreateBucketConfiguration={"LocationConstraint": HOME})
    archive_s3.put_object(Bucket=SOURCE, Key=KEY, Body=b"source")
    archive_s3.put_bucket_policy(Bucket=SOURCE, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": workload}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{SOURCE}/*"}]}))
    copy = {"Bucket": BUCKET, "Key": "copied", "CopySource": {"Bucket": SOURCE, "Key": KEY}}
    assert error_code(lambda: owner_s3.copy_object(**copy, ExpectedSourceBucketOwner=workload)) == "AccessDenied"
    owner_s3.copy_object(**copy, ExpectedSourceBucketOwner=organization.log_archive, ExpectedBucketOwner=workload)
    assert owner_s3.get_object(Bucket=BUCKET, Key="copied")["Body"].read() == b"source"


def test_a_bucket_name_is_global(owner_s3, archive_s3):
    """Already so in moto, relied on: another account cannot take the name, and the owner is told
    it has it (outside us-east-1)."""
    create = {"Bucket": BUCKET, "CreateBucketConfiguration": {"LocationConstraint": HOME}}
    for gaps in (without_gaps, nullcontext):
        with gaps():
            assert error_code(lambda: archive_s3.create_bucket(**create)) == "BucketAlreadyExists"
            assert error_code(lambda: owner_s3.create_bucket(**create)) == "BucketAlreadyOwnedByYou"
    assert status(lambda: archive_s3.create_bucket(**create)) == 409


def test_a_bucket_is_created_with_the_tags_its_create_carries(owner_s3):
    """CreateBucketConfiguration.Tags: the bucket exists tagged from its first moment, so an
    operator killed right after the create finds its own bucket (moto drops the tags)."""
    def create(name: str) -> dict:
        owner_s3.create_bucket(Bucket=name, CreateBucketConfiguration={
            "LocationConstraint": HOME, "Tags": [{"Key": "vigil.dev/owner", "Value": "ns/LogArchive/a"}]})
        try:
            return {t["Key"]: t["Value"] for t in owner_s3.get_bucket_tagging(Bucket=name)["TagSet"]}
        except ClientError as exc:
            return {"error": exc.response["Error"]["Code"]}

    with without_gaps():
        assert create("vigil-test-tagged-plain") == {"error": "NoSuchTagSet"}
    assert create("vigil-test-tagged-on-create") == {"vigil.dev/owner": "ns/LogArchive/a"}
