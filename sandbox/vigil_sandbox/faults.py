"""Faults the sandbox injects when asked, so tests can see how Vigil bears an unreliable AWS; and
the errors it answers in moto's place, in each protocol's own form.

A plan holds up to one fault of each kind, each limited to the requests it matches (botocore
service and operation names, as globs: ``CreateFlowLogs``, ``Create*``) and injected at a rate
drawn from one random generator seeded by the plan: the same plan and the same requests, in the
same order, give the same faults.

- throttle: the service's own throttling error (S3 503 SlowDown, EC2 503 RequestLimitExceeded,
  STS and IAM 400 Throttling, JSON services 400 ThrottlingException, ...); moto never sees the
  request, so nothing is applied;
- error: a 500 (InternalError / InternalFailure) or a 503 (ServiceUnavailable), not applied either;
  or, with ``code``, that error code at ``status`` (any 4xx or 5xx): a refusal such as a 400
  ValidationException or a 403 AccessDenied, as the service would answer it;
- delay: the answer held back ``ms`` milliseconds, after moto applied the request;
- drop: writes only (``awsserver.is_write``). moto applies the request, then the connection is
  closed without a byte of the answer, as when a response is lost on the way: botocore raises
  ConnectionClosedError and retries the same request, idempotency token included.

The plan is served on the sandbox's port under FAULTS_PATH (GET reads it with the counts of what
was injected, POST replaces it, DELETE clears it); ``Faults(endpoint)`` wraps that for any
process, ``AwsServer.faults`` is the same thing in the server's own process.
"""

from __future__ import annotations

import fnmatch
import json
import random
import re
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from xml.sax.saxutils import escape

FAULTS_PATH = "/_vigil/faults"
KINDS = ("throttle", "error", "delay", "drop")
REFUSALS = ("throttle", "error")  # answered in moto's place: the request is not applied
SERVER_ERROR_STATUSES = (500, 503)
ERROR_CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9.]{0,127}$")


# --- Domain: the plan ----------------------------------------------------------------------------


def _globs(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class Fault:
    """One kind of fault: which requests, how often, how many times at most.

    ``ms`` is the delay's length (delay only); ``status`` the error's (error only: 500 or 503, or
    with ``code``, the error code to answer, any 4xx or 5xx).
    """

    rate: float = 1.0
    operations: tuple[str, ...] = ("*",)
    services: tuple[str, ...] = ("*",)
    times: int | None = None  # None: no limit
    ms: int = 0
    status: int = 500
    code: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "operations", _globs(self.operations))
        object.__setattr__(self, "services", _globs(self.services))
        if not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, not {self.rate}")
        if self.times is not None and self.times < 0:
            raise ValueError(f"times must be 0 or more, not {self.times}")
        if self.ms < 0:
            raise ValueError(f"ms must be 0 or more, not {self.ms}")
        if self.code is not None:
            if not ERROR_CODE_PATTERN.match(self.code):
                raise ValueError(f"code must be an error code such as ValidationException, not {self.code!r}")
            if not 400 <= self.status <= 599 or self.status not in iter(HTTPStatus):
                raise ValueError(f"status must be a 4xx or 5xx with a code, not {self.status}")
        elif self.status not in SERVER_ERROR_STATUSES:
            raise ValueError(f"status must be one of {SERVER_ERROR_STATUSES} (or any 4xx or 5xx with a code), "
                             f"not {self.status}")

    def matches(self, service: str, operation: str) -> bool:
        return (any(fnmatch.fnmatchcase(service, glob) for glob in self.services)
                and any(fnmatch.fnmatchcase(operation, glob) for glob in self.operations))


# The JSON fields of a fault, by kind: ms and status mean something for one kind each.
_COMMON_FIELDS = ("rate", "operations", "services", "times")
FAULT_FIELDS = {"throttle": _COMMON_FIELDS, "error": (*_COMMON_FIELDS, "status", "code"),
                "delay": (*_COMMON_FIELDS, "ms"), "drop": _COMMON_FIELDS}


