"""Reading a trail's digests and log files for integrity verification (S3, CloudTrail).

Streams: one digest and its log files at a time per worker, log files hashed chunk by chunk, so
memory stays flat whatever the window. The work is one unit per account x region x day, run in
parallel by the fan-out; the pure core (vigil.planning.integrity) judges and joins the units.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..planning.integrity import (ChainSegment, DigestLayout, IntegrityResult, LogFileRead, PublicKeys, UnitError,
                                  Window, check_digest, check_log_file, link_chain)
from ..state.digests import DigestObject
from .errors import is_code
from .fanout import fan_out
from .session import AwsAccess

CHUNK = 64 * 1024
_ABSENT = ("NoSuchKey", "404", "NotFound")


@dataclass(frozen=True)
class Reader:
    """The account (and region) whose credentials read the bucket and ask CloudTrail for keys."""

    account_id: str
    region: str


# Called after each unit with (account, region, day, digests, log files) verified in it.
Progress = Callable[[str, str, date, int, int], None]


def public_keys(access: AwsAccess, reader: Reader, region: str, window: Window) -> PublicKeys:
    """CloudTrail's digest-signing keys valid in the window, in the digests' region."""
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
                window: Window) -> Iterator[str]:
    """The trail's digest keys of one day folder inside the window, in key (= delivery) order."""
    pattern = layout.digest_pattern(account, region)
    params: dict[str, Any] = {"Bucket": layout.bucket, "Prefix": layout.digest_folder(account, region, day)}
    while True:
        page = s3.list_objects_v2(**params)
        for item in page.get("Contents", []):
            match = pattern.match(item["Key"])
            if match and window.contains(match.group(1)):
                yield item["Key"]
        if not page.get("IsTruncated"):
            return
        params["ContinuationToken"] = page["NextContinuationToken"]


def read_digest(s3: Any, bucket: str, key: str) -> DigestObject | None:
    """The digest object, its signature from the metadata; None if it went since it was listed."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if is_code(exc, *_ABSENT):
            return None
        raise
    body = response["Body"].read()
    try:
        content: bytes | None = zlib.decompress(body, zlib.MAX_WBITS | 16)
    except zlib.error:
        content = None
    metadata = response.get("Metadata") or {}
    return DigestObject(bucket, key, content, metadata.get("signature"), metadata.get("signature-algorithm"))


def read_log_file(s3: Any, bucket: str, key: str) -> LogFileRead:
    """The SHA-256 of the decompressed content, hashed as it streams in."""
    location = f"{bucket}/{key}"
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if is_code(exc, *_ABSENT):
            return LogFileRead(location, None, missing=True)
        raise
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    sha256 = hashlib.sha256()
    try:
        for chunk in response["Body"].iter_chunks(CHUNK):
            sha256.update(inflater.decompress(chunk))
        sha256.update(inflater.flush())
    except zlib.error:
        return LogFileRead(location, None)
    finally:
        response["Body"].close()
    # A truncated gzip inflates without error but never reaches its end.
    return LogFileRead(location, sha256.hexdigest() if inflater.eof else None)


def verify_day(access: AwsAccess, reader: Reader, layout: DigestLayout, keys: PublicKeys, account: str,
               region: str, day: date, window: Window) -> ChainSegment:
    """One account x region x day: each digest, then each of its log files, one at a time."""
    s3 = access.client("s3", reader.account_id, reader.region)
    segment = ChainSegment()
    for key in digest_keys(s3, layout, account, region, day, window):
        digest = read_digest(s3, layout.bucket, key)
        if digest is None:
            continue
        check = check_digest(digest, keys)
        segment.add(check)
        for log in check.digest.log_files if check.digest else ():
            segment.log_file(check_log_file(log, read_log_file(s3, log.s3_bucket, log.s3_object)))
    return segment


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

    def unit(account: str, region: str, day: date) -> Callable[[], ChainSegment]:
        def run() -> ChainSegment:
            segment = verify_day(access, reader, layout, keys[region], account, region, day, window)
            if progress is not None:
                progress(account, region, day, segment.tally.digests, segment.tally.log_files)
            return segment
        return run

    work = [(f"{a}/{r}/{d.isoformat()}", unit(a, r, d)) for a, r in chains for d in days]
    outcomes = iter(fan_out(work, concurrency))
    for account, region in chains:
        segments: list[ChainSegment | None] = []
        for _ in days:
            outcome = next(outcomes)
            if outcome.error is not None:
                result.errors.append(UnitError(outcome.target, outcome.error.reason, outcome.error.message))
            segments.append(outcome.value)
        folder = f"{layout.bucket}/{layout.digest_folder(account, region)}"
        result.tally.add(link_chain(segments, window, expect_since, folder))
    return result
