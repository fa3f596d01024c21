"""Who may read /metrics and /report (vigil.access_review), on a fake API server's reviews and a
fake clock: no token or an unknown one is 401 with no review asked for nothing, a user RBAC
refuses is 403, an allowed one is served; decisions are cached per token and path (allowed for a
minute, refused for half), bounded in number, and an outage of the API server is a 500 that is
never cached. Then the operator's HTTP server with that gate: /metrics and /report reviewed,
/healthz open. (The real reviews against the real API server: tests/e2e/test_report.py.)"""

from __future__ import annotations

import pytest
from aiohttp import ClientSession

from vigil import server
from vigil.access_review import (ALLOWED_SECONDS, REFUSED_SECONDS, AccessGate, ReviewUnavailable, User,
                                 gate_from_env)

READER, NOBODY = User("system:serviceaccount:monitoring:prometheus"), User("system:serviceaccount:team:nobody")


class FakeReviews:
    """Tokens the fake API server knows, the paths RBAC grants each user, and a switch for an outage."""

    def __init__(self) -> None:
        self.users = {"reader-token": READER, "nobody-token": NOBODY}
        self.grants = {READER.name: {"/metrics", "/report"}}
        self.down = False
        self.asked: list[tuple[str, ...]] = []
        self.closed = False

    async def authenticate(self, token: str) -> User | None:
        self.asked.append(("TokenReview", token))
        if self.down:
            raise ReviewUnavailable("connection refused")
        return self.users.get(token)

    async def authorize(self, user: User, verb: str, path: str) -> tuple[bool, str]:
        self.asked.append(("SubjectAccessReview", user.name, verb, path))
        if self.down:
            raise ReviewUnavailable("connection refused")
        return path in self.grants.get(user.name, ()), ""

    async def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def reviews() -> FakeReviews:
    return FakeReviews()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gate(reviews: FakeReviews, clock: Clock) -> AccessGate:
    return AccessGate(reviews, clock=clock)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "reader-token"])
async def test_no_bearer_token_is_401_without_asking_the_api_server(gate: AccessGate, reviews: FakeReviews, header):
    decision = await gate.decide(header, "get", "/metrics")
    assert (decision.status, decision.message) == (401, "Unauthorized")
    assert reviews.asked == []


async def test_a_token_the_api_server_does_not_know_is_401(gate: AccessGate, reviews: FakeReviews):
    assert (await gate.decide("Bearer forged", "get", "/metrics")).status == 401
    assert reviews.asked == [("TokenReview", "forged")], "no authorization asked for nobody"


async def test_a_user_rbac_refuses_is_403_naming_the_user(gate: AccessGate):
    decision = await gate.decide("Bearer nobody-token", "get", "/report")
    assert (decision.status, decision.message) == (403, f"Authorization denied for user {NOBODY.name}")


async def test_an_allowed_user_is_served_and_asked_for_the_path_with_verb_get(gate: AccessGate, reviews: FakeReviews):
    assert (await gate.decide("bearer reader-token", "get", "/report")).allowed
    assert reviews.asked == [("TokenReview", "reader-token"), ("SubjectAccessReview", READER.name, "get", "/report")]


async def test_a_scrape_every_15_seconds_asks_once_a_minute(gate: AccessGate, reviews: FakeReviews, clock: Clock):
    for _ in range(8):  # two minutes of scrapes
        assert (await gate.decide("Bearer reader-token", "get", "/metrics")).allowed
        clock.now += 15
    assert [a[0] for a in reviews.asked].count("TokenReview") == 2
    assert ALLOWED_SECONDS == 60


async def test_decisions_are_per_path(gate: AccessGate, reviews: FakeReviews):
    reviews.grants[READER.name] = {"/metrics"}
    assert (await gate.decide("Bearer reader-token", "get", "/metrics")).allowed
    assert (await gate.decide("Bearer reader-token", "get", "/report")).status == 403


