"""The sandbox's one domain patch of moto (vigil_sandbox.gaps.PATCHES): moto applies a bucket
policy's Deny whatever its Condition, so the usual "deny plain HTTP" statement refused every
object request; the sandbox, standing in for AWS's HTTPS endpoints, counts its requests as TLS.
Unconditional denies still deny."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from vigil_sandbox.gaps import without_gaps
from vigil_sandbox.gaps.s3 import policy_over_tls

HOME = "ca-central-1"
BUCKET = "vigil-test-tls-only"


def deny(bucket: str, **condition) -> dict:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}
    return {**statement, "Condition": condition} if condition else statement


@pytest.fixture(scope="module")
def s3(aws, organization):
    client = aws.client("s3", organization.log_archive)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": HOME})
    client.put_object(Bucket=BUCKET, Key="log.json.gz", Body=b"log data")
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [deny(BUCKET, Bool={"aws:SecureTransport": "false"})]}))
    return client


def status(call) -> int:
    try:
        return call()["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_tls_only_bucket_serves_its_objects(s3):
    with without_gaps():
        assert status(lambda: s3.get_object(Bucket=BUCKET, Key="log.json.gz")) == 403
        assert status(lambda: s3.put_object(Bucket=BUCKET, Key="new.json.gz", Body=b"x")) == 403
    assert s3.get_object(Bucket=BUCKET, Key="log.json.gz")["Body"].read() == b"log data"
    assert status(lambda: s3.put_object(Bucket=BUCKET, Key="new.json.gz", Body=b"x")) == 200


def test_an_unconditional_deny_still_denies(s3):
    policy = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny(BUCKET)]}))
    try:
        assert status(lambda: s3.get_object(Bucket=BUCKET, Key="log.json.gz")) == 403
    finally:
        s3.delete_bucket_policy(Bucket=BUCKET)
        s3.put_bucket_policy(Bucket=BUCKET, Policy=policy)


def test_only_statements_for_plain_http_are_dropped():
    policy = {"Version": "2012-10-17", "Statement": [
        deny("b", Bool={"aws:SecureTransport": "false"}),
        deny("b", BoolIfExists={"aws:SecureTransport": ["false"]}),
        deny("b", Bool={"aws:SecureTransport": "true"}),
        deny("b", StringEquals={"aws:SourceOrgID": "o-x"}),
    ]}
    kept = json.loads(policy_over_tls(json.dumps(policy)))["Statement"]
    assert kept == policy["Statement"][2:]
    single = {"Version": "2012-10-17", "Statement": deny("b", Bool={"aws:SecureTransport": False})}
    assert json.loads(policy_over_tls(json.dumps(single)))["Statement"] == []
