"""Reading a trail's digests and log files for integrity verification (S3, CloudTrail).

Streams: every object inflated and hashed chunk by chunk as it comes in, so memory stays flat
whatever the window and the objects' sizes. The work is one unit per account x region x day, run in
parallel by the fan-out; each unit's digests and log files are read in parallel by a pool of
readers shared by all units, and judged in key order. The pure core (vigil.planning.integrity)
judges and joins the units.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..planning.continuity import HOUR, STARTING, STOPPING, TrailEvent, continuity, trail_event
from ..planning.integrity import (CHUNK, DayRead, DigestCheck, DigestLayout, IntegrityResult, LogFileRead, PublicKeys,
                                  UnitError, Window, check_digest, check_log_file, inflate, link_day_reads)
from ..state.digests import DigestLogFile, DigestObject
from .errors import TargetError, classify, is_code
from .fanout import fan_out
from .session import AwsAccess

_ABSENT = ("NoSuchKey", "404", "NotFound")
Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Reader:
    """The account (and region) whose credentials read the bucket and ask CloudTrail for keys,
    and the account that must own the bucket (ExpectedBucketOwner on every read) when known:
    evidence is never read from a bucket of the same name elsewhere."""

    account_id: str
    region: str
    bucket_owner: str | None = None

    def owner(self) -> dict[str, str]:
        return {"ExpectedBucketOwner": self.bucket_owner} if self.bucket_owner else {}


# Called after each unit with (account, region, day, digests, log files) verified in it.
Progress = Callable[[str, str, date, int, int], None]


def public_keys(access: AwsAccess, reader: Reader, region: str, window: Window) -> PublicKeys:
    """CloudTrail's digest-signing keys valid in the window, in the digests' region.

    They include the keys of backfill digests: signed when generated, after their key's time and
    before the window's end (now). validate-logs looks up keys around backfill-generation-timestamp
    because its window may end in the past; Vigil's always ends now.
    """
    ct = access.client("cloudtrail", reader.account_id, region)
    keys: dict[str, bytes] = {}
    params: dict[str, Any] = {"StartTime": window.start, "EndTime": window.end}
    while True:
        page = ct.list_public_keys(**params)
        keys.update({k["Fingerprint"]: k["Value"] for k in page.get("PublicKeyList", [])})
        if not page.get("NextToken"):
            return PublicKeys(keys)
        params["NextToken"] = page["NextToken"]


def digest_keys(s3: Any, layout: DigestLayout, account: str, region: str, day: date,
                window: Window, owner: dict[str, str] | None = None) -> Iterator[str]:
    """The trail's digest keys, hourly and backfill, of one day folder inside the window, in key
    (= delivery) order."""
    pattern = layout.digest_pattern(account, region)
    params: dict[str, Any] = {"Bucket": layout.bucket, "Prefix": layout.digest_folder(account, region, day),
                              **(owner or {})}
    while True:
        page = s3.list_objects_v2(**params)
        for item in page.get("Contents", []):
            match = pattern.match(item["Key"])
            if match and window.contains(match.group(1)):
                yield item["Key"]
        if not page.get("IsTruncated"):
            return
        params["ContinuationToken"] = page["NextContinuationToken"]


def _get(s3: Any, bucket: str, key: str, owner: dict[str, str] | None) -> dict[str, Any] | None:
    """GetObject, or None when there is no such object."""
    try:
        response: dict[str, Any] = s3.get_object(Bucket=bucket, Key=key, **(owner or {}))
    except ClientError as exc:
        if is_code(exc, *_ABSENT):
            return None
        raise
    return response


def _inflate_body(response: dict[str, Any], sink: Callable[[bytes], None]) -> str | None:
    """The object's body inflated into sink as it streams in; why it could not be, or None."""
    try:
        return inflate(response["Body"].iter_chunks(CHUNK), sink)
    finally:
        response["Body"].close()  # also when refused part way: the rest is never read


