"""The write fence (vigil.leadership.fence) and the Lease record and API (vigil.leadership.lease):
the fence admits writes until its deadline and none after, counts those running and waits for
them; the record changes hands as client-go's does; LeaseApi speaks the Lease API (create, read,
optimistic update, 409 as a conflict) against a small HTTP stand-in for the API server."""

from __future__ import annotations

import re
import threading
from typing import Any

import kopf
import pytest
from aiohttp import web

from vigil.aws.errors import TargetError, classify
from vigil.leadership.fence import NOT_LEADER, NotLeading, WriteFence
from vigil.leadership.lease import LeaseApi, LeaseConflict, LeaseRecord, LeaseUnavailable, micro_time


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --- the fence -----------------------------------------------------------------------------------

def test_the_fence_is_open_without_leader_election():
    fence = WriteFence()
    with fence.admit("CreateTrail"):
        assert fence.in_flight == 1
    assert fence.in_flight == 0 and fence.is_open()


def test_writes_are_admitted_until_the_deadline_and_refused_after():
    clock = Clock()
    fence = WriteFence(clock)
    fence.hold_until(10.0)
    clock.now = 9.99
    with fence.admit("StartLogging"):
        pass
    clock.now = 10.0
    with pytest.raises(NotLeading) as refused:
        with fence.admit("StartLogging"):
            raise AssertionError("not reached")
    assert refused.value.reason == NOT_LEADER and "StartLogging" in refused.value.message
    assert "renew deadline" in refused.value.message
    # A target's error like any other: kept in its report, retried at the next pass.
    assert isinstance(refused.value, TargetError) and classify(refused.value) is refused.value
    assert refused.value.recoverable


def test_a_closed_fence_says_why():
    fence = WriteFence()
    fence.close("the Lease was lost (b holds it)")
    with pytest.raises(NotLeading, match="b holds it"):
        with fence.admit("PutBucketPolicy"):
            pass


def test_drain_waits_for_the_writes_already_admitted():
    fence = WriteFence()
    started, finish = threading.Event(), threading.Event()

    def write() -> None:
        with fence.admit("CreateBucket"):
            started.set()
            finish.wait(5)

    worker = threading.Thread(target=write)
    worker.start()
    started.wait(5)
    fence.close("stopping")
    assert not fence.drain(timeout=0.05) and fence.in_flight == 1
    drained: list[tuple[bool, int]] = []
    # An hour's timeout: the drain must end when the write does, not when the timeout runs out.
    waiting = threading.Thread(target=lambda: drained.append((fence.drain(timeout=3600), fence.in_flight)))
    waiting.start()
    finish.set()
    waiting.join(60)
    assert drained == [(True, 0)], "the drain ended with the write"
    worker.join()


# --- the record ----------------------------------------------------------------------------------

def test_acquiring_from_another_holder_is_a_transition_and_renewing_is_not():
    record = LeaseRecord("a", 15, "t0", "t1", 2)
    assert record.taken_by("a", 15, "t2") == LeaseRecord("a", 15, "t0", "t2", 2)
    assert record.taken_by("b", 15, "t2") == LeaseRecord("b", 15, "t2", "t2", 3)
    assert LeaseRecord.first("a", 15, "t0") == LeaseRecord("a", 15, "t0", "t0", 0)
    assert record.released("t3") == LeaseRecord("", 1, "t3", "t3", 2)
    assert record.released("t3").taken_by("b", 15, "t4").transitions == 3  # client-go counts it too


def test_the_record_is_the_lease_spec():
    spec = {"holderIdentity": "vigil-0_ab12", "leaseDurationSeconds": 15, "acquireTime": "2025-01-01T00:00:00.000000Z",
            "renewTime": "2025-01-01T00:00:02.000000Z", "leaseTransitions": 4}
    assert LeaseRecord.from_spec(spec).to_spec() == spec
    assert LeaseRecord.from_spec({}) == LeaseRecord()


def test_micro_time_is_rfc3339_with_microseconds_in_utc():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", micro_time())


