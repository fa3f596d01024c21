"""Credentials and clients: the operator's own identity, a role assumed in each member account,
and a bounded cache of clients per service x account x region.

Endpoints come from the standard ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), which
botocore honours itself, so the same code talks to AWS or to the sandbox.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import RefreshableCredentials

from .. import metrics
from .models import TrimmingLoader

# Clients are a few hundred KiB each; for 500 accounts x regions x services an unbounded cache
# would dominate the operator's memory. Least recently used clients are rebuilt on demand.
MAX_CLIENTS = 256


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
            retries={"mode": "adaptive", "max_attempts": 8},  # adaptive: client-side rate limiting
            max_pool_connections=max(10, settings.concurrency),
            connect_timeout=10, read_timeout=60,
            user_agent_extra="vigil/0.1",
        )
        self._lock = threading.Lock()
        self._clients: OrderedDict[tuple[str, str, str], BaseClient] = OrderedDict()
        self._sessions: dict[str, botocore.session.Session] = {}
        self._base_account: str | None = None

    def base_account_id(self) -> str:
        if self._base_account is None:
            sts = self._base.client("sts", region_name=self.settings.home_region, config=self._config)
            _count(sts)
            self._base_account = sts.get_caller_identity()["Account"]
        return self._base_account

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
        _count(made)
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
        s = self.settings
        params: dict[str, Any] = {
            "RoleArn": f"arn:aws:iam::{account_id}:role/{s.role_name}",
            "RoleSessionName": "vigil",
            "DurationSeconds": s.session_duration_seconds,
        }
        if s.external_id:
            params["ExternalId"] = s.external_id
        sts = self.client("sts", self.base_account_id(), s.home_region)
        creds = sts.assume_role(**params)["Credentials"]
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

    def check_reachable(self, account_id: str) -> None:
        """Fail with the AWS error if the role in ``account_id`` cannot be assumed."""
        session = self._session_for(account_id)
        if account_id != self.base_account_id():
            creds = session.get_credentials()
            creds.get_frozen_credentials()  # refreshes (assumes the role) when due

    def forget(self, account_id: str) -> None:
        """Drop cached credentials and clients of an account (after its role stopped working)."""
        with self._lock:
            self._sessions.pop(account_id, None)
            for key in [k for k in self._clients if k[1] == account_id]:
                del self._clients[key]


def _count(client: BaseClient) -> None:
    """Count every call by service, operation and outcome (ok, or the error code)."""
    service = client.meta.service_model.service_name

    def after_call(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        metrics.AWS_CALLS.labels(service, model.name, error or "ok").inc()

    def after_error(model: Any, exception: Exception, **_: Any) -> None:
        metrics.AWS_CALLS.labels(service, model.name, type(exception).__name__).inc()

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
