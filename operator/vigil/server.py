"""The operator's HTTP endpoints: Prometheus /metrics, the posture report /report, /healthz (liveness).

Served from the operator's own event loop, so /healthz answering proves the loop is not stuck.
/metrics and /report say where the organization's defences are weak, so each request is reviewed
by the API server (vigil.access_review) unless VIGIL_METRICS_AUTH=none; /healthz stays open for
the kubelet.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import report_html
from .access_review import AccessGate, gate_from_env
from .controls.posture import BOOK
from .metrics import REGISTRY

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _report(_: web.Request) -> web.Response:
    page = report_html.render(BOOK.objects(), datetime.now(timezone.utc),
                              source=f"vigil run on {os.environ.get('POD_NAME') or socket.gethostname()}")
    return web.Response(text=page, content_type="text/html", headers={
        "Content-Security-Policy": report_html.CONTENT_SECURITY_POLICY, "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


async def _healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def _reviewed(gate: AccessGate | None, path: str, handler: Handler) -> Handler:
    if gate is None:
        return handler

    async def reviewed(request: web.Request) -> web.StreamResponse:
        # The route's own path, not the request's: RBAC grants exactly /metrics and /report.
        decision = await gate.decide(request.headers.get("Authorization"), "get", path)
        if not decision.allowed:
            challenge = {"WWW-Authenticate": 'Bearer realm="vigil"'} if decision.status == 401 else None
            return web.Response(status=decision.status, text=f"{decision.message}\n", headers=challenge)
        return await handler(request)
    return reviewed


async def start(port: int, host: str = "0.0.0.0",
                gate: Callable[[], AccessGate | None] = gate_from_env) -> web.AppRunner:
    """``gate``: who may read /metrics and /report (None: anyone); by default as VIGIL_METRICS_AUTH says."""
    reviews = gate()
    log.info("/metrics and /report: %s", "TokenReview and SubjectAccessReview through the API server"
             if reviews else "open to anyone who reaches the port (VIGIL_METRICS_AUTH=none)")
    app = web.Application()
    app.router.add_get("/metrics", _reviewed(reviews, "/metrics", _metrics))
    app.router.add_get("/report", _reviewed(reviews, "/report", _report))
    app.router.add_get("/healthz", _healthz)
    if reviews is not None:
        app.on_cleanup.append(lambda _: reviews.close())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
