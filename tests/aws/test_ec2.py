"""The EC2 adapter (vigil.aws.ec2) against the sandbox: VPCs and their flow logs observed in two
reads, selection by tags, what AWS echoes of a flow log (tags, interval, the default format), and
flow log writes that fail in their answer raising like any AWS error."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from vigil.api.flowlogs import VpcSelector
from vigil.aws import ec2 as aws_ec2
from vigil.aws.errors import classify
from vigil.planning.flowlogs import DEFAULT_LOG_FORMAT, vpc_filters
from vigil.planning.ownership import Owner
from vigil_sandbox.seed import NETWORK_TEAM_BUCKET

WORKLOAD = "555555555555"
SHARED_NETWORK = "444444444444"
REGION = "us-east-1"
OWNER = Owner("tests", "FlowLogPolicy", "adapter")


@pytest.fixture(scope="module")
def archive(aws, organization) -> str:
    """A bucket in the log-archive account that lets the log delivery service write."""
    name = "vigil-test-flow-log-archive"
    s3 = aws.client("s3", organization.log_archive)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{name}/*"}]}))
    return name


def test_observe_selects_vpcs_by_tag_and_finds_their_flow_logs(access, aws, archive, call_log):
    ec2 = aws.client("ec2", WORKLOAD, REGION)
    prod = ec2.describe_vpcs(Filters=[{"Name": "tag:env", "Values": ["prod"]}])["Vpcs"][0]["VpcId"]
    created = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[prod], TrafficType="REJECT", LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{archive}/adapter", MaxAggregationInterval=60,
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": OWNER.tag_list()}])
    assert created["Unsuccessful"] == []
    call_log.reset()
    try:
        network = aws_ec2.observe_network(access, WORKLOAD, REGION, vpc_filters(VpcSelector(match_tags={"env": "prod"})))
        assert [(c.operation, c.account) for c in call_log.calls() if c.service == "ec2"] == [
            ("DescribeVpcs", WORKLOAD), ("DescribeFlowLogs", WORKLOAD)]
        assert [v.vpc_id for v in network.vpcs] == [prod] and network.vpcs[0].tags["env"] == "prod"
        [flow_log] = network.flow_logs_of(prod)
        assert flow_log.tags == OWNER.tags()
        s = flow_log.settings
        assert (s.traffic_type, s.log_destination_type, s.log_destination, s.max_aggregation_interval) == (
            "REJECT", "s3", f"arn:aws:s3:::{archive}/adapter", 60)
        assert s.log_format == DEFAULT_LOG_FORMAT, "AWS records the default format when none was given"
        assert aws_ec2.owned_flow_log_ids(access, WORKLOAD, REGION, OWNER) == [flow_log.flow_log_id]
    finally:
        ec2.delete_flow_logs(FlowLogIds=created["FlowLogIds"])


def test_every_vpc_when_nothing_is_selected(access, aws):
    network = aws_ec2.observe_network(access, SHARED_NETWORK, "ca-central-1", [])
    assert len(network.vpcs) == 4 and sum(v.is_default for v in network.vpcs) == 1
    team = [f for f in network.flow_logs if f.settings.log_destination == f"arn:aws:s3:::{NETWORK_TEAM_BUCKET}"]
    assert [f.settings.traffic_type for f in team] == ["ACCEPT"], "the seeded network team's flow log"


def test_no_vpc_selected_is_one_read(access, call_log):
    network = aws_ec2.observe_network(access, WORKLOAD, REGION, vpc_filters(VpcSelector(match_tags={"env": "none"})))
    assert network.vpcs == () and network.flow_logs == ()
    assert [c.operation for c in call_log.calls() if c.service == "ec2"] == ["DescribeVpcs"]


def test_create_failure_in_the_answer_raises(access, aws):
    client = access.client("ec2", WORKLOAD, REGION)
    vpc = aws.client("ec2", WORKLOAD, REGION).describe_vpcs()["Vpcs"][0]["VpcId"]
    with pytest.raises(ClientError) as raised:
        aws_ec2.create_flow_logs(client, {"ResourceType": "VPC", "ResourceIds": [vpc], "TrafficType": "ALL",
                                          "LogDestinationType": "s3",
                                          "LogDestination": "arn:aws:s3:::vigil-no-such-bucket/x"})
    error = classify(raised.value)
    assert error.reason == "AWSError" and vpc in error.message and "does not exist" in error.message


def test_deleting_a_flow_log_already_gone_is_done(access):
    client = access.client("ec2", WORKLOAD, REGION)
    aws_ec2.delete_flow_logs(client, {"FlowLogIds": ["fl-0123456789abcdef0"]})
