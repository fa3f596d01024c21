"""The moto server, run in-process, behind a recorder of every AWS call it answers.

Tests ask which AWS operations Vigil called, in which account and region, and which of them
could have changed something. The recorder answers with botocore operation names
("PutBucketEncryption", not "PUT /bucket?encryption"), so assertions read like the SDK calls.

The record is served on the same port under CALLS_PATH, a path no AWS service uses:
GET returns the calls as a JSON list (``?since=<index>`` for the newer ones), DELETE clears it.
Each call says whether Vigil made it (its User-Agent names ``vigil/``, which vigil.aws.session
adds) or a test's own client did. What was ever called, by whom and in which account, outlives
the clears, under SEEN_PATH: checks that span a whole test module (the IAM coverage check of
tests/e2e) read it at the end, whatever the tests cleared on the way.
Faults to inject (vigil_sandbox.faults) are set under FAULTS_PATH; the record says which hit a call.
The organization's service and resource control policies (vigil_sandbox.organization_policies)
are applied to every request before moto sees it; the record says which denied a call. With rate
limits on (vigil_sandbox.rate_limits), a request beyond AWS's rate is answered with the service's
throttling error first; the record marks it throttled.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from ipaddress import ip_address
from typing import Any, NoReturn
from urllib.parse import parse_qs, parse_qsl, urlsplit

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel, ServiceModel
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import create_backend_app

from vigil_sandbox import moto_costs, s3_batch_delete
from vigil_sandbox.contract import SandboxContractError
from vigil_sandbox.faults import (
    FAULTS_PATH,
    REFUSALS,
    FaultInjector,
    access_denied_answer,
    error_answer,
    refusal_answer,
    serve_faults,
    throttling_error,
)
from vigil_sandbox.faults import Faults as Faults  # beside CallLog, for the sandbox's users
from vigil_sandbox.http_keepalive import KeepAliveRequestHandler, KeepAliveServer
from vigil_sandbox.organization_policies import Decision, evaluate
from vigil_sandbox.rate_limits import RateLimits
from vigil_sandbox.rate_limits import Request as RateLimited
from vigil_sandbox.request_context import WireRequest

CALLS_PATH = "/_vigil/calls"
SEEN_PATH = "/_vigil/calls/seen"
VIGIL_USER_AGENT = "vigil/"  # in the User-Agent of every request Vigil's clients send
UNKNOWN_OPERATION = "Unknown"
log = logging.getLogger("vigil_sandbox")

READ_PREFIXES = ("Describe", "Get", "List", "Head", "Lookup", "Search", "BatchGet")
AUTH_OPERATIONS = frozenset(
    {"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetCallerIdentity"}
)


def is_write(operation: str) -> bool:
    """Whether an operation may change AWS state: reads and authentication do not.

    An operation the recorder could not name counts as a write, so that "Vigil wrote nothing"
    can never pass by accident.
    """
    return not (operation.startswith(READ_PREFIXES) or operation in AUTH_OPERATIONS)


@dataclass(frozen=True)
class AwsCall:
    """One AWS request the sandbox answered."""

    index: int
    account: str
    service: str  # botocore's service name, as in boto3.client(service)
    operation: str  # botocore's operation name
    region: str
    write: bool
    status: int  # HTTP status of the answer (moto's, for a dropped one)
    # The fault injected (vigil_sandbox.faults): "throttle" or "error" (answered in moto's place,
    # not applied), "drop" (applied, the answer never sent), "delay", or None.
    fault: str | None = None
    # What denied it (vigil_sandbox.organization_policies): "service control policy p-... (name)",
    # "resource control policy p-... (name)", "service control policy: none allows <action> at <target>",
    # or None. A denied call was answered in moto's place and not applied; of a DeleteObjects, only
    # the denied objects were refused (AccessDenied in its Errors) and the others deleted.
    denied: str | None = None
    by_vigil: bool = False  # Vigil made it, not a test's own client
    # Beyond AWS's rate for it (vigil_sandbox.rate_limits): answered with the service's throttling
    # error in moto's place, not applied.
    throttled: bool = False

    @property
    def dropped(self) -> bool:
        """moto applied the request, and the client got no answer."""
        return self.fault == "drop"


@dataclass(frozen=True, order=True)
class SeenOperation:
    """An operation called in an account at least once since the sandbox started, and by whom."""

    account: str
    service: str
    operation: str
    by_vigil: bool


class CallRecorder:
    """The calls answered since the last reset, in the order they completed; and every operation
    seen since the start, which a reset keeps."""

    def __init__(self) -> None:
        self._calls: list[AwsCall] = []
        self._seen: set[SeenOperation] = set()
        self._lock = threading.Lock()

    def record(
        self, account: str, service: str, operation: str, region: str, status: int, fault: str | None = None,
        denied: str | None = None, by_vigil: bool = False, throttled: bool = False,
    ) -> None:
        with self._lock:
            call = AwsCall(
                len(self._calls), account, service, operation, region, is_write(operation), status, fault, denied,
                by_vigil, throttled,
            )
            self._calls.append(call)
            self._seen.add(SeenOperation(account, service, operation, by_vigil))

    def calls(self, since: int = 0) -> list[AwsCall]:
        with self._lock:
            return self._calls[since:]

    def seen(self) -> list[SeenOperation]:
        with self._lock:
            return sorted(self._seen)

    def reset(self) -> None:
        with self._lock:
            self._calls = []


# --- Naming the operation of a request -------------------------------------------------------

# Signing names (the service in a SigV4 credential scope) that are not botocore service names.
SERVICE_BY_SIGNING_NAME = {
    "access-analyzer": "accessanalyzer",
    "email": "ses",
    "execute-api": "apigateway",
    "monitoring": "cloudwatch",
    "states": "stepfunctions",
}

_SIGV4_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_RPC_V2_PATH = re.compile(r"^/service/[^/]+/operation/([^/?]+)$")
_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class _RestRoute:
    """One operation of a REST protocol service, as its request URI and required inputs."""

    operation: str
    method: str
    path: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]  # key, and its value when the URI fixes it
    headers: tuple[str, ...]  # lower-case names of required header inputs
    rank: tuple[int, int, int]

    def matches(
        self, method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
    ) -> bool:
        return (
            method == self.method
            and self.path.match(path) is not None
            and all(
                key in query and (value is None or value in query[key])
                for key, value in self.query
            )
            and all(name in headers for name in self.headers)
        )


@functools.cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def service_model(service: str) -> ServiceModel | None:
    """botocore's model of a service, or None for a name botocore does not know."""
    try:
        return _botocore_session().get_service_model(service)
    except UnknownServiceError:
        return None


