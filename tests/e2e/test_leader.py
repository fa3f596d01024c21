"""High availability: two real operator processes on one API server, under leader election on
the Lease vigil-system/vigil-leader (deploy/'s RBAC, the Stack's short timings).

Exactly one reconciles: the baseline written with two replicas is the AWS writes of one, and the
waiting replica makes no AWS call at all. A SIGKILLed leader's Lease is taken within one lease
duration plus one retry period and the new leader reconciles; a SIGTERMed one releases the Lease
and the other takes it at its next try. A leader cut off from the API server (its connection
runs through a TCP proxy the test closes) stops writing to AWS before its Lease can expire: with
drift injected all along, no correction is written between its fence and the rival's takeover.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from vigil_sandbox import examples
from vigil_sandbox.controlplane import ControlPlane
from vigil_sandbox.faults import Fault, Faults
from vigil_sandbox.iam_coverage import gaps as iam_gaps
from vigil_sandbox.stack import (LEASE_NAME, LEASE_SECONDS, OPERATOR_NAMESPACE, RETRY_SECONDS, Stack,
                                 is_ready_and_compliant, wait_until)

pytestmark = pytest.mark.e2e
NS = "leader"
TRAIL = "vigil-org-trail"
BASELINE = [("Organization", "acme"), ("LogArchive", "central"), ("OrgTrail", "org-trail")]
A, B = "operator", "operator-2"


def leader(stack: Stack, *names: str, timeout: float = 30) -> str:
    found: list[str] = []
    wait_until("one replica leads", lambda: bool(found.extend(n for n in names if stack.leads(n)) or found),
               timeout)
    return found[0]


def lease(stack: Stack) -> dict[str, Any]:
    from kubernetes import client

    return client.CoordinationV1Api(stack.kube()).read_namespaced_lease(LEASE_NAME, OPERATOR_NAMESPACE).to_dict()


def apply_baseline(stack: Stack, manifest, **trail: Any) -> None:
    for kind, _ in BASELINE:
        stack.apply(manifest(kind, NS, **(trail if kind == "OrgTrail" else {})))
    for kind, name in BASELINE:
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=90, what="Ready and Compliant")


def writes(stack: Stack) -> Counter[tuple[str, str, str, str]]:
    return Counter((c.service, c.operation, c.account, c.region) for c in stack.calls().writes())


@pytest.fixture(scope="module")
def one_replica_writes(tmp_path_factory: pytest.TempPathFactory, controlplane: ControlPlane,
                       manifest) -> Counter[tuple[str, str, str, str]]:
    """The reference: the baseline converged by a single replica, on an AWS sandbox of its own."""
    with Stack(tmp_path_factory.mktemp("one"), namespaces=(NS,), controlplane=controlplane) as stack:
        apply_baseline(stack, manifest)
        time.sleep(6)  # two resyncs: whatever a steady state still writes is counted too
        missing = iam_gaps(stack)
        if missing:
            pytest.fail(missing, pytrace=False)
        return writes(stack)


@pytest.fixture(scope="module")
def pair(one_replica_writes: Counter, tmp_path_factory: pytest.TempPathFactory, controlplane: ControlPlane,
         manifest) -> Iterator[Stack]:
    """Two replicas on a fresh AWS sandbox (started after the reference stopped: one Lease), the
    same baseline converged."""
    with Stack(tmp_path_factory.mktemp("pair"), namespaces=(NS,), controlplane=controlplane) as stack:
        stack.start_operator(B)
        leader(stack, A, B)
        apply_baseline(stack, manifest)
        time.sleep(6)
        yield stack
        missing = iam_gaps(stack)
    if missing:
        pytest.fail(missing, pytrace=False)


def restore_pair(stack: Stack) -> None:
    for name in (A, B):
        process = stack.operator_process(name)
        if process is None or process.poll() is not None:
            stack.start_operator(name)


def test_two_replicas_write_to_aws_what_one_writes(pair: Stack, one_replica_writes: Counter):
    first = leader(pair, A, B)
    other = B if first == A else A
    assert writes(pair) == one_replica_writes
    assert one_replica_writes, "the baseline was written"
    assert not pair.leads(other)
    assert not pair.metric("vigil_aws_calls_total", replica=other), "the waiting replica never calls AWS"
    assert (pair.metric("vigil_aws_calls_total", replica=first) or 0) > 0
    held = lease(pair)["spec"]
    assert held["holder_identity"].startswith(f"{first}_") and held["lease_duration_seconds"] == LEASE_SECONDS


def test_a_killed_leaders_lease_is_taken_within_lease_duration_plus_retry_period(pair: Stack):
    restore_pair(pair)
    old = leader(pair, A, B)
    new = B if old == A else A
    ct = pair.aws("cloudtrail")
    ct.stop_logging(Name=TRAIL)  # drift only a reconciling replica corrects
    killed = time.monotonic()
    pair.kill_operator(old)
    wait_until("the other replica leads", lambda: pair.leads(new), timeout=LEASE_SECONDS + 10)
    took_over = time.monotonic() - killed
    wait_until("the new leader corrects the drift", lambda: ct.get_trail_status(Name=TRAIL)["IsLogging"], timeout=30)
    reconciled = time.monotonic() - killed
    print(f"\nfailover after SIGKILL: Lease taken in {took_over:.1f}s, drift corrected in {reconciled:.1f}s "
          f"(lease {LEASE_SECONDS}s, retry {RETRY_SECONDS}s)")
    assert took_over <= LEASE_SECONDS + RETRY_SECONDS + 1  # + the test's polling, on a loaded machine
    assert lease(pair)["spec"]["holder_identity"].startswith(f"{new}_")


def test_a_graceful_stop_releases_the_lease_at_once(pair: Stack):
    restore_pair(pair)
    old = leader(pair, A, B)
    new = B if old == A else A
    transitions = lease(pair)["spec"]["lease_transitions"]
    stopped = time.monotonic()
    pair.stop_operator(old)  # SIGTERM: kopf stops, writes drain, the Lease is released
    wait_until("the other replica leads", lambda: pair.leads(new), timeout=LEASE_SECONDS + 10)
    took_over = time.monotonic() - stopped
    print(f"\nhand-over after SIGTERM: {took_over:.1f}s")
    assert took_over < LEASE_SECONDS - 1, "taken at the next try, not after the lease ran out"
    assert "Released Lease" in (pair.workdir / f"{old}.log").read_text()
    spec = lease(pair)["spec"]
    assert spec["holder_identity"].startswith(f"{new}_") and spec["lease_transitions"] == transitions + 1


# --- a leader cut off from the API server --------------------------------------------------------

class TcpProxy:
    """Forwards a local port to the API server; ``cut()`` closes it and every connection through it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                if not self.open:
                    client.close(), upstream.close()
                    return
                self.sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while self.open:
                ready, _, _ = select.select([a, b], [], [], 0.2)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)
        except OSError:
            return
        finally:
            a.close(), b.close()

    def cut(self) -> None:
        with self.lock:
            self.open = False
            self.listener.close()
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


