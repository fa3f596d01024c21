"""`make bench`, scale section: the examples converged on organizations of growing size.

For each size, a fresh sandbox seeded with that many accounts (AWS's request rates enforced when
the sandbox offers them), the real operator on the session's control plane, and the examples
applied at once, as Argo CD would. Measured: the time until every object is Ready and Compliant;
the AWS calls Vigil made (reads, writes, throttled answers); the CPU of the operator and of the
sandbox apart; the operator's peak RSS. Then one reconcile of every object with nothing drifted
(a spec edit that changes nothing AWS holds), whose writes must be zero, and the RSS once idle.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .controlplane import ControlPlane, cpu_seconds
from .demo import load_examples, rss_mib
from .stack import PLURALS, Stack, is_ready_and_compliant

CONVERGE_RESYNC = "1h"  # no timer resync during the measures: only the first convergence counts
STEADY_RESYNC = "59m"  # the spec edit that makes every object reconcile once more
SEEDED_ACCOUNTS = 4  # management, log archive, security, shared network; the rest are workloads


@dataclass
class ScaleFigures:
    accounts: int
    regions: int
    seeded_s: float
    converged_s: float
    calls: int
    reads: int
    writes: int
    throttled: int
    operator_cpu_s: float
    sandbox_cpu_s: float
    peak_rss_mib: float
    steady_calls: int
    steady_writes: int
    idle_rss_mib: float

    @property
    def cpu_per_call_ms(self) -> float:
        return 1000 * self.operator_cpu_s / max(1, self.calls)


class PeakRss:
    """Samples a process's RSS in the background and keeps the highest."""

    def __init__(self, pid: int | None) -> None:
        self.pid, self.peak = pid, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_mib(self.pid) or 0.0)
            time.sleep(0.2)

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.peak


def examples(resync: str) -> list[dict[str, Any]]:
    docs = load_examples()
    for doc in docs:
        if doc.get("apiVersion", "").startswith("vigil.dev/"):
            doc["spec"]["resyncInterval"] = resync
            if doc["kind"] == "OrgTrail":
                doc["spec"].pop("integrity", None)  # digest verification is benched on its own
    return docs


def governed_regions(docs: list[dict[str, Any]]) -> int:
    org = next(d for d in docs if d["kind"] == "Organization")
    return len(org["spec"]["regions"]["governed"])


def measure(workdir: Path, plane: ControlPlane, accounts: int, rate_limits: str | None,
            timeout: float = 3600) -> tuple[ScaleFigures, list[Any], dict[str, Any]]:
    """The figures, the calls Vigil made converging, and the sandbox's organization."""
    seeding = time.monotonic()
    stack = Stack(workdir / f"scale-{accounts}", namespaces=("baseline",), workloads=accounts - SEEDED_ACCOUNTS,
                  controlplane=plane, **({"rate_limits": rate_limits} if rate_limits else {}))
    stack.start(operator=False)
    try:
        seeded = time.monotonic() - seeding
        stack.start_operator()
        docs = examples(CONVERGE_RESYNC)
        keys = [(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]) for d in docs if d["kind"] in PLURALS]
        aws_pid = stack.operator_process("aws").pid  # type: ignore[union-attr]
        peak = PeakRss(stack.operator_pid)
        calls = stack.calls()
        calls.reset()
        operator_cpu, sandbox_cpu = cpu_seconds(stack.operator_pid), cpu_seconds(aws_pid)
        started = time.monotonic()
        for doc in docs:
            stack.apply(doc)
        for key in keys:
            stack.wait(*key, is_ready_and_compliant, timeout=timeout, what="Ready and Compliant")
        converged = time.monotonic() - started
        operator_cpu, sandbox_cpu = cpu_seconds(stack.operator_pid) - operator_cpu, cpu_seconds(aws_pid) - sandbox_cpu
        made = [c for c in calls.calls() if c.by_vigil]
        steady_calls, steady_writes = steady_state(stack, keys, calls, timeout)
        time.sleep(5)
        figures = ScaleFigures(
            accounts=accounts, regions=governed_regions(docs), seeded_s=seeded, converged_s=converged,
            calls=len(made), reads=sum(1 for c in made if not c.write), writes=sum(1 for c in made if c.write),
            throttled=sum(1 for c in made if getattr(c, "throttled", False)),
            operator_cpu_s=operator_cpu, sandbox_cpu_s=sandbox_cpu, peak_rss_mib=peak.stop(),
            steady_calls=steady_calls, steady_writes=steady_writes, idle_rss_mib=rss_mib(stack.operator_pid) or 0.0)
        return figures, made, dict(stack.organization)
    finally:
        stack.stop()


