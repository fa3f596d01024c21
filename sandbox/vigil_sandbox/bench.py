"""`make bench`: figures, not assertions.

1. Steady state: the examples applied and converged, the AWS calls of each resync (by
   operation) and the writes (should be none).
2. Memory: the operator's RSS idle with the examples applied, and its peak while resyncing a
   large organization (VIGIL_BENCH_ACCOUNTS accounts, 500 by default).
3. Integrity verification: `vigil verify-trail` on a generated chain of 10,368 log files, digests
   and log files verified per second and peak RSS, for windows of 6 to 48 hours.

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
from .stack import PLURALS, Stack, is_ready_and_compliant

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


def main() -> int:
    workdir = ROOT / ".bench"
    shutil.rmtree(workdir, ignore_errors=True)
    with ControlPlane(workdir / "controlplane") as plane:
        print(f"== Control plane (etcd + kube-apiserver) ready in {plane.started_in:.1f}s")
        steady_state(workdir, plane)
        large_organization(workdir, int(os.environ.get("VIGIL_BENCH_ACCOUNTS", "500")), plane)
    integrity_verification()
    return 0


if __name__ == "__main__":
    sys.exit(main())
