"""`vigil verify-trail`: one integrity verification of a trail's digests and log files, from a
workstation's credentials, as the operator runs it every `integrity.interval`.

Exit status: 0 when every chain verified, 1 on any finding, 2 when parts could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone

from ..api.common import parse_duration
from ..aws import organizations as aws_organizations
from ..aws.integrity import Progress, Reader, verify_trail
from ..aws.session import AccessSettings, AwsAccess
from ..planning.integrity import DigestLayout, IntegrityResult, Window
from ..status_table import format_table

VERIFIED, FINDINGS, UNREAD = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bucket", required=True, help="the bucket the trail delivers to")
    parser.add_argument("--prefix", default="", help="the trail's S3 key prefix")
    parser.add_argument("--trail", required=True, help="the trail's name")
    parser.add_argument("--home-region", required=True, help="the trail's home region")
    parser.add_argument("--organization-id", default=None, help="o-... for an organization trail")
    parser.add_argument("--accounts", default=None,
                        help="comma-separated account ids; default: the organization's active accounts")
    parser.add_argument("--regions", default=None, help="comma-separated; default: the home region")
    parser.add_argument("--lookback", default="24h", help="how far back from now (a duration: 24h, 90m)")
    parser.add_argument("--concurrency", type=int, default=16, help="account x region x day units read at once")
    parser.add_argument("--json", action="store_true", help="the result as JSON on stdout")


def run(args: argparse.Namespace) -> int:
    access = AwsAccess(AccessSettings(home_region=args.home_region, concurrency=args.concurrency))
    me = access.base_account_id()
    accounts = _split(args.accounts) or aws_organizations.discover(access, with_ou_paths=False).active_ids
    regions = _split(args.regions) or [args.home_region]
    layout = DigestLayout(args.bucket, args.prefix, args.trail, args.home_region, args.organization_id)
    location = access.client("s3", me, args.home_region).get_bucket_location(Bucket=args.bucket)
    reader = Reader(me, location.get("LocationConstraint") or "us-east-1")
    window = Window.lookback(datetime.now(timezone.utc), parse_duration(args.lookback))
    started = time.monotonic()
    units = len(accounts) * len(regions) * len(window.days())
    with _progress(units, sys.stdout.isatty() and not args.json) as progress:
        result = verify_trail(access, reader, layout, accounts, regions, window, args.concurrency, progress=progress)
    elapsed = time.monotonic() - started
    print(to_json(result, elapsed) if args.json else report(result, layout, elapsed))
    if result.tally.failures:
        return FINDINGS
    return UNREAD if result.errors else VERIFIED


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@contextmanager
def _progress(total: int, shown: bool) -> Iterator[Progress | None]:
    """A bar of account x region x day units, with running counts; nothing when not a terminal."""
    if not shown:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    lock = threading.Lock()
    counts = [0, 0]
    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             transient=True) as bar:
        task = bar.add_task("verifying", total=total)

        def advance(account: str, region: str, day: date, digests: int, log_files: int) -> None:
            with lock:
                counts[0] += digests
                counts[1] += log_files
                text = f"{counts[0]} digests, {counts[1]} log files"
            bar.update(task, advance=1, description=text)
        yield advance


def report(result: IntegrityResult, layout: DigestLayout, elapsed: float) -> str:
    t = result.tally
    w = result.window
    lines = [f"Trail {layout.trail_name}: s3://{layout.bucket}/{layout.account_root('<account>')}",
             f"  window   {w.start:%Y-%m-%dT%H:%M:%SZ} .. {w.end:%Y-%m-%dT%H:%M:%SZ}",
             f"  verified {t.digests} digests, {t.log_files} log files in {result.chains} chains, {elapsed:.1f}s"
             + (f" ({t.log_files / elapsed:.0f} log files/s)" if elapsed > 0 and t.log_files else "")]
    if t.failures:
        lines.append(f"  FINDINGS {t.failures}: " + ", ".join(f"{n} {k}" for k, n in sorted(t.counts.items())))
        rows = [["FINDING", "OBJECT", "WHY"]] + [[f.kind.value, f.target, f.message] for f in t.findings]
        lines += ["", format_table(rows)]
        if t.failures > len(t.findings):
            lines.append(f"... and {t.failures - len(t.findings)} more")
    for error in result.errors:
        lines.append(f"  UNREAD   {error.unit}: {error.reason}: {error.message}")
    if result.verified:
        lines.append("  every digest and log file is as CloudTrail delivered it" if t.digests
                     else "  no digest in the window: nothing to verify")
    return "\n".join(lines)


def to_json(result: IntegrityResult, elapsed: float) -> str:
    t = result.tally
    return json.dumps({
        "window": {"start": result.window.start.isoformat(), "end": result.window.end.isoformat()},
        "chains": result.chains, "digestsVerified": t.digests, "logFilesVerified": t.log_files,
        "failures": t.failures, "counts": dict(t.counts), "seconds": round(elapsed, 3),
        "findings": [{"kind": f.kind.value, "object": f.target, "message": f.message} for f in t.findings],
        "errors": [{"unit": e.unit, "reason": e.reason, "message": e.message} for e in result.errors],
    }, indent=2)


