"""Client tokens, honoured as AWS honours them (vigil_sandbox.gaps._core.with_client_token): the
same token with the same request gets the first answer again and creates nothing; the same
token with another request is refused. moto ignores them, so a create retried after its answer was
lost (a dropped response, vigil_sandbox.faults) made a second resource or failed as a duplicate.

botocore fills GuardDuty's and Access Analyzer's tokens itself when the caller gives none (their
models mark them idempotencyToken), the same token for every retry of one call; EC2's
CreateFlowLogs ClientToken is the caller's to give. Also what moto already gets right: KMS
CreateKey keeps its Tags. A region no other test governs keeps the state its own."""

from __future__ import annotations

import json
from contextlib import nullcontext

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from vigil_sandbox.faults import Fault, Faults
from vigil_sandbox.gaps import without_gaps

REGION = "us-west-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 3})
FLOW_LOG_BUCKET = "vigil-test-client-token-flow-logs"
FINDINGS_BUCKET = "vigil-test-client-token-findings"
GUARDDUTY = "guardduty.amazonaws.com"


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


@pytest.fixture
def faults(sandbox):
    found = Faults(sandbox.endpoint)
    yield found
    found.clear()


# --- EC2 CreateFlowLogs --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workload(organization) -> str:
    return organization.workloads[1]


@pytest.fixture
def flow_logs(aws, workload):
    """A fresh VPC of the workload account and a bucket of its own; (ec2 client, create)."""
    aws.client("s3", workload, REGION).create_bucket(
        Bucket=FLOW_LOG_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    ec2 = aws.client("ec2", workload, REGION, config=NO_RETRIES)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]

    def create(client=ec2, traffic: str = "ALL", **extra) -> dict:
        return client.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType=traffic,
                                       LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{FLOW_LOG_BUCKET}",
                                       **extra)

    def of_vpc() -> list[dict]:
        return ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"]

    create.of_vpc = of_vpc  # type: ignore[attr-defined]
    yield create
    ec2.delete_flow_logs(FlowLogIds=[f["FlowLogId"] for f in of_vpc()])
    ec2.delete_vpc(VpcId=vpc)
    aws.client("s3", workload, REGION).delete_bucket(Bucket=FLOW_LOG_BUCKET)


def test_create_flow_logs_with_the_same_client_token_answers_the_first_result(flow_logs):
    with without_gaps():
        first = flow_logs(ClientToken="vigil-test-token-1")
        assert error_code(lambda: flow_logs(ClientToken="vigil-test-token-1")) == "FlowLogAlreadyExists"
        assert "ClientToken" not in first

    created = flow_logs(traffic="REJECT", ClientToken="vigil-test-token-2")
    again = flow_logs(traffic="REJECT", ClientToken="vigil-test-token-2")
    assert again["FlowLogIds"] == created["FlowLogIds"] and len(created["FlowLogIds"]) == 1
    assert again["ClientToken"] == "vigil-test-token-2"
    assert sorted(f["TrafficType"] for f in flow_logs.of_vpc()) == ["ALL", "REJECT"]
    assert error_code(lambda: flow_logs(traffic="ACCEPT", ClientToken="vigil-test-token-2")) == (
        "IdempotentParameterMismatch")


def test_a_retried_create_flow_logs_whose_answer_was_lost_makes_one_flow_log(aws, workload, flow_logs, faults,
                                                                             call_log):
    retrying = aws.client("ec2", workload, REGION, config=RETRIES)
    faults.set(drop=Fault(operations=("CreateFlowLogs",), times=1))
    created = flow_logs(retrying, ClientToken="vigil-test-token-retried")

    assert [f["FlowLogId"] for f in flow_logs.of_vpc()] == created["FlowLogIds"]
    creates = [c for c in call_log.calls() if c.operation == "CreateFlowLogs"]
    assert [(c.status, c.dropped) for c in creates] == [(200, True), (200, False)]

    # Without a token, the retry is a second request: refused as a duplicate of the first.
    faults.set(drop=Fault(operations=("CreateFlowLogs",), times=1))
    assert error_code(lambda: flow_logs(retrying, traffic="REJECT")) == "FlowLogAlreadyExists"
    assert sorted(f["TrafficType"] for f in flow_logs.of_vpc()) == ["ALL", "REJECT"]


def test_create_flow_logs_keeps_its_tag_specifications(flow_logs):
    """moto's own CreateFlowLogs kept them too; the gap that replaces it does."""
    tags = [{"Key": "vigil.dev/owner", "Value": "tests/tokens"}]
    spec = [{"ResourceType": "vpc-flow-log", "Tags": tags}]
    with without_gaps():
        flow_logs(TagSpecifications=spec)
        assert [f["Tags"] for f in flow_logs.of_vpc()] == [tags]
    flow_logs(traffic="REJECT", TagSpecifications=spec)
    assert [f["Tags"] for f in flow_logs.of_vpc()] == [tags, tags]


# --- GuardDuty CreateDetector, CreatePublishingDestination --------------------------------------


