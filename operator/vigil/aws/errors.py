"""AWS errors, sorted the way a user acts on them, each told as a sentence that says what to do.

The one place that turns whatever the AWS layer raises into a status.failures entry. As ACK
does, an error is either

- **retryable**: throttling, AWS's own 5xx, an endpoint that did not answer. botocore has already
  retried it (exponential backoff with jitter, capped: `session.AwsAccess`); Vigil tries again at
  its next retry, sooner than the resync interval;
- **terminal**: AWS answered and the same request cannot succeed (validation, invalid parameter,
  a limit retrying cannot lift, access denied to one action, no credentials at all). Tried again
  only when the spec changes or at the next resync interval (`controls.refusals`), never in a loop.
  A refusal for what AWS holds now (not found, already exists, a conflict) is not: the next pass
  observes again and plans from what it finds;
- **out of reach** (terminal too): the target cannot be reached at all (a role that cannot be
  assumed, a region not enabled). Only that target fails; every other is enforced in the same pass
  and the object stays Ready for them.

No Python exception name or text reaches a message: botocore's exceptions are told by what
happened (no credentials: where Vigil looked; an endpoint that did not answer: which one; access
denied: which action, and as whom).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError, ConnectTimeoutError,
                                 CredentialRetrievalError, EndpointConnectionError, HTTPClientError, NoAuthTokenError,
                                 NoCredentialsError, NoRegionError, ParamValidationError, PartialCredentialsError,
                                 ProxyConnectionError, ReadTimeoutError, SSLError)
from botocore.exceptions import ConnectionError as BotoConnectionError

from ..conditions import (ACCESS_DENIED, ACCOUNT_UNREACHABLE, AWS_ERROR, AWS_UNAVAILABLE, ENDPOINT_UNREACHABLE,
                          INTERNAL_ERROR, NO_CREDENTIALS, OUT_OF_REACH, REGION_DISABLED, THROTTLED)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Denied: the caller may not do this one thing (the fix is a policy).
_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "403",
                  "InsufficientPermissionsException", "UnauthorizedException", "Forbidden"}
# Refused credentials: the caller is nobody AWS knows here (the fix is the credentials, or the region).
_CREDENTIALS_REFUSED = {"InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken",
                        "ExpiredTokenException", "AuthFailure", "SignatureDoesNotMatch", "InvalidAccessKeyId",
                        "IncompleteSignature", "MissingAuthenticationToken", "InvalidToken", "TokenRefreshRequired"}
_REGION_DISABLED = {"RegionDisabledException", "OptInRequired"}
_THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
              "SlowDown", "ProvisionedThroughputExceededException", "RequestThrottled", "RequestThrottledException",
              "ThrottledException", "EC2ThrottledException", "BandwidthLimitExceeded", "PriorRequestNotComplete"}
# AWS's side: worth the same request again in a moment.
_UNAVAILABLE = {"InternalError", "InternalFailure", "InternalServerError", "InternalServerException",
                "InternalException", "ServiceUnavailable", "ServiceUnavailableException", "Unavailable",
                "ServiceFailure", "ServiceException", "RequestTimeout", "RequestTimeoutException",
                "InsufficientInstanceCapacity"}
# Another change to the same thing is still in progress: the request may succeed once it is done.
_BUSY = {"ConcurrentModificationException", "OperationAbortedException", "OperationInProgressException",
         "ResourceInUseException", "TransactionInProgressException", "IdempotentParameterMismatch"}
_LIMITS = ("LimitExceeded", "QuotaExceeded", "TooManyTags", "MaxNumberOf")
# Refused for what AWS holds now, not for the request itself: something named is missing, already
# there or busy. The next pass observes again and plans from what it finds (a destination created
# meanwhile, a create whose first answer was lost), so these are not held as terminal.
_STATE = ("NotFound", "NoSuch", "DoesNotExist", "AlreadyExists", "AlreadyOwnedByYou", "Conflict", "InvalidState",
          "IncorrectState", "InUse", "NotReady", "Dependency", "Duplicate")

NO_CREDENTIALS_HELP = (
    "Vigil looks for them as every AWS SDK does, in this order: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; "
    "a web identity token (IRSA: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, which EKS sets when the "
    "ServiceAccount carries eks.amazonaws.com/role-arn); EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI); "
    "the shared config and credentials files (AWS_PROFILE); the instance metadata service. Give the operator's "
    "ServiceAccount an IAM role (docs/deployment.md)")
RETRY_SOON = "Vigil tries again at its next pass"
RETRY_LATER = "Vigil tries again when the spec changes or at the next resync"


def is_throttling(code: str | None) -> bool:
    """AWS asking the caller to slow down (counted per attempt, retries included)."""
    return code in _THROTTLED


@dataclass(frozen=True)
class Call:
    """Where a failed AWS call was made, so its message can name it (attached by `session`)."""

    service: str  # the IAM prefix of its actions: cloudtrail, s3, access-analyzer
    operation: str  # botocore's name: DescribeTrails
    account: str = ""
    region: str = ""
    identity: str = ""  # who made it: the assumed role's ARN, or the operator's own identity
    endpoint: str = ""

    @property
    def action(self) -> str:
        return f"{self.service}:{self.operation}" if self.service else self.operation

    @property
    def place(self) -> str:
        """Where, as a message says it: ' in account 444444444444, ca-central-1' (what of it is known)."""
        parts = [f"account {self.account}" if self.account else "", self.region if self.region != "global" else ""]
        known = ", ".join(p for p in parts if p)
        return f" in {known}" if known else ""


CALL_KEY = "VigilCall"  # where session puts the Call: in a ClientError's response, or as an attribute


def call_of(exc: BaseException) -> Call:
    """The Call a botocore error was raised by, as far as it is known."""
    found = exc.response.get(CALL_KEY) if isinstance(exc, ClientError) else getattr(exc, "vigil_call", None)
    if isinstance(found, Call):
        return found
    return Call("", getattr(exc, "operation_name", "") or "")


# Not frozen: Python itself assigns an exception's __traceback__ as it passes through a context
# manager (contextlib), which a frozen dataclass refuses. Nothing else assigns to one.
@dataclass(unsafe_hash=True)
class TargetError(Exception):
    """Why one target could not be reconciled: a status.failures entry."""

    reason: str  # AccessDenied | Throttled | AWSError | AccountUnreachable | ...
    message: str  # a sentence for the user: what happened and what to do
    recoverable: bool = True  # retryable: worth trying before the next resync (throttling, 5xx, network)
    code: str = ""  # AWS's error code, when AWS answered
    action: str = ""  # the AWS action: cloudtrail:StartLogging
    account: str = ""
    region: str = ""

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"

    @property
    def terminal(self) -> bool:
        """The same request cannot succeed: try it again only on a spec change or the next resync."""
        return not self.recoverable

    @property
    def out_of_reach(self) -> bool:
        """The target could not be reached at all: it fails alone, and the object stays Ready for the rest."""
        return self.reason in OUT_OF_REACH


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_code(exc: BaseException, *codes: str) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in codes


def classify(exc: BaseException) -> TargetError:
    """Turn anything the AWS layer raises into a TargetError: reason, retryable or terminal, and
    a sentence. Anything else is not an AWS error and is raised again."""
    if isinstance(exc, TargetError):
        return exc
    if isinstance(exc, ClientError):
        return _client_error(exc)
    if isinstance(exc, BotoCoreError):
        return _sdk_error(exc)
    raise exc


def _client_error(exc: ClientError) -> TargetError:
    code = error_code(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    call = call_of(exc)
    said = _aws_message(exc)
    answer = f"{code}: {said}" if said else code or f"HTTP {status}"
    action, place = call.action, call.place

    def error(reason: str, message: str, recoverable: bool) -> TargetError:
        return TargetError(reason, message, recoverable, code, action, call.account, call.region)

    if code in _THROTTLED:
        return error(THROTTLED, f"AWS throttled {action}{place} ({code}) through every retry. {RETRY_SOON}; if it "
                                "persists, lower VIGIL_AWS_IN_FLIGHT or raise the API's rate quota.", True)
    if code in _REGION_DISABLED:
        return error(REGION_DISABLED, f"Region {call.region or 'of this target'} is not enabled for account "
                                      f"{call.account or 'of this target'} (AWS answered {action} with {code}). Enable "
                                      "it for the account (AWS Account Management), or take it out of the "
                                      f"Organization's spec.regions.governed or this object's spec.regions. "
                                      f"{RETRY_LATER}.", False)
    if code in _ACCESS_DENIED:
        who = call.identity or "Vigil's credentials"
        return error(ACCESS_DENIED, f"AWS denied {action}{place} to {who} ({answer}). Allow {action} in the "
                                    f"policies of {who} (docs/deployment.md lists what Vigil needs); {RETRY_LATER}.",
                     False)
    if code in _CREDENTIALS_REFUSED:
        who = call.identity or "Vigil's credentials"
        opt_in = (f"; if {call.region} is an opt-in region, enable it for account {call.account or 'this target'}"
                  if call.region and call.region != "global" else "")
        return error(ACCESS_DENIED, f"AWS refused the credentials of {who} for {action}{place} ({answer}). Check the "
                                    f"operator's AWS identity{opt_in}. {RETRY_LATER}.", False)
    if code == "AWSOrganizationsNotInUseException":
        return error(AWS_ERROR, f"The account Vigil runs as{place} is not in an AWS Organization ({action}: {code}). "
                                "Run Vigil with the management account's credentials; " + RETRY_LATER + ".", False)
    if status >= 500 or code in _UNAVAILABLE:
        return error(AWS_UNAVAILABLE, f"AWS could not complete {action}{place} ({answer}, HTTP {status}) through every "
                                      f"retry: the fault is on AWS's side. {RETRY_SOON}.", True)
    if code in _BUSY:
        return error(AWS_ERROR, f"AWS could not complete {action}{place} yet: another change to it is in progress "
                                f"({answer}). {RETRY_SOON}.", True)
    if any(state in code for state in _STATE):
        return error(AWS_ERROR, f"AWS refused {action}{place} for what it holds now ({answer}). Vigil observes "
                                f"again and plans from what it finds at its next pass.", True)
    if any(limit in code for limit in _LIMITS):
        return error(AWS_ERROR, f"AWS refused {action}{place}: a limit is reached ({answer}). Raise the quota (Service "
                                f"Quotas) or make room; retrying the same request cannot help. {RETRY_LATER}.", False)
    return error(AWS_ERROR, f"AWS refused {action}{place} ({answer}). The same request cannot succeed as it is: "
                            f"correct the spec, or what in AWS conflicts with it. {RETRY_LATER}.", False)


def _aws_message(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Message") or error.get("message") or "").strip().rstrip(".")


def _sdk_error(exc: BotoCoreError) -> TargetError:
    """botocore's own errors: nothing reached AWS, or nothing came back."""
    call = call_of(exc)
    action, place = call.action or "a call to AWS", call.place
    kwargs: dict[str, Any] = getattr(exc, "kwargs", {}) or {}

    def error(reason: str, message: str, recoverable: bool) -> TargetError:
        return TargetError(reason, message, recoverable, "", call.action, call.account, call.region)

    if isinstance(exc, NoCredentialsError | NoAuthTokenError):
        return error(NO_CREDENTIALS, f"Vigil found no AWS credentials to make {action}{place}. "
                                     f"{NO_CREDENTIALS_HELP}; {RETRY_LATER}.", False)
    if isinstance(exc, PartialCredentialsError):
        provider, missing = kwargs.get("provider", "the environment"), kwargs.get("cred_var", "a value")
        return error(NO_CREDENTIALS, f"Vigil found only part of its AWS credentials in {provider} ({missing} is "
                                     f"missing), so it made no {action}{place}. {NO_CREDENTIALS_HELP}; "
                                     f"{RETRY_LATER}.", False)
    if isinstance(exc, CredentialRetrievalError):
        provider, why = kwargs.get("provider", "its provider"), kwargs.get("error_msg", "no answer")
        return error(NO_CREDENTIALS, f"Vigil could not get AWS credentials from {provider} ({why}), so it made no "
                                     f"{action}{place}. Check the operator's IAM role and its token. {RETRY_SOON}.",
                     True)
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        endpoint = kwargs.get("endpoint_url") or kwargs.get("proxy_url") or call.endpoint or "of the service"
        return error(ENDPOINT_UNREACHABLE, f"The AWS endpoint {endpoint} did not answer {action}{place} "
                                           f"({_what_failed(exc)}) through every retry. Check that the operator can "
                                           "reach it (network policies, egress proxy, VPC endpoints, AWS_ENDPOINT_URL "
                                           f"if set). {RETRY_SOON}.", True)
    if isinstance(exc, ParamValidationError):
        return error(INTERNAL_ERROR, f"Vigil built a {action} request that the AWS API refuses "
                                     f"({str(kwargs.get('report', '')).strip()}). This is a bug in Vigil: please "
                                     f"report it with the operator log. {RETRY_LATER}.", False)
    if isinstance(exc, NoRegionError):
        return error(INTERNAL_ERROR, f"Vigil made {action} without a region; set AWS_DEFAULT_REGION for the operator. "
                                     f"{RETRY_LATER}.", False)
    # An SDK failure this module does not know: its text goes to the operator's log, not to a
    # status a user reads.
    log.warning("%s%s: %s: %s", action, place, type(exc).__name__, exc)
    return error(AWS_ERROR, f"The AWS SDK could not complete {action}{place}; the operator's log has the SDK's "
                            f"own words. {RETRY_SOON}.", True)


