"""`vigil evidence`: one bundle an auditor can rely on, from Vigil's journal and the trail's digests.

First the journal: every record of the window, the one before it and the first after it are read
from the archive, and each record's SHA-256 link and KMS signature are checked (the public key
from KMS GetPublicKey). A record changed or missing refuses the whole journal, naming the record:
exit 1, and no bundle is written. Then, with --trail, the trail's digest chains over the window
(as `vigil verify-trail`). Then bundle.json and bundle.html (the same content) in --output, and
their SHA-256, to be quoted in an audit report.

Exit status (workstation.exit_codes): 0 with the bundle written; 1 when the journal is refused or
the digests have a finding; 3 when nothing could be read (no record in the window, AWS unreachable).
"""

from __future__ import annotations

import argparse
import hashlib
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Any

from ..aws import journal as aws_journal
from ..aws.integrity import Reader, judge_continuity, verify_trail
from ..aws.session import AccessSettings, AwsAccess
from ..evidence_html import render
from ..planning.evidence import DigestRange, build_bundle, bundle_json, parse_time
from ..planning.integrity import Window, digests_due_since
from ..planning.journal import chain_prefix, check_chain
from . import arguments
from .exit_codes import ERROR, NOT_COMPLIANT, OK, CommandError
from .verify_trail import _organization, _read_trail, locate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", required=True, type=_moment,
                        help="the window's start: a date (2025-01-31, from 00:00Z) or a time (2025-01-31T12:00:00Z)")
    parser.add_argument("--to", dest="end", required=True, type=lambda t: _moment(t, end=True),
                        help="the window's end: a date (to the day's end) or a time")
    parser.add_argument("--bucket", required=True, help="the LogArchive's bucket")
    parser.add_argument("--home-region", required=True, type=arguments.region,
                        help="the bucket's (the organization's home) Region")
    parser.add_argument("--account", default=None,
                        help="the log-archive account, which owns the bucket and the signing key: read through "
                             "--role-name; default: the caller's own account")
    parser.add_argument("--role-name", default="OrganizationAccountAccessRole", type=arguments.role_name,
                        help="the role assumed in --account")
    parser.add_argument("--namespace", required=True, help="the namespace whose journal to read")
    parser.add_argument("--prefix", default="vigil-journal", help="the LogArchive's spec.journal.prefix")
    parser.add_argument("--trail", default=None,
                        help="the organization trail whose digests to verify over the window (as verify-trail)")
    parser.add_argument("--accounts", default=None,
                        help="with --trail: comma-separated accounts; default: those the journal names")
    parser.add_argument("-o", "--output", default=".", help="the folder bundle.json and bundle.html are written to")


def _moment(text: str, end: bool = False) -> datetime:
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").date()
            return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc).replace(microsecond=0)
        return parse_time(text).astimezone(timezone.utc)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a date (2025-01-31) nor a time "
                                         "(2025-01-31T12:00:00Z)") from None


