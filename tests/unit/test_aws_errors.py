"""The AWS error taxonomy (vigil.aws.errors): every botocore error, ClientError by code and HTTP
status and botocore's own errors by class, becomes a reason, retryable or terminal (or out of
reach), and a sentence that says what happened and what to do, naming the action, the account,
the region and the identity, and never a Python exception's name or text. The call context comes
from the clients `AwsAccess` makes (botocore's Stubber stands in for AWS here)."""

from __future__ import annotations

import re

import botocore.exceptions as bx
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from vigil.aws.budget import CallBudget
from vigil.aws import session as aws_session
from vigil.aws.errors import CALL_KEY, Call, TargetError, classify, internal_error, unreachable_account

CALL = Call("cloudtrail", "StartLogging", "444444444444", "ca-central-1",
            "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole",
            "https://cloudtrail.ca-central-1.amazonaws.com")
# Names a status must never show: Python's and botocore's exception classes.
PYTHON_NAMES = {n for n in dir(bx) if n.endswith(("Error", "Exception"))} | {
    "TypeError", "KeyError", "ValueError", "AttributeError", "RuntimeError", "Traceback", "NoneType"}


def client_error(code: str, status: int = 400, message: str = "it says no", call: Call | None = CALL) -> ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    if call is not None:
        response[CALL_KEY] = call
    return ClientError(response, call.operation if call else "StartLogging")


def sdk_error(exc: bx.BotoCoreError, call: Call | None = CALL) -> bx.BotoCoreError:
    exc.vigil_call = call  # as session's after-call-error hook marks it
    return exc


def assert_sentence(error: TargetError) -> None:
    shown = set(re.findall(r"[A-Za-z_]+", error.message))
    assert not shown & PYTHON_NAMES, f"a Python exception name in: {error.message}"
    assert error.message.endswith("."), error.message
    assert str(error).startswith(f"{error.reason}: ")


# (code, HTTP status) -> (reason, retryable)
TAXONOMY = [
    ("ValidationException", 400, "AWSError", False),
    ("InvalidParameterValueException", 400, "AWSError", False),
    ("InvalidParameterCombinationException", 400, "AWSError", False),
    ("MalformedPolicyDocument", 400, "AWSError", False),
    ("LimitExceededException", 400, "AWSError", False),
    ("TrailNotFoundException", 400, "AWSError", True),  # for what AWS holds now: observed again
    ("ResourceNotFoundException", 400, "AWSError", True),
    ("BucketAlreadyOwnedByYou", 409, "AWSError", True),
    ("ResourceConflictException", 409, "AWSError", True),
    ("InvalidStateException", 400, "AWSError", True),
    ("AccessDenied", 403, "AccessDenied", False),
    ("AccessDeniedException", 400, "AccessDenied", False),
    ("UnauthorizedOperation", 403, "AccessDenied", False),
    ("403", 403, "AccessDenied", False),  # S3's HEAD requests have no body, so no code
    ("InvalidClientTokenId", 403, "AccessDenied", False),
    ("ExpiredToken", 400, "AccessDenied", False),
    ("OptInRequired", 401, "RegionDisabled", False),
    ("RegionDisabledException", 403, "RegionDisabled", False),
    ("Throttling", 400, "Throttled", True),
    ("ThrottlingException", 400, "Throttled", True),
    ("TooManyRequestsException", 429, "Throttled", True),
    ("SlowDown", 503, "Throttled", True),
    ("RequestLimitExceeded", 503, "Throttled", True),
    ("InternalError", 500, "AWSUnavailable", True),
    ("InternalFailure", 500, "AWSUnavailable", True),
    ("ServiceUnavailable", 503, "AWSUnavailable", True),
    ("Unavailable", 503, "AWSUnavailable", True),
    ("SomethingNew", 502, "AWSUnavailable", True),  # any 5xx
    ("ConcurrentModificationException", 400, "AWSError", True),
]


@pytest.mark.parametrize("code, status, reason, retryable", TAXONOMY)
def test_client_errors_are_sorted_by_code_and_status(code, status, reason, retryable):
    error = classify(client_error(code, status))
    assert (error.reason, error.recoverable, error.terminal) == (reason, retryable, not retryable)
    assert (error.code, error.action, error.account, error.region) == (
        code, "cloudtrail:StartLogging", "444444444444", "ca-central-1")
    assert_sentence(error)


@pytest.mark.parametrize("code, status", [(c, s) for c, s, _, _ in TAXONOMY])
def test_every_message_names_the_action_and_where(code, status):
    error = classify(client_error(code, status))
    assert "cloudtrail:StartLogging" in error.message
    assert "444444444444" in error.message and "ca-central-1" in error.message


