"""Prometheus metrics. One registry, written by the aws layer and the controls, served by
``vigil.server``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

AWS_CALLS = Counter("vigil_aws_calls", "AWS API calls made", ["service", "operation", "outcome"],
                    registry=REGISTRY)
RECONCILE_SECONDS = Histogram("vigil_reconcile_duration_seconds", "Time to reconcile one object",
                              ["kind", "outcome"], registry=REGISTRY,
                              buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600))
DRIFT_CORRECTIONS = Counter("vigil_drift_corrections", "Writes made to undo out-of-band change",
                            ["kind"], registry=REGISTRY)
DRIFT_DETECTED = Counter("vigil_drift_detected", "Targets found differing from the spec", ["kind", "mode"],
                         registry=REGISTRY)
INTEGRITY_FINDINGS = Counter("vigil_integrity_findings", "New findings of CloudTrail log integrity verification",
                             ["kind"], registry=REGISTRY)
INTEGRITY_VERIFIED = Counter("vigil_integrity_verified_objects", "CloudTrail digests and log files verified",
                             ["object"], registry=REGISTRY)
WEAKENINGS_HELD = Counter("vigil_weakenings_held", "Weakening changes held for want of an allowance", ["kind"],
                          registry=REGISTRY)
WEAKENINGS_ALLOWED = Counter("vigil_weakenings_allowed", "Weakening changes applied under an allowance", ["kind"],
                             registry=REGISTRY)
GUARD_BLOCKS = Counter("vigil_guard_blocks", "Resources not written: another owner (Conflict) or none (AdoptionRequired)",
                       ["kind", "reason"], registry=REGISTRY)
LEADER = Gauge("vigil_leader", "1 while this replica reconciles: it holds the Lease (always, without leader "
              "election); 0 while it waits for the Lease", registry=REGISTRY)