@dataclass(frozen=True)
class FaultPlan:
    """The faults to inject, and the seed of the generator that decides when."""

    seed: int = 0
    throttle: Fault | None = None
    error: Fault | None = None
    delay: Fault | None = None
    drop: Fault | None = None

    def __post_init__(self) -> None:
        for kind in KINDS:
            fault = getattr(self, kind)
            if fault is not None and kind != "delay" and fault.ms:
                raise ValueError(f"{kind}: ms is for delay only")
            if fault is not None and kind != "error" and fault.code is not None:
                raise ValueError(f"{kind}: code is for error only")
        if self.delay is not None and not self.delay.ms:
            raise ValueError("delay: ms is required")

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"seed": self.seed}
        for kind in KINDS:
            fault = getattr(self, kind)
            document[kind] = None if fault is None else fault_json(kind, fault)
        return document

    @classmethod
    def from_json(cls, document: Any) -> FaultPlan:
        """A plan from its JSON form; ValueError says what is wrong with it."""
        if not isinstance(document, dict):
            raise ValueError("a fault plan is a JSON object")
        _refuse_unknown("plan", document, ("seed", *KINDS))
        seed = document.get("seed", 0)
        if not _is_int(seed):
            raise ValueError("seed must be an integer")
        faults = {kind: _fault_from_json(kind, document[kind]) for kind in KINDS if document.get(kind) is not None}
        return cls(seed, **faults)


def fault_json(kind: str, fault: Fault) -> dict[str, Any]:
    """A fault's JSON form, with the fields of its kind."""
    fields = {name: getattr(fault, name) for name in FAULT_FIELDS[kind]}
    return {name: list(value) if isinstance(value, tuple) else value for name, value in fields.items()}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refuse_unknown(what: str, document: Mapping[str, Any], known: Sequence[str]) -> None:
    unknown = sorted(set(document) - set(known))
    if unknown:
        raise ValueError(f"{what}: unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}")