async def test_a_revoked_reader_is_refused_within_a_minute_and_a_new_one_served_within_half(
        gate: AccessGate, reviews: FakeReviews, clock: Clock):
    assert (await gate.decide("Bearer reader-token", "get", "/report")).allowed
    assert (await gate.decide("Bearer nobody-token", "get", "/report")).status == 403
    reviews.grants = {NOBODY.name: {"/report"}}  # the binding moves from one to the other

    clock.now += REFUSED_SECONDS - 1
    assert (await gate.decide("Bearer nobody-token", "get", "/report")).status == 403, "still cached"
    clock.now += 2
    assert (await gate.decide("Bearer nobody-token", "get", "/report")).allowed
    assert (await gate.decide("Bearer reader-token", "get", "/report")).allowed, "still cached"
    clock.now += ALLOWED_SECONDS - REFUSED_SECONDS
    assert (await gate.decide("Bearer reader-token", "get", "/report")).status == 403


async def test_an_outage_is_500_and_not_cached(gate: AccessGate, reviews: FakeReviews):
    reviews.down = True
    decision = await gate.decide("Bearer reader-token", "get", "/metrics")
    assert (decision.status, decision.message) == (500, "Authentication failed")
    reviews.down = False
    assert (await gate.decide("Bearer reader-token", "get", "/metrics")).allowed, "asked again at once"


async def test_an_outage_between_the_reviews_names_the_user(gate: AccessGate, reviews: FakeReviews):
    async def down(*_):
        raise ReviewUnavailable("timeout")

    reviews.authorize = down  # type: ignore[method-assign]
    decision = await gate.decide("Bearer reader-token", "get", "/metrics")
    assert (decision.status, decision.message) == (500, f"Authorization for user {READER.name} failed")


async def test_the_cache_is_bounded_and_keeps_no_token(reviews: FakeReviews, clock: Clock):
    gate = AccessGate(reviews, clock=clock, max_decisions=3)
    for i in range(10):
        await gate.decide(f"Bearer made-up-{i}", "get", "/metrics")
    await gate.decide("Bearer reader-token", "get", "/metrics")
    assert len(gate._decisions) == 3
    assert not any("token" in part or "made-up" in part for key in gate._decisions for part in key)


def test_the_setting_defaults_to_kubernetes_and_refuses_a_typo(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("VIGIL_METRICS_AUTH", raising=False)
    assert isinstance(gate_from_env(), AccessGate)
    monkeypatch.setenv("VIGIL_METRICS_AUTH", "None")
    assert gate_from_env() is None
    monkeypatch.setenv("VIGIL_METRICS_AUTH", "off")
    with pytest.raises(ValueError, match="VIGIL_METRICS_AUTH must be 'kubernetes' or 'none'"):
        gate_from_env()


# --- the operator's HTTP server with the gate ------------------------------------------------------

async def test_metrics_and_report_are_reviewed_and_healthz_is_open(gate: AccessGate, reviews: FakeReviews,
                                                                   unused_tcp_port: int):
    runner = await server.start(unused_tcp_port, host="127.0.0.1", gate=lambda: gate)
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        async with ClientSession() as http:
            for path in ("/metrics", "/report"):
                async with http.get(base + path) as refused:
                    assert refused.status == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
                async with http.get(base + path, headers={"Authorization": "Bearer nobody-token"}) as forbidden:
                    assert forbidden.status == 403
                async with http.get(base + path, headers={"Authorization": "Bearer reader-token"}) as served:
                    assert served.status == 200
            async with http.get(base + "/report", headers={"Authorization": "Bearer reader-token"}) as page:
                assert page.content_type == "text/html"
                assert "default-src 'none'" in page.headers["Content-Security-Policy"]
                assert "<title>Vigil posture report</title>" in await page.text()
            async with http.get(base + "/healthz") as health:
                assert health.status == 200
            # Reviewed as the route, whatever the request's spelling: RBAC grants /metrics exactly.
            async with http.get(base + "/metrics?x=1", headers={"Authorization": "Bearer reader-token"}) as query:
                assert query.status == 200
    finally:
        await runner.cleanup()
    assert ("SubjectAccessReview", READER.name, "get", "/report") in reviews.asked
    assert reviews.closed, "the API server session is closed with the server"


async def test_with_auth_off_everything_is_open(unused_tcp_port: int):
    runner = await server.start(unused_tcp_port, host="127.0.0.1", gate=lambda: None)
    try:
        async with ClientSession() as http:
            for path in ("/metrics", "/report", "/healthz"):
                async with http.get(f"http://127.0.0.1:{unused_tcp_port}{path}") as response:
                    assert response.status == 200, path
    finally:
        await runner.cleanup()