def _rest_route(operation: OperationModel) -> _RestRoute:
    path_template, _, query_template = operation.http["requestUri"].partition("?")
    fixed_query = parse_qsl(query_template, keep_blank_values=True)
    query = [(key, value or None) for key, value in fixed_query]
    headers = []
    shape = operation.input_shape
    for name in shape.required_members if shape else ():
        location = shape.members[name].serialization.get("location")
        wire_name = shape.members[name].serialization.get("name", name)
        if location == "querystring":
            query.append((wire_name, None))
        elif location == "header":
            headers.append(wire_name.lower())

    pattern, literal_chars, position = "^", 0, 0
    for label in _LABEL.finditer(path_template):
        literal = path_template[position : label.start()]
        pattern += re.escape(literal) + (".+" if label.group(1).endswith("+") else "[^/]+")
        literal_chars += len(literal)
        position = label.end()
    pattern += re.escape(path_template[position:]).rstrip("/") + "/?$"
    literal_chars += len(path_template[position:])

    # The most constrained route wins: "?encryption" beats plain "/{Bucket}", and a literal
    # path beats a label. Deprecated twins (PutBucketLifecycle) lose to their successors.
    rank = (len(query) + len(headers), literal_chars, 0 if operation.deprecated else 1)
    return _RestRoute(
        operation.name,
        operation.http["method"],
        re.compile(pattern),
        tuple(query),
        tuple(headers),
        rank,
    )


