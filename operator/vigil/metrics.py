"""Prometheus metrics. One registry, written by the aws layer and the controls, served by
``vigil.server``.

Cardinality is bounded by design: labels name a kind, an object, an account, an AWS service or
operation, a reason, never a target (1,000 accounts x 17 regions x 9 kinds would be 150k
series). Per-target detail is in the posture report (``/report``). The per-object gauges are the
ones to alert on (``deploy/monitoring/prometheus-rule.yaml``, runbooks in ``docs/operations.md``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .version import VERSION

REGISTRY = CollectorRegistry(auto_describe=True)

OBJECT = ["kind", "namespace", "name"]

# Per object: what its conditions say, as numbers an alert can hold "for 15 minutes".
OBJECT_READY = Gauge("vigil_object_ready", "1 while the object's Ready condition is True, else 0", OBJECT,
                     registry=REGISTRY)
OBJECT_COMPLIANT = Gauge("vigil_object_compliant", "1 while the object's Compliant condition is True, else 0 "
                         "(False, or Unknown: not checked)", OBJECT, registry=REGISTRY)
OBJECT_STALLED = Gauge("vigil_object_stalled", "1 while Vigil cannot make progress on the object without a "
                       "human (its Stalled condition)", OBJECT, registry=REGISTRY)
OBJECT_TARGETS = Gauge("vigil_object_targets", "The object's targets (account, region or resource) by state: "
                       "compliant, noncompliant (reached, differs), failed (not reached or not checked)",
                       [*OBJECT, "state"], registry=REGISTRY)
OBJECT_WEAKENINGS_HELD = Gauge("vigil_object_weakenings_held", "Weakening changes held for want of an allowance, "
                               "at the last reconcile", OBJECT, registry=REGISTRY)
OBJECT_CONFLICTS = Gauge("vigil_object_conflicts", "Resources the object wants that another owner holds "
                         "(Conflict), or nobody does (AdoptionRequired), at the last reconcile", OBJECT,
                         registry=REGISTRY)
OBJECT_LAST_RECONCILE = Gauge("vigil_object_last_reconcile_timestamp_seconds", "When the object was last "
                              "reconciled (Unix time)", OBJECT, registry=REGISTRY)
TRAIL_INTEGRITY_VERIFIED = Gauge("vigil_orgtrail_integrity_verified", "1 while every digest and log file checked "
                                 "verifies (IntegrityVerified=True), 0 on a finding; absent while not checked",
                                 ["namespace", "name"], registry=REGISTRY)
TRAIL_LAST_VERIFICATION = Gauge("vigil_orgtrail_last_verification_timestamp_seconds", "When CloudTrail's digests "
                                "were last verified without a finding (Unix time)", ["namespace", "name"],
                                registry=REGISTRY)
TRAIL_VERIFICATION_INTERVAL = Gauge("vigil_orgtrail_verification_interval_seconds", "How often the trail's "
                                    "digests are verified (spec.integrity.interval)", ["namespace", "name"],
                                    registry=REGISTRY)
ACCOUNT_REACHABLE = Gauge("vigil_account_reachable", "1 while Vigil can assume its role in the account (probed "
                          "by the Organization every pass), else 0", ["namespace", "organization", "account"],
                          registry=REGISTRY)
RECONCILE_ERRORS = Counter("vigil_reconcile_errors", "Reconciles that ended not Ready, by the Ready reason",
                           ["kind", "reason"], registry=REGISTRY)
AWS_THROTTLES = Counter("vigil_aws_throttles", "AWS calls answered with a throttling error (each retry counts)",
                        ["service"], registry=REGISTRY)

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
BUILD_INFO = Gauge("vigil_build_info", "Always 1; its version label is the running Vigil's", ["version"],
                   registry=REGISTRY)
BUILD_INFO.labels(version=VERSION).set(1)
