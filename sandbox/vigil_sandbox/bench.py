"""`make bench`: figures, not assertions.

1. Steady state: the examples applied and converged, the AWS calls of each resync (by
   operation) and the writes (should be none).
2. Memory: the operator's RSS idle with the examples applied, and its peak while resyncing a
   large organization (VIGIL_BENCH_ACCOUNTS accounts, 500 by default).
3. Integrity verification: `vigil verify-trail` on a generated chain of 10,368 log files, digests
   and log files verified per second and peak RSS, for windows of 6 to 48 hours.
4. The invalid corpus (tests/invalid/): every manifest applied beside a converged Organization
   and LogArchive; how many admission refused, how many the operator did, and the AWS write
   attempts made meanwhile (must be 0).
5. Failover: two replicas with deploy/'s leader election timings; the leader SIGKILLed, the time
   until the other holds the Lease and has corrected a drift; then a graceful stop's hand-over.

1 and 2 run on a real kube-apiserver + etcd on the same cores: wall-clock figures include their
CPU, which is printed beside them; call counts and the operator's memory and CPU do not. 3 runs
no control plane.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from .controlplane import ControlPlane, cpu_seconds
from .demo import ROOT, load_examples, rss_mib
from .integrity_bench import integrity_verification
from .invalid_corpus import ADMISSION, OPERATOR, apply_corpus
from .invalid_corpus import load as load_invalid_corpus
from .stack import PLURALS, Stack, is_ready_and_compliant, wait_until

RESYNC_SECONDS = 5


def converge(stack: Stack) -> list[tuple[str, str, str]]:
    docs = load_examples()
    for doc in docs:
        if doc.get("apiVersion", "").startswith("vigil.dev/"):
            doc["spec"]["resyncInterval"] = f"{RESYNC_SECONDS}s"
        stack.apply(doc)
    keys = [(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]) for d in docs if d["kind"] in PLURALS]
    for key in keys:
        stack.wait(*key, is_ready_and_compliant, timeout=600, what="Ready and Compliant")
    return keys


def steady_state(workdir: Path, plane: ControlPlane) -> None:
    print("== Steady-state resync (examples converged, nothing drifted)")
    with Stack(workdir / "steady", namespaces=("baseline",), controlplane=plane) as stack:
        converge(stack)
        calls = stack.calls()
        time.sleep(RESYNC_SECONDS + 2)  # let any first-resync work settle
        calls.reset()
        periods = 4
        operator_cpu, plane_cpu = cpu_seconds(stack.operator_pid), plane.cpu_seconds()
        time.sleep(periods * RESYNC_SECONDS)
        operator_cpu, plane_cpu = cpu_seconds(stack.operator_pid) - operator_cpu, plane.cpu_seconds() - plane_cpu
        recorded = calls.calls()
        per_op = Counter(f"{c.service}:{c.operation}" for c in recorded)
        print(f"  over {periods} resync periods of {RESYNC_SECONDS}s: {len(recorded)} calls, "
              f"{sum(1 for c in recorded if c.write)} writes")
        for op, count in sorted(per_op.items()):
            print(f"    {op:<55} {count / periods:5.1f} per resync")
        print(f"  CPU over those periods: operator {operator_cpu:.2f}s, kube-apiserver + etcd {plane_cpu:.2f}s")
        time.sleep(5)
        print(f"  operator RSS idle with the examples applied: {rss_mib(stack.operator_pid):.1f} MiB")


def large_organization(workdir: Path, accounts: int, plane: ControlPlane) -> None:
    print(f"== Resyncing a {accounts}-account organization")
    seeding = time.monotonic()
    stack = Stack(workdir / "large", namespaces=("baseline",), workloads=accounts - 4, controlplane=plane)
    stack.start(operator=False)
    try:
        print(f"  sandbox seeded in {time.monotonic() - seeding:.0f}s")
        stack.start_operator()
        peak = [0.0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mib(stack.operator_pid) or 0.0)
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started, plane_cpu = time.monotonic(), plane.cpu_seconds()
        converge(stack)
        first, plane_cpu = time.monotonic() - started, plane.cpu_seconds() - plane_cpu
        operator_cpu = cpu_seconds(stack.operator_pid)
        org = stack.get("Organization", "baseline", "acme")["status"]
        time.sleep(3 * RESYNC_SECONDS)
        done.set()
        sampler.join()
        print(f"  converged in {first:.1f}s wall ({org['accounts']['reachable']}/{org['accounts']['total']} accounts "
              f"reachable), sharing the cores with the control plane: operator {operator_cpu:.1f} CPU-s, "
              f"kube-apiserver + etcd {plane_cpu:.1f} CPU-s; peak RSS {peak[0]:.1f} MiB; RSS after 3 resyncs "
              f"{rss_mib(stack.operator_pid):.1f} MiB")
    finally:
        stack.stop()


def invalid_corpus(workdir: Path, plane: ControlPlane) -> None:
    entries = load_invalid_corpus()
    print(f"== The invalid corpus: {len(entries)} manifests AWS would refuse (tests/invalid/)")
    with Stack(workdir / "invalid", namespaces=("baseline",), controlplane=plane) as stack:
        for kind in ("Organization", "LogArchive"):
            doc = next(d for d in load_examples() if d["kind"] == kind)
            doc["spec"]["resyncInterval"] = f"{RESYNC_SECONDS}s"
            stack.apply(doc)
            stack.wait(kind, "baseline", doc["metadata"]["name"], is_ready_and_compliant, timeout=120,
                       what="Ready and Compliant")
        run = apply_corpus(stack, entries, progress=lambda line: print(f"  {line}"))
    by_place = Counter(v.refused_at or "not refused" for v in run.verdicts)
    print(f"  refused at admission {by_place[ADMISSION]}, by the operator {by_place[OPERATOR]} "
          f"(InvalidSpec or DependencyNotReady, the field named), not as expected {len(run.unexpected)}")
    for verdict in run.unexpected:
        print(f"    {verdict.entry}: expected {verdict.entry.at}, got {verdict.refused_at} {verdict.reason}: "
              f"{verdict.message[:160]}")
    print(f"  AWS write attempts while they were applied and retried: {len(run.writes)} (must be 0)")
    for call in run.writes:
        print(f"    {call.account} {call.service}:{call.operation} {call.region}")


def failover(workdir: Path, plane: ControlPlane) -> None:
    """Kill the leader of two replicas: how long until the other reconciles. With deploy/'s timings
    (lease 15 s, renew deadline 10 s, retry 2 s), not the Stack's short ones."""
    timings = {"VIGIL_LEASE_DURATION_SECONDS": "15", "VIGIL_RENEW_DEADLINE_SECONDS": "10",
               "VIGIL_RETRY_PERIOD_SECONDS": "2"}
    print("== Failover: two replicas, lease 15s, renew deadline 10s, retry 2s")
    with Stack(workdir / "failover", namespaces=("baseline",), controlplane=plane, operator_env=timings) as stack:
        replicas = ("operator", "operator-2")
        stack.start_operator(replicas[1])
        docs = [doc for doc in load_examples() if doc["kind"] in ("Organization", "LogArchive", "OrgTrail")]
        for doc in docs:
            doc["spec"]["resyncInterval"] = f"{RESYNC_SECONDS}s"
            stack.apply(doc)
            stack.wait(doc["kind"], "baseline", doc["metadata"]["name"], is_ready_and_compliant, timeout=120,
                       what="Ready and Compliant")
        trail = next(doc["spec"]["trailName"] for doc in docs if doc["kind"] == "OrgTrail")
        cloudtrail = stack.aws("cloudtrail")
        leader = next(name for name in replicas if stack.leads(name))
        other = replicas[1 - replicas.index(leader)]
        cloudtrail.stop_logging(Name=trail)  # drift that only a reconciling replica corrects
        killed = time.monotonic()
        stack.kill_operator(leader)
        wait_until("the other replica leads", lambda: stack.leads(other), timeout=60)
        leading = time.monotonic() - killed
        wait_until("the drift is corrected", lambda: cloudtrail.get_trail_status(Name=trail)["IsLogging"],
                   timeout=60)
        corrected = time.monotonic() - killed
        print(f"  leader SIGKILLed: the other replica held the Lease after {leading:.1f}s and had corrected a drift "
              f"after {corrected:.1f}s (bound for the Lease: lease duration + retry period = 17s)")
        stack.start_operator(leader)  # back as a candidate
        stopped = time.monotonic()
        stack.stop_operator(other)
        wait_until("the restarted replica leads", lambda: stack.leads(leader), timeout=60)
        print(f"  leader stopped gracefully (SIGTERM): the Lease released, taken after {time.monotonic() - stopped:.1f}s")


def main() -> int:
    workdir = ROOT / ".bench"
    shutil.rmtree(workdir, ignore_errors=True)
    with ControlPlane(workdir / "controlplane") as plane:
        print(f"== Control plane (etcd + kube-apiserver) ready in {plane.started_in:.1f}s")
        steady_state(workdir, plane)
        large_organization(workdir, int(os.environ.get("VIGIL_BENCH_ACCOUNTS", "500")), plane)
        invalid_corpus(workdir, plane)
        failover(workdir, plane)
    integrity_verification()
    return 0


if __name__ == "__main__":
    sys.exit(main())
