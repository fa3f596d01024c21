"""Credentials and clients: the operator's own identity, a role assumed in each member account,
and one client per service x region, shared by every account.

A botocore client costs milliseconds of CPU to build and a few hundred KiB to keep; one per
service x account x region would make a 1,000-account organization spend more on clients than on
calls. So clients are made per service x region only, and speak as whichever account the calling
thread names: `client(service, account, region)` returns an `AccountClient`, which sets the account
(`Speaker`, a context variable) around each call; the shared client's credentials and its error
context read it there. Every request also passes the operator-wide `CallBudget`.

Endpoints come from the standard ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), which
botocore honours itself, so the same code talks to AWS or to the sandbox.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
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
from .budget import CallBudget
from .errors import CALL_KEY, Call, TargetError, is_throttling, unreachable_account
from .models import TrimmingLoader

# botocore retries throttling, 5xx and connection errors itself (standard mode: exponential backoff
# with jitter, capped at 20 s a wait). Its adaptive mode is not used: its rate limiter is per client,
# and a client here serves every account, so one throttled account would slow all the others; the
# CallBudget paces per account instead. AWS_MAX_ATTEMPTS, the SDKs' own variable, overrides how
# many attempts a call gets.
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


@dataclass(frozen=True)
class Speaker:
    """Whom a call is made as: the account, the identity a message names, and its credentials."""

    account_id: str
    identity: str
    credentials: Any  # botocore's Credentials (refreshed by botocore before they expire)


_SPEAKER: ContextVar[Speaker] = ContextVar("vigil_aws_speaker")


class _SpeakerCredentials:
    """A shared client's credentials: those of the account the calling thread speaks as."""

    method = "vigil-speaker"

    def get_frozen_credentials(self) -> Any:
        return _SPEAKER.get().credentials.get_frozen_credentials()

    def get_deferred_property(self, name: str) -> Any:
        # Endpoint rules ask for the account ID (AWS::Auth::AccountId) only for DynamoDB, which
        # Vigil does not call; the account is not known when a shared client is made.
        return lambda: None


class AccountClient:
    """A shared client speaking as one account: its operations and paginators set the speaker
    around each request; anything else (``meta``, ``exceptions``) is the shared client's."""

    __slots__ = ("_client", "_speaker")

    def __init__(self, client: BaseClient, speaker: Speaker) -> None:
        self._client = client
        self._speaker = speaker

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._client, name)
        if name == "get_paginator":
            return lambda operation: _AccountPaginator(found(operation), self._speaker)
        if name not in self._client.meta.method_to_api_mapping:
            return found
        speaker = self._speaker

        def call(*args: Any, **kwargs: Any) -> Any:
            token = _SPEAKER.set(speaker)
            try:
                return found(*args, **kwargs)
            finally:
                _SPEAKER.reset(token)
        return call


class _AccountPaginator:
    def __init__(self, paginator: Any, speaker: Speaker) -> None:
        self._paginator = paginator
        self._speaker = speaker

    def paginate(self, **kwargs: Any) -> Iterable[dict[str, Any]]:
        return _AccountPages(self._paginator.paginate(**kwargs), self._speaker)


class _AccountPages:
    """Pages are fetched as they are iterated: the speaker is set around each fetch."""

    def __init__(self, pages: Iterable[dict[str, Any]], speaker: Speaker) -> None:
        self._pages = pages
        self._speaker = speaker

    def __iter__(self) -> Iterator[dict[str, Any]]:
        pages = iter(self._pages)
        while True:
            token = _SPEAKER.set(self._speaker)
            try:
                page = next(pages)
            except StopIteration:
                return
            finally:
                _SPEAKER.reset(token)
            yield page


