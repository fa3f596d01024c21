"""AWS's request rates in the sandbox (vigil_sandbox.rate_limits): a burst beyond a bucket gets the
service's own throttling error, which botocore and Vigil take for throttling; the bucket refills
at its rate (a fake clock, no sleeping); buckets are per account, Region and operation; the record
marks the throttled calls, which were not applied.

The session's sandbox runs without limits; these tests serve the same moto state on a second
server of their own, with AWS's limits and a clock they move by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottlingErrorDetector

from vigil.aws.errors import is_throttling
from vigil_sandbox.awsserver import AwsServer, CallLog, start_aws_server
from vigil_sandbox import rate_limits
from vigil_sandbox.rate_limits import RATES, READS, WRITES, RateLimits, Request, rate_of

HOME, OTHER = "ca-central-1", "us-east-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(sandbox: Any, clock: Clock) -> Iterator[AwsServer]:
    """The session's moto state, served with AWS's rate limits on a clock of the test's."""
    server = start_aws_server(rate_limits=RateLimits(clock))
    try:
        yield server
    finally:
        server.stop()


class Clients:
    def __init__(self, endpoint: str, organization: Any) -> None:
        self._endpoint, self._organization = endpoint, organization
        self._session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")

    def client(self, service: str, region: str = HOME, account: str | None = None) -> Any:
        keys: dict[str, str] = {}
        if account is not None:
            credentials = self._session.client("sts", region_name=region, endpoint_url=self._endpoint).assume_role(
                RoleArn=self._organization.role_arn(account), RoleSessionName="vigil-rate-limits")["Credentials"]
            keys = {"aws_access_key_id": credentials["AccessKeyId"],
                    "aws_secret_access_key": credentials["SecretAccessKey"],
                    "aws_session_token": credentials["SessionToken"]}
        return self._session.client(service, region_name=region, endpoint_url=self._endpoint, config=NO_RETRIES,
                                    **keys)


@pytest.fixture
def clients(limited: AwsServer, organization: Any) -> Clients:
    return Clients(limited.endpoint, organization)


def burst(rate_key: tuple[str, str]) -> int:
    return int(RATES[rate_key].burst)


def throttle_error(call: Any) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value


# --- A burst beyond the bucket -------------------------------------------------------------------

# service: (the call, the bucket it draws on, the throttling error AWS answers: code and status,
# whether it is made in the security account rather than the management account)
BURSTS = {
    "ec2": (lambda c: c.describe_vpcs(), ("ec2", READS), "RequestLimitExceeded", 503, False),
    "cloudtrail": (lambda c: c.lookup_events(MaxResults=1), ("cloudtrail", "LookupEvents"), "ThrottlingException", 400,
                   False),
    "organizations": (lambda c: c.list_roots(), ("organizations", READS), "TooManyRequestsException", 400, False),
    "securityhub": (lambda c: c.get_findings(MaxResults=1), ("securityhub", "GetFindings"), "ThrottlingException",
                    429, True),
    "account": (lambda c: c.list_regions(), ("account", "ListRegions"), "TooManyRequestsException", 429, False),
}