def _what_failed(exc: BotoCoreError) -> str:
    if isinstance(exc, ConnectTimeoutError):
        return "the connection timed out"
    if isinstance(exc, ReadTimeoutError):
        return "no answer before the read timeout"
    if isinstance(exc, ConnectionClosedError):
        return "the connection closed before an answer"
    if isinstance(exc, SSLError):
        return "TLS verification failed"
    if isinstance(exc, ProxyConnectionError):
        return "the proxy refused the connection"
    if isinstance(exc, EndpointConnectionError):
        return "could not connect"
    return "the connection failed"


def unreachable_account(account_id: str, role_arn: str, caller: str, exc: ClientError) -> TargetError | None:
    """An AssumeRole refusal as what it means: the account is out of reach (None when the failure
    is not about the role, e.g. throttling: that is an ordinary, retryable error)."""
    code = error_code(exc)
    if code not in _ACCESS_DENIED | _REGION_DISABLED | {"MalformedPolicyDocument", "ValidationError",
                                                        "NoSuchEntity", "InvalidIdentityToken"}:
        return None
    said = _aws_message(exc)
    return TargetError(ACCOUNT_UNREACHABLE,
                       f"Vigil cannot assume {role_arn} ({code}{': ' + said if said else ''}), so account {account_id} "
                       "is out of reach; every other account is enforced. Check that the role exists and that its "
                       f"trust policy allows {caller} (with the external id, if the Organization names one). "
                       "Vigil tries again at every resync.",
                       recoverable=False, code=code, action="sts:AssumeRole", account=account_id)


def internal_error(target: str) -> TargetError:
    """A bug met while reconciling one target (logged with its traceback): no exception text here."""
    return TargetError(INTERNAL_ERROR, f"Vigil failed on {target} with an internal error, a bug: nothing more was done "
                                       "for this target. The operator log has the details (search for the target); "
                                       f"please report it. {RETRY_LATER}.", recoverable=False)


def or_default(call: Callable[[], T], default: T, *absent_codes: str) -> T:
    """``call()``, or ``default`` when AWS answers that the thing is not there."""
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) in absent_codes:
            return default
        raise