# --- the API -------------------------------------------------------------------------------------

class ApiServer:
    """The Lease endpoints as kube-apiserver answers them, for one namespace."""

    def __init__(self) -> None:
        self.leases: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.forbidden = False
        self.requests: list[tuple[str, str, str]] = []

    def app(self) -> web.Application:
        app = web.Application()
        base = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"
        app.router.add_get(base + "/{name}", self.get)
        app.router.add_post(base, self.create)
        app.router.add_put(base + "/{name}", self.update)
        return app

    def _stamp(self, lease: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        lease["metadata"]["resourceVersion"] = str(self.version)
        self.leases[lease["metadata"]["name"]] = lease
        return lease

    async def get(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path, request.headers.get("Authorization", "")))
        if self.forbidden:
            return web.json_response({"message": "leases is forbidden"}, status=403)
        lease = self.leases.get(request.match_info["name"])
        return web.json_response(lease) if lease else web.json_response({"message": "not found"}, status=404)

    async def create(self, request: web.Request) -> web.Response:
        lease = await request.json()
        self.requests.append(("POST", request.path, request.headers.get("Authorization", "")))
        if lease["metadata"]["name"] in self.leases:
            return web.json_response({"message": "already exists"}, status=409)
        return web.json_response(self._stamp(lease), status=201)

    async def update(self, request: web.Request) -> web.Response:
        lease = await request.json()
        self.requests.append(("PUT", request.path, request.headers.get("Authorization", "")))
        current = self.leases.get(request.match_info["name"])
        if current is None:
            return web.json_response({"message": "not found"}, status=404)
        if lease["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            return web.json_response({"message": "the object has been modified"}, status=409)
        return web.json_response(self._stamp(lease))


@pytest.fixture()
async def api():
    server = ApiServer()
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    yield server
    await runner.cleanup()


def client(api: ApiServer) -> LeaseApi:
    return LeaseApi("vigil-system", "vigil-leader",
                    login=lambda: kopf.ConnectionInfo(server=api.url, token="sa-token"))  # type: ignore[attr-defined]


async def test_lease_api_creates_reads_and_updates_with_the_version_it_read(api: ApiServer):
    leases = client(api)
    try:
        assert await leases.get(5) is None
        created = await leases.create(LeaseRecord("a", 15, "t0", "t0", 0), 5)
        assert created.record.holder == "a" and created.version == "1"
        with pytest.raises(LeaseConflict):
            await leases.create(LeaseRecord("b", 15, "t0", "t0", 0), 5)
        renewed = await leases.update(created.record.taken_by("a", 15, "t1"), created.version, 5)
        assert (await leases.get(5)) == renewed and renewed.version == "2"
        with pytest.raises(LeaseConflict, match="modified"):
            await leases.update(created.record.taken_by("b", 15, "t2"), created.version, 5)
        stored = api.leases["vigil-leader"]
        assert stored["spec"] == {"holderIdentity": "a", "leaseDurationSeconds": 15, "acquireTime": "t0",
                                  "renewTime": "t1", "leaseTransitions": 0}
        assert stored["metadata"]["namespace"] == "vigil-system"
        assert {auth for _, _, auth in api.requests} == {"Bearer sa-token"}
        leases_path = "/apis/coordination.k8s.io/v1/namespaces/vigil-system/leases"
        assert {path for _, path, _ in api.requests} == {leases_path, f"{leases_path}/vigil-leader"}
    finally:
        await leases.close()


async def test_lease_api_refusals_and_an_unreachable_server_are_unavailability(api: ApiServer):
    leases = client(api)
    api.forbidden = True
    try:
        with pytest.raises(LeaseUnavailable, match="403 leases is forbidden"):
            await leases.get(5)
    finally:
        await leases.close()
    gone = LeaseApi("vigil-system", "vigil-leader", login=lambda: kopf.ConnectionInfo(server="http://127.0.0.1:9"))
    with pytest.raises(LeaseUnavailable, match="GET lease vigil-system/vigil-leader"):
        await gone.get(2)
    await gone.close()
