"""Reading an Organization's external-id Secret (vigil.secrets): every answer of the API server
other than the Secret itself, and no answer at all, is a sentence that says what to do (the
reconcile shows it as DependencyNotReady), never an aiohttp exception."""

from __future__ import annotations

import base64
import socket
from typing import Any

import pytest
from aiohttp import web

from vigil.secrets import SecretNotFound, SecretReader


class Info:
    """kopf.ConnectionInfo as SecretReader uses it."""

    def __init__(self, server: str) -> None:
        self.server = server

    def as_ssl_context(self) -> Any:
        return None

    def as_http_headers(self) -> dict[str, str]:
        return {}

    def as_aiohttp_basic_auth(self) -> None:
        return None


ANSWERS = {"missing": (404, {}), "forbidden": (403, {}), "broken": (500, {}),
           "keyless": (200, {"data": {}}), "ok": (200, {"data": {"externalId": base64.b64encode(b"s3cr3t").decode()}})}


async def secret(request: web.Request) -> web.Response:
    status, body = ANSWERS[request.match_info["name"]]
    return web.json_response(body, status=status)


@pytest.fixture
async def reader() -> Any:
    app = web.Application()
    app.router.add_get("/api/v1/namespaces/{namespace}/secrets/{name}", secret)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found = SecretReader()
    found._info = Info(f"http://127.0.0.1:{port}")  # type: ignore[assignment]
    yield found
    await runner.cleanup()


@pytest.mark.parametrize("name, message", [
    ("missing", "Secret ns/missing does not exist: create it, or correct the reference"),
    ("forbidden", "the operator may not read Secret ns/forbidden (the API server answered HTTP 403): its "
                  "ServiceAccount needs get on secrets in ns (deploy/rbac.yaml)"),
    ("broken", "the API server answered HTTP 500 to reading Secret ns/broken; Vigil tries again"),
    ("keyless", "Secret ns/keyless has no key 'externalId': add it, or correct the reference"),
])
async def test_every_answer_but_the_secret_says_what_to_do(reader, name, message):
    with pytest.raises(SecretNotFound) as raised:
        await reader.value("ns", name, "externalId")
    assert str(raised.value) == message


async def test_the_secret_is_read(reader):
    assert await reader.value("ns", "ok", "externalId") == "s3cr3t"


async def test_an_api_server_that_does_not_answer_is_named():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    found = SecretReader()
    found._info = Info(f"http://127.0.0.1:{port}")  # type: ignore[assignment]
    with pytest.raises(SecretNotFound) as raised:
        await found.value("ns", "any", "externalId")
    assert str(raised.value) == (f"the Kubernetes API server http://127.0.0.1:{port} did not answer reading Secret "
                                 "ns/any; Vigil tries again")
