"""OrgTrail's integrity verification: every `spec.integrity.interval`, the digest chains of every
active account and governed region over `spec.integrity.lookback`, read as the log-archive account.

Resyncs between two verifications carry the last result forward (time, counters, findings), so
the findings stay in status.failures and their Warning Events fire once, when first found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .. import conditions as c
from .. import metrics
from ..api.common import parse_duration
from ..api.orgtrail import MAX_GAPS_SHOWN, IntegrityGap, IntegrityStatus, OrgTrailSpec
from ..aws.integrity import Reader, judge_continuity, verify_trail
from ..planning.integrity import (DELIVERY_GRACE, FINDING_KINDS, DigestLayout, IntegrityResult, Window,
                                  digests_due_since, first_findings)
from ..state.cloudtrail import TrailState
from .base import Context

VERIFIED = "Verified"
DISABLED = "Disabled"
NOT_VERIFIED = "NotVerified"
NO_DIGESTS = "NoDigests"
NOT_LOGGING = "NotLogging"
NO_TRAIL = "NoTrail"


@dataclass
class IntegrityOutcome:
    status: dict[str, Any]
    conditions: list[tuple[str, str, str, str]] = field(default_factory=list)
    findings: list[dict[str, str]] = field(default_factory=list)


def verify(ctx: Context, spec: OrgTrailSpec, trail: TrailState | None,
           now: datetime | None = None) -> IntegrityOutcome:
    now = now or datetime.now(timezone.utc)
    previous = ctx.previous_status.get("integrity") or {}
    if not spec.integrity.verify:
        return IntegrityOutcome(previous, [(c.INTEGRITY_VERIFIED, "Unknown", DISABLED, "integrity.verify is false")])
    if not _due(previous, spec, now):
        carried = [f for f in ctx.previous_status.get("failures") or [] if f.get("reason") in FINDING_KINDS]
        return IntegrityOutcome(previous, [], carried)
    if trail is None:  # its target failed: status.failures says why
        return IntegrityOutcome(previous, [(c.INTEGRITY_VERIFIED, "Unknown", c.NOT_OBSERVED,
                                            "the trail could not be read")])
    if not trail.exists or ctx.log_archive is None:
        return IntegrityOutcome(previous, [(c.INTEGRITY_VERIFIED, "Unknown", NO_TRAIL,
                                            "the trail does not exist: no digest to verify")])
    window = Window.lookback(now, parse_duration(spec.integrity.lookback))
    reader = Reader(ctx.log_archive.account_id, ctx.log_archive.region, bucket_owner=ctx.log_archive.account_id)
    # A chain without the digests due since the trail started logging is a finding, so a layout
    # looking where the trail does not deliver fails instead of verifying nothing.
    result = verify_trail(ctx.access, reader, layout(ctx, spec), ctx.organization.inventory.active_ids,
                          ctx.organization.spec.regions.governed, window, ctx.concurrency,
                          expect_since=digests_due_since(trail, window))
    judge_continuity(ctx.access, ctx.organization.management_account_id, ctx.organization.home_region,
                     spec.trail_name, result)
    return _outcome(ctx, result, now, trail)


def layout(ctx: Context, spec: OrgTrailSpec) -> DigestLayout:
    assert ctx.log_archive is not None
    return DigestLayout(bucket=ctx.log_archive.bucket, prefix=spec.s3_key_prefix, trail_name=spec.trail_name,
                        home_region=ctx.organization.home_region,
                        organization_id=ctx.organization.inventory.organization_id)


def _due(previous: dict[str, Any], spec: OrgTrailSpec, now: datetime) -> bool:
    last = previous.get("lastVerifiedTime")
    if not last:
        return True
    verified = datetime.fromisoformat(last.replace("Z", "+00:00"))
    return now - verified >= parse_duration(spec.integrity.interval)


def _outcome(ctx: Context, result: IntegrityResult, now: datetime, trail: TrailState) -> IntegrityOutcome:
    tally = result.tally
    last_good = (ctx.previous_status.get("integrity") or {}).get("lastSuccessfulVerificationTime")
    status = IntegrityStatus(last_verified_time=c.now_iso(now), digests_verified=tally.digests,
                             log_files_verified=tally.log_files, failures=tally.failures,
                             last_successful_verification_time=last_good, **_coverage(result))
    findings = [{"target": f.target, "reason": f.kind.value, "message": f.message} for f in tally.findings]
    known = {(f.get("target"), f.get("reason")) for f in ctx.previous_status.get("failures") or []}
    for finding in findings:
        if (finding["target"], finding["reason"]) not in known:
            metrics.INTEGRITY_FINDINGS.labels(finding["reason"]).inc()
    metrics.INTEGRITY_VERIFIED.labels("digest").inc(tally.digests)
    metrics.INTEGRITY_VERIFIED.labels("logFile").inc(tally.log_files)
    if tally.failures:
        noun = "finding" if tally.failures == 1 else "findings"
        condition = ("False", NOT_VERIFIED, f"{tally.failures} {noun}: {first_findings(tally.findings)}")
    elif result.errors:
        error = result.errors[0]
        condition = ("Unknown", error.reason, f"{len(result.errors)} parts could not be read; "
                                              f"{error.unit}: {error.message}")
    elif not tally.digests:  # and none due yet, or it would be a finding
        condition = ("Unknown", *_none_due(trail))
    else:
        condition = ("True", VERIFIED, result.summary() + f", since {c.now_iso(result.window.start)}")
        status.last_successful_verification_time = c.now_iso(now)
    return IntegrityOutcome(status.model_dump(by_alias=True), [(c.INTEGRITY_VERIFIED, *condition)], findings)


def _coverage(result: IntegrityResult) -> dict[str, Any]:
    """The hours every chain covers, and the gaps, as status holds them (bounded)."""
    firsts = [chain.first for chain in result.coverage if chain.first]
    lasts = [chain.last for chain in result.coverage if chain.last]
    whole = len(firsts) == len(result.coverage) and bool(firsts)  # a chain without digests covers nothing
    gaps = [IntegrityGap(account=g.account, region=g.region, since=g.since, until=g.until, reason=g.reason,
                         message=g.message) for g in result.gaps[:MAX_GAPS_SHOWN]]
    return {"verified_from": max(firsts) if whole else None, "verified_to": min(lasts) if whole else None,
            "chains": result.chains, "gaps": gaps, "gaps_total": len(result.gaps)}


def _none_due(trail: TrailState) -> tuple[str, str]:
    """Why a verification without any digest found nothing wrong: none is due yet."""
    if not trail.is_logging:
        return NOT_LOGGING, "the trail is not logging: no digest is due"
    hours = DELIVERY_GRACE.total_seconds() / 3600
    return NO_DIGESTS, (f"no digest yet: the trail started logging at {trail.start_logging_time} and CloudTrail "
                        f"delivers its first digest within {hours:g} hours")