def test_a_terminal_refusal_gives_code_action_account_region_and_when_it_is_tried_again():
    error = classify(client_error("ValidationException", message="1 validation error detected"))
    assert error.message == (
        "AWS refused cloudtrail:StartLogging in account 444444444444, ca-central-1 (ValidationException: 1 "
        "validation error detected). The same request cannot succeed as it is: correct the spec, or what in AWS "
        "conflicts with it. Vigil tries again when the spec changes or at the next resync.")


def test_a_refusal_for_what_aws_holds_now_is_observed_again():
    error = classify(client_error("ResourceNotFoundException", message="The specified destination does not exist"))
    assert error.recoverable and error.message == (
        "AWS refused cloudtrail:StartLogging in account 444444444444, ca-central-1 for what it holds now "
        "(ResourceNotFoundException: The specified destination does not exist). Vigil observes again and plans from "
        "what it finds at its next pass.")


def test_a_limit_says_retrying_cannot_lift_it():
    error = classify(client_error("LimitExceededException", message="You have reached the limit of 5 trails"))
    assert error.terminal and "a limit is reached" in error.message and "Service Quotas" in error.message


def test_access_denied_names_the_action_and_the_role():
    error = classify(client_error("AccessDeniedException", message="User is not authorized"))
    assert error.message.startswith(
        "AWS denied cloudtrail:StartLogging in account 444444444444, ca-central-1 to "
        "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole (AccessDeniedException: User is not "
        "authorized). Allow cloudtrail:StartLogging in the policies of "
        "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole")


def test_refused_credentials_point_at_the_identity_and_opt_in_regions():
    error = classify(client_error("UnrecognizedClientException", message="The security token is invalid"))
    assert error.reason == "AccessDenied" and error.terminal
    assert "refused the credentials of arn:aws:iam::444444444444:role/OrganizationAccountAccessRole" in error.message
    assert "if ca-central-1 is an opt-in region, enable it for account 444444444444" in error.message


def test_a_region_not_enabled_is_out_of_reach_and_says_how_to_fix_it():
    error = classify(client_error("OptInRequired", 401))
    assert error.out_of_reach and error.terminal
    assert error.message.startswith("Region ca-central-1 is not enabled for account 444444444444")
    assert "spec.regions.governed" in error.message


def test_without_the_call_context_the_message_still_names_the_operation():
    error = classify(client_error("ValidationException", call=None))
    assert error.message.startswith("AWS refused StartLogging (ValidationException: it says no).")
    assert (error.account, error.region) == ("", "")


