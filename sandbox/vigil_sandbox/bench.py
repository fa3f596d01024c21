"""`make bench`: figures, not assertions.

1. Steady state: the examples applied and converged, the AWS calls of each resync (by
   operation) and the writes (should be none).
2. Memory: the operator's RSS idle with the examples applied, and its peak while resyncing a
   large organization (VIGIL_BENCH_ACCOUNTS accounts, 500 by default).
3. Integrity verification: `vigil verify-trail` on a generated chain of 10,368 log files, digests
   and log files verified per second and peak RSS, for windows of 6 to 48 hours.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path

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


def steady_state(workdir: Path) -> None:
    print("== Steady-state resync (examples converged, nothing drifted)")
    with Stack(workdir / "steady", namespaces=("baseline",)) as stack:
        converge(stack)
        calls = stack.calls()
        time.sleep(RESYNC_SECONDS + 2)  # let any first-resync work settle
        calls.reset()
        periods = 4
        time.sleep(periods * RESYNC_SECONDS)
        recorded = calls.calls()
        per_op = Counter(f"{c.service}:{c.operation}" for c in recorded)
        print(f"  over {periods} resync periods of {RESYNC_SECONDS}s: {len(recorded)} calls, "
              f"{sum(1 for c in recorded if c.write)} writes")
        for op, count in sorted(per_op.items()):
            print(f"    {op:<55} {count / periods:5.1f} per resync")
        time.sleep(5)
        print(f"  operator RSS idle with the examples applied: {rss_mib(stack.operator_pid):.1f} MiB")


def large_organization(workdir: Path, accounts: int) -> None:
    print(f"== Resyncing a {accounts}-account organization")
    seeding = time.monotonic()
    stack = Stack(workdir / "large", namespaces=("baseline",), workloads=accounts - 4)
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
        started = time.monotonic()
        converge(stack)
        first = time.monotonic() - started
        org = stack.get("Organization", "baseline", "acme")["status"]
        time.sleep(3 * RESYNC_SECONDS)
        done.set()
        sampler.join()
        print(f"  converged in {first:.1f}s ({org['accounts']['reachable']}/{org['accounts']['total']} accounts "
              f"reachable); peak RSS {peak[0]:.1f} MiB; RSS after 3 resyncs {rss_mib(stack.operator_pid):.1f} MiB")
    finally:
        stack.stop()


def main() -> int:
    workdir = ROOT / ".bench"
    shutil.rmtree(workdir, ignore_errors=True)
    steady_state(workdir)
    large_organization(workdir, int(os.environ.get("VIGIL_BENCH_ACCOUNTS", "500")))
    integrity_verification()
    return 0


if __name__ == "__main__":
    sys.exit(main())
