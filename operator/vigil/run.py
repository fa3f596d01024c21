"""`vigil run`: the operator process. Its HTTP endpoints first, then kopf with Vigil's handlers:
at once, or, under leader election, only while this replica holds the Lease.

kopf's peering is not leader election (replicas of equal priority all pause), so Vigil holds a
``coordination.k8s.io/v1`` Lease itself (``vigil.leadership``) and starts kopf through its
embedding API once it leads. When the Lease is lost the AWS writes are fenced at once, kopf is
stopped and the process exits 1, so Kubernetes restarts it as a candidate (controller-runtime's
convention: a new process never inherits a reconcile thread of the old term). A graceful stop
(SIGTERM) stops kopf, waits for the AWS writes in flight, and releases the Lease so the other
replica takes over at its next try.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
import uuid
from typing import Any, NoReturn

import kopf

from . import metrics, server
from .leadership.election import LeaderElection
from .leadership.fence import WRITES
from .leadership.lease import LeaseApi
from .memory import limit_arenas
from .settings import LeaderElectionSettings, VigilSettings
from .workstation.exit_codes import UsageParser

log = logging.getLogger(__name__)
# After the Lease is lost: how long kopf gets to stop before the process exits regardless (the
# writes are fenced already; this is only tidiness).
STOP_SECONDS = 10.0
# On a graceful stop: how long writes already admitted get to finish before the Lease is released (with
# some still running after that, it is not released but left to run out).
DRAIN_SECONDS = 10.0


def parser() -> argparse.ArgumentParser:
    """kopf's own `run` options (those Vigil uses), so `vigil run` takes what `kopf run` takes."""
    p = UsageParser(prog="vigil run", description="Run the operator (kopf with Vigil's handlers).")
    p.add_argument("-A", "--all-namespaces", dest="clusterwide", action="store_true",
                   help="watch every namespace")
    p.add_argument("-n", "--namespace", dest="namespaces", action="append", default=[],
                   help="watch this namespace (repeatable; a glob pattern as kopf takes it)")
    p.add_argument("--standalone", action="store_true", default=None, help="no kopf peering")
    p.add_argument("-P", "--peering", dest="peering_name", default=os.environ.get("KOPF_RUN_PEERING"))
    p.add_argument("-p", "--priority", type=int)
    p.add_argument("--dev", action="store_true", help="kopf's development priority (666)")
    p.add_argument("-L", "--liveness", dest="liveness_endpoint", help="kopf's own liveness endpoint")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("-d", "--debug", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--log-format", choices=[f.name.lower() for f in kopf.LogFormat], default="full")
    p.add_argument("--log-refkey")
    p.add_argument("--log-prefix", action=argparse.BooleanOptionalAction, default=None)
    return p


def main(argv: list[str]) -> int:
    limit_arenas()
    p = parser()
    options = p.parse_args(argv)
    if options.clusterwide and options.namespaces:
        p.error("either --namespace or --all-namespaces, not both")
    kopf.configure(debug=options.debug, verbose=options.verbose, quiet=options.quiet,
                   log_format=kopf.LogFormat[options.log_format.upper()], log_refkey=options.log_refkey,
                   log_prefix=options.log_prefix)
    from . import handlers  # registers Vigil's handlers with kopf

    return asyncio.run(serve(options, handlers.SETTINGS))


def kopf_arguments(options: argparse.Namespace) -> dict[str, Any]:
    return {"clusterwide": options.clusterwide, "namespaces": options.namespaces, "standalone": options.standalone,
            "peering_name": options.peering_name, "priority": 666 if options.dev else options.priority,
            "liveness_endpoint": options.liveness_endpoint}


async def serve(options: argparse.Namespace, settings: VigilSettings) -> int:
    """/healthz and /metrics in every role, then the operator."""
    http = await server.start(settings.metrics_port)
    try:
        if not settings.leader_election.enabled:
            metrics.LEADER.set(1)
            await kopf.operator(**kopf_arguments(options))
            return 0
        await lead(options, settings.leader_election)
        return 0
    finally:
        await http.cleanup()


async def lead(options: argparse.Namespace, timings: LeaderElectionSettings) -> NoReturn:
    # client-go's identity: the pod's name and a per-process random suffix.
    identity = f"{timings.candidate}_{uuid.uuid4().hex[:12]}"
    election = LeaderElection(LeaseApi(timings.lease_namespace, timings.lease_name), identity, timings, WRITES)
    WRITES.close("this replica does not hold the Lease")
    metrics.LEADER.set(0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)  # kopf puts its own in place once it runs
    log.info("Campaigning for Lease %s/%s as %s (lease %ds, renew deadline %gs, retry %gs)",
             timings.lease_namespace, timings.lease_name, identity, timings.lease_duration,
             timings.renew_deadline, timings.retry_period)
    if not await election.campaign(stop):
        log.info("Stopped before leading")
        _exit(0)
    metrics.LEADER.set(1)
    stop_kopf = asyncio.Event()
    # Created before kopf starts, so kopf counts it as the embedder's and leaves it running when it stops.
    holding = asyncio.create_task(election.hold(), name="vigil lease renewal")
    embedder = asyncio.all_tasks()
    tasks = await kopf.spawn_tasks(**kopf_arguments(options), stop_flag=stop_kopf)
    # kopf has just put its signal handlers in place; a signal stops it through the flag instead (kopf's
    # own would leave its stop-flag waiter pending, and kopf waits 5 s for such a task as it stops).
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _stopping, sig, stop_kopf)
    operator = asyncio.create_task(kopf.run_tasks(tasks, ignored=embedder), name="kopf")
    await asyncio.wait({holding, operator}, return_when=asyncio.FIRST_COMPLETED)
    if holding.done() and not holding.cancelled() and holding.exception() is None:
        metrics.LEADER.set(0)
        log.error("Lost Lease %s/%s: %s. AWS writes are fenced; stopping, and exiting so that this replica "
                  "restarts as a candidate", timings.lease_namespace, timings.lease_name, holding.result())
        stop_kopf.set()
        await asyncio.wait({operator}, timeout=STOP_SECONDS)
        _exit(1)

    # kopf stopped (SIGTERM or SIGINT; or it failed): renew until the writes it admitted are done,
    # then hand the Lease over.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: log.info("Already stopping"))
    stop_kopf.set()
    await asyncio.wait({operator}, timeout=STOP_SECONDS)
    WRITES.close("this replica is stopping")
    metrics.LEADER.set(0)
    started = time.monotonic()
    while WRITES.in_flight and time.monotonic() - started < DRAIN_SECONDS and election.leading:
        await asyncio.sleep(0.05)
    holding.cancel()
    if holding.done() and not holding.cancelled() and holding.exception() is not None:
        log.error("Lease renewal failed: %r", holding.exception())
    if WRITES.in_flight:
        # Released now, the Lease could pass to a replica that writes beside them: let it run out.
        log.warning("%d AWS writes still running after %.0fs: the Lease is left to run out, not released",
                    WRITES.in_flight, time.monotonic() - started)
    elif election.leading:
        await election.release(timeout=timings.renew_deadline)
    failed = operator.done() and not operator.cancelled() and operator.exception() is not None
    if failed:
        log.error("kopf failed: %r", operator.exception())
    _exit(1 if failed else 0)


def _stopping(sig: signal.Signals, stop: asyncio.Event) -> None:
    log.info("%s received: stopping, then releasing the Lease", sig.name)
    stop.set()


def _exit(code: int) -> NoReturn:
    """Exit now: reconcile threads of this term may still be reading AWS, and nothing they would
    write is admitted any more, so there is nothing to wait for."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