def test_no_credentials_says_where_vigil_looks():
    error = classify(sdk_error(bx.NoCredentialsError()))
    assert (error.reason, error.terminal) == ("NoCredentials", True)
    assert error.message.startswith("Vigil found no AWS credentials to make cloudtrail:StartLogging in account "
                                    "444444444444, ca-central-1.")
    for where in ("AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                  "AWS_PROFILE", "instance metadata", "docs/deployment.md"):
        assert where in error.message
    assert_sentence(error)


def test_partial_credentials_say_which_one_is_missing():
    error = classify(sdk_error(bx.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY")))
    assert error.reason == "NoCredentials" and "in env (AWS_SECRET_ACCESS_KEY is missing)" in error.message
    assert_sentence(error)


def test_a_credential_provider_that_fails_is_retryable():
    error = classify(sdk_error(bx.CredentialRetrievalError(provider="assume-role-with-web-identity",
                                                           error_msg="the token expired")))
    assert (error.reason, error.recoverable) == ("NoCredentials", True)
    assert "from assume-role-with-web-identity (the token expired)" in error.message
    assert_sentence(error)


@pytest.mark.parametrize("exc, what", [
    (bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "could not connect"),
    (bx.ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"), "the connection timed out"),
    (bx.ReadTimeoutError(endpoint_url="http://127.0.0.1:9"), "no answer before the read timeout"),
    (bx.ConnectionClosedError(endpoint_url="http://127.0.0.1:9"), "the connection closed before an answer"),
    (bx.SSLError(endpoint_url="http://127.0.0.1:9", error="bad certificate"), "TLS verification failed"),
])
def test_an_endpoint_that_does_not_answer_is_named_and_retryable(exc, what):
    error = classify(sdk_error(exc))
    assert (error.reason, error.recoverable) == ("EndpointUnreachable", True)
    assert error.message.startswith(f"The AWS endpoint http://127.0.0.1:9 did not answer cloudtrail:StartLogging in "
                                    f"account 444444444444, ca-central-1 ({what}) through every retry.")
    assert_sentence(error)


def test_a_proxy_that_refuses_is_named():
    error = classify(sdk_error(bx.ProxyConnectionError(proxy_url="http://proxy:3128", error="refused")))
    assert error.reason == "EndpointUnreachable" and "http://proxy:3128" in error.message


def test_a_request_the_model_refuses_is_a_bug_told_as_one():
    error = classify(sdk_error(bx.ParamValidationError(report="Missing required parameter in input: \"Name\"")))
    assert (error.reason, error.terminal) == ("InternalError", True)
    assert "This is a bug in Vigil" in error.message and 'Missing required parameter in input: "Name"' in error.message
    assert_sentence(error)


def test_any_other_sdk_error_is_told_without_its_class():
    error = classify(sdk_error(bx.IncompleteReadError(actual_bytes=1, expected_bytes=2)))
    assert error.reason == "AWSError" and error.recoverable
    assert_sentence(error)


def test_a_role_that_cannot_be_assumed_makes_the_account_out_of_reach():
    refused = client_error("AccessDenied", 403, "User: arn:aws:iam::123456789012:user/vigil is not authorized to "
                                                "perform: sts:AssumeRole", call=None)
    error = unreachable_account("666666666666", "arn:aws:iam::666666666666:role/OrganizationAccountAccessRole",
                                "the operator's own AWS identity", refused)
    assert error is not None and error.out_of_reach and error.terminal
    assert (error.reason, error.action, error.account) == ("AccountUnreachable", "sts:AssumeRole", "666666666666")
    assert error.message.startswith("Vigil cannot assume arn:aws:iam::666666666666:role/OrganizationAccountAccessRole "
                                    "(AccessDenied: User: ")
    assert "every other account is enforced" in error.message
    assert "trust policy allows the operator's own AWS identity" in error.message
    assert_sentence(error)
    assert unreachable_account("666666666666", "arn", "me", client_error("Throttling", call=None)) is None


def test_a_bug_is_told_without_its_exception():
    error = internal_error("444444444444/ca-central-1")
    assert error.reason == "InternalError" and "operator log" in error.message
    assert_sentence(error)


def test_anything_else_is_not_an_aws_error():
    with pytest.raises(KeyError):
        classify(KeyError("x"))


# --- the call context, as AwsAccess's clients record it ------------------------------------------


def instrumented(service: str, account: str, region: str, identity: str):
    """A client as AwsAccess makes them (shared, instrumented), and the same speaking as ``account``."""
    client = botocore.session.get_session().create_client(
        service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s",
        config=Config(retries={"total_max_attempts": 1}))
    aws_session._instrument(client, region, CallBudget())
    return client, aws_session.AccountClient(client, aws_session.Speaker(account, identity, None))


def test_a_client_error_carries_where_it_was_made():
    shared, ct = instrumented("cloudtrail", "444444444444", "ca-central-1", "arn:aws:iam::444444444444:role/R")
    with Stubber(shared) as stub:
        stub.add_client_error("start_logging", "ValidationException", "no", 400)
        with pytest.raises(ClientError) as raised:
            ct.start_logging(Name="t")
    error = classify(raised.value)
    assert (error.action, error.account, error.region) == ("cloudtrail:StartLogging", "444444444444", "ca-central-1")


def test_the_action_is_named_with_its_iam_prefix():
    shared, analyzer = instrumented("accessanalyzer", "333333333333", "ca-central-1", "r")
    with Stubber(shared) as stub:
        stub.add_client_error("list_analyzers", "AccessDeniedException", "no", 403)
        with pytest.raises(ClientError) as raised:
            analyzer.list_analyzers()
    assert classify(raised.value).action == "access-analyzer:ListAnalyzers"


def test_an_sdk_error_carries_where_it_was_made():
    # Nothing listens on port 9 of the loopback: the connection is refused at once.
    client = botocore.session.get_session().create_client(
        "sts", region_name="ca-central-1", aws_access_key_id="k", aws_secret_access_key="s",
        endpoint_url="http://127.0.0.1:9", config=Config(retries={"total_max_attempts": 1}, connect_timeout=1))
    aws_session._instrument(client, "ca-central-1", CallBudget())
    own = aws_session.AccountClient(client, aws_session.Speaker("123456789012", "the operator's own AWS identity", None))
    with pytest.raises(bx.EndpointConnectionError) as raised:
        own.get_caller_identity()
    error = classify(raised.value)
    assert error.message.startswith("The AWS endpoint http://127.0.0.1:9/ did not answer sts:GetCallerIdentity in "
                                    "account 123456789012, ca-central-1 (could not connect)")


def test_aws_max_attempts_bounds_botocores_retries(monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    assert aws_session.max_attempts() == 3
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "many")
    assert aws_session.max_attempts() == aws_session.DEFAULT_MAX_ATTEMPTS
    monkeypatch.delenv("AWS_MAX_ATTEMPTS")
    assert aws_session.max_attempts() == 8