def read_digest(s3: Any, bucket: str, key: str, owner: dict[str, str] | None = None) -> DigestObject | None:
    """The digest object, its signature from the metadata; None if it went since it was listed."""
    response = _get(s3, bucket, key, owner)
    if response is None:
        return None
    parts: list[bytes] = []
    unreadable = _inflate_body(response, parts.append)
    metadata = response.get("Metadata") or {}
    return DigestObject(bucket, key, None if unreadable else b"".join(parts), metadata.get("signature"),
                        metadata.get("signature-algorithm"), unreadable,
                        metadata.get("backfill-generation-timestamp"))


def read_log_file(s3: Any, bucket: str, key: str, owner: dict[str, str] | None = None) -> LogFileRead:
    """The SHA-256 of the decompressed content, hashed as it streams in."""
    location = f"{bucket}/{key}"
    response = _get(s3, bucket, key, owner)
    if response is None:
        return LogFileRead(location, None, missing=True)
    sha256 = hashlib.sha256()
    unreadable = _inflate_body(response, sha256.update)
    return LogFileRead(location, None if unreadable else sha256.hexdigest(), unreadable=unreadable)


def verify_day(access: AwsAccess, reader: Reader, layout: DigestLayout, keys: PublicKeys, account: str,
               region: str, day: date, window: Window, reads: Executor) -> DayRead:
    """One account x region x day: each digest, then each of its log files, judged in key order
    while the objects after them are read in parallel by ``reads``.

    Waiting for each object in turn, a unit would take a round trip per object (on AWS, tens of
    milliseconds: a day of a busy account and region in seconds) whatever the concurrency. Reading
    ahead is bounded, so a unit holds a few digests and the SHA-256 of READ_AHEAD log files at
    most, whatever the day's size."""
    s3 = access.client("s3", reader.account_id, reader.region)
    owner = reader.owner()

    def read_digest_at(key: str) -> Future[DigestObject | None]:
        return reads.submit(read_digest, s3, layout.bucket, key, owner)

    def read_log(item: tuple[str, DigestCheck, DigestLogFile | None]) -> Future[LogFileRead] | None:
        log = item[2]
        if log is None:
            return None
        return reads.submit(read_log_file, s3, log.s3_bucket, log.s3_object,
                            owner if log.s3_bucket == layout.bucket else None)

    def in_key_order() -> Iterator[tuple[str, DigestCheck, DigestLogFile | None]]:
        """Each digest checked (log file None), then each of its log files."""
        listed = digest_keys(s3, layout, account, region, day, window, owner)
        for key, digest in _read_ahead(listed, read_digest_at, DIGESTS_AHEAD):
            if digest is not None:  # gone since it was listed
                check = check_digest(digest, keys)
                yield key, check, None
                for log in check.digest.log_files if check.digest else ():
                    yield key, check, log

    day_read = DayRead()
    for (key, check, log), read in _read_ahead(in_key_order(), read_log, READ_AHEAD):
        # Keys are listed in time order, so each chain's segment gets its own digests in order.
        segment = day_read.segment(key)
        if log is None:
            segment.add(check)
        else:
            assert read is not None
            segment.log_file(check_log_file(log, read))
    return day_read


# How far a unit reads ahead of what it has judged: log files (enough to keep the readers busy
# through AWS's latency), and digests (each brings its log files).
READ_AHEAD = 64
READERS = 16  # objects read at once by one verification, whatever the units at work
DIGESTS_AHEAD = 8


def _read_ahead(items: Iterable[Item], read: Callable[[Item], Future[Result] | None],
                ahead: int) -> Iterator[tuple[Item, Result | None]]:
    """Each item with its read's result (None without a read), in order; the reads are asked up
    to ``ahead`` items before their result is needed. Reads not started when the caller stops
    (a failure: the unit's error) are cancelled rather than made for nothing."""
    queue: deque[tuple[Item, Future[Result] | None]] = deque()
    try:
        for item in items:
            queue.append((item, read(item)))
            if len(queue) > ahead:
                first, future = queue.popleft()
                yield first, future.result() if future else None
        while queue:
            first, future = queue.popleft()
            yield first, future.result() if future else None
    finally:
        for _, future in queue:
            if future:
                future.cancel()