def run(args: argparse.Namespace) -> int:
    if args.end <= args.start:
        raise CommandError("--to is not after --from", "give a window that ends after it starts", code=64)
    access = AwsAccess(AccessSettings(role_name=args.role_name, home_region=args.home_region))
    account = args.account or access.base_account_id()
    s3 = access.client("s3", account, args.home_region)
    stored = aws_journal.read_window(s3, args.bucket, account, args.prefix, args.namespace, args.start, args.end)
    keys: dict[str, bytes] = {}

    def public_key(arn: str) -> bytes:
        if arn not in keys:
            keys[arn] = aws_journal.public_key(access, account, args.home_region, arn)
        return keys[arn]

    check = check_chain(stored, public_key)
    chain = chain_prefix(args.prefix, args.namespace)
    if check.problems:
        print(f"journal s3://{args.bucket}/{chain} REFUSED: {len(check.problems)} record(s) do not verify; "
              "no bundle written")
        for problem in check.problems:
            print(f"  {problem}")
        return NOT_COMPLIANT
    in_window = [r for r in check.records if args.start <= parse_time(r["time"]) <= args.end]
    if not in_window:
        raise CommandError(f"no journal record in s3://{args.bucket}/{chain} from {args.start:%Y-%m-%dT%H:%M:%SZ} "
                           f"to {args.end:%Y-%m-%dT%H:%M:%SZ}",
                           "check --namespace, --prefix and the window (is spec.journal set on the LogArchive?)")
    statement = (f"verified: {len(check.records)} records (seq {check.records[0]['seq']} to "
                 f"{check.records[-1]['seq']}), each linked by SHA-256 to the one before and signed by "
                 f"{', '.join(sorted(check.keys))}")
    print(f"journal s3://{args.bucket}/{chain} {statement}")
    journal = {"bucket": args.bucket, "chain": chain, "account": account, "verified": True,
               "records": len(in_window), "firstSeq": in_window[0]["seq"], "lastSeq": in_window[-1]["seq"],
               "signingKeys": sorted(check.keys), "statement": statement}
    digests, ranges, digest_failures = _digests(access, args, in_window)
    bundle = build_bundle(in_window, args.start, args.end, journal, digests, ranges, datetime.now(timezone.utc))
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    written = {"bundle.json": bundle_json(bundle), "bundle.html": render(bundle).encode()}
    for name, content in written.items():
        (out / name).write_bytes(content)
        print(f"{hashlib.sha256(content).hexdigest()}  {out / name}")
    return NOT_COMPLIANT if digest_failures else OK


def _digests(access: AwsAccess, args: argparse.Namespace,
             records: list[dict[str, Any]]) -> tuple[dict[str, Any], list[DigestRange], int]:
    """The trail's verified digest ranges per account and Region over the window (--trail)."""
    if args.trail is None:
        return {"trail": None, "verified": None,
                "statement": "digests not verified: no --trail given"}, [], 0
    me = access.base_account_id()
    trail_args = argparse.Namespace(trail=args.trail, home_region=args.home_region, bucket=None, prefix=None,
                                    organization_id=None, accounts=args.accounts)
    trail, unknown = _read_trail(access, me, trail_args)
    organization = _organization(access, trail_args, trail)
    try:
        layout = locate(trail_args, trail, organization.organization_id if organization else None, unknown).layout
    except LookupError as exc:
        raise CommandError(str(exc), "give an organization trail's name as --trail", code=ERROR) from None
    places = sorted({(v["account"], v["region"]) for r in records for v in r.get("verdicts", []) if v["account"]})
    accounts = [a.strip() for a in (args.accounts or "").split(",") if a.strip()] or sorted({a for a, _ in places})
    regions = sorted({r for _, r in places}) or [args.home_region]
    window = Window(args.start, min(args.end, datetime.now(timezone.utc)))
    result = verify_trail(access, Reader(me, args.home_region), layout, accounts, regions, window, 8,
                          expect_since=digests_due_since(trail, window))
    if trail is not None:
        judge_continuity(access, me, args.home_region, args.trail, result)
    t = result.tally
    statement = (f"{t.digests} digests, {t.log_files} log files verified in {result.chains} chains; "
                 f"{t.failures} finding(s), {len(result.gaps)} gap(s), {len(result.errors)} part(s) unread")
    print(f"trail {args.trail}: {statement}")
    return ({"trail": args.trail, "verified": result.verified, "statement": statement,
             "coverage": [{"account": c.account, "region": c.region, "from": c.first, "to": c.last}
                          for c in result.coverage],
             "gaps": [{"account": g.account, "region": g.region, "from": g.since, "to": g.until, "reason": g.reason,
                       "message": g.message} for g in result.gaps],
             "findings": [{"kind": f.kind.value, "object": f.target, "message": f.message} for f in t.findings]},
            [DigestRange(c.account, c.region, c.first, c.last) for c in result.coverage], t.failures)