class AwsAccess:
    """Clients for any account of the organization, from the operator's base credentials."""

    def __init__(self, settings: AccessSettings, base: boto3.Session | None = None,
                 budget: CallBudget | None = None) -> None:
        self.settings = settings
        self.budget = budget or CallBudget()
        self._base = base or boto3.Session()
        loader = TrimmingLoader()  # one loader: each service model is parsed once, for every client
        self._base._session.register_component("data_loader", loader)
        self._shared = botocore.session.Session()
        self._shared.register_component("data_loader", loader)
        self._shared._credentials = _SpeakerCredentials()
        self._config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts()},
            max_pool_connections=max(10, self.budget.in_flight),
            connect_timeout=10, read_timeout=60,
            user_agent_extra=f"vigil/{VERSION}",  # CloudTrail records it: who made a call, and which Vigil
        )
        self._lock = threading.Lock()
        # Bounded by services x regions x {retrying, once}: never by the number of accounts.
        self._clients: dict[tuple[str, str, bool], BaseClient] = {}
        self._speakers: dict[str, Speaker] = {}
        self._assuming: dict[str, threading.Lock] = {}
        self._base_account: str | None = None
        self._base_arn = OWN_IDENTITY

    def base_account_id(self) -> str:
        if self._base_account is None:
            sts = self._base.client("sts", region_name=self.settings.home_region, config=self._config)
            own = Speaker("", OWN_IDENTITY, self._base._session.get_credentials())
            _instrument(sts, self.settings.home_region, self.budget)
            token = _SPEAKER.set(own)
            try:
                me = sts.get_caller_identity()
            finally:
                _SPEAKER.reset(token)
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
        """A client speaking as ``account_id``. ``retries=False``: one attempt only, for a create that
        has no client token, where botocore retrying a request whose answer was lost would make a
        second resource."""
        return AccountClient(self._shared_client(service, region, retries), self._speaker(account_id))

    def _shared_client(self, service: str, region: str, retries: bool) -> BaseClient:
        key = (service, region, retries)
        with self._lock:
            found = self._clients.get(key)
        if found is not None:
            return found
        config = self._config if retries else self._config.merge(Config(retries={"total_max_attempts": 1}))
        made = self._shared.create_client(service, region_name=None if region == "global" else region,
                                          config=config)
        _instrument(made, region, self.budget)
        with self._lock:
            return self._clients.setdefault(key, made)

    def _speaker(self, account_id: str) -> Speaker:
        with self._lock:
            found = self._speakers.get(account_id)
        if found is not None:
            return found
        if account_id == self.base_account_id():
            speaker = Speaker(account_id, self._base_arn, self._base._session.get_credentials())
            with self._lock:
                return self._speakers.setdefault(account_id, speaker)
        with self._lock:
            assuming = self._assuming.setdefault(account_id, threading.Lock())
        with assuming:  # an account's targets start together: one AssumeRole for all of them
            with self._lock:
                found = self._speakers.get(account_id)
            if found is not None:
                return found
            try:
                # botocore refreshes these 15 minutes before expiry, so no call races the expiry.
                speaker = Speaker(account_id, self.role_arn(account_id), RefreshableCredentials.create_from_metadata(
                    metadata=self._assume(account_id), method="sts-assume-role",
                    refresh_using=lambda: self._assume(account_id)))
            finally:
                with self._lock:
                    self._assuming.pop(account_id, None)
            with self._lock:
                self._speakers[account_id] = speaker
            return speaker

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
        afresh at every pass. A refusal drops the account's cached credentials, so every control's
        next call there asks AWS again (and fails as the account out of reach)."""
        if account_id == self.base_account_id():
            return
        try:
            self._assume(account_id)
        except (ClientError, BotoCoreError, TargetError):
            self.forget(account_id)
            raise

    def forget(self, account_id: str) -> None:
        """Drop the cached credentials of an account (after its role stopped working)."""
        with self._lock:
            self._speakers.pop(account_id, None)


def _instrument(client: BaseClient, region: str, budget: CallBudget) -> None:
    """Pass every request through the budget; count every call by service, operation and outcome
    (ok, or the error code); and mark each failure with where it was made (errors.Call), so its
    message names the action, the account, the region and the identity."""
    model = client.meta.service_model
    service = model.service_name
    prefix = model.signing_name or model.endpoint_prefix  # the IAM prefix of its actions
    endpoint = client.meta.endpoint_url
    holding = threading.local()  # the key of the request this thread has in flight

    def where(operation: str) -> Call:
        speaker = _SPEAKER.get()
        return Call(prefix, operation, speaker.account_id, region, speaker.identity, endpoint)

    def before_send(event_name: str, **_: Any) -> None:
        key = (_SPEAKER.get().account_id, region, service, event_name.rsplit(".", 1)[-1])
        budget.enter(key)
        holding.key = key

    def response_received(parsed_response: Any = None, **_: Any) -> None:
        # Every attempt, retries included: a throttle botocore retried away is still a sign to slow down.
        error = parsed_response.get("Error", {}).get("Code") if isinstance(parsed_response, dict) else None
        throttled = is_throttling(error)
        key = getattr(holding, "key", None)
        if key is not None:
            holding.key = None
            budget.leave(key, throttled)
        if throttled:
            metrics.AWS_THROTTLES.labels(service).inc()

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

    client.meta.events.register("before-send", before_send)
    client.meta.events.register("response-received", response_received)
    client.meta.events.register("after-call", after_call)
    client.meta.events.register("after-call-error", after_error)


def partition(region: str) -> str:
    """The ARN partition of a region."""
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


class AccessPool:
    """One AwsAccess per distinct access settings, shared by every object that uses them, and one
    CallBudget shared by them all: the operator's whole budget of AWS requests."""

    def __init__(self, budget: CallBudget | None = None) -> None:
        self.budget = budget or CallBudget()
        self._lock = threading.Lock()
        self._pool: dict[AccessSettings, AwsAccess] = {}

    def get(self, settings: AccessSettings) -> AwsAccess:
        with self._lock:
            access = self._pool.get(settings)
            if access is None:
                access = self._pool[settings] = AwsAccess(settings, budget=self.budget)
            return access