@pytest.mark.parametrize("service", BURSTS)
def test_a_burst_beyond_the_bucket_gets_the_services_throttling_error(clients, organization, service):
    call, bucket, code, status, in_security_account = BURSTS[service]
    client = clients.client(service, account=organization.security if in_security_account else None)
    for _ in range(burst(bucket)):
        call(client)  # within the burst: answered
    error = throttle_error(lambda: call(client))
    assert (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    operation = client.meta.service_model.operation_model(error.operation_name)

    # botocore's standard retry mode, and Vigil, take it for throttling (and so back off and retry).
    context = RetryContext(attempt_number=1, operation_model=operation, parsed_response=error.response,
                           http_response=SimpleNamespace(status_code=status))
    assert ThrottlingErrorDetector(retry_event_adapter=None).is_throttling_error_from_context(context)
    assert is_throttling(code)


def test_the_bucket_refills_at_its_rate(clients, clock):
    cloudtrail = clients.client("cloudtrail")
    rate = RATES[("cloudtrail", "LookupEvents")]  # 2 per second, 2 at most
    for _ in range(int(rate.burst)):
        cloudtrail.lookup_events(MaxResults=1)
    throttle_error(lambda: cloudtrail.lookup_events(MaxResults=1))

    clock.advance(1 / rate.per_second)  # one token back
    cloudtrail.lookup_events(MaxResults=1)
    throttle_error(lambda: cloudtrail.lookup_events(MaxResults=1))

    clock.advance(3600)  # refilled to its size, no more
    for _ in range(int(rate.burst)):
        cloudtrail.lookup_events(MaxResults=1)
    throttle_error(lambda: cloudtrail.lookup_events(MaxResults=1))


def test_buckets_are_per_account_region_and_operation(clients, organization):
    home = clients.client("cloudtrail")
    for _ in range(burst(("cloudtrail", "LookupEvents"))):
        home.lookup_events(MaxResults=1)
    throttle_error(lambda: home.lookup_events(MaxResults=1))

    clients.client("cloudtrail", region=OTHER).lookup_events(MaxResults=1)  # another Region
    clients.client("cloudtrail", account=organization.security).lookup_events(MaxResults=1)  # another account
    home.describe_trails()  # another operation of the same account and Region


def test_the_record_marks_the_throttled_calls_and_they_are_not_applied(clients, limited, aws):
    log = CallLog(limited.endpoint)
    log.reset()
    logs = clients.client("logs")
    allowed = burst(("logs", "CreateLogGroup"))
    names = [f"/vigil-test/rate-limited/{n}" for n in range(allowed + 1)]
    try:
        for name in names[:allowed]:
            logs.create_log_group(logGroupName=name)
        error = throttle_error(lambda: logs.create_log_group(logGroupName=names[-1]))
        assert error.response["Error"]["Code"] == "ThrottlingException"

        assert [c.throttled for c in log.calls()] == [False] * allowed + [True]
        assert [(c.operation, c.status, c.write) for c in log.throttled()] == [("CreateLogGroup", 400, True)]
        created = aws.client("logs").describe_log_groups(logGroupNamePrefix="/vigil-test/rate-limited/")["logGroups"]
        assert sorted(g["logGroupName"] for g in created) == sorted(names[:allowed])  # the throttled one: not applied
    finally:
        for name in names[:allowed]:
            aws.client("logs").delete_log_group(logGroupName=name)  # through the unlimited sandbox


# --- The table -----------------------------------------------------------------------------------


def test_an_operation_without_a_rate_of_its_own_has_its_services_and_then_the_default():
    assert rate_of("ec2", "CreateTags", write=True) == ("CreateTags", RATES[("ec2", "CreateTags")])
    assert rate_of("ec2", "CreateFlowLogs", write=True) == ("CreateFlowLogs", RATES[("ec2", WRITES)])
    assert rate_of("ec2", "DescribeFlowLogs", write=False) == ("DescribeFlowLogs", RATES[("ec2", READS)])
    name, rate = rate_of("guardduty", "ListDetectors", write=False)
    assert (name, rate.per_second) == ("ListDetectors", 10)


def test_kms_cryptographic_operations_share_one_bucket_and_s3_counts_per_bucket(clock):
    limits = RateLimits(clock)
    assert rate_of("kms", "Encrypt", write=True)[0] == rate_of("kms", "Decrypt", write=True)[0] == "cryptographic"
    s3_writes = int(RATES[("s3", WRITES)].burst)
    for n in range(s3_writes):  # across accounts and operations, one bucket's writes
        assert limits.admit(Request(f"{n % 7:012d}", HOME, "s3", "PutObject", True, "logs"))
    assert not limits.admit(Request("111111111111", OTHER, "s3", "DeleteObject", True, "logs"))
    assert limits.admit(Request("111111111111", HOME, "s3", "GetObject", False, "logs"))  # its reads
    assert limits.admit(Request("111111111111", HOME, "s3", "PutObject", True, "other"))  # another bucket


def test_full_buckets_are_not_kept(clock, monkeypatch):
    monkeypatch.setattr(rate_limits, "_PRUNE_EVERY", 10)
    limits = RateLimits(clock)
    for n in range(15):  # one pruning on the way, when every bucket was just drawn on
        assert limits.admit(Request(f"{n:012d}", HOME, "ec2", "DescribeVpcs", False))
    assert limits.tracked() == 15
    clock.advance(60)  # all full again
    for _ in range(5):  # up to the next pruning
        assert limits.admit(Request("999999999999", HOME, "sts", "GetCallerIdentity", False))
    assert limits.tracked() == 1
