"""The machinery every gap shares: the Gap record, the errors, the botocore contract checks and
the moto method that runs a gap. Service modules import from here, never from the package."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.validate import ParamValidator
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import camelcase_to_underscores

from vigil_sandbox.awsserver import service_model
from vigil_sandbox.contract import SandboxContractError as SandboxContractError  # re-exported to the gaps


class AwsError(ServiceException):
    """An error as AWS answers it: ``AwsError(code, message)``, code named as in botocore's model.

    Defined here rather than raised as moto's base class, which moto would look up under a
    service named after its module ("core").
    """


Handler = Callable[[Any, dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class Gap:
    """One operation the sandbox takes over from moto; docs/testing.md has the long story."""

    service: str
    operation: str
    kind: Literal["guard", "fix", "addition"]
    response_class: type[BaseResponse]
    handler: Handler
    moto: str  # what moto lacks or gets wrong
    sandbox: str  # what the gap does instead

    @property
    def method(self) -> str:
        """The response-class method moto dispatches the operation to."""
        return camelcase_to_underscores(self.operation)


def _operation_model(gap: Gap) -> Any:
    model = service_model(gap.service)
    assert model is not None, gap.service
    return model.operation_model(gap.operation)


def _plain(value: Any) -> Any:
    """moto's parsers return mapping types the botocore validator does not take as dicts."""
    if hasattr(value, "items"):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _request_params(response: BaseResponse, gap: Gap) -> dict[str, Any]:
    protocol = service_model(gap.service).protocol  # type: ignore[union-attr]
    if protocol == "json":
        return json.loads(response.body or "{}")
    if protocol == "rest-xml":  # the S3 gaps address a bucket and nothing else
        params = {"Bucket": response.bucket_name}
        owner = response.headers.get("x-amz-expected-bucket-owner")
        return {**params, "ExpectedBucketOwner": owner} if owner else params
    response.parse_parameters(response.normalized_request)
    return _plain(response.params)


def check_request(gap: Gap, params: dict[str, Any]) -> None:
    report = ParamValidator().validate(params, _operation_model(gap).input_shape)
    if report.has_errors():
        raise AwsError(
            "ValidationException",
            f"vigil-sandbox: {gap.operation} request does not match botocore's input shape: "
            f"{report.generate_report()}",
        )


def check_response(gap: Gap, result: dict[str, Any]) -> None:
    shape = _operation_model(gap).output_shape
    if shape is None:
        if result:
            raise SandboxContractError(
                f"{gap.operation} has no output; the gap answered {result!r}"
            )
        return
    report = ParamValidator().validate(result, shape)
    if report.has_errors():
        raise SandboxContractError(
            f"{gap.operation} answer does not match botocore's output shape: "
            f"{report.generate_report()}"
        )


def with_client_token(backend: Any, operation: str, params: dict[str, Any], token_field: str,
                      create: Callable[[], dict[str, Any]], mismatch: AwsError) -> dict[str, Any]:
    """A create made idempotent as AWS makes it by a client token: the same token with the same
    request gets the first answer again and creates nothing; with another request, ``mismatch``.

    moto ignores client tokens, so a retried create (botocore resends a request whose answer was
    lost with the same token) made a second resource. The answers are kept on moto's backend
    object of the account and region: moto's reset replaces the object's __dict__, and them with it.
    """
    token = params.get(token_field)
    if not token:
        return create()
    request = {name: value for name, value in params.items() if name != token_field}
    answers = backend.__dict__.setdefault("_vigil_client_tokens", {})
    if (operation, token) in answers:
        first_request, answer = answers[(operation, token)]
        if first_request != request:
            raise mismatch
        return copy.deepcopy(answer)
    answer = create()
    answers[(operation, token)] = (copy.deepcopy(request), copy.deepcopy(answer))
    return answer


def gap_method(gap: Gap, moto_method: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def method(self: BaseResponse) -> Any:
        params = _request_params(self, gap)
        check_request(gap, params)
        result = gap.handler(self, params)
        if gap.kind == "guard":
            assert moto_method is not None
            return moto_method(self)
        assert result is not None
        check_response(gap, result)
        return self.serialized(ActionResult(result))

    method.__name__ = gap.method
    method.__qualname__ = f"{gap.response_class.__name__}.{gap.method}"
    return method
