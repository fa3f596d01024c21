"""`make bench`: figures, not assertions.

1. Steady state: the examples applied and converged, the AWS calls of each resync (by
   operation) and the writes (should be none); the operator's RSS idle.
2. `kubectl apply -k examples/` to every object Ready, with the production timings.
3. Scale (vigil_sandbox.scale_bench): the examples converged on 10, 100, 300 and 1,000 accounts
   (VIGIL_BENCH_ACCOUNTS=10,100 for a quick run) with AWS's request rates enforced by the
   sandbox: time, calls (reads, writes, throttled), CPU of the operator and of the sandbox apart,
   peak RSS; plotted to docs/images/bench-scale.png; the largest run projected to 1,000 accounts
   x 17 regions (vigil_sandbox.projection).
4. The invalid corpus (tests/invalid/): every manifest applied beside a converged Organization
   and LogArchive; how many admission refused, how many the operator did, and the AWS write
   attempts made meanwhile (must be 0).
5. Failover: two replicas with deploy/'s leader election timings; the leader SIGKILLed, the time
   until the other holds the Lease and has corrected a drift; then a graceful stop's hand-over.
6. Vigil's CPU per AWS call against a bare boto3 loop making the same calls (call_replay).
7. The operator's largest heap holders by package, imported and after a pass (vigil_sandbox.heap).
8. Integrity verification: `vigil verify-trail` against `aws cloudtrail validate-logs` on the same
   generated chain, timed and their verdicts compared (integrity_bench).

1 to 5 run on a real kube-apiserver + etcd on the same cores: wall-clock figures include their
CPU, which is printed beside them; call counts and the operator's memory and CPU do not.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from vigil.aws.budget import CallBudget

from . import call_replay, heap, projection, scale_bench
from .awsserver import is_write
from .bench_examples import PRODUCTION_TIMINGS, apply_examples_to_ready
from .controlplane import ControlPlane, cpu_seconds
from .demo import ROOT, load_examples, rss_mib
from .integrity_bench import integrity_verification
from .invalid_corpus import ADMISSION, OPERATOR, apply_corpus
from .invalid_corpus import load as load_invalid_corpus
from .rate_limits import rate_of
from .scale_bench import ScaleFigures
from .stack import PLURALS, Stack, is_ready_and_compliant, wait_until

RESYNC_SECONDS = 5
DEFAULT_SIZES = "10,100,300,1000"
PLOT = ROOT / "docs" / "images" / "bench-scale.png"


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


def examples_to_ready(workdir: Path, plane: ControlPlane) -> None:
    print("== kubectl apply -k examples/ (7 accounts) to every object Ready and Compliant, production timings")
    with Stack(workdir / "examples", controlplane=plane, operator_env=PRODUCTION_TIMINGS) as stack:
        ready_at: dict[tuple[str, str, str], float] = {}
        seconds = apply_examples_to_ready(stack, ready_at)
        last = max(ready_at, key=ready_at.__getitem__)
        print(f"  {seconds:.1f}s (the last: {last[0]} {last[2]})")


def scale(workdir: Path, plane: ControlPlane, sizes: list[int]) -> list[ScaleFigures]:
    """The examples converged on organizations of each size, AWS's rates enforced; the figures
    plotted against the number of accounts, and the largest run projected to 1,000 x 17."""
    print(f"== Scale: the examples converged on {', '.join(map(str, sizes))} accounts, AWS's request rates enforced")
    figures, largest = [], None
    for accounts in sizes:
        measured, calls, organization = scale_bench.measure(workdir, plane, accounts, rate_limits="aws")
        print(scale_bench.report(measured), flush=True)
        figures.append(measured)
        largest = (measured, calls, organization)
    scale_bench.save(figures, workdir / "scale.json")
    if len(figures) > 1:
        scale_bench.plot(figures, PLOT)
        print(f"  plotted to {PLOT.relative_to(ROOT)}")
    if largest is not None:
        project_largest(*largest)
    return figures


def project_largest(figures: ScaleFigures, calls: list[Any], organization: dict[str, Any]) -> None:
    docs = scale_bench.examples("1h")
    regions = next(d for d in docs if d["kind"] == "Organization")["spec"]["regions"]
    central = {organization["management"], organization["log_archive"], organization["security"]}
    projected = projection.project(
        calls, regions["home"], regions["governed"], figures.accounts, central,
        cpu_per_call_s=figures.operator_cpu_s / max(1, figures.calls), in_flight=CallBudget().in_flight,
        rate_for=lambda service, operation: _rate(service, operation))
    print(f"  projected first convergence on AWS, {projection.TARGET_ACCOUNTS} accounts x "
          f"{projection.TARGET_REGIONS} regions (from the {figures.accounts}-account run): {projected.calls} calls; "
          f"fan-out {projected.fan_out_s / 60:.1f} min ({CallBudget().in_flight} in flight, "
          f"{projection.LATENCY_S * 1000:.0f} ms an answer), AWS's rates {projected.rate_limited_s / 60:.1f} min "
          f"(slowest: {projected.slowest_key}), Vigil's CPU {projected.cpu_s / 60:.1f} min: "
          f"{projected.total_s / 60:.1f} min")


def _rate(service: str, operation: str) -> tuple[float, float]:
    rate = rate_of(service, operation, is_write(operation))[1]
    return rate.per_second, rate.burst


def cpu_per_call(workdir: Path, rounds: int = 3) -> None:
    """Each round on a fresh sandbox; the median round is the figure. A round measures a second or
    two of CPU, and the same round run again on this machine moved by a third either way."""
    print(f"== Vigil's CPU per AWS call against a bare boto3 loop making the same calls (10 workload accounts, "
          f"{rounds} rounds, the median)")
    manifests = [p for p in sorted((ROOT / "examples").glob("*.yaml"))
                 if p.name not in ("kustomization.yaml", "namespace.yaml")]
    ratios: dict[str, list[float]] = {}
    for n in range(rounds):
        first, first_bare, second, second_bare = call_replay.compare(workdir / f"replay-{n}", manifests, workloads=10)
        for label, vigil, bare in (("first convergence", first, first_bare), ("nothing drifted", second, second_bare)):
            apart = vigil.cpu_per_call_ms_made_clients_apart
            ratios.setdefault(label, []).append(vigil.cpu_per_call_ms / max(bare.cpu_per_call_ms, 1e-9))
            ratios.setdefault(f"{label}, clients made apart (as the bare loop's)", []).append(
                apart / max(bare.cpu_per_call_ms, 1e-9))
            print(f"  round {n + 1}, {label}: {len(vigil.calls)} calls; Vigil {vigil.cpu_per_call_ms:.2f} ms a call "
                  f"({apart:.2f} without making its clients, once a process), the bare loop "
                  f"{bare.cpu_per_call_ms:.2f} ms (its clients made before)")
    for label, found in ratios.items():
        print(f"  {label}: {statistics.median(found):.2f}x (rounds: {', '.join(f'{r:.2f}x' for r in found)})")


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


def sizes() -> list[int]:
    """VIGIL_BENCH_ACCOUNTS: the organization sizes to converge, comma-separated."""
    return [int(n) for n in os.environ.get("VIGIL_BENCH_ACCOUNTS", DEFAULT_SIZES).split(",") if n.strip()]


def main() -> int:
    workdir = ROOT / ".bench"
    shutil.rmtree(workdir, ignore_errors=True)
    with ControlPlane(workdir / "controlplane") as plane:
        print(f"== Control plane (etcd + kube-apiserver) ready in {plane.started_in:.1f}s")
        steady_state(workdir, plane)
        examples_to_ready(workdir, plane)
        scale(workdir, plane, sizes())
        invalid_corpus(workdir, plane)
        failover(workdir, plane)
    cpu_per_call(workdir)
    print("== The operator's largest heap holders (tracemalloc; its modules imported, then one pass over the examples)")
    heap.report()
    integrity_verification()
    return 0


if __name__ == "__main__":
    sys.exit(main())
