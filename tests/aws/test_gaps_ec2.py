"""The EC2 gap (vigil_sandbox.gaps.ec2): CreateFlowLogs to an S3 subfolder of another account's
bucket, the bucket policy that delivery needs, and which second flow log on a VPC AWS refuses;
each against plain moto (without_gaps()) and the sandbox. Also what moto already gets right and
Vigil relies on: tags from TagSpecifications, MaxAggregationInterval, the default format echoed,
DescribeFlowLogs filters."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from vigil_sandbox.gaps import without_gaps
from vigil_sandbox.gaps.ec2 import DEFAULT_FLOW_LOG_FORMAT

WORKLOAD = "666666666666"
REGION = "ca-central-1"
DELIVERY = "delivery.logs.amazonaws.com"
ALLOWING = "vigil-test-flow-logs-allowed"
SILENT = "vigil-test-flow-logs-no-policy"


@pytest.fixture(scope="module")
def buckets(aws, organization) -> None:
    """Two buckets in the log-archive account: one whose policy lets log delivery write."""
    s3 = aws.client("s3", organization.log_archive)
    for name in (ALLOWING, SILENT):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket=ALLOWING, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": [DELIVERY]}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{ALLOWING}/*"}]}))


@pytest.fixture
def vpc(aws, buckets):
    """A fresh VPC in a workload account; its flow logs go with it."""
    ec2 = aws.client("ec2", WORKLOAD, REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    yield vpc_id
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    if flow_logs:
        ec2.delete_flow_logs(FlowLogIds=[f["FlowLogId"] for f in flow_logs])
    ec2.delete_vpc(VpcId=vpc_id)


def create(aws, vpc_id: str, destination: str, traffic: str = "ALL", **extra) -> dict:
    return aws.client("ec2", WORKLOAD, REGION).create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc_id], TrafficType=traffic, LogDestinationType="s3",
        LogDestination=destination, **extra)


def test_flow_log_to_a_subfolder_of_another_accounts_bucket(aws, vpc):
    destination = f"arn:aws:s3:::{ALLOWING}/vpc-flow-logs"
    with without_gaps():
        plain = create(aws, vpc, destination)
    assert plain["FlowLogIds"] == [] and "does not exist" in plain["Unsuccessful"][0]["Error"]["Message"]

    created = create(aws, vpc, destination)
    assert created["Unsuccessful"] == [] and len(created["FlowLogIds"]) == 1
    [flow_log] = aws.client("ec2", WORKLOAD, REGION).describe_flow_logs(FlowLogIds=created["FlowLogIds"])["FlowLogs"]
    assert flow_log["LogDestination"] == destination and flow_log["ResourceId"] == vpc


def test_another_accounts_bucket_must_allow_log_delivery(aws, vpc):
    with without_gaps():
        assert create(aws, vpc, f"arn:aws:s3:::{SILENT}")["Unsuccessful"] == [], "plain moto asks no policy"
        aws.client("ec2", WORKLOAD, REGION).delete_flow_logs(FlowLogIds=[
            f["FlowLogId"] for f in aws.client("ec2", WORKLOAD, REGION).describe_flow_logs(
                Filters=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"]])

    refused = create(aws, vpc, f"arn:aws:s3:::{SILENT}/x")
    assert refused["FlowLogIds"] == []
    assert refused["Unsuccessful"][0]["ResourceId"] == vpc
    assert refused["Unsuccessful"][0]["Error"]["Message"].startswith("Access Denied for LogDestination")
    missing = create(aws, vpc, "arn:aws:s3:::vigil-test-no-such-bucket/x")
    assert "does not exist" in missing["Unsuccessful"][0]["Error"]["Message"]


def test_a_second_flow_log_with_another_traffic_type_is_allowed(aws, vpc):
    destination = f"arn:aws:s3:::{ALLOWING}"  # no subfolder, so plain moto can create the first
    with without_gaps():
        create(aws, vpc, destination, traffic="ACCEPT")
        with pytest.raises(ClientError, match="FlowLogAlreadyExists"):
            create(aws, vpc, destination, traffic="ALL")

    assert create(aws, vpc, destination, traffic="ALL")["Unsuccessful"] == []
    with pytest.raises(ClientError, match="FlowLogAlreadyExists"):
        create(aws, vpc, destination, traffic="ALL", MaxAggregationInterval=60)


def test_what_moto_already_answers_as_aws(aws, vpc):
    """No gap needed: Vigil reads these as moto gives them."""
    destination = f"arn:aws:s3:::{ALLOWING}/echo"
    tags = [{"Key": "vigil.dev/owner", "Value": "tests/echo"}]
    created = create(aws, vpc, destination, MaxAggregationInterval=60,
                     TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": tags}])
    ec2 = aws.client("ec2", WORKLOAD, REGION)
    by_tag = ec2.describe_flow_logs(Filters=[{"Name": "tag:vigil.dev/owner", "Values": ["tests/echo"]}])["FlowLogs"]
    assert [f["FlowLogId"] for f in by_tag] == created["FlowLogIds"]
    [flow_log] = by_tag
    assert flow_log["Tags"] == tags and flow_log["MaxAggregationInterval"] == 60
    assert flow_log["LogFormat"] == DEFAULT_FLOW_LOG_FORMAT
    assert ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc, "vpc-00000000"]}])["FlowLogs"] == by_tag
    assert ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": ["vpc-00000000"]}])["FlowLogs"] == []
    custom = create(aws, vpc, destination, traffic="REJECT", LogFormat="${srcaddr} ${dstaddr}")
    [echoed] = ec2.describe_flow_logs(FlowLogIds=custom["FlowLogIds"])["FlowLogs"]
    assert echoed["LogFormat"] == "${srcaddr} ${dstaddr}"
