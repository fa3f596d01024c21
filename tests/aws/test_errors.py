"""AWS errors through the real adapters (vigil.aws.session and errors) against the sandbox: a
refusal names the action, the account, the region and the role it was refused to; a role that
stops trusting Vigil makes its account out of reach at the next probe, cached sessions or not,
and every client of that account fails the same way until the role is back; botocore's own
retries absorb throttling."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from vigil.aws.errors import TargetError, classify
from vigil.aws.session import AccessSettings, AwsAccess
from vigil_sandbox.faults import Fault, Faults

HOME = "ca-central-1"
ROLE = "OrganizationAccountAccessRole"
TRUST_ANOTHER = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture
def faults(sandbox) -> Iterator[Faults]:
    found = Faults(sandbox.endpoint)
    found.clear()
    yield found
    found.clear()


@pytest.fixture
def access(sandbox) -> AwsAccess:
    return AwsAccess(AccessSettings(role_name=ROLE, home_region=HOME))


def refusal(call) -> TargetError:
    with pytest.raises(ClientError) as raised:
        call()
    return classify(raised.value)


def test_a_refused_write_names_action_account_region_and_is_terminal(access, organization, faults):
    account = organization.workloads[0]
    faults.set(error=Fault(operations=("CreateLogGroup",), status=400, code="ValidationException"))
    error = refusal(lambda: access.client("logs", account, HOME).create_log_group(logGroupName="/vigil/test"))
    assert (error.reason, error.terminal, error.code) == ("AWSError", True, "ValidationException")
    assert error.message.startswith(f"AWS refused logs:CreateLogGroup in account {account}, {HOME} "
                                    "(ValidationException: ValidationException (an error fault of the Vigil sandbox))")


def test_access_denied_names_the_role_in_a_member_account(access, organization, faults):
    account = organization.workloads[0]
    faults.set(error=Fault(operations=("DescribeVpcs",), status=403, code="UnauthorizedOperation"))
    error = refusal(lambda: access.client("ec2", account, HOME).describe_vpcs())
    assert error.reason == "AccessDenied"
    assert error.message.startswith(f"AWS denied ec2:DescribeVpcs in account {account}, {HOME} to "
                                    f"arn:aws:iam::{account}:role/{ROLE} (UnauthorizedOperation")


def test_access_denied_in_the_operators_own_account_names_its_identity(access, organization, faults):
    faults.set(error=Fault(operations=("DescribeOrganization",), status=400, code="AccessDeniedException"))
    error = refusal(lambda: access.client("organizations", organization.management, HOME).describe_organization())
    assert "to the operator's own AWS identity (arn:aws:" in error.message
    assert f"organizations:DescribeOrganization in account {organization.management}" in error.message


def test_an_account_whose_role_stops_trusting_vigil_is_out_of_reach_at_the_next_probe(access, organization, aws):
    account = organization.workloads[-1]
    ec2 = access.client("ec2", account, HOME)
    ec2.describe_vpcs()  # the session is made, its credentials cached for an hour
    iam = aws.client("iam", account)
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=TRUST_ANOTHER)
    try:
        with pytest.raises(TargetError) as probed:
            access.check_reachable(account)
        error = probed.value
        assert (error.reason, error.out_of_reach, error.account) == ("AccountUnreachable", True, account)
        assert error.message.startswith(f"Vigil cannot assume arn:aws:iam::{account}:role/{ROLE} (AccessDenied: ")
        # Every client of the account asks AWS again, and fails the same way.
        with pytest.raises(TargetError, match="AccountUnreachable"):
            access.client("ec2", account, HOME).describe_vpcs()
    finally:
        iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust) if isinstance(trust, dict)
                                      else trust)
    access.check_reachable(account)
    assert access.client("ec2", account, HOME).describe_vpcs()["Vpcs"]


def test_botocore_retries_throttling_within_its_attempts(access, organization, faults, call_log):
    faults.set(throttle=Fault(operations=("DescribeVpcs",), times=3))
    assert access.client("ec2", organization.shared_network, HOME).describe_vpcs()["Vpcs"]
    attempts = [c.fault for c in call_log.calls() if c.operation == "DescribeVpcs"]
    assert attempts == ["throttle", "throttle", "throttle", None]


def test_a_bucket_create_whose_answer_was_lost_is_taken_as_made(access, organization, faults, aws):
    """botocore sends a CreateBucket again when its answer is lost; S3 answers the retry
    BucketAlreadyOwnedByYou, which is the create having worked."""
    from vigil.aws.apply import execute
    from vigil.planning.actions import Action

    bucket = "vigil-test-lost-create"
    create = Action(f"{organization.log_archive}/{HOME}/{bucket}", organization.log_archive, HOME, "s3",
                    "CreateBucket", {"Bucket": bucket, "CreateBucketConfiguration": {"LocationConstraint": HOME}})
    faults.set(drop=Fault(operations=("CreateBucket",), times=1))
    try:
        execute(access, create)
        assert faults.injected()["drop"] == 1
        assert aws.client("s3", organization.log_archive).head_bucket(Bucket=bucket)
    finally:
        aws.client("s3", organization.log_archive).delete_bucket(Bucket=bucket)


def test_one_client_per_service_and_region_speaks_as_each_account(access, organization, call_log):
    """Clients are shared by every account: each call is still made, and recorded, as its own account."""
    first, second = organization.workloads[0], organization.workloads[1]
    one, other = access.client("ec2", first, HOME), access.client("ec2", second, HOME)
    assert one._client is other._client
    since = len(call_log.calls())
    one.describe_vpcs()
    other.describe_vpcs()
    pages = list(access.client("organizations", organization.management, HOME)
                 .get_paginator("list_accounts").paginate())
    assert pages
    made = [(c.account, c.operation) for c in call_log.calls(since)
            if c.operation in ("DescribeVpcs", "ListAccounts")]
    assert made == [(first, "DescribeVpcs"), (second, "DescribeVpcs"), (organization.management, "ListAccounts")]


def test_a_throttled_account_is_paced_and_the_others_are_not(access, organization, faults):
    throttled, other = organization.workloads[0], organization.workloads[1]
    faults.set(throttle=Fault(operations=("DescribeVpcs",), times=1))  # the first call: the throttled account's
    access.client("ec2", throttled, HOME).describe_vpcs()  # retried by botocore after the throttle
    access.client("ec2", other, HOME).describe_vpcs()
    paced = access.budget.paced()
    assert (throttled, HOME, "ec2", "DescribeVpcs") in paced
    assert not any(key[0] == other for key in paced)
