"""`kubectl apply -k examples/` to every object Ready and Compliant: a figure for `make bench`
(issue 18's target: 7 accounts, at most 10 s), never an assertion.

The examples as they are (resyncInterval 5m), applied by the control plane's own kubectl to a
Stack whose operator runs with the production timings (``PRODUCTION_TIMINGS``: the Stack's are
shortened for tests, and a one-second tick would hide a dependent waiting for a poll). The clock
starts as kubectl starts and stops when the last object is Ready and Compliant; each object's own
time is kept, so a slow figure says which object was last. The standalone run prints beside it
the AWS calls made and the CPU each process spent (they share the machine's cores).

``python -m vigil_sandbox.bench_examples [runs]`` measures on a control plane of its own.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from vigil.api import GROUP, VERSION

from .controlplane import ControlPlane, cpu_seconds
from .examples import EXAMPLES, objects
from .stack import PLURALS, Stack, is_ready_and_compliant, wait_until

# VigilSettings' defaults (and deploy/'s), which the Stack shortens for tests.
PRODUCTION_TIMINGS = {"VIGIL_TICK_SECONDS": "10", "VIGIL_RETRY_SECONDS": "30", "VIGIL_LEASE_DURATION_SECONDS": "15",
                      "VIGIL_RENEW_DEADLINE_SECONDS": "10", "VIGIL_RETRY_PERIOD_SECONDS": "2"}
# How often the objects are read while waiting: the figure's resolution.
POLL_SECONDS = 0.2

Key = tuple[str, str, str]  # kind, namespace, name


def apply_examples_to_ready(stack: Stack, ready_at: dict[Key, float] | None = None,
                            timeout: float = 300) -> float:
    """Seconds from `kubectl apply -k examples/` to every object of examples/ Ready and Compliant
    (the current generation reconciled). ``ready_at``, if given, receives each object's own time."""
    plane = stack.controlplane
    assert plane is not None
    wait_until("the operator leads", stack.leads, timeout=60)  # its start-up is not the figure
    keys = {(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]) for d in objects()}
    found: dict[Key, float] = {} if ready_at is None else ready_at
    custom = stack.custom()
    started = time.monotonic()
    plane.kubectl("apply", "-k", str(EXAMPLES))
    while len(found) < len(keys):
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            raise TimeoutError(f"not Ready and Compliant after {timeout:.0f}s: "
                               f"{', '.join(f'{k}/{n}' for k, _, n in sorted(keys - found.keys()))}")
        for kind, namespace in sorted({(k, ns) for k, ns, _ in keys - found.keys()}):
            for obj in custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURALS[kind])["items"]:
                key = (kind, namespace, obj["metadata"]["name"])
                if key in keys and key not in found and is_ready_and_compliant(obj):
                    found[key] = elapsed
        time.sleep(POLL_SECONDS)
    return max(found.values())


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 1
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-examples-"))
    with ControlPlane(workdir / "controlplane") as plane:
        for run in range(1, runs + 1):
            with Stack(workdir / f"run{run}", controlplane=plane, operator_env=PRODUCTION_TIMINGS) as stack:
                sandbox = stack.operator_process("aws")  # the Stack keeps each process it started by name
                assert sandbox is not None
                cpu = (cpu_seconds(stack.operator_pid), cpu_seconds(sandbox.pid), plane.cpu_seconds())
                ready_at: dict[Key, float] = {}
                seconds = apply_examples_to_ready(stack, ready_at)
                operator, aws, kube = (cpu_seconds(stack.operator_pid) - cpu[0], cpu_seconds(sandbox.pid) - cpu[1],
                                       plane.cpu_seconds() - cpu[2])
                order = ", ".join(f"{kind} {at:.1f}" for (kind, _, _), at in sorted(ready_at.items(),
                                                                                    key=lambda i: i[1]))
                print(f"run {run}: kubectl apply -k examples/ to all {len(ready_at)} objects Ready and "
                      f"Compliant in {seconds:.1f}s ({order}); {len(stack.calls().calls())} AWS calls; CPU "
                      f"operator {operator:.1f}s, AWS sandbox {aws:.1f}s, kube-apiserver + etcd {kube:.1f}s; "
                      f"load average {os.getloadavg()[0]:.1f}; operator log {stack.workdir / 'operator.log'}",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