@pytest.fixture
def detectors(aws, workload):
    """The workload account's GuardDuty in REGION, which has no detector; none left afterwards."""
    guardduty = aws.client("guardduty", workload, REGION, config=NO_RETRIES)
    yield guardduty
    for detector in guardduty.list_detectors()["DetectorIds"]:
        guardduty.delete_detector(DetectorId=detector)


def test_create_detector_with_the_same_client_token_answers_the_first_detector(detectors):
    with without_gaps():
        first = detectors.create_detector(Enable=True, ClientToken="vigil-test-detector")["DetectorId"]
        second = detectors.create_detector(Enable=True, ClientToken="vigil-test-detector")["DetectorId"]
        assert first != second and len(detectors.list_detectors()["DetectorIds"]) == 2
        for detector in (first, second):
            detectors.delete_detector(DetectorId=detector)

    first = detectors.create_detector(Enable=True, ClientToken="vigil-test-detector")["DetectorId"]
    assert detectors.create_detector(Enable=True, ClientToken="vigil-test-detector")["DetectorId"] == first
    assert detectors.list_detectors()["DetectorIds"] == [first]
    assert error_code(lambda: detectors.create_detector(Enable=False, ClientToken="vigil-test-detector")) == (
        "BadRequestException")
    # No token given: botocore makes a new one per call, so this is a second detector, refused.
    assert error_code(lambda: detectors.create_detector(Enable=True)) == "BadRequestException"


def test_a_retried_create_detector_whose_answer_was_lost_makes_one_detector(aws, workload, detectors, faults):
    faults.set(drop=Fault(operations=("CreateDetector",), services=("guardduty",), times=1))
    detector = aws.client("guardduty", workload, REGION, config=RETRIES).create_detector(Enable=True)["DetectorId"]
    assert faults.injected()["drop"] == 1
    assert detectors.list_detectors()["DetectorIds"] == [detector]


@pytest.fixture
def findings_destination(aws, workload, detectors):
    """A detector, and a bucket and key of the workload account GuardDuty may export to."""
    detector = detectors.create_detector(Enable=True)["DetectorId"]
    s3 = aws.client("s3", workload, REGION)
    s3.create_bucket(Bucket=FINDINGS_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket=FINDINGS_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": GUARDDUTY}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{FINDINGS_BUCKET}/*"}]}))
    key = aws.client("kms", workload, REGION).create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": GUARDDUTY}, "Action": "kms:GenerateDataKey",
        "Resource": "*"}]}))["KeyMetadata"]["Arn"]
    yield detector, {"DestinationArn": f"arn:aws:s3:::{FINDINGS_BUCKET}", "KmsKeyArn": key}
    s3.delete_bucket_policy(Bucket=FINDINGS_BUCKET)
    s3.delete_bucket(Bucket=FINDINGS_BUCKET)


def test_create_publishing_destination_with_the_same_client_token_answers_the_first(detectors,
                                                                                    findings_destination):
    detector, properties = findings_destination
    create = {"DetectorId": detector, "DestinationType": "S3", "DestinationProperties": properties}
    first = detectors.create_publishing_destination(**create, ClientToken="vigil-test-export")["DestinationId"]
    again = detectors.create_publishing_destination(**create, ClientToken="vigil-test-export")["DestinationId"]
    assert again == first
    assert [d["DestinationId"] for d in detectors.list_publishing_destinations(DetectorId=detector)[
        "Destinations"]] == [first]
    # botocore's own token for each call: a second export, which GuardDuty refuses.
    assert error_code(lambda: detectors.create_publishing_destination(**create)) == "BadRequestException"


# --- Access Analyzer CreateAnalyzer --------------------------------------------------------------


def test_create_analyzer_with_the_same_client_token_answers_the_first(aws, workload):
    analyzers = aws.client("accessanalyzer", workload, REGION, config=NO_RETRIES)
    create = {"analyzerName": "vigil-test-tokens", "type": "ACCOUNT"}
    arn = analyzers.create_analyzer(**create, clientToken="vigil-test-analyzer")["arn"]
    try:
        assert analyzers.create_analyzer(**create, clientToken="vigil-test-analyzer")["arn"] == arn
        assert [a["arn"] for a in analyzers.list_analyzers()["analyzers"]] == [arn]
        assert error_code(lambda: analyzers.create_analyzer(**create, tags={"team": "x"},
                                                            clientToken="vigil-test-analyzer")) == "ConflictException"
        # botocore's own token for each call: a second analyzer of the name, refused.
        assert error_code(lambda: analyzers.create_analyzer(**create)) == "ConflictException"
    finally:
        analyzers.delete_analyzer(analyzerName="vigil-test-tokens")


# --- Already as AWS in moto ----------------------------------------------------------------------


def test_create_key_keeps_its_tags(aws, workload):
    kms = aws.client("kms", workload, REGION)
    tags = [{"TagKey": "vigil.dev/owner", "TagValue": "tests/tokens"}, {"TagKey": "team", "TagValue": "security"}]
    for gaps in (without_gaps, nullcontext):
        with gaps():
            key = kms.create_key(Tags=tags)["KeyMetadata"]["KeyId"]
            assert kms.list_resource_tags(KeyId=key)["Tags"] == tags
            kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