@functools.cache
def _rest_routes(service: str) -> tuple[_RestRoute, ...]:
    model = service_model(service)
    if model is None:
        return ()
    routes = (_rest_route(model.operation_model(name)) for name in model.operation_names)
    return tuple(sorted(routes, key=lambda route: route.rank, reverse=True))


def _s3_bucket_in_host(host: str) -> str | None:
    """The bucket of a virtual-hosted-style S3 request (bucket.s3.region.amazonaws.com)."""
    hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        ip_address(hostname.strip("[]"))
        return None
    except ValueError:
        pass
    for marker in (".s3.", ".s3-"):
        bucket, found, _ = hostname.partition(marker)
        if found and bucket:
            return bucket
    if hostname.endswith(".localhost"):
        return hostname.removesuffix(".localhost")
    return None


def operation_for(
    service: str,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, list[str]],
    headers: Mapping[str, str],
) -> str:
    """The botocore operation a request calls.

    ``params`` holds the query string and, for query-protocol services, the form body;
    ``headers`` has lower-case names.
    """
    target = headers.get("x-amz-target")
    if target:  # JSON protocols
        return target.rsplit(".", 1)[-1]
    if params.get("Action"):  # query and EC2 protocols
        return params["Action"][0]
    rpc_v2 = _RPC_V2_PATH.match(path)
    if rpc_v2:  # smithy RPC v2 (CloudWatch)
        return rpc_v2.group(1)
    if service == "s3":
        bucket = _s3_bucket_in_host(host)
        if bucket:
            path = f"/{bucket}{path}"
    for route in _rest_routes(service):
        if route.matches(method, path, params, headers):
            return route.operation
    return UNKNOWN_OPERATION


@dataclass(frozen=True)
class _AwsRequest:
    account: str
    service: str
    operation: str
    region: str
    access_key: str
    method: str
    path: str  # decoded; for S3 always path-style: /bucket/key
    params: Mapping[str, list[str]]
    headers: Mapping[str, str]

    @property
    def by_vigil(self) -> bool:
        return VIGIL_USER_AGENT in self.headers.get("user-agent", "")

    def rate_limited(self) -> RateLimited:
        """What the request is counted by against AWS's rates. S3 counts its GETs and HEADs as
        reads, whatever the operation's name (a GetBucketPolicy is a GET, a HeadBucket a HEAD)."""
        if self.service == "s3":
            bucket = self.path.split("/", 2)[1] or None
            return RateLimited(self.account, self.region, self.service, self.operation,
                               self.method not in ("GET", "HEAD"), bucket)
        return RateLimited(self.account, self.region, self.service, self.operation, is_write(self.operation))

    def wire(self, environ: dict[str, Any]) -> WireRequest:
        return WireRequest(self.account, self.service, self.operation, self.region, self.access_key, self.method,
                           self.path, self.params, self.headers, lambda: _request_body(environ))


def _credential_scope(
    environ: dict[str, Any], query: Mapping[str, list[str]]
) -> tuple[str, ...] | None:
    """(access key, region, signing name) from a SigV4 header or a presigned URL."""
    signed = _SIGV4_CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if signed:
        return signed.groups()
    presigned = query.get("X-Amz-Credential", [""])[0].split("/")
    if len(presigned) == 5:
        return presigned[0], presigned[2], presigned[3]
    return None


def _account_for(access_key: str, headers: Mapping[str, str]) -> str:
    """The account moto acts in for a request, decided the way moto's BaseResponse does."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if "x-moto-account-id" in headers:
        return headers["x-moto-account-id"]
    return moto_costs.account_of_key(access_key)


def _request_body(environ: dict[str, Any]) -> bytes:
    """The request's body, read once without consuming it for moto."""
    if "vigil.body" not in environ:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["vigil.body"] = body
    return environ["vigil.body"]


