"""Leader election's state machine (vigil.leadership.election) on a fake Lease store and a fake
clock: the first candidate leads; a rival waits while the leader renews; takes over within one
lease duration plus one retry period of the leader's death, and at its next try after a release;
a leader cut off from the API server closes its write fence before a rival can take the Lease;
a stale write is a conflict, not leadership; expiry is judged on the local clock only. And the
settings, and `vigil run`'s kopf flags.

Time is virtual: sleeps are queued and the test moves the clock from one wake-up to the next.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from dataclasses import dataclass, field

import pytest

from vigil.leadership.election import LeaderElection
from vigil.leadership.fence import WriteFence
from vigil.leadership.lease import LeaseConflict, LeaseRecord, LeaseUnavailable, StoredLease
from vigil.settings import LeaderElectionSettings

TIMINGS = LeaderElectionSettings(enabled=True, lease_duration=15, renew_deadline=10, retry_period=2)


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    def wall(self) -> str:
        return f"t={self.now:.3f}"

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def run_until(self, until: float) -> None:
        """Wake every sleeper due by ``until``, in order, letting the tasks run between wake-ups."""
        while True:
            for _ in range(50):
                await asyncio.sleep(0)
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            if not self._sleepers or self._sleepers[0][0] > until:
                self.now = max(self.now, until)
                return
            wake, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            future.set_result(None)


@dataclass
class FakeLeases:
    """One Lease with resourceVersion semantics; ``cut`` holds the identities that cannot reach it."""

    time: VirtualTime
    stored: StoredLease | None = None
    cut: set[str] = field(default_factory=set)
    writes: list[tuple[float, LeaseRecord]] = field(default_factory=list)
    _versions: itertools.count = field(default_factory=lambda: itertools.count(1))

    def client(self, identity: str) -> "FakeClient":
        return FakeClient(self, identity)

    def put(self, record: LeaseRecord) -> StoredLease:
        self.stored = StoredLease(record, str(next(self._versions)))
        self.writes.append((self.time.now, record))
        return self.stored


@dataclass
class FakeClient:
    leases: FakeLeases
    identity: str

    async def _reach(self, timeout: float) -> None:
        if self.identity in self.leases.cut:
            await self.leases.time.sleep(timeout)  # a blackholed connection: the request times out
            raise LeaseUnavailable("timed out")

    async def get(self, timeout: float) -> StoredLease | None:
        await self._reach(timeout)
        return self.leases.stored

    async def create(self, record: LeaseRecord, timeout: float) -> StoredLease:
        await self._reach(timeout)
        if self.leases.stored is not None:
            raise LeaseConflict("already exists")
        return self.leases.put(record)

    async def update(self, record: LeaseRecord, version: str, timeout: float) -> StoredLease:
        await self._reach(timeout)
        if self.leases.stored is None or self.leases.stored.version != version:
            raise LeaseConflict("the object has been modified")
        return self.leases.put(record)


@dataclass
class Candidate:
    election: LeaderElection
    fence: WriteFence
    task: asyncio.Task | None = None
    leading_at: float = math.nan


@pytest.fixture()
def time_() -> VirtualTime:
    return VirtualTime()


@pytest.fixture()
def leases(time_: VirtualTime) -> FakeLeases:
    return FakeLeases(time_)


def candidate(name: str, leases: FakeLeases, time_: VirtualTime) -> Candidate:
    fence = WriteFence(clock=time_.clock)
    fence.close("not leading yet")
    election = LeaderElection(leases.client(name), name, TIMINGS, fence, clock=time_.clock, wall=time_.wall,
                              sleep=time_.sleep)
    return Candidate(election, fence)


def run(c: Candidate, time_: VirtualTime) -> Candidate:
    """Campaign, then hold while leading, as `vigil run` does."""
    async def lifecycle() -> str:
        await c.election.campaign()
        c.leading_at = time_.now
        return await c.election.hold()
    c.task = asyncio.ensure_future(lifecycle())
    return c


async def test_the_first_candidate_creates_the_lease_and_leads(leases: FakeLeases, time_: VirtualTime):
    a = run(candidate("a", leases, time_), time_)
    await time_.run_until(0)
    assert a.leading_at == 0 and a.election.leading
    assert leases.stored is not None
    assert leases.stored.record == LeaseRecord("a", 15, "t=0.000", "t=0.000", 0)
    assert a.fence.is_open()
    a.task.cancel()


async def test_a_rival_waits_while_the_leader_renews(leases: FakeLeases, time_: VirtualTime):
    a = run(candidate("a", leases, time_), time_)
    await time_.run_until(0)
    b = run(candidate("b", leases, time_), time_)
    await time_.run_until(120)
    assert a.election.leading and a.fence.is_open() and not a.task.done()
    assert math.isnan(b.leading_at) and not b.fence.is_open()
    renewals = [t for t, r in leases.writes if r.holder == "a"]
    assert len(renewals) == 61 and all(later - earlier == 2 for earlier, later in zip(renewals, renewals[1:]))
    for c in (a, b):
        c.task.cancel()


async def test_a_dead_leaders_lease_is_taken_within_lease_duration_plus_retry_period(leases: FakeLeases,
                                                                                  time_: VirtualTime):
    a = run(candidate("a", leases, time_), time_)
    await time_.run_until(0)
    b = run(candidate("b", leases, time_), time_)
    await time_.run_until(31)
    a.task.cancel()  # SIGKILL: no release, no more renewals
    killed = time_.now
    last_renewal = max(t for t, r in leases.writes if r.holder == "a")
    await time_.run_until(killed + 60)
    assert b.leading_at <= killed + TIMINGS.lease_duration + TIMINGS.retry_period
    assert b.leading_at >= last_renewal + TIMINGS.lease_duration  # never before the lease could expire
    assert leases.stored.record.holder == "b" and leases.stored.record.transitions == 1
    b.task.cancel()


async def test_a_cut_off_leader_stops_writing_before_a_rival_can_take_over(leases: FakeLeases, time_: VirtualTime):
    a = run(candidate("a", leases, time_), time_)
    await time_.run_until(0)
    b = run(candidate("b", leases, time_), time_)
    await time_.run_until(21)
    leases.cut.add("a")
    last_renewal = max(t for t, r in leases.writes if r.holder == "a")
    fenced_at = math.nan
    while math.isnan(fenced_at):
        await time_.run_until(time_.now + 0.1)
        if not a.fence.is_open():
            fenced_at = time_.now
    assert fenced_at <= last_renewal + TIMINGS.renew_deadline + 0.1
    with pytest.raises(Exception, match="NotLeader"):
        with a.fence.admit("PutBucketPolicy"):
            pass
    await time_.run_until(60)
    assert a.task.done() and "renew deadline" in a.task.result()
    assert b.leading_at - fenced_at >= TIMINGS.lease_duration - TIMINGS.renew_deadline - 0.1
    b.task.cancel()


async def test_a_released_lease_is_taken_at_the_rivals_next_try(leases: FakeLeases, time_: VirtualTime):
    a = run(candidate("a", leases, time_), time_)
    await time_.run_until(0)
    b = run(candidate("b", leases, time_), time_)
    await time_.run_until(10.5)
    a.task.cancel()
    assert await a.election.release(timeout=5)
    assert leases.stored.record.holder == "" and leases.stored.record.duration_seconds == 1
    assert not a.fence.is_open()
    await time_.run_until(30)
    assert 10.5 < b.leading_at <= 10.5 + TIMINGS.retry_period
    b.task.cancel()


async def test_release_leaves_a_lease_someone_else_holds(leases: FakeLeases, time_: VirtualTime):
    leases.put(LeaseRecord("b", 15, "x", "x", 3))
    a = candidate("a", leases, time_)
    assert not await a.election.release(timeout=5)
    assert leases.stored.record.holder == "b"


async def test_a_stale_write_is_a_conflict_not_leadership(leases: FakeLeases, time_: VirtualTime):
    leases.put(LeaseRecord("old", 15, "x", "x", 0))
    time_.now = 100.0
    a, b = candidate("a", leases, time_), candidate("b", leases, time_)
    # Both first see the same record: expiry counts from then, on each one's own clock.
    assert (await a.election.try_acquire_or_renew(5)).holder == "old"
    assert (await b.election.try_acquire_or_renew(5)).holder == "old"
    time_.now = 115.0
    seen_by_b = leases.stored
    assert (await a.election.try_acquire_or_renew(5)).acquired
    # b read the old version before a's write landed: its update is refused.
    with pytest.raises(LeaseConflict):
        await leases.client("b").update(seen_by_b.record.taken_by("b", 15, "y"), seen_by_b.version, 5)
    attempt = await b.election.try_acquire_or_renew(5)
    assert not attempt.acquired and attempt.holder == "a"
    assert leases.stored.record.holder == "a" and leases.stored.record.transitions == 1


async def test_expiry_is_judged_on_the_local_clock_not_the_lease_times(leases: FakeLeases, time_: VirtualTime):
    # Renewed "long ago" by the holder's clock: still waited out in full from when it was first seen.
    leases.put(LeaseRecord("skewed", 15, "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:00.000000Z", 0))
    time_.now = 50.0
    a = run(candidate("a", leases, time_), time_)
    await time_.run_until(200)
    assert 50 + 15 <= a.leading_at <= 50 + 15 + 0.1  # woken right at the expiry, not a retry period later
    a.task.cancel()


async def test_a_leader_that_finds_a_rival_in_the_lease_stops_at_once(leases: FakeLeases, time_: VirtualTime):
    a = run(candidate("a", leases, time_), time_)
    await time_.run_until(5)
    leases.put(LeaseRecord("intruder", 15, "x", "x", 1))
    await time_.run_until(8)
    assert a.task.done() and a.task.result() == "intruder holds it"
    assert not a.fence.is_open() and not a.election.leading


async def test_a_failed_renewal_is_retried_until_the_deadline(leases: FakeLeases, time_: VirtualTime):
    a = run(candidate("a", leases, time_), time_)
    await time_.run_until(10)
    leases.cut.add("a")
    await time_.run_until(13)
    leases.cut.discard("a")  # back before the renew deadline: still leading, fence moved on
    await time_.run_until(30)
    assert not a.task.done() and a.election.leading and a.fence.is_open()
    a.task.cancel()


def test_timings_must_put_the_renew_deadline_inside_the_lease():
    with pytest.raises(ValueError, match="renew deadline"):
        LeaderElectionSettings(lease_duration=10, renew_deadline=10, retry_period=2)
    with pytest.raises(ValueError):
        LeaderElectionSettings(lease_duration=15, renew_deadline=2, retry_period=2)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    for name, value in {"VIGIL_LEADER_ELECTION": "true", "POD_NAMESPACE": "ops", "POD_NAME": "vigil-7f9c-abcde",
                        "VIGIL_LEASE_DURATION_SECONDS": "6", "VIGIL_RENEW_DEADLINE_SECONDS": "4",
                        "VIGIL_RETRY_PERIOD_SECONDS": "0.5"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VIGIL_LEASE_NAMESPACE", raising=False)
    settings = LeaderElectionSettings.from_env()
    assert settings == LeaderElectionSettings(True, "vigil-leader", "ops", "vigil-7f9c-abcde", 6, 4.0, 0.5)
    monkeypatch.setenv("VIGIL_LEADER_ELECTION", "false")
    assert not LeaderElectionSettings.from_env().enabled


def test_vigil_run_takes_kopfs_run_flags():
    from vigil.run import kopf_arguments, parser

    options = parser().parse_args(["--all-namespaces", "--standalone", "--verbose"])
    assert kopf_arguments(options) == {"clusterwide": True, "namespaces": [], "standalone": True, "peering_name": None,
                                       "priority": None, "liveness_endpoint": None}
    options = parser().parse_args(["-n", "team-a", "--namespace", "team-b", "--dev"])
    assert kopf_arguments(options)["namespaces"] == ["team-a", "team-b"]
    assert kopf_arguments(options)["priority"] == 666
    assert kopf_arguments(options)["standalone"] is None  # kopf's own default: detect peering
