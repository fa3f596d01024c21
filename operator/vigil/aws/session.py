"""Credentials and clients: the operator's own identity, a role assumed in each member account,
and a bounded cache of clients per service x account x region.

Endpoints come from the standard ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), which
botocore honours itself, so the same code talks to AWS or to the sandbox.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from .. import metrics
from ..version import VERSION
from .errors import CALL_KEY, Call, TargetError, is_throttling, unreachable_account
from .models import TrimmingLoader

# Clients are a few hundred KiB each; for 500 accounts x regions x services an unbounded cache
# would dominate the operator's memory. Least recently used clients are rebuilt on demand.
MAX_CLIENTS = 256
# botocore retries throttling, 5xx and connection errors itself (adaptive mode: exponential backoff
# with jitter, capped at 20 s a wait, plus client-side rate limiting). AWS_MAX_ATTEMPTS, the SDKs'
# own variable, overrides how many attempts a call gets.
DEFAULT_MAX_ATTEMPTS = 8
OWN_IDENTITY = "the operator's own AWS identity"


def max_attempts() -> int:
    try:
        return max(1, int(os.environ.get("AWS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)))
    except ValueError:
        return DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True)
class AccessSettings:
    role_name: str = "OrganizationAccountAccessRole"
    external_id: str | None = None
    session_duration_seconds: int = 3600
    concurrency: int = 16
    home_region: str = "us-east-1"


class AwsAccess:
    """Clients for any account of the organization, from the operator's base credentials."""

    def __init__(self, settings: AccessSettings, base: boto3.Session | None = None) -> None:
        self.settings = settings
        self._base = base or boto3.Session()
        self._base._session.register_component("data_loader", TrimmingLoader())
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": max_attempts()},  # adaptive: client-side rate limiting
            max_pool_connections=max(10, settings.concurrency),
            connect_timeout=10, read_timeout=60,
            user_agent_extra=f"vigil/{VERSION}",  # CloudTrail records it: who made a call, and which Vigil
        )
        self._lock = threading.Lock()
        self._clients: OrderedDict[tuple[str, str, str], BaseClient] = OrderedDict()
        self._sessions: dict[str, botocore.session.Session] = {}
        self._base_account: str | None = None
        self._base_arn = OWN_IDENTITY

    def base_account_id(self) -> str:
        if self._base_account is None:
            sts = self._base.client("sts", region_name=self.settings.home_region, config=self._config)
            _instrument(sts, "", self.settings.home_region, OWN_IDENTITY)
            me = sts.get_caller_identity()
            self._base_arn = f"{OWN_IDENTITY} ({me['Arn']})"
            self._base_account = me["Account"]
        return self._base_account

    def identity(self, account_id: str) -> str:
        """Who Vigil is in an account: the role it assumes there, or its own identity."""
        if account_id == self._base_account:
            return self._base_arn
        return self.role_arn(account_id)

    def role_arn(self, account_id: str) -> str:
        return f"arn:{partition(self.settings.home_region)}:iam::{account_id}:role/{self.settings.role_name}"

    def client(self, service: str, account_id: str, region: str, retries: bool = True) -> Any:
        """A cached client. ``retries=False``: one attempt only, for a create that has no client
        token, where botocore retrying a request whose answer was lost would make a second resource."""
        key = (service if retries else f"{service}!once", account_id, region)
        with self._lock:
            cached = self._clients.get(key)
            if cached is not None:
                self._clients.move_to_end(key)
                return cached
        session = self._session_for(account_id)
        config = self._config if retries else self._config.merge(Config(retries={"total_max_attempts": 1}))
        made = session.create_client(service, region_name=None if region == "global" else region, config=config)
        _instrument(made, account_id, region, self.identity(account_id))
        with self._lock:
            self._clients[key] = made
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
        return made

    def _session_for(self, account_id: str) -> botocore.session.Session:
        with self._lock:
            session = self._sessions.get(account_id)
        if session is not None:
            return session
        if account_id == self.base_account_id():
            session = self._base._session  # the operator's own account needs no role
        else:
            session = botocore.session.Session()
            # One loader for every account: service models are parsed once, not once per account.
            session.register_component("data_loader", self._base._session.get_component("data_loader"))
            # botocore refreshes these 15 minutes before expiry, so no call races the expiry.
            session._credentials = RefreshableCredentials.create_from_metadata(
                metadata=self._assume(account_id), method="sts-assume-role",
                refresh_using=lambda: self._assume(account_id))
        with self._lock:
            return self._sessions.setdefault(account_id, session)

    def _assume(self, account_id: str) -> dict[str, str]:
        """Credentials of the role in ``account_id``; a refusal is the account out of reach
        (TargetError AccountUnreachable), anything else (throttling, no answer) an ordinary error."""
        s = self.settings
        params: dict[str, Any] = {
            "RoleArn": self.role_arn(account_id),
            "RoleSessionName": "vigil",
            "DurationSeconds": s.session_duration_seconds,
        }
        if s.external_id:
            params["ExternalId"] = s.external_id
        sts = self.client("sts", self.base_account_id(), s.home_region)
        try:
            creds = sts.assume_role(**params)["Credentials"]
        except ClientError as exc:
            unreachable = unreachable_account(account_id, params["RoleArn"], self._base_arn, exc)
            if unreachable is None:
                raise
            raise unreachable from None
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

    def check_reachable(self, account_id: str) -> None:
        """Assume the role in ``account_id`` now, whatever is cached: a role deleted or no longer
        trusting Vigil leaves earlier sessions working for up to an hour, and reachability is asked
        afresh at every pass. A refusal drops the account's cached sessions and clients, so every
        control's next call there asks AWS again (and fails as the account out of reach)."""
        if account_id == self.base_account_id():
            return
        try:
            self._assume(account_id)
        except (ClientError, BotoCoreError, TargetError):
            self.forget(account_id)
            raise

    def forget(self, account_id: str) -> None:
        """Drop cached credentials and clients of an account (after its role stopped working)."""
        with self._lock:
            self._sessions.pop(account_id, None)
            for key in [k for k in self._clients if k[1] == account_id]:
                del self._clients[key]


