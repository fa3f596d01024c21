"""AWS errors, sorted the way a user acts on them: fix access, wait, or read the message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..conditions import ACCESS_DENIED, AWS_ERROR, THROTTLED

T = TypeVar("T")

_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
                  "InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException",
                  "AWSOrganizationsNotInUseException", "InsufficientPermissionsException"}
_THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
              "SlowDown", "ProvisionedThroughputExceededException", "RequestThrottled"}


@dataclass(frozen=True)
class TargetError(Exception):
    """Why one target could not be reconciled: a status.failures entry."""

    reason: str  # AccessDenied | Throttled | AWSError | ...
    message: str
    recoverable: bool = True

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_code(exc: BaseException, *codes: str) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in codes


def classify(exc: BaseException) -> TargetError:
    """Turn a boto error into a TargetError. Access problems are terminal until someone fixes IAM;
    throttling and transport errors are worth retrying at the next resync."""
    if isinstance(exc, TargetError):
        return exc
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        operation = getattr(exc, "operation_name", "")
        text = f"{operation}: {code}: {message}" if operation else f"{code}: {message}"
        if code in _ACCESS_DENIED:
            return TargetError(ACCESS_DENIED, text, recoverable=False)
        if code in _THROTTLED:
            return TargetError(THROTTLED, text)
        return TargetError(AWS_ERROR, text, recoverable=code.startswith("Internal") or code == "ServiceUnavailable")
    if isinstance(exc, BotoCoreError):
        return TargetError(AWS_ERROR, f"{type(exc).__name__}: {exc}")
    raise exc


def or_default(call: Callable[[], T], default: T, *absent_codes: str) -> T:
    """``call()``, or ``default`` when AWS answers that the thing is not there."""
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) in absent_codes:
            return default
        raise