def steady_state(stack: Stack, keys: list[tuple[str, str, str]], calls: Any, timeout: float) -> tuple[int, int]:
    """Every object reconciled once more with nothing drifted: the calls and writes it took."""
    calls.reset()
    generations = {}
    for kind, namespace, name in keys:
        generations[(kind, namespace, name)] = stack.patch_spec(
            kind, namespace, name, {"resyncInterval": STEADY_RESYNC})["metadata"]["generation"]

    for key, generation in generations.items():
        stack.wait(*key, lambda o, g=generation: o.get("status", {}).get("observedGeneration") == g
                   and is_ready_and_compliant(o), timeout=timeout, what="reconciled again")
    made = [c for c in calls.calls() if c.by_vigil]
    return len(made), sum(1 for c in made if c.write)


def report(figures: ScaleFigures) -> str:
    f = figures
    return (f"  {f.accounts:>5} accounts x {f.regions} regions: converged in {f.converged_s:7.1f}s "
            f"(seeded in {f.seeded_s:.0f}s); calls {f.calls} (reads {f.reads}, writes {f.writes}, "
            f"throttled {f.throttled}); CPU operator {f.operator_cpu_s:.1f}s ({f.cpu_per_call_ms:.2f} ms a call), "
            f"sandbox {f.sandbox_cpu_s:.1f}s; peak RSS {f.peak_rss_mib:.0f} MiB, idle {f.idle_rss_mib:.0f} MiB; "
            f"a resync with nothing drifted: {f.steady_calls} calls, {f.steady_writes} writes")


def save(figures: list[ScaleFigures], path: Path) -> None:
    path.write_text(json.dumps([asdict(f) for f in figures], indent=1) + "\n")


def plot(figures: list[ScaleFigures], path: Path) -> None:
    """Time, calls, CPU and memory against the number of accounts, on log-log axes."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    accounts = [f.accounts for f in figures]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    panels = [
        ("Time to converge (s)", [("wall", [f.converged_s for f in figures])]),
        ("AWS calls", [("reads", [f.reads for f in figures]), ("writes", [f.writes for f in figures]),
                       ("throttled", [max(f.throttled, 0) for f in figures])]),
        ("CPU (s)", [("operator", [f.operator_cpu_s for f in figures]),
                     ("sandbox", [f.sandbox_cpu_s for f in figures])]),
        ("Operator RSS (MiB)", [("peak", [f.peak_rss_mib for f in figures]),
                                ("idle after", [f.idle_rss_mib for f in figures])]),
    ]
    for ax, (title, series) in zip(axes.flat, panels):
        for label, values in series:
            ax.plot(accounts, values, marker="o", label=label)
        ax.set_title(title)
        ax.set_xscale("log")
        if title == "AWS calls":
            ax.set_yscale("symlog", linthresh=1)  # throttled answers can be 0
            ax.set_ylim(bottom=0)
        elif title == "Operator RSS (MiB)":
            ax.set_ylim(bottom=0)
        else:
            ax.set_yscale("log")
        ax.set_xlabel("accounts")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"Vigil converging the examples, {figures[0].regions} regions, against the number of accounts")
    fig.savefig(path, dpi=100)
    plt.close(fig)