def _instrument(client: BaseClient, account_id: str, region: str, identity: str) -> None:
    """Count every call by service, operation and outcome (ok, or the error code), and mark each
    failure with where it was made (errors.Call), so its message names the action, the account,
    the region and the identity."""
    model = client.meta.service_model
    service = model.service_name
    prefix = model.signing_name or model.endpoint_prefix  # the IAM prefix of its actions
    endpoint = client.meta.endpoint_url

    def where(operation: str) -> Call:
        return Call(prefix, operation, account_id, region, identity, endpoint)

    def after_call(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        metrics.AWS_CALLS.labels(service, model.name, error or "ok").inc()
        if error:
            parsed[CALL_KEY] = where(model.name)  # the parsed answer is the ClientError's response

    def after_error(exception: Exception, event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]  # after-call-error.<service id>.<operation>
        metrics.AWS_CALLS.labels(service, operation, type(exception).__name__).inc()
        if isinstance(exception, BotoCoreError):
            exception.vigil_call = where(operation)  # type: ignore[attr-defined]

    def response_received(parsed_response: Any = None, **_: Any) -> None:
        # Every attempt, retries included: a throttle botocore retried away is still a sign to slow down.
        error = parsed_response.get("Error", {}).get("Code") if isinstance(parsed_response, dict) else None
        if is_throttling(error):
            metrics.AWS_THROTTLES.labels(service).inc()

    client.meta.events.register("response-received", response_received)
    client.meta.events.register("after-call", after_call)
    client.meta.events.register("after-call-error", after_error)


def partition(region: str) -> str:
    """The ARN partition of a region."""
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


class AccessPool:
    """One AwsAccess per distinct access settings, shared by every object that uses them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: dict[AccessSettings, AwsAccess] = {}

    def get(self, settings: AccessSettings) -> AwsAccess:
        with self._lock:
            access = self._pool.get(settings)
            if access is None:
                access = self._pool[settings] = AwsAccess(settings)
            return access