def verify_trail(access: AwsAccess, reader: Reader, layout: DigestLayout, accounts: Sequence[str],
                 regions: Sequence[str], window: Window, concurrency: int,
                 expect_since: datetime | None = None, progress: Progress | None = None) -> IntegrityResult:
    """Every account and region's digest chain over the window, verified in parallel."""
    result = IntegrityResult(window, chains=len(accounts) * len(regions))
    key_outcomes = fan_out([(region, lambda region=region: public_keys(access, reader, region, window))
                            for region in regions], concurrency)
    keys = {o.target: o.value for o in key_outcomes if o.value is not None}
    result.errors += [UnitError(f"ListPublicKeys {o.target}", o.error.reason, o.error.message)
                      for o in key_outcomes if o.error is not None]
    days = window.days()
    chains = [(a, r) for a in accounts for r in regions if r in keys]

    # Units list and judge; the objects are read by a pool of their own, so that units waiting for
    # their reads never hold the workers the reads need.
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, READERS)), thread_name_prefix="vigil-read") as reads:

        def unit(account: str, region: str, day: date) -> Callable[[], DayRead]:
            def run() -> DayRead:
                day_read = verify_day(access, reader, layout, keys[region], account, region, day, window, reads)
                if progress is not None:
                    progress(account, region, day, day_read.digests, day_read.log_files)
                return day_read
            return run

        work = [(f"{a}/{r}/{d.isoformat()}", unit(a, r, d)) for a, r in chains for d in days]
        outcomes = iter(fan_out(work, concurrency))
    for account, region in chains:
        day_reads: list[DayRead | None] = []
        for _ in days:
            outcome = next(outcomes)
            if outcome.error is not None:
                result.errors.append(UnitError(outcome.target, outcome.error.reason, outcome.error.message))
            day_reads.append(outcome.value)
        folder = f"{layout.bucket}/{layout.digest_folder(account, region)}"
        result.add_chain(account, region, link_day_reads(day_reads, window, expect_since, folder))
    return result


# The trail's own events that stop and start its digests (UpdateTrail: log file validation).
TRAIL_EVENTS = (*sorted(STOPPING | STARTING), "UpdateTrail")


def trail_events(access: AwsAccess, account_id: str, region: str, trail_name: str, window: Window) -> list[TrailEvent]:
    """The trail's stops and starts over the window, from CloudTrail's event history in its home
    region (kept 90 days): one lookup per event name, since a lookup takes one attribute, and the
    history of every cloudtrail call (Vigil's own reads among them) would be many pages."""
    ct = access.client("cloudtrail", account_id, region)
    found: list[TrailEvent] = []
    for name in TRAIL_EVENTS:
        params: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                                  # A restart in the window follows a digest in it: its stop
                                  # came at most an hour before that digest's hour.
                                  "StartTime": window.start - 2 * HOUR, "EndTime": window.end, "MaxResults": 50}
        while True:
            page = ct.lookup_events(**params)
            found += [e for e in (trail_event(item.get("CloudTrailEvent") or "", trail_name)
                                  for item in page.get("Events", [])) if e is not None]
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
    return found


def judge_continuity(access: AwsAccess, account_id: str, region: str, trail_name: str,
                     result: IntegrityResult) -> None:
    """The chains' gaps against the trail's stops, from CloudTrail's event history in the trail's
    account and home Region. Without that history nothing is concluded about the gaps (a restart
    would otherwise read as deleted digests): the verification is then incomplete."""
    try:
        events = trail_events(access, account_id, region, trail_name, result.window)
    except (ClientError, BotoCoreError, TargetError) as exc:
        error = classify(exc)
        result.errors.append(UnitError(f"LookupEvents {account_id}/{region}", error.reason, error.message))
        return
    continuity(result, events)