def _replace_body(environ: dict[str, Any], body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["vigil.body"] = body
    environ["CONTENT_LENGTH"] = str(len(body))
    # The checksums the client computed are of the body it sent.
    for name in [n for n in environ if n == "HTTP_CONTENT_MD5" or n.startswith("HTTP_X_AMZ_CHECKSUM_")]:
        del environ[name]


def _form_body(environ: dict[str, Any]) -> str:
    """A url-encoded body, read without consuming it for moto."""
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return ""
    return _request_body(environ).decode("utf-8")


def _raw_path(environ: dict[str, Any]) -> str:
    """The request's path as sent, still percent-encoded: an ARN in a URI label (GuardDuty's
    TagResource, /tags/arn%3Aaws%3A...detector%2F...) keeps its slashes inside the label, where the
    decoded PATH_INFO would split it into more segments than the route has."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    return urlsplit(raw).path if raw.startswith(("http://", "https://")) else raw.split("?", 1)[0]


def _identify(environ: dict[str, Any]) -> _AwsRequest | None:
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    scope = _credential_scope(environ, query)
    if scope is None:
        return None  # not an AWS SDK request (moto's own API, a browser)
    access_key, region, signing_name = scope
    service = SERVICE_BY_SIGNING_NAME.get(signing_name, signing_name)
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    params = {**query}
    if "Action" not in params and "x-amz-target" not in headers:
        params.update(parse_qs(_form_body(environ), keep_blank_values=True))
    path = environ.get("PATH_INFO", "/")
    operation = operation_for(service, environ["REQUEST_METHOD"], environ.get("HTTP_HOST", ""),
                              _raw_path(environ) or path, params, headers)
    path = path.encode("latin-1", "replace").decode("utf-8", "replace")  # WSGI's PATH_INFO is bytes as latin-1
    if service == "s3":
        bucket = _s3_bucket_in_host(environ.get("HTTP_HOST", ""))
        path = f"/{bucket}{path}" if bucket else path
    return _AwsRequest(_account_for(access_key, headers), service, operation, region, access_key,
                       environ["REQUEST_METHOD"], path, params, headers)


# --- The WSGI layer and the server -----------------------------------------------------------


class RecordingApp:
    """WSGI middleware: records each AWS request moto answers, and serves the record; throttles
    the requests beyond AWS's rates when ``rate_limits`` is set; injects the faults of its
    FaultInjector, and serves their plan; answers the requests the organization's SCPs and RCPs deny."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], recorder: CallRecorder, faults: FaultInjector | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        self._app = app
        self._recorder = recorder
        self._faults = faults or FaultInjector()
        self.rate_limits = rate_limits

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CALLS_PATH:
            return self._serve_record(environ, start_response)
        if environ.get("PATH_INFO") == SEEN_PATH:
            return _json_answer(start_response, [asdict(seen) for seen in self._recorder.seen()])
        if environ.get("PATH_INFO") == FAULTS_PATH:
            return serve_faults(self._faults, environ, start_response)
        request = _identify(environ)
        if request is None:
            return self._app(environ, start_response)
        limits = self.rate_limits
        if limits is not None and not limits.admit(request.rate_limited()):
            return self._throttle(request, start_response)
        refused = self._refuse(request, start_response)
        if refused is not None:
            return refused
        denied = self._deny(request, environ, start_response)
        if denied is not None:
            return denied
        return self._answer(request, environ, start_response)

    def _throttle(self, request: _AwsRequest, start_response: Callable[..., Any]) -> list[bytes]:
        """The service's throttling error, as AWS answers a request beyond its rate."""
        model = service_model(request.service)
        status, code, message = throttling_error(model)
        line, headers, body = error_answer(model.resolved_protocol if model is not None else "json",
                                           status, code, message)
        self._record(request, status, None, throttled=True)
        start_response(line, headers)
        return [b""] if request.method == "HEAD" else [body]

    def _refuse(self, request: _AwsRequest, start_response: Callable[..., Any]) -> list[bytes] | None:
        """A throttling or server error drawn for the request, answered in moto's place."""
        for kind in REFUSALS:
            fault = self._faults.draw(kind, request.service, request.operation)
            if fault is not None:
                status, headers, body = refusal_answer(service_model(request.service), kind, fault)
                self._delay(request)
                self._record(request, int(status.split(" ", 1)[0]), kind)
                start_response(status, headers)
                return [body]
        return None

    def _deny(
        self, request: _AwsRequest, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes] | None:
        """AWS's access-denied error for a request the organization's policies deny, answered in
        moto's place; None to let moto answer."""
        model = service_model(request.service)
        try:
            decision = evaluate(request.wire(environ))
        except SandboxContractError as error:
            # A bug to fix in the sandbox, never an answer AWS gives: a 500 that says why.
            log.error("vigil-sandbox contract error on %s %s: %s", request.service, request.operation, error)
            protocol = model.resolved_protocol if model is not None else "json"
            status, headers, body = error_answer(protocol, 500, "SandboxContractError", str(error))
            self._record(request, 500, None)
            start_response(status, headers)
            return [body]
        if decision is None or decision.denied is None:
            return None
        if request.service == "s3" and request.operation == "DeleteObjects":
            return self._delete_in_part(request, environ, start_response, decision)
        status, headers, body = access_denied_answer(model, decision.denied.message)
        self._record(request, int(status.split(" ", 1)[0]), None, decision.denied.label)
        start_response(status, headers)
        return [b""] if request.method == "HEAD" else [body]

    def _delete_in_part(
        self, request: _AwsRequest, environ: dict[str, Any], start_response: Callable[..., Any], decision: Decision
    ) -> Iterable[bytes]:
        """DeleteObjects as S3 authorizes it: moto deletes the allowed objects, the denied ones
        come back in the result's Errors (vigil_sandbox.s3_batch_delete)."""
        body = _request_body(environ)
        objects = s3_batch_delete.entries(body)
        denied = [(*objects[i], d.message) for i, d in enumerate(decision.denials) if d is not None]
        kept = {i for i, d in enumerate(decision.denials) if d is None}
        label = decision.denied.label if decision.denied else None
        if not kept:
            result = s3_batch_delete.with_errors(None, denied)
            self._record(request, 200, None, label)
            start_response("200 OK", [("Content-Type", "application/xml"), ("Content-Length", str(len(result)))])
            return [result]
        _replace_body(environ, s3_batch_delete.keeping(body, kept))
        answered: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
            answered.append((status, list(headers)))
            return lambda _: None

        answer = self._answer(request, environ, capture, label)
        try:
            result = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        status, headers = answered[-1]
        if status.startswith("200"):
            result = s3_batch_delete.with_errors(result, denied)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(result)))])
        return [result]

    def _answer(
        self, request: _AwsRequest, environ: dict[str, Any], start_response: Callable[..., Any],
        denied: str | None = None,
    ) -> Iterable[bytes]:
        """moto's answer, delayed or dropped as the faults draw."""
        statuses: list[int] = []
        fault: str | None = None

        def recording_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        try:
            answer = self._app(environ, recording_start_response)
            fault = "delay" if self._delay(request) else None
            if is_write(request.operation) and self._faults.draw("drop", request.service, request.operation):
                fault = "drop"
                _drop(answer, environ)
            return answer
        finally:
            # An exception escaping moto becomes a 500 from the server, so record it as one.
            self._record(request, statuses[-1] if statuses else 500, fault, denied)

    def _delay(self, request: _AwsRequest) -> bool:
        fault = self._faults.draw("delay", request.service, request.operation)
        if fault is not None:
            time.sleep(fault.ms / 1000)
        return fault is not None

    def _record(self, request: _AwsRequest, status: int, fault: str | None, denied: str | None = None,
                throttled: bool = False) -> None:
        self._recorder.record(request.account, request.service, request.operation, request.region, status, fault,
                              denied, request.by_vigil, throttled)

    def _serve_record(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        if method == "DELETE":
            self._recorder.reset()
            start_response("204 No Content", [])
            return []
        if method != "GET":
            start_response("405 Method Not Allowed", [("Allow", "GET, DELETE")])
            return []
        query = parse_qs(environ.get("QUERY_STRING", ""))
        since = int(query.get("since", ["0"])[0])
        return _json_answer(start_response, [asdict(call) for call in self._recorder.calls(since)])


def _json_answer(start_response: Callable[..., Any], document: Any) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _drop(answer: Iterable[bytes], environ: dict[str, Any]) -> NoReturn:
    """Lose moto's answer: close the connection before a byte of it is sent, as when a response
    is lost on the way. The client reads the end of the stream where a status line should be."""
    close = getattr(answer, "close", None)
    if close is not None:
        close()
    environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
    # werkzeug takes a ConnectionError for a client gone away: nothing is sent, nothing logged.
    raise ConnectionAbortedError("vigil-sandbox: answer dropped by a fault")


class _QuietRequestHandler(KeepAliveRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # One access-log line per AWS call drowns test output; the recorder keeps them instead.
        # Errors still go through log_error.
        pass


@dataclass
class AwsServer:
    """A running moto server with its call recorder."""

    host: str
    port: int
    recorder: CallRecorder
    faults: FaultInjector
    _app: RecordingApp
    _server: KeepAliveServer
    _thread: threading.Thread

    def limit_rates(self, limits: RateLimits | None) -> None:
        """Throttle requests beyond AWS's rates from now on (vigil_sandbox.rate_limits); None: never."""
        self._app.rate_limits = limits

    @property
    def endpoint(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()


def reset_aws_state() -> None:
    """Forget every account, resource and id moto holds in this process."""
    moto_api_backend.reset()


def start_aws_server(host: str = "127.0.0.1", port: int = 0, rate_limits: RateLimits | None = None) -> AwsServer:
    """Serve moto on host:port (0 picks a free port) in a background thread of this process.

    Moto's state lives in this process, so code here (gaps, seeding, tests) can reach it; a
    second server in the same process serves the same state, with a record of its own.
    """
    moto_costs.cut()
    recorder, faults = CallRecorder(), FaultInjector()
    app = RecordingApp(moto_costs.HostDispatcher(create_backend_app), recorder, faults, rate_limits)
    server = KeepAliveServer(host, port, app, _QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="vigil-aws-sandbox", daemon=True)
    thread.start()
    return AwsServer(host, server.server_port, recorder, faults, app, server, thread)


class CallLog:
    """The sandbox's call record, read over HTTP: usable from any process."""

    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._url = self._endpoint + CALLS_PATH
        # The sandbox is local: a proxy from the environment must not see these requests.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def reset(self) -> None:
        self._opener.open(urllib.request.Request(self._url, method="DELETE")).close()

    def calls(self, since: int = 0) -> list[AwsCall]:
        with self._opener.open(f"{self._url}?since={since}") as response:
            return [AwsCall(**call) for call in json.load(response)]

    def seen(self) -> list[SeenOperation]:
        """Every operation called in each account since the sandbox started, resets or not."""
        with self._opener.open(self._endpoint + SEEN_PATH) as response:
            return [SeenOperation(**seen) for seen in json.load(response)]

    def writes(self, since: int = 0) -> list[AwsCall]:
        return [call for call in self.calls(since) if call.write]

    def denied(self, since: int = 0) -> list[AwsCall]:
        """The calls the organization's SCPs or RCPs denied (``call.denied`` says which policy)."""
        return [call for call in self.calls(since) if call.denied is not None]

    def throttled(self, since: int = 0) -> list[AwsCall]:
        """The calls answered with a throttling error for going beyond AWS's rate."""
        return [call for call in self.calls(since) if call.throttled]
