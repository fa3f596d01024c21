"""Read one key of a Secret (an Organization's ``access.externalIdSecretRef``) with kopf's own
credentials: kopf does not read Secrets for us, and the kubernetes client stays out of the
operator's memory. RBAC needs only ``get`` on secrets, no list or watch."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import kopf


class SecretNotFound(LookupError):
    pass


class SecretReader:
    def __init__(self) -> None:
        self._info: kopf.ConnectionInfo | None = None

    def login(self, **kwargs: Any) -> kopf.ConnectionInfo | None:
        """kopf's login, remembered: in-cluster service account first, then the kubeconfig."""
        self._info = kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)
        return self._info

    async def value(self, namespace: str, name: str, key: str) -> str:
        info = self._info
        if info is None:
            raise SecretNotFound("not logged in to Kubernetes yet")
        url = f"{info.server.rstrip('/')}/api/v1/namespaces/{namespace}/secrets/{name}"
        secret = f"Secret {namespace}/{name}"
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=info.as_ssl_context()),
                                             headers=info.as_http_headers(),
                                             auth=info.as_aiohttp_basic_auth()) as http:
                async with http.get(url) as response:
                    if response.status == 404:
                        raise SecretNotFound(f"{secret} does not exist: create it, or correct the reference")
                    if response.status in (401, 403):
                        raise SecretNotFound(f"the operator may not read {secret} (the API server answered HTTP "
                                             f"{response.status}): its ServiceAccount needs get on secrets in "
                                             f"{namespace} (deploy/rbac.yaml)")
                    if response.status >= 400:
                        raise SecretNotFound(f"the API server answered HTTP {response.status} to reading {secret}; "
                                             "Vigil tries again")
                    data = (await response.json()).get("data") or {}
        except aiohttp.ClientError:
            raise SecretNotFound(f"the Kubernetes API server {info.server} did not answer reading {secret}; "
                                 "Vigil tries again") from None
        if key not in data:
            raise SecretNotFound(f"{secret} has no key {key!r}: add it, or correct the reference")
        return base64.b64decode(data[key]).decode()

    def value_from_thread(self, loop: asyncio.AbstractEventLoop, namespace: str, name: str, key: str) -> str:
        """For the reconcile, which runs in a worker thread: ask the operator's loop and wait."""
        try:
            return asyncio.run_coroutine_threadsafe(self.value(namespace, name, key), loop).result(timeout=30)
        except TimeoutError:
            raise SecretNotFound(f"the Kubernetes API server did not answer reading Secret {namespace}/{name} "
                                 "within 30 s; Vigil tries again") from None
