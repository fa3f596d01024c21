"""Fault injection in the sandbox (vigil_sandbox.faults): each service's own throttling error,
server errors and refusals of a given code (ValidationException, AccessDenied) answered in
moto's place in the protocol's own form (nothing applied), writes applied and their answer
dropped (botocore raises ConnectionClosedError), answers delayed; chosen by operation name or
prefix, at a rate from a seeded generator; set over HTTP (FAULTS_PATH, `Faults`), and recorded."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from vigil_sandbox.awsserver import FAULTS_PATH
from vigil_sandbox.faults import Fault, FaultInjector, FaultPlan, Faults
from vigil_sandbox.stack import wait_until

HOME = "ca-central-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 3})
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def faults(sandbox):
    found = Faults(sandbox.endpoint)
    found.clear()
    yield found
    found.clear()


def error_of(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def bucket_exists(aws, bucket: str) -> bool:
    try:
        aws.client("s3").head_bucket(Bucket=bucket)
        return True
    except ClientError:
        return False


# --- throttling and server errors: answered in moto's place ------------------------------------


THROTTLED = {
    "s3": (lambda c: c.create_bucket(Bucket="vigil-test-throttled",
                                     CreateBucketConfiguration={"LocationConstraint": HOME}), "SlowDown", 503),
    "ec2": (lambda c: c.create_vpc(CidrBlock="10.77.0.0/16"), "RequestLimitExceeded", 503),
    "iam": (lambda c: c.list_roles(), "Throttling", 400),
    "sts": (lambda c: c.get_caller_identity(), "Throttling", 400),
    "kms": (lambda c: c.list_keys(), "ThrottlingException", 400),
    "cloudtrail": (lambda c: c.describe_trails(), "ThrottlingException", 400),
    "organizations": (lambda c: c.list_roots(), "TooManyRequestsException", 400),
    "guardduty": (lambda c: c.list_detectors(), "TooManyRequestsException", 429),
    "accessanalyzer": (lambda c: c.list_analyzers(), "ThrottlingException", 429),
}


@pytest.mark.parametrize("service", THROTTLED)
def test_throttling_is_the_services_own_error(aws, faults, call_log, service):
    call, code, status = THROTTLED[service]
    faults.set(throttle=Fault(services=(service,)))
    assert error_of(lambda: call(aws.client(service, config=NO_RETRIES))) == (code, status)
    [recorded] = call_log.calls()
    assert (recorded.service, recorded.status, recorded.fault) == (service, status, "throttle")


def test_a_throttled_write_is_not_applied_and_botocore_retries_it(aws, faults, call_log):
    create = {"Bucket": "vigil-test-throttled", "CreateBucketConfiguration": {"LocationConstraint": HOME}}
    faults.set(throttle=Fault(operations=("CreateBucket",)))
    assert error_of(lambda: aws.client("s3", config=NO_RETRIES).create_bucket(**create)) == ("SlowDown", 503)
    assert not bucket_exists(aws, "vigil-test-throttled")

    faults.set(throttle=Fault(operations=("CreateBucket",), times=1))
    aws.client("s3", config=RETRIES).create_bucket(**create)
    assert bucket_exists(aws, "vigil-test-throttled")
    creates = [(c.status, c.fault) for c in call_log.calls() if c.operation == "CreateBucket"]
    assert creates == [(503, "throttle"), (503, "throttle"), (200, None)]
    aws.client("s3").delete_bucket(Bucket="vigil-test-throttled")


@pytest.mark.parametrize("status, code", [(500, "InternalError"), (503, "ServiceUnavailable")])
def test_a_server_error_is_not_applied(aws, faults, status, code):
    faults.set(error=Fault(operations=("CreateBucket",), status=status))
    s3 = aws.client("s3", config=NO_RETRIES)
    assert error_of(lambda: s3.create_bucket(Bucket="vigil-test-erred", CreateBucketConfiguration={
        "LocationConstraint": HOME})) == (code, status)
    assert not bucket_exists(aws, "vigil-test-erred")
    assert s3.list_buckets()["Buckets"] is not None  # another operation is answered


# The refusals a service answers by protocol: (client call, status, code) per service.
REFUSED = {
    "cloudtrail": (lambda c: c.start_logging(Name="vigil-test-refused"), 400, "ValidationException"),  # JSON
    "ec2": (lambda c: c.create_vpc(CidrBlock="10.78.0.0/16"), 400, "InvalidParameterValue"),  # EC2 query
    "iam": (lambda c: c.list_roles(), 403, "AccessDenied"),  # query
    "s3": (lambda c: c.list_buckets(), 403, "AccessDenied"),  # REST-XML
    "guardduty": (lambda c: c.list_detectors(), 400, "BadRequestException"),  # REST-JSON
}


@pytest.mark.parametrize("service", REFUSED)
def test_an_error_with_a_code_is_that_refusal_and_is_not_applied(aws, faults, call_log, service):
    call, status, code = REFUSED[service]
    faults.set(error=Fault(services=(service,), status=status, code=code))
    client = aws.client(service, config=RETRIES)
    assert error_of(lambda: call(client)) == (code, status)
    [recorded] = call_log.calls()
    assert (recorded.status, recorded.fault) == (status, "error"), "a refusal is not retried by botocore"
    faults.clear()
    if service == "ec2":
        assert not [v for v in client.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.78.0.0/16"]


# --- dropped answers: applied, never received -----------------------------------------------------


def test_a_dropped_write_is_applied_and_its_answer_never_arrives(aws, faults, call_log):
    faults.set(drop=Fault(operations=("CreateBucket",)))
    create = {"Bucket": "vigil-test-dropped", "CreateBucketConfiguration": {"LocationConstraint": HOME}}
    with pytest.raises(ConnectionClosedError):
        aws.client("s3", config=NO_RETRIES).create_bucket(**create)
    assert bucket_exists(aws, "vigil-test-dropped")
    [recorded] = [c for c in call_log.calls() if c.operation == "CreateBucket"]
    assert (recorded.write, recorded.status, recorded.fault, recorded.dropped) == (True, 200, "drop", True)

    # botocore retries what it never got an answer to; S3 then answers as it would on AWS.
    faults.set(drop=Fault(operations=("CreateBucket",), times=1))
    aws.client("s3").delete_bucket(Bucket="vigil-test-dropped")
    assert error_of(lambda: aws.client("s3", config=RETRIES).create_bucket(**create)) == (
        "BucketAlreadyOwnedByYou", 409)
    aws.client("s3").delete_bucket(Bucket="vigil-test-dropped")


def test_reads_are_never_dropped(aws, faults):
    faults.set(drop=Fault())
    assert aws.client("s3", config=NO_RETRIES).list_buckets()["Buckets"] is not None
    assert aws.client("sts", config=NO_RETRIES).get_caller_identity()["Account"]
    assert faults.injected()["drop"] == 0


def test_faults_choose_operations_by_name_or_prefix(aws, faults):
    iam = aws.client("iam", config=NO_RETRIES)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    faults.set(throttle=Fault(operations=("Create*",), services=("iam",)))
    assert error_of(lambda: iam.create_role(RoleName="vigil-test-faults", AssumeRolePolicyDocument=trust))[0] == (
        "Throttling")
    assert iam.list_roles()["Roles"] is not None

    faults.set(throttle=Fault(operations=("ListRoles", "GetRole")))
    assert error_of(lambda: iam.list_roles())[0] == "Throttling"
    iam.create_role(RoleName="vigil-test-faults", AssumeRolePolicyDocument=trust)
    assert error_of(lambda: iam.get_role(RoleName="vigil-test-faults"))[0] == "Throttling"
    iam.delete_role(RoleName="vigil-test-faults")
    assert faults.injected() == {"throttle": 2, "error": 0, "delay": 0, "drop": 0}


# --- rates, seeds, delays ------------------------------------------------------------------------


def outcomes(aws, faults, seed: int) -> list[bool]:
    """Which of 24 calls a throttle at rate 0.5 hit, with this seed."""
    faults.set(throttle=Fault(rate=0.5, services=("sts",)), seed=seed)
    sts = aws.client("sts", config=NO_RETRIES)
    hit = []
    for _ in range(24):
        try:
            sts.get_caller_identity()
            hit.append(False)
        except ClientError:
            hit.append(True)
    return hit


def test_the_same_seed_injects_the_same_faults(aws, faults):
    first = outcomes(aws, faults, seed=7)
    assert outcomes(aws, faults, seed=7) == first
    assert outcomes(aws, faults, seed=8) != first
    assert 0 < sum(first) < len(first)


def test_a_delay_holds_the_answer_back_after_applying_the_request(aws, faults, call_log):
    faults.set(delay=Fault(ms=300, operations=("GetCallerIdentity",)))
    started = time.monotonic()
    aws.client("sts").get_caller_identity()
    assert time.monotonic() - started >= 0.3
    assert [c.fault for c in call_log.calls()] == ["delay"]

    # A client that stops waiting sees a timeout; the write was made all the same.
    faults.set(delay=Fault(ms=1500, operations=("CreateBucket",)))
    impatient = aws.client("s3", config=Config(read_timeout=0.3, retries={"total_max_attempts": 1}))
    with pytest.raises(ReadTimeoutError):
        impatient.create_bucket(Bucket="vigil-test-delayed", CreateBucketConfiguration={"LocationConstraint": HOME})
    assert bucket_exists(aws, "vigil-test-delayed")
    aws.client("s3").delete_bucket(Bucket="vigil-test-delayed")
    # The sandbox records a call when its answer goes out: wait for it here, or its record lands in
    # the call log of whichever test this worker runs next.
    wait_until("the delayed CreateBucket recorded", lambda: any(
        c.operation == "CreateBucket" and c.fault == "delay" for c in call_log.calls()), timeout=10)


# --- the control path, and the plan ------------------------------------------------------------


def control(sandbox, method: str, body: object = None) -> tuple[int, object]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(sandbox.endpoint + FAULTS_PATH, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with NO_PROXY.open(request) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as refused:
        raw = refused.read()
        return refused.code, json.loads(raw) if raw else None


NO_FAULTS = {"seed": 0, "throttle": None, "error": None, "delay": None, "drop": None,
             "injected": {"throttle": 0, "error": 0, "delay": 0, "drop": 0}}


def test_the_control_path_sets_reads_and_clears_the_plan(sandbox, faults):
    assert control(sandbox, "GET") == (200, NO_FAULTS)
    status, state = control(sandbox, "POST", {"seed": 3, "drop": {"rate": 0.25, "operations": ["Create*"]},
                                              "error": {"status": 503, "times": 2}, "delay": {"ms": 10}})
    assert status == 200 and state == {
        "seed": 3, "throttle": None,
        "error": {"rate": 1.0, "operations": ["*"], "services": ["*"], "times": 2, "status": 503, "code": None},
        "delay": {"rate": 1.0, "operations": ["*"], "services": ["*"], "times": None, "ms": 10},
        "drop": {"rate": 0.25, "operations": ["Create*"], "services": ["*"], "times": None},
        "injected": {"throttle": 0, "error": 0, "delay": 0, "drop": 0}}
    assert control(sandbox, "GET") == (200, state)
    assert faults.plan() == FaultPlan(3, error=Fault(times=2, status=503), delay=Fault(ms=10),
                                      drop=Fault(rate=0.25, operations=("Create*",)))
    assert control(sandbox, "DELETE") == (204, None)
    assert control(sandbox, "GET") == (200, NO_FAULTS)


@pytest.mark.parametrize("plan, message", [
    ({"drop": {"rate": 2}}, "drop: rate must be between 0 and 1"),
    ({"drop": {"ms": 5}}, "drop: unknown field(s) ms"),
    ({"delay": {}}, "delay: ms is required"),
    ({"error": {"status": 404}}, "error: status must be one of (500, 503)"),
    ({"error": {"code": "ValidationException", "status": 200}}, "error: status must be a 4xx or 5xx with a code"),
    ({"error": {"code": "not a code!"}}, "error: code must be an error code"),
    ({"throttle": {"code": "ValidationException"}}, "throttle: unknown field(s) code"),
    ({"throttle": {"operations": "Create*"}}, "throttle: operations must be a list"),
    ({"flood": {}}, "plan: unknown field(s) flood"),
    (b"{not json", "Expecting property name"),
])
def test_a_bad_plan_is_refused_and_changes_nothing(sandbox, faults, plan, message):
    faults.set(throttle=Fault(services=("none",)))
    status, answer = control(sandbox, "POST", plan)
    assert status == 400 and answer["message"].startswith(message), answer
    assert faults.plan() == FaultPlan(throttle=Fault(services=("none",)))


def test_the_client_raises_what_the_sandbox_refuses(faults):
    with pytest.raises(ValueError, match="drop: rate must be between 0 and 1"):
        faults.set(drop={"rate": 2})
    with pytest.raises(ValueError, match="delay: ms is required"):
        faults.set(delay=Fault())
    with pytest.raises(TypeError, match="unknown fault kind 'flood'"):
        faults.set(flood={})


def test_the_client_sets_a_plan_for_a_block(aws, faults):
    with faults.injecting(throttle=Fault(services=("sts",)), seed=1) as injected:
        assert error_of(lambda: aws.client("sts", config=NO_RETRIES).get_caller_identity())[0] == "Throttling"
        assert injected.injected()["throttle"] == 1
    assert faults.plan() == FaultPlan()
    assert aws.client("sts", config=NO_RETRIES).get_caller_identity()["Account"]


def test_put_is_not_a_method_of_the_control_path(sandbox):
    assert control(sandbox, "PUT", {})[0] == 405


def test_a_fault_stops_after_its_times_in_process():
    """The injector itself, as AwsServer.faults holds it in the sandbox's process."""
    injector = FaultInjector()
    injector.set(FaultPlan(seed=5, drop=Fault(times=2)))
    hits = [injector.draw("drop", "s3", "PutObject") is not None for _ in range(5)]
    assert hits == [True, True, False, False, False]
    assert injector.injected()["drop"] == 2
    assert injector.draw("drop", "s3", "PutObject") is None and injector.draw("throttle", "s3", "PutObject") is None
