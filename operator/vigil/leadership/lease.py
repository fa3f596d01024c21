"""The Lease: its record (pure) and its API (aiohttp with kopf's login, never the kubernetes client).

The record is client-go's ``LeaderElectionRecord`` as a ``coordination.k8s.io/v1`` Lease spec:
holder, lease duration, acquire and renew times (MicroTime), transitions. Writes are optimistic:
an update carries the ``resourceVersion`` it read, and a rival's write in between is a 409.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Protocol

from ..kube_api import CONNECTION_ERRORS, ApiConnection, Login

API = "coordination.k8s.io/v1"


@dataclass(frozen=True)
class LeaseRecord:
    holder: str = ""
    duration_seconds: int = 0
    acquire_time: str = ""
    renew_time: str = ""
    transitions: int = 0

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> "LeaseRecord":
        return cls(holder=spec.get("holderIdentity") or "", duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
                   acquire_time=spec.get("acquireTime") or "", renew_time=spec.get("renewTime") or "",
                   transitions=int(spec.get("leaseTransitions") or 0))

    def to_spec(self) -> dict[str, Any]:
        return {"holderIdentity": self.holder, "leaseDurationSeconds": self.duration_seconds,
                "acquireTime": self.acquire_time or None, "renewTime": self.renew_time or None,
                "leaseTransitions": self.transitions}

    @classmethod
    def first(cls, identity: str, duration_seconds: int, now: str) -> "LeaseRecord":
        return cls(identity, duration_seconds, now, now, 0)

    def taken_by(self, identity: str, duration_seconds: int, now: str) -> "LeaseRecord":
        """The record after ``identity`` acquires or renews at ``now``: as in client-go, each
        acquisition by another than the holder is a transition (from a released Lease too)."""
        if self.holder == identity:
            return replace(self, duration_seconds=duration_seconds, renew_time=now)
        return LeaseRecord(identity, duration_seconds, now, now, self.transitions + 1)

    def released(self, now: str) -> "LeaseRecord":
        """As client-go's ReleaseOnCancel leaves it: no holder, a one-second duration."""
        return LeaseRecord("", 1, now, now, self.transitions)


def micro_time(now: datetime | None = None) -> str:
    """Kubernetes' MicroTime: RFC 3339 with microseconds, in UTC."""
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class StoredLease:
    record: LeaseRecord
    version: str  # metadata.resourceVersion: an update is refused (409) if the Lease moved since


class LeaseConflict(Exception):
    """Someone else wrote the Lease since it was read (409), or created it first."""


class LeaseUnavailable(Exception):
    """The API server could not be reached or refused the request (not a conflict)."""


class LeaseStore(Protocol):
    async def get(self, timeout: float) -> StoredLease | None: ...
    async def create(self, record: LeaseRecord, timeout: float) -> StoredLease: ...
    async def update(self, record: LeaseRecord, version: str, timeout: float) -> StoredLease: ...


class LeaseApi:
    """One Lease, read and written with kopf's credentials (a service account or the kubeconfig)."""

    def __init__(self, namespace: str, name: str, login: Login | None = None) -> None:
        self.namespace, self.name = namespace, name
        self._api = ApiConnection(login, limit=2)

    def _path(self, named: bool = True) -> str:
        base = f"/apis/{API}/namespaces/{self.namespace}/leases"
        return f"{base}/{self.name}" if named else base

    async def close(self) -> None:
        await self._api.close()

    async def _request(self, method: str, timeout: float, body: dict[str, Any] | None = None,
                       named: bool = True) -> tuple[int, dict[str, Any]]:
        try:
            status, answer = await self._api.request(method, self._path(named), timeout, body)
        except LookupError as exc:
            raise LeaseUnavailable(str(exc)) from exc
        except CONNECTION_ERRORS as exc:  # a broken or blackholed connection: dialled again next time
            raise LeaseUnavailable(f"{method} lease {self.namespace}/{self.name}: {type(exc).__name__}: {exc}") from exc
        if status == 409:
            raise LeaseConflict(f"{method} lease {self.namespace}/{self.name}: {answer.get('message', 'conflict')}")
        if status >= 400 and status != 404:
            raise LeaseUnavailable(f"{method} lease {self.namespace}/{self.name}: {status} "
                                   f"{answer.get('message', '') if isinstance(answer, dict) else ''}")
        return status, answer if isinstance(answer, dict) else {}

    async def get(self, timeout: float) -> StoredLease | None:
        status, answer = await self._request("GET", timeout)
        return None if status == 404 else _stored(answer)

    async def create(self, record: LeaseRecord, timeout: float) -> StoredLease:
        body = {"apiVersion": API, "kind": "Lease", "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": record.to_spec()}
        status, answer = await self._request("POST", timeout, body, named=False)
        if status == 404:
            raise LeaseUnavailable(f"namespace {self.namespace} does not exist")
        return _stored(answer)

    async def update(self, record: LeaseRecord, version: str, timeout: float) -> StoredLease:
        body = {"apiVersion": API, "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace, "resourceVersion": version},
                "spec": record.to_spec()}
        status, answer = await self._request("PUT", timeout, body)
        if status == 404:
            raise LeaseConflict(f"lease {self.namespace}/{self.name} was deleted")
        return _stored(answer)


def _stored(lease: dict[str, Any]) -> StoredLease:
    return StoredLease(LeaseRecord.from_spec(lease.get("spec") or {}),
                       str((lease.get("metadata") or {}).get("resourceVersion", "")))