def proxied_kubeconfig(stack: Stack, proxy: TcpProxy, path: Path) -> Path:
    config = yaml.safe_load(stack.operator_kubeconfig.read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"  # the serving cert names 127.0.0.1
    path.write_text(yaml.safe_dump(config))
    return path


class CallSampler:
    """(wall time, calls recorded so far) every 0.1 s, so a time maps to a place in the call record."""

    def __init__(self, stack: Stack) -> None:
        self.calls, self.samples, self.done = stack.calls(), [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.1):
            self.samples.append((time.time(), len(self.calls.calls())))

    def stop(self) -> list[Any]:
        self.done.set()
        self.thread.join()
        return self.calls.calls()

    def index_at(self, when: float, after: bool) -> int:
        """Calls recorded by ``when`` (after=False: the last sample before it) or surely not before it."""
        if after:
            return next(n for t, n in self.samples if t >= when)
        return max((n for t, n in self.samples if t <= when), default=0)


def test_a_leader_cut_off_from_the_api_server_stops_writing_before_its_lease_expires(pair: Stack):
    # Longer leases than the Stack's: between the cut-off leader's fence (renew deadline) and the
    # rival's takeover (lease duration) lie several resyncs of a drifting trail.
    lease_seconds, renew_seconds = 10, 3
    timings = {"VIGIL_LEASE_DURATION_SECONDS": str(lease_seconds),
               "VIGIL_RENEW_DEADLINE_SECONDS": str(renew_seconds), "VIGIL_RETRY_PERIOD_SECONDS": "1"}
    for name in (A, B):
        pair.stop_operator(name)
    assert pair.controlplane is not None
    proxy = TcpProxy(("127.0.0.1", int(pair.controlplane.url.rsplit(":", 1)[1])))
    cut_off = proxied_kubeconfig(pair, proxy, pair.workdir / "cut.kubeconfig")
    pair.start_operator(A, env={**timings, "KUBECONFIG": str(cut_off)})
    wait_until("the proxied replica leads", lambda: pair.leads(A), timeout=30)
    pair.start_operator(B, env=timings)
    pair.apply(examples.example("OrgTrail", NS, resyncInterval="1s"))
    ct = pair.aws("cloudtrail")
    stop_drifting = threading.Event()

    def drift() -> None:
        while not stop_drifting.wait(0.3):
            ct.stop_logging(Name=TRAIL)

    # The owner check before each write (the trail's tags) takes 6 s, longer than the renew
    # deadline: the reconcile under way in a worker thread when the Lease is lost comes to its
    # write after the fence has closed (kopf's stop does not stop that thread; the fence does).
    faults = Faults(pair.aws_endpoint)
    faults.set(delay=Fault(operations=("ListTags",), services=("cloudtrail",), ms=6000))
    sampler = CallSampler(pair)
    drifter = threading.Thread(target=drift, daemon=True)
    drifter.start()
    try:
        seen = started_logging(pair)
        wait_until("the leader corrects the drift", lambda: started_logging(pair) > seen, timeout=30)
        time.sleep(1.5)  # the next reconcile has started reading
        cut_at = time.time()
        proxy.cut()
        wait_until("the rival leads", lambda: pair.leads(B), timeout=lease_seconds + 10)
        faults.clear()
        time.sleep(8)  # and corrects it in turn (its first read may still be delayed)
    finally:
        stop_drifting.set()
        drifter.join()
        calls = sampler.stop()
        faults.clear()
    acquired = lease(pair)["spec"]["acquire_time"].timestamp()
    old = pair.operator_process(A)
    assert old is not None
    wait_until("the cut-off leader exits", lambda: old.poll() is not None, timeout=20)
    assert old.returncode == 1
    log = (pair.workdir / f"{A}.log").read_text()
    assert "Lost Lease" in log

    def corrections(start: int, end: int) -> int:
        return sum(1 for c in calls[start:end] if c.operation == "StartLogging")

    fenced = cut_at + renew_seconds + 0.5  # its last renewal was before the cut; a write on the wire lands
    index = sampler.index_at
    before, between, after = (corrections(0, index(cut_at, after=False)),
                              corrections(index(fenced, after=True), index(acquired, after=False)),
                              corrections(index(acquired, after=True), len(calls)))
    print(f"\ncut-off leader: Lease taken {acquired - cut_at:.1f}s after the cut; corrections before the cut {before}, "
          f"between its fence and the takeover {between}, after {after}; writes its fence refused: "
          f"{log.count('AWS write refused')}")
    assert acquired - cut_at >= lease_seconds - 2, "the rival waited for the lease to run out"
    assert before >= 1, "the leader was correcting before the cut"
    assert between == 0, "no AWS write between the cut-off leader's fence and the rival's takeover"
    assert "AWS write refused: not written, the Lease was lost" in log, "the reconcile under way met the fence"
    assert after >= 1, "the new leader corrects"
    restore_pair(pair)


def started_logging(stack: Stack) -> int:
    return sum(1 for c in stack.calls().calls() if c.operation == "StartLogging")
