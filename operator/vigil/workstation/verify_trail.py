"""`vigil verify-trail`: one integrity verification of a trail's digests and log files, from a
workstation's credentials, as the operator runs it every `integrity.interval`.

Where to look comes from the trail itself, as `aws cloudtrail validate-logs` takes it: its bucket
and key prefix (DescribeTrails in its home region) and, for an organization trail, the
organization's id (DescribeOrganization). --bucket, --prefix and --organization-id override them;
the report says where one contradicts the trail. When digests are due comes from GetTrailStatus
(StartLoggingTime); for a trail that cannot be read they are due all the window long.

Exit status (workstation.exit_codes): 0 when every chain verified; 1 on any finding, a chain
without the digests due included (the place looked in is named); 3 when parts could not be read,
or nothing was verified.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ..api.common import parse_duration
from ..aws import cloudtrail as aws_cloudtrail
from ..aws import organizations as aws_organizations
from ..aws.errors import classify
from ..aws.integrity import Progress, Reader, judge_continuity, verify_trail
from ..aws.session import AccessSettings, AwsAccess
from ..planning.integrity import DigestLayout, IntegrityResult, Window, digests_due_since
from ..state.cloudtrail import TrailState
from ..state.organizations import OrganizationInventory
from ..status_table import format_table
from . import arguments
from .exit_codes import ERROR, NOT_COMPLIANT, OK, CommandError

VERIFIED, FINDINGS, UNREAD = OK, NOT_COMPLIANT, ERROR


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trail", required=True, help="the trail's name")
    parser.add_argument("--home-region", required=True, type=arguments.region, help="the trail's home region")
    parser.add_argument("--bucket", default=None, help="the bucket the trail delivers to; default: the trail's")
    parser.add_argument("--prefix", default=None, help="the trail's S3 key prefix; default: the trail's")
    parser.add_argument("--bucket-owner", default=None,
                        help="the account that must own the bucket (the log-archive account): every read names it, "
                             "so a bucket of that name elsewhere is refused rather than read")
    parser.add_argument("--organization-id", default=None,
                        help="o-... for an organization trail ('' for none); default: the organization's "
                             "for an organization trail")
    parser.add_argument("--accounts", default=None,
                        help="comma-separated account ids; default: the organization's active accounts")
    parser.add_argument("--regions", default=None, type=arguments.regions,
                        help="comma-separated; default: the home region")
    parser.add_argument("--lookback", default="24h", type=_duration,
                        help="how far back from now (a duration: 24h, 90m)")
    parser.add_argument("--concurrency", type=int, default=16, help="account x region x day units read at once")
    parser.add_argument("--json", action="store_true", help="the result as JSON on stdout")


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass(frozen=True)
class Location:
    """Where the verification looks, and what the reader should know about how it was chosen."""

    layout: DigestLayout
    notes: tuple[str, ...] = ()


def run(args: argparse.Namespace) -> int:
    access = AwsAccess(AccessSettings(home_region=args.home_region, concurrency=args.concurrency))
    me = access.base_account_id()
    trail, unknown = _read_trail(access, me, args)
    organization = _organization(access, args, trail)
    try:
        location = locate(args, trail, organization.organization_id if organization else None, unknown)
    except LookupError as exc:
        what, _, fix = str(exc).rpartition(": ")
        raise CommandError(what, fix) from None
    layout = location.layout
    accounts = _split(args.accounts) or (organization.active_ids if organization else [])
    regions = _split(args.regions) or [args.home_region]
    owner = {"ExpectedBucketOwner": args.bucket_owner} if args.bucket_owner else {}
    bucket = access.client("s3", me, args.home_region).get_bucket_location(Bucket=layout.bucket, **owner)
    reader = Reader(me, bucket.get("LocationConstraint") or "us-east-1", bucket_owner=args.bucket_owner)
    window = Window.lookback(datetime.now(timezone.utc), args.lookback)
    started = time.monotonic()
    units = len(accounts) * len(regions) * len(window.days())
    with _progress(units, sys.stdout.isatty() and not args.json) as progress:
        result = verify_trail(access, reader, layout, accounts, regions, window, args.concurrency,
                              expect_since=digests_due_since(trail, window), progress=progress)
        if trail is not None:  # its events are the trail account's: who stopped it, and when
            judge_continuity(access, me, args.home_region, args.trail, result)
    elapsed = time.monotonic() - started
    print(to_json(result, location, elapsed) if args.json else report(result, location, elapsed))
    if result.tally.failures:
        return FINDINGS
    # Parts unread, or nothing read at all: neither is a verification.
    return UNREAD if result.errors or not result.tally.digests else VERIFIED


def _read_trail(access: AwsAccess, me: str, args: argparse.Namespace) -> tuple[TrailState | None, str]:
    """The trail as CloudTrail describes it in its home region; None, and why, when it cannot say."""
    try:
        trail = aws_cloudtrail.observe_trail(access, me, args.home_region, args.trail)
    except Exception as exc:  # an AWS error (classify re-raises anything else): verify where told
        return None, f"could not be read ({classify(exc)})"
    if not trail.exists:
        return None, f"was not found in {args.home_region} by account {me}"
    return trail, ""


def _organization(access: AwsAccess, args: argparse.Namespace,
                  trail: TrailState | None) -> OrganizationInventory | None:
    """The organization, when its accounts or its id (for an organization trail) are needed."""
    needs_id = args.organization_id is None and trail is not None and trail.settings.is_organization_trail
    if _split(args.accounts) and not needs_id:
        return None
    return aws_organizations.discover(access, with_ou_paths=False)


def locate(args: argparse.Namespace, trail: TrailState | None, organization_id: str | None,
           unknown: str = "") -> Location:
    """Where to verify: each of bucket, prefix and organization id as given, or else as the trail
    delivers; a given one the trail contradicts is noted. LookupError when no bucket is known."""
    notes: list[str] = []
    if trail is None:
        if args.bucket is None:
            raise LookupError(f"trail {args.trail} {unknown}: give --bucket (and --prefix, --organization-id)")
        notes.append(f"trail {args.trail} {unknown}: where it delivers and since when cannot be checked; "
                     "every chain must have digests all the window long")
        delivers: tuple[str | None, str | None, str | None] = (None, None, None)
    else:
        settings = trail.settings
        # An organization trail delivers under its organization's id; any other trail under none.
        delivers = (settings.s3_bucket_name, (settings.s3_key_prefix or "").strip("/"),
                    organization_id if settings.is_organization_trail else "")
    given = (args.bucket, None if args.prefix is None else args.prefix.strip("/"), args.organization_id)
    flags = ("--bucket", "--prefix", "--organization-id")
    bucket, prefix, org = (_choose(flag, value, trails, args.trail, notes)
                           for flag, value, trails in zip(flags, given, delivers))
    if bucket is None:
        raise LookupError(f"trail {args.trail} names no bucket: give --bucket")
    return Location(DigestLayout(bucket, prefix or "", args.trail, args.home_region, org or None), tuple(notes))


def _choose(flag: str, given: str | None, trails: str | None, trail: str, notes: list[str]) -> str | None:
    """The value given, else the trail's; a given value the trail contradicts is noted, and used:
    the verification looks where it is told, and the report says it is not where the trail delivers."""
    if given is None:
        return trails
    if trails is not None and given != trails:
        notes.append(f"{flag} {given or 'none'!r} contradicts trail {trail}, which has {trails or 'none'!r}: "
                     f"looking where {flag} says, not where the trail delivers")
    return given


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


def report(result: IntegrityResult, location: Location, elapsed: float) -> str:
    t = result.tally
    w = result.window
    layout = location.layout
    lines = [f"Trail {layout.trail_name}: s3://{layout.bucket}/{layout.account_root('<account>')}",
             f"  window   {w.start:%Y-%m-%dT%H:%M:%SZ} .. {w.end:%Y-%m-%dT%H:%M:%SZ}",
             f"  verified {t.digests} digests, {t.log_files} log files in {result.chains} chains, {elapsed:.1f}s"
             + (f" ({t.log_files / elapsed:.0f} log files/s)" if elapsed > 0 and t.log_files else "")]
    lines += [f"  NOTE     {note}" for note in location.notes]
    if t.failures:
        lines.append(f"  FINDINGS {t.failures}: " + ", ".join(f"{n} {k}" for k, n in sorted(t.counts.items())))
        rows = [["FINDING", "OBJECT", "WHY"]] + [[f.kind.value, f.target, f.message] for f in t.findings]
        lines += ["", format_table(rows)]
        if t.failures > len(t.findings):
            lines.append(f"... and {t.failures - len(t.findings)} more")
    for error in result.errors:
        lines.append(f"  UNREAD   {error.unit}: {error.reason}: {error.message}")
    lines += _continuity(result)
    if not t.digests and not result.errors:
        looked = f"s3://{layout.bucket}/{layout.digest_folder('<account>', '<region>')}"
        lines.append(f"  no digest in {looked}: " + ("is that where the trail delivers?" if t.failures
                                                    else "none due yet, nothing verified"))
    elif result.verified:
        lines.append("  every digest and log file is as CloudTrail delivered it")
    return "\n".join(lines)


def _continuity(result: IntegrityResult) -> list[str]:
    """Each chain's verified hours, and every gap with its reason."""
    lines = ["", format_table([["ACCOUNT", "REGION", "VERIFIED FROM", "VERIFIED TO"]]
                              + [[c.account, c.region, c.first or "-", c.last or "-"] for c in result.coverage])]
    if result.gaps:
        rows = [["GAP", "ACCOUNT", "REGION", "FROM", "TO", "WHAT"]] + [
            [g.reason, g.account, g.region, g.since, g.until or "-", g.message] for g in result.gaps]
        lines += ["", format_table(rows)]
    return lines


def to_json(result: IntegrityResult, location: Location, elapsed: float) -> str:
    t = result.tally
    layout = location.layout
    return json.dumps({
        "location": {"bucket": layout.bucket, "prefix": layout.prefix, "organizationId": layout.organization_id,
                     "trail": layout.trail_name, "homeRegion": layout.home_region, "notes": list(location.notes)},
        "window": {"start": result.window.start.isoformat(), "end": result.window.end.isoformat()},
        "chains": result.chains, "digestsVerified": t.digests, "logFilesVerified": t.log_files,
        "failures": t.failures, "counts": dict(t.counts), "seconds": round(elapsed, 3),
        "findings": [{"kind": f.kind.value, "object": f.target, "message": f.message} for f in t.findings],
        "errors": [{"unit": e.unit, "reason": e.reason, "message": e.message} for e in result.errors],
        "coverage": [{"account": c.account, "region": c.region, "from": c.first, "to": c.last}
                     for c in result.coverage],
        "gaps": [{"account": g.account, "region": g.region, "from": g.since, "to": g.until, "reason": g.reason,
                  "message": g.message} for g in result.gaps],
    }, indent=2)
