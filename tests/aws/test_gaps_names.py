"""The names AWS refuses and moto takes (vigil_sandbox.gaps): each shown taken by plain moto (under
without_gaps()), then refused by the sandbox with AWS's error, and a good name still taken. These are
the names of issue 13's invalid specs that reached AWS: a bucket S3 forbids, a KMS alias under
alias/aws/, a trail name CloudTrail forbids, a log group under aws/."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from vigil_sandbox.gaps import without_gaps

HOME = "ca-central-1"


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


# Amazon S3 User Guide, "General purpose bucket naming rules".
@pytest.mark.parametrize("name", ["192.168.10.20", "xn--{}", "sthree-{}", "amzn-s3-demo-{}", "{}-s3alias",
                                  "{}--ol-s3", "{}.mrap", "{}--table-s3", "a..{}", "-{}", "{}-", "Upper{}"])
def test_create_bucket_refuses_the_names_s3_forbids(aws, name):
    name = name.format(uuid.uuid4().hex[:8])
    s3 = aws.client("s3")

    def create():
        return s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": HOME})

    with without_gaps():
        create()
    s3.delete_bucket(Bucket=name)

    assert error_code(create) == "InvalidBucketName"
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=name)


def test_create_bucket_takes_a_good_name(aws):
    name = unique("vigil-good-name.logs-")
    aws.client("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": HOME})
    aws.client("s3").delete_bucket(Bucket=name)


# KMS API Reference, CreateAlias: alias/aws/ is reserved for AWS managed keys.
def test_create_alias_refuses_alias_aws(aws):
    kms = aws.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    reserved = unique("alias/aws/vigil-")
    with without_gaps():
        kms.create_alias(AliasName=reserved, TargetKeyId=key)
    kms.delete_alias(AliasName=reserved)

    assert error_code(lambda: kms.create_alias(AliasName=reserved, TargetKeyId=key)) == "InvalidAliasNameException"
    assert reserved not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    kms.create_alias(AliasName=unique("alias/vigil-"), TargetKeyId=key)


# CloudTrail User Guide, "Naming requirements for CloudTrail resources".
@pytest.mark.parametrize("name", ["my--trail", "my-_trail", "my..trail", "192.168.5.4"])
def test_create_trail_refuses_the_names_cloudtrail_forbids(aws, name):
    bucket = unique("vigil-trail-names-")
    aws.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": HOME})
    cloudtrail = aws.client("cloudtrail")
    with without_gaps():
        cloudtrail.create_trail(Name=name, S3BucketName=bucket)
    cloudtrail.delete_trail(Name=name)

    assert error_code(lambda: cloudtrail.create_trail(Name=name, S3BucketName=bucket)) == "InvalidTrailNameException"
    assert cloudtrail.describe_trails(trailNameList=[name])["trailList"] == []


# CloudWatch Logs API Reference, CreateLogGroup.
@pytest.mark.parametrize("name", ["aws/vigil-{}", "/vigil/has space/{}", "/vigil/$/{}", "/vigil/*/{}"])
def test_create_log_group_refuses_the_names_cloudwatch_logs_forbids(aws, name):
    name = name.format(uuid.uuid4().hex[:8])
    logs = aws.client("logs")
    with without_gaps():
        logs.create_log_group(logGroupName=name)
    logs.delete_log_group(logGroupName=name)

    assert error_code(lambda: logs.create_log_group(logGroupName=name)) == "InvalidParameterException"
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []


def test_create_log_group_takes_names_under_slash_aws(aws):
    name = unique("/aws/vigil-names/")
    aws.client("logs").create_log_group(logGroupName=name)
    aws.client("logs").delete_log_group(logGroupName=name)
