"""Who may read ``/metrics`` and ``/report``: the owner of the request's bearer token, as the API
server names it (a TokenReview, authentication.k8s.io/v1), if RBAC lets that user ``get`` the path
(a SubjectAccessReview on a nonResourceURL, authorization.k8s.io/v1). controller-runtime's
``filters.WithAuthenticationAndAuthorization`` protects Go operators' metrics the same way, with
the same answers: 401 without a valid token, 403 when RBAC refuses, 500 when the API server
cannot say.

Decisions are cached per token and path, so a scrape every 15 s costs the API server two reviews
a minute at most; a token is kept only as its SHA-256. The reviews go out with the operator's own
credentials through aiohttp (kopf's login), never the kubernetes client.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .kube_api import CONNECTION_ERRORS, ApiConnection, Login

log = logging.getLogger(__name__)

# A reader whose binding is removed is refused within a minute (controller-runtime keeps an allow
# for 5 minutes; the posture is more sensitive than its metrics).
ALLOWED_SECONDS = 60.0
# controller-runtime's DenyCacheTTL: a reader just granted waits at most this.
REFUSED_SECONDS = 30.0
# Distinct (token, path) decisions kept; the least recently used go first, so a flood of made-up
# tokens costs memory no more than this.
MAX_DECISIONS = 1024
REVIEW_TIMEOUT_SECONDS = 10.0  # controller-runtime's TokenAccessReviewTimeout

KUBERNETES, NONE = "kubernetes", "none"


@dataclass(frozen=True)
class User:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()  # the TokenReview's user.extra, as pairs


@dataclass(frozen=True)
class Decision:
    status: int  # 200 serve; 401 no or unknown token; 403 RBAC refuses; 500 the API server could not say
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.status == 200


UNAUTHORIZED = Decision(401, "Unauthorized")


class ReviewUnavailable(Exception):
    """The API server did not answer a review: unreachable, too slow, or an error status."""


class Reviews(Protocol):
    async def authenticate(self, token: str) -> User | None:
        """The token's user, or None if the API server does not recognize the token."""

    async def authorize(self, user: User, verb: str, path: str) -> tuple[bool, str]:
        """Whether ``user`` may ``verb`` the nonResourceURL ``path``, and the authorizer's reason."""

    async def close(self) -> None: ...


class AccessGate:
    """Decides each request to a protected path from its Authorization header, with a bounded cache."""

    def __init__(self, reviews: Reviews, clock: Callable[[], float] = time.monotonic,
                 max_decisions: int = MAX_DECISIONS) -> None:
        self._reviews, self._clock, self._max = reviews, clock, max_decisions
        self._decisions: OrderedDict[tuple[str, str, str], tuple[float, Decision]] = OrderedDict()

    async def decide(self, authorization: str | None, verb: str, path: str) -> Decision:
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return UNAUTHORIZED  # nothing to review: no API call for an anonymous request
        key = (hashlib.sha256(token.encode()).hexdigest(), verb, path)
        now = self._clock()
        cached = self._decisions.get(key)
        if cached is not None and cached[0] > now:
            self._decisions.move_to_end(key)
            return cached[1]
        decision = await self._review(token, verb, path)
        if decision.status != 500:  # an outage is not remembered: the next request asks again
            self._decisions[key] = (now + (ALLOWED_SECONDS if decision.allowed else REFUSED_SECONDS), decision)
            self._decisions.move_to_end(key)
            while len(self._decisions) > self._max:
                self._decisions.popitem(last=False)
        return decision

    async def _review(self, token: str, verb: str, path: str) -> Decision:
        try:
            user = await self._reviews.authenticate(token)
        except ReviewUnavailable as exc:
            log.error("Authentication failed for %s %s: %s", verb, path, exc)
            return Decision(500, "Authentication failed")
        if user is None:
            return UNAUTHORIZED
        try:
            allowed, reason = await self._reviews.authorize(user, verb, path)
        except ReviewUnavailable as exc:
            log.error("Authorization for user %s failed on %s %s: %s", user.name, verb, path, exc)
            return Decision(500, f"Authorization for user {user.name} failed")
        if not allowed:
            log.info("Authorization denied for user %s on %s %s: %s", user.name, verb, path, reason or "no rule")
            return Decision(403, f"Authorization denied for user {user.name}")
        return Decision(200)

    async def close(self) -> None:
        await self._reviews.close()


class ApiServerReviews:
    """The two reviews, asked of the API server as the operator (kopf's login: the pod's
    ServiceAccount, else the kubeconfig). deploy/rbac.yaml grants it ``create`` on both."""

    def __init__(self, login: Login | None = None, timeout: float = REVIEW_TIMEOUT_SECONDS) -> None:
        self._api = ApiConnection(login, limit=4)
        self._timeout = timeout

    async def authenticate(self, token: str) -> User | None:
        answer = await self._create("authentication.k8s.io/v1", "tokenreviews", "TokenReview", {"token": token})
        status = answer.get("status") or {}
        if not status.get("authenticated"):
            return None
        user = status.get("user") or {}
        extra = tuple(sorted((k, tuple(v or ())) for k, v in (user.get("extra") or {}).items()))
        return User(user.get("username", ""), user.get("uid", ""), tuple(user.get("groups") or ()), extra)

    async def authorize(self, user: User, verb: str, path: str) -> tuple[bool, str]:
        spec = {"user": user.name, "uid": user.uid, "groups": list(user.groups),
                "extra": {k: list(v) for k, v in user.extra},
                "nonResourceAttributes": {"path": path, "verb": verb}}
        answer = await self._create("authorization.k8s.io/v1", "subjectaccessreviews", "SubjectAccessReview", spec)
        status = answer.get("status") or {}
        return bool(status.get("allowed")) and not status.get("denied"), \
            str(status.get("reason") or status.get("evaluationError") or "")

    async def _create(self, api: str, plural: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
        body = {"apiVersion": api, "kind": kind, "spec": spec}
        try:
            status, answer = await self._api.request("POST", f"/apis/{api}/{plural}", self._timeout, body)
        except LookupError as exc:
            raise ReviewUnavailable(str(exc)) from exc
        except CONNECTION_ERRORS as exc:  # dialled again next time
            raise ReviewUnavailable(f"create {plural}: {type(exc).__name__}: {exc}") from exc
        if status >= 300 or not isinstance(answer, dict):
            message = answer.get("message", "") if isinstance(answer, dict) else ""
            raise ReviewUnavailable(f"create {plural}: {status} {message}")
        return answer

    async def close(self) -> None:
        await self._api.close()


def gate_from_env() -> AccessGate | None:
    """``VIGIL_METRICS_AUTH``: ``kubernetes`` (the default) reviews every request to /metrics and
    /report; ``none`` serves anyone who reaches the port, for a local run only. Anything else is
    refused at startup rather than guessed."""
    mode = os.environ.get("VIGIL_METRICS_AUTH", KUBERNETES).strip().lower()
    if mode not in (KUBERNETES, NONE):
        raise ValueError(f"VIGIL_METRICS_AUTH must be {KUBERNETES!r} or {NONE!r}, got {mode!r}")
    return AccessGate(ApiServerReviews()) if mode == KUBERNETES else None