def _fault_from_json(kind: str, document: Any) -> Fault:
    if not isinstance(document, dict):
        raise ValueError(f"{kind} must be a JSON object or null")
    _refuse_unknown(kind, document, FAULT_FIELDS[kind])
    rate = document.get("rate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise ValueError(f"{kind}: rate must be a number")
    for name in ("operations", "services"):
        globs = document.get(name, ["*"])
        if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
            raise ValueError(f"{kind}: {name} must be a list of names or globs")
    for name in ("times", "ms", "status"):
        if document.get(name) is not None and not _is_int(document[name]):
            raise ValueError(f"{kind}: {name} must be an integer")
    if document.get("code") is not None and not isinstance(document["code"], str):
        raise ValueError(f"{kind}: code must be a string")
    try:
        return Fault(float(rate), tuple(document.get("operations", ["*"])), tuple(document.get("services", ["*"])),
                     document.get("times"), document.get("ms", 0), document.get("status", 500), document.get("code"))
    except ValueError as error:
        raise ValueError(f"{kind}: {error}") from None


class FaultInjector:
    """The plan in force, and the draws deciding which requests it hits (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.set(FaultPlan())

    def set(self, plan: FaultPlan) -> None:
        """Replace the plan; the generator starts again from the plan's seed, the counts from 0."""
        with self._lock:
            self._plan = plan
            self._random = random.Random(plan.seed)
            self._injected = dict.fromkeys(KINDS, 0)

    def clear(self) -> None:
        self.set(FaultPlan())

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    def injected(self) -> dict[str, int]:
        """How many faults of each kind were injected since the plan was set."""
        with self._lock:
            return dict(self._injected)

    def state(self) -> dict[str, Any]:
        """What FAULTS_PATH answers: the plan's JSON with the counts under ``injected``."""
        return {**self._plan.to_json(), "injected": self.injected()}

    def draw(self, kind: str, service: str, operation: str) -> Fault | None:
        """The fault of this kind to inject into a request, or None; counted when injected.

        A matching fault always draws, hit or not, so the sequence of draws depends only on
        the requests, not on how many times a fault was already injected.
        """
        with self._lock:
            fault = getattr(self._plan, kind)
            if fault is None or not fault.matches(service, operation):
                return None
            hit = self._random.random() < fault.rate
            if not hit or (fault.times is not None and self._injected[kind] >= fault.times):
                return None
            self._injected[kind] += 1
            return fault


# --- Wire: the errors, as each protocol's services answer them ----------------------------------

# The throttling error a protocol's services answer when botocore's model names none.
THROTTLING_BY_PROTOCOL = {
    "rest-xml": (503, "SlowDown", "Please reduce your request rate."),
    "ec2": (503, "RequestLimitExceeded", "Request limit exceeded."),
    "query": (400, "Throttling", "Rate exceeded"),
    "json": (400, "ThrottlingException", "Rate exceeded"),
    "rest-json": (429, "TooManyRequestsException", "Rate exceeded"),
}
# Error shapes a model may have for throttling, most usual first (each a code botocore retries).
THROTTLING_SHAPES = ("ThrottlingException", "TooManyRequestsException", "Throttling")


def throttling_error(model: Any) -> tuple[int, str, str]:
    """(status, code, message) of a service's throttling error: its model's own if it has one."""
    protocol = model.resolved_protocol if model is not None else "json"
    status, code, message = THROTTLING_BY_PROTOCOL.get(protocol, THROTTLING_BY_PROTOCOL["json"])
    for name in THROTTLING_SHAPES if model is not None else ():
        if name in model.shape_names:
            error = model.shape_for(name).metadata.get("error") or {}
            return error.get("httpStatusCode", status), error.get("code", name), message
    return status, code, message


def server_error(protocol: str, status: int) -> tuple[int, str, str]:
    if status == 503:
        return 503, "Unavailable" if protocol == "ec2" else "ServiceUnavailable", "Service is unable to handle request."
    code = "InternalError" if protocol in ("rest-xml", "ec2") else "InternalFailure"
    return 500, code, "We encountered an internal error. Please try again."


def error_answer(protocol: str, status: int, code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of an error in the protocol's own form."""
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "rest-xml":
        headers = [("x-amz-request-id", request_id), ("Content-Type", "application/xml")]
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
                f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>").encode()
    elif protocol == "ec2":
        headers.append(("Content-Type", "text/xml"))
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>"
                f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID>"
                "</Response>").encode()
    elif protocol == "query":
        headers.append(("Content-Type", "text/xml"))
        fault = "Sender" if status < 500 else "Receiver"
        body = (f"<ErrorResponse><Error><Type>{fault}</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
    elif protocol == "rest-json":
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
        body = json.dumps({"message": message}).encode()
    else:  # json (and the RPC v2 CBOR of a few services moto lacks)
        headers.append(("Content-Type", "application/x-amz-json-1.1"))
        body = json.dumps({"__type": code, "message": message}).encode()
    headers.append(("Content-Length", str(len(body))))
    return f"{status} {HTTPStatus(status).phrase}", headers, body


# The error a protocol's services answer when authorization denies a request, where the model
# names none: S3 403 AccessDenied; EC2 403 UnauthorizedOperation (STS DecodeAuthorizationMessage:
# "a Client.UnauthorizedOperation response (an HTTP 403 response)"); IAM and STS 403 AccessDenied;
# JSON services (KMS, CloudTrail, Logs, SSM, Organizations) 400 AccessDeniedException; REST-JSON
# services (GuardDuty, Security Hub, Access Analyzer) 403 AccessDeniedException, as their models say.
ACCESS_DENIED_BY_PROTOCOL = {
    "rest-xml": (403, "AccessDenied"),
    "ec2": (403, "UnauthorizedOperation"),
    "query": (403, "AccessDenied"),
    "json": (400, "AccessDeniedException"),
    "rest-json": (403, "AccessDeniedException"),
}
ACCESS_DENIED_SHAPES = ("AccessDeniedException", "AccessDenied")


def access_denied_answer(model: Any, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """The answer to a request authorization denies, for the service's model (or None)."""
    protocol = model.resolved_protocol if model is not None else "json"
    status, code = ACCESS_DENIED_BY_PROTOCOL.get(protocol, ACCESS_DENIED_BY_PROTOCOL["json"])
    for name in ACCESS_DENIED_SHAPES if model is not None else ():
        if name in model.shape_names:
            error = model.shape_for(name).metadata.get("error") or {}
            status, code = error.get("httpStatusCode", status), error.get("code", name)
            break
    if protocol == "ec2":  # EC2's own opening; AWS encodes the rest, the sandbox spells it out
        message = f"You are not authorized to perform this operation. {message}"
    return error_answer(protocol, status, code, message)


def refusal_answer(model: Any, kind: str, fault: Fault) -> tuple[str, list[tuple[str, str]], bytes]:
    """The answer to a request a throttle or error fault hit, for the service's model (or None)."""
    protocol = model.resolved_protocol if model is not None else "json"
    if kind == "throttle":
        status, code, message = throttling_error(model)
    elif fault.code is not None:
        status, code, message = fault.status, fault.code, f"{fault.code} (an error fault of the Vigil sandbox)"
    else:
        status, code, message = server_error(protocol, fault.status)
    return error_answer(protocol, status, code, message)


# --- Wire: the control path ----------------------------------------------------------------------


def _json_answer(start_response: Callable[..., Any], status: str, document: Any) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def serve_faults(injector: FaultInjector, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> list[bytes]:
    """GET: the plan and counts; POST: a new plan (the JSON body); DELETE: no faults."""
    method = environ["REQUEST_METHOD"]
    if method == "DELETE":
        injector.clear()
        start_response("204 No Content", [])
        return []
    if method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            injector.set(FaultPlan.from_json(json.loads(environ["wsgi.input"].read(length) or b"{}")))
        except ValueError as error:  # a JSON syntax error is one too
            return _json_answer(start_response, "400 Bad Request", {"message": str(error)})
    elif method != "GET":
        start_response("405 Method Not Allowed", [("Allow", "GET, POST, DELETE")])
        return []
    return _json_answer(start_response, "200 OK", injector.state())


class Faults:
    """The sandbox's fault injection, set over HTTP: usable from any process.

    ``Faults(endpoint).set(drop=Fault(operations=("Create*",), rate=0.5), seed=7)``; a fault may
    also be given as its JSON form (a dict).
    """

    def __init__(self, endpoint: str) -> None:
        self._url = endpoint.rstrip("/") + FAULTS_PATH
        # The sandbox is local: a proxy from the environment must not see these requests.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def set(self, plan: FaultPlan | None = None, **faults: Any) -> FaultPlan:
        """Replace the sandbox's plan with ``plan``, or with the seed and faults given by name."""
        document = (plan or FaultPlan()).to_json()
        for name, value in faults.items():
            if name not in ("seed", *KINDS):
                raise TypeError(f"unknown fault kind {name!r}; kinds: {', '.join(KINDS)}")
            document[name] = fault_json(name, value) if isinstance(value, Fault) else value
        request = urllib.request.Request(self._url, data=json.dumps(document).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(request) as response:
                return FaultPlan.from_json(_without_counts(json.load(response)))
        except urllib.error.HTTPError as refused:
            if refused.code == 400:
                raise ValueError(json.load(refused)["message"]) from None
            raise

    def clear(self) -> None:
        self._opener.open(urllib.request.Request(self._url, method="DELETE")).close()

    def plan(self) -> FaultPlan:
        return FaultPlan.from_json(_without_counts(self._state()))

    def injected(self) -> dict[str, int]:
        """How many faults of each kind the sandbox injected since the plan was set."""
        return self._state()["injected"]

    @contextmanager
    def injecting(self, plan: FaultPlan | None = None, **faults: Any) -> Iterator[Faults]:
        """The plan for the duration of a block; no faults after it."""
        self.set(plan, **faults)
        try:
            yield self
        finally:
            self.clear()

    def _state(self) -> dict[str, Any]:
        with self._opener.open(self._url) as response:
            return json.load(response)


def _without_counts(state: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in state.items() if key != "injected"}
