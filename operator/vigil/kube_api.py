"""The operator's own calls to the API server besides kopf's (the Lease, access reviews), with
kopf's credentials: the pod's ServiceAccount, else the kubeconfig. aiohttp, not the kubernetes
client, which the operator process never loads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import kopf

Login = Callable[[], "kopf.ConnectionInfo | None"]
# What a request can fail with short of an answer: the connection is dropped, and dialled again next time.
CONNECTION_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError)


class ApiConnection:
    """One HTTP session, opened on first use; closed after a broken connection or a 401 (a rotated
    token), so that the next request logs in again."""

    def __init__(self, login: Login | None = None, limit: int = 2) -> None:
        self._login = login or login_as_kopf
        self._limit = limit
        self._info: kopf.ConnectionInfo | None = None
        self._http: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """Raises LookupError when there are no credentials at all."""
        if self._http is None:
            info = self._info = self._login()
            if info is None:
                raise LookupError("no Kubernetes credentials: neither a service account nor a kubeconfig")
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=info.as_ssl_context(),
                                                                              limit=self._limit),
                                               headers=info.as_http_headers())
        return self._http

    def url(self, path: str) -> str:
        assert self._info is not None, "session() first"
        return f"{self._info.server.rstrip('/')}{path}"

    async def request(self, method: str, path: str, timeout: float,
                      body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, the decoded JSON answer or {}); CONNECTION_ERRORS and LookupError propagate."""
        try:
            http = self.session()
            async with http.request(method, self.url(path), json=body,
                                    timeout=aiohttp.ClientTimeout(total=max(timeout, 0.05))) as response:
                answer = await response.json(content_type=None) if response.content_length != 0 else {}
                status = response.status
        except CONNECTION_ERRORS:
            await self.close()
            raise
        if status == 401:
            await self.close()
        return status, answer

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


def login_as_kopf() -> kopf.ConnectionInfo | None:
    settings = kopf.OperatorSettings()
    return kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(settings=settings)
