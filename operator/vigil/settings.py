"""Operator settings: typed, documented defaults, overridable from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LeaderElectionSettings:
    """client-go's leader election over a coordination.k8s.io/v1 Lease, with its default timings.

    Off unless ``VIGIL_LEADER_ELECTION`` is true (deploy/ sets it, with two replicas). A rival takes
    the Lease ``lease_duration`` after it last saw it renewed; the leader stops writing to AWS
    ``renew_deadline`` after the start of its last successful renewal, which is sooner."""

    enabled: bool = False
    lease_name: str = "vigil-leader"
    # The pod's namespace (POD_NAMESPACE, from the downward API) unless VIGIL_LEASE_NAMESPACE says.
    lease_namespace: str = "vigil-system"
    # Who this replica is in the Lease: the pod's name (POD_NAME, else the host name); a random
    # suffix is added per process, so a restarted container is a new candidate.
    candidate: str = ""
    lease_duration: int = 15
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError("leader election needs 0 < retry period < renew deadline < lease duration, got "
                             f"{self.retry_period} / {self.renew_deadline} / {self.lease_duration}")

    @classmethod
    def from_env(cls) -> "LeaderElectionSettings":
        env = os.environ
        return cls(
            enabled=env.get("VIGIL_LEADER_ELECTION", "false").strip().lower() in ("1", "true", "yes", "on"),
            lease_name=env.get("VIGIL_LEASE_NAME", cls.lease_name),
            lease_namespace=env.get("VIGIL_LEASE_NAMESPACE") or env.get("POD_NAMESPACE") or cls.lease_namespace,
            candidate=env.get("POD_NAME") or os.uname().nodename,
            lease_duration=int(env.get("VIGIL_LEASE_DURATION_SECONDS", cls.lease_duration)),
            renew_deadline=float(env.get("VIGIL_RENEW_DEADLINE_SECONDS", cls.renew_deadline)),
            retry_period=float(env.get("VIGIL_RETRY_PERIOD_SECONDS", cls.retry_period)),
        )


@dataclass(frozen=True)
class VigilSettings:
    # AWS requests in flight at once for the whole operator, whatever the number of objects
    # (vigil.aws.budget.CallBudget, which also paces each throttled account x region x API), and
    # as many worker threads, which every object's targets (accounts x regions, VPCs, log
    # groups...) share in turn (vigil.aws.fanout).
    aws_in_flight: int = 64
    # At most this many targets of one object at work at once: by default half the workers. Each
    # call at once to one service and Region keeps a connection in that client's pool, and an
    # object calls a few services: measured at 1,000 accounts, the peak RSS was 140, 147 and
    # 152 MiB with 16, 32 and 64 (docs/performance.md). Half the workers still lets the kind with
    # half the calls (SessionLogging) finish with the rest.
    concurrency: int = 32
    # How often each object's reconcile loop wakes, when no event wakes it sooner, to check whether
    # a resync is due. The resync period itself is the object's spec.resyncInterval; this only
    # bounds how late it can start.
    tick_seconds: float = 10.0
    # While Ready=False for a transient reason (a dependency, throttling, a partial failure),
    # retry this often rather than waiting a whole resyncInterval.
    retry_seconds: float = 30.0
    # /metrics and /healthz.
    metrics_port: int = 8080
    # Recorded in the ownership tag of everything Vigil manages (vigil.dev/installation), so two
    # Vigil installations pointed at one organization never write to each other's resources.
    installation: str = "default"
    leader_election: LeaderElectionSettings = field(default_factory=LeaderElectionSettings)

    @classmethod
    def from_env(cls) -> "VigilSettings":
        env = os.environ
        in_flight = int(env.get("VIGIL_AWS_IN_FLIGHT", cls.aws_in_flight))
        return cls(
            aws_in_flight=in_flight,
            concurrency=int(env.get("VIGIL_CONCURRENCY", max(1, in_flight // 2))),
            tick_seconds=float(env.get("VIGIL_TICK_SECONDS", cls.tick_seconds)),
            retry_seconds=float(env.get("VIGIL_RETRY_SECONDS", cls.retry_seconds)),
            metrics_port=int(env.get("VIGIL_METRICS_PORT", cls.metrics_port)),
            installation=env.get("VIGIL_INSTALLATION", cls.installation),
            leader_election=LeaderElectionSettings.from_env(),
        )
