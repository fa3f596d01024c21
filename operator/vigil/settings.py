"""Operator settings: typed, documented defaults, overridable from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class VigilSettings:
    # Targets reconciled at once per object (accounts x regions, VPCs, log groups...). Each is a
    # thread doing boto3 calls; botocore's adaptive retry mode adds client-side rate limiting.
    concurrency: int = 16
    # How often each object's timer wakes to check whether a resync is due. The resync period
    # itself is the object's spec.resyncInterval; this only bounds how late it can start.
    tick_seconds: float = 10.0
    # While Ready=False for a transient reason (a dependency, throttling, a partial failure),
    # retry this often rather than waiting a whole resyncInterval.
    retry_seconds: float = 30.0
    # /metrics and /healthz.
    metrics_port: int = 8080
    # Recorded in the ownership tag of everything Vigil manages (vigil.dev/installation), so two
    # Vigil installations pointed at one organization never write to each other's resources.
    installation: str = "default"

    @classmethod
    def from_env(cls) -> "VigilSettings":
        env = os.environ
        return cls(
            concurrency=int(env.get("VIGIL_CONCURRENCY", cls.concurrency)),
            tick_seconds=float(env.get("VIGIL_TICK_SECONDS", cls.tick_seconds)),
            retry_seconds=float(env.get("VIGIL_RETRY_SECONDS", cls.retry_seconds)),
            metrics_port=int(env.get("VIGIL_METRICS_PORT", cls.metrics_port)),
            installation=env.get("VIGIL_INSTALLATION", cls.installation),
        )
