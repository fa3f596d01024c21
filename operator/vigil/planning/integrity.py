"""CloudTrail log integrity: what a digest chain proves, and what it says is wrong (pure).

CloudTrail writes, every hour and for each account and region of a trail, a digest listing the
SHA-256 of each log file it delivered that hour, signed with its private key and naming the
previous digest (its location, hash and signature). This module judges what the aws layer read:
one digest at a time (`check_digest`), its log files (`check_log_file`), and the links between
consecutive digests (`ChainSegment`, `link_chain`). Findings are data; nothing here reads S3.

A chain is walked in key order (digest keys end with their delivery time) in segments, one per
account x region x day, so days are verified in parallel and joined afterwards. A digest that fails
its own checks is reported once, as itself: the links through it are not judged again. Backfill
digests (`..._backfill.json.gz`, log files the hourly digests missed) form a chain of their own,
each naming the backfill digest before it, as `aws cloudtrail validate-logs` walks them.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ..state.cloudtrail import TrailState
from ..state.digests import HASH_ALGORITHM, SIGNATURE_ALGORITHM, Digest, DigestLogFile, DigestObject

if TYPE_CHECKING:  # cryptography costs the process ~8 MiB: loaded when the first signature is checked
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

KEY_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
# A gap that a stop of the trail explains (vigil.planning.continuity): evidence, not a finding.
LOGGING_STOPPED = "LoggingStopped"
# CloudTrail delivers an hour's digest within the following hour: a chain whose newest digest is
# older than this, while the trail logs, lost its newest digests.
DELIVERY_GRACE = timedelta(hours=2)
# Findings kept per segment and per run; every finding is counted, the first ones are kept.
KEEP_FINDINGS = 100
# Objects are read and inflated this much at a time, whatever their size or compression ratio.
CHUNK = 64 * 1024
BACKFILL_SUFFIX = "_backfill"
# A digest key ends with its time, then the suffix on a backfill digest; group 1 is the time.
_KEY_END = rf"(\d{{8}}T\d{{6}}Z)(?:{BACKFILL_SUFFIX})?\.json\.gz$"


class FindingKind(str, Enum):
    DIGEST_MISSING = "DigestMissing"
    DIGEST_MOVED = "DigestMoved"
    DIGEST_SIGNATURE_INVALID = "DigestSignatureInvalid"
    DIGEST_MODIFIED = "DigestModified"
    CHAIN_BROKEN = "ChainBroken"
    LOG_FILE_MISSING = "LogFileMissing"
    LOG_FILE_MODIFIED = "LogFileModified"
    DIGEST_KEY_UNKNOWN = "DigestKeyUnknown"  # signed with a key CloudTrail does not list for the window


FINDING_KINDS = frozenset(k.value for k in FindingKind)


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    location: str  # bucket/key of the object concerned
    message: str

    @property
    def target(self) -> str:
        return f"s3://{self.location}"

    def __str__(self) -> str:
        return f"{self.kind.value} {self.target}: {self.message}"


# --- Where CloudTrail writes ---------------------------------------------------------------------

@dataclass(frozen=True)
class DigestLayout:
    """A trail's delivery layout: [prefix/]AWSLogs/[o-id/]<account>/CloudTrail-Digest/<region>/<Y>/<M>/<D>/."""

    bucket: str
    prefix: str
    trail_name: str
    home_region: str
    organization_id: str | None = None

    def account_root(self, account: str) -> str:
        org = f"{self.organization_id}/" if self.organization_id else ""
        return f"{self.prefix.strip('/') + '/' if self.prefix.strip('/') else ''}AWSLogs/{org}{account}/"

    def digest_folder(self, account: str, region: str, day: date | None = None) -> str:
        folder = f"{self.account_root(account)}CloudTrail-Digest/{region}/"
        return folder + (day.strftime("%Y/%m/%d/") if day else "")

    def digest_key(self, account: str, region: str, at: datetime, backfill: bool = False) -> str:
        return (f"{self.digest_folder(account, region, at.date())}{account}_CloudTrail-Digest_{region}_"
                f"{self.trail_name}_{self.home_region}_{at.strftime(KEY_TIME_FORMAT)}"
                f"{BACKFILL_SUFFIX if backfill else ''}.json.gz")

    def log_key(self, account: str, region: str, at: datetime, unique: str) -> str:
        return (f"{self.account_root(account)}CloudTrail/{region}/{at.strftime('%Y/%m/%d')}/"
                f"{account}_CloudTrail_{region}_{at.strftime('%Y%m%dT%H%MZ')}_{unique}.json.gz")

    def digest_pattern(self, account: str, region: str) -> re.Pattern[str]:
        """Digest keys of this trail (not another trail's sharing the bucket), hourly and backfill
        ones; group 1 is the time."""
        return re.compile(re.escape(self.digest_folder(account, region)) + r"\d{4}/\d{2}/\d{2}/"
                          + re.escape(f"{account}_CloudTrail-Digest_{region}_{self.trail_name}_{self.home_region}_")
                          + _KEY_END)


def key_time(key: str) -> str:
    """The delivery time a digest key ends with, as it is written (it sorts as time does)."""
    match = re.search("_" + _KEY_END, key)
    return match.group(1) if match else ""


def is_backfill(key: str) -> bool:
    """A backfill digest: it lists log files the hourly digests missed, in a chain of its own."""
    return key.endswith(f"{BACKFILL_SUFFIX}.json.gz")


def format_key_time(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime(KEY_TIME_FORMAT)


@dataclass(frozen=True)
class Window:
    """The digests delivered between start and end (UTC)."""

    start: datetime
    end: datetime

    @classmethod
    def lookback(cls, now: datetime, span: timedelta) -> "Window":
        return cls(now - span, now)

    def days(self) -> list[date]:
        first, last = self.start.astimezone(timezone.utc).date(), self.end.astimezone(timezone.utc).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def contains(self, time: str) -> bool:
        return format_key_time(self.start) <= time <= format_key_time(self.end)


# --- What a reader of an object reads ------------------------------------------------------------

# Why an object's content cannot be judged: it is not exactly one complete gzip member.
NOT_GZIP = "the object is not gzip"
TRUNCATED = "the gzip stream is truncated"
APPENDED = "there is data after the end of the gzip stream (another gzip member appended?)"


def inflate(chunks: Iterable[bytes], sink: Callable[[bytes], None]) -> str | None:
    """Decompress one gzip member, chunk by chunk, into ``sink``; why the object is not exactly one
    complete member, or None.

    zlib stops at the end of the first member and would leave the rest unread, while readers of the
    file (gzip -d, Python's gzip, Athena) go on to read every member after it: an event appended as
    a second member would be read by them and hashed by nobody. So anything after the first member
    is refused, as `aws cloudtrail validate-logs` refuses it in a log file, and memory stays bounded:
    at most a chunk in and a chunk out at a time, nothing after the member kept.
    """
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        for chunk in chunks:
            if inflater.eof:
                if chunk:
                    return APPENDED
                continue
            _inflate_chunk(inflater, chunk, sink)
            if inflater.unused_data:
                return APPENDED
    except zlib.error:
        return NOT_GZIP
    return None if inflater.eof else TRUNCATED


def _inflate_chunk(inflater: "zlib._Decompress", chunk: bytes, sink: Callable[[bytes], None]) -> None:
    """All of a chunk, at most CHUNK bytes out at a time (a small chunk can inflate a thousandfold)."""
    while True:
        out = inflater.decompress(chunk, CHUNK)
        sink(out)
        chunk = inflater.unconsumed_tail
        # A full output may leave output pending with no input left: ask again until it comes short.
        if inflater.eof or (not chunk and len(out) < CHUNK):
            return


# --- One digest ----------------------------------------------------------------------------------

class PublicKeys:
    """CloudTrail's public keys of one region (ListPublicKeys), by fingerprint."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        self._der = dict(keys)
        self._loaded: dict[str, RSAPublicKey | str] = {}

    def __len__(self) -> int:
        return len(self._der)

    def knows(self, fingerprint: str) -> bool:
        return fingerprint in self._der

    def problem(self, fingerprint: str, signature_hex: str, message: bytes) -> str | None:
        """Why the signature does not verify, or None when it does (RSASSA-PKCS1-v1_5, SHA-256)."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        key = self._key(fingerprint)
        if isinstance(key, str):
            return key
        try:
            signature = binascii.unhexlify(signature_hex)
        except (binascii.Error, ValueError):
            return "the signature metadata is not hex"
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return f"the signature does not verify with CloudTrail's public key {fingerprint}"
        return None

    def _key(self, fingerprint: str) -> RSAPublicKey | str:
        if fingerprint not in self._loaded:
            self._loaded[fingerprint] = _load_key(fingerprint, self._der.get(fingerprint))
        return self._loaded[fingerprint]


def _load_key(fingerprint: str, der: bytes | None) -> RSAPublicKey | str:
    """An RSA public key from SubjectPublicKeyInfo or PKCS#1 RSAPublicKey DER: either is accepted."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if der is None:
        return f"CloudTrail has no public key {fingerprint} for the digest's time"
    try:
        key = serialization.load_der_public_key(der)
    except ValueError:
        return f"CloudTrail's public key {fingerprint} is not an RSA key in DER"
    if not isinstance(key, rsa.RSAPublicKey):
        return f"CloudTrail's public key {fingerprint} is not an RSA key"
    return key


def string_to_sign(digest: Digest, content_sha256: str) -> bytes:
    """What CloudTrail signs: end time, location, the digest's own hash, the previous signature."""
    return "\n".join((digest.digest_end_time, digest.location, content_sha256,
                      digest.previous_digest_signature or "null")).encode()


@dataclass(frozen=True)
class ChainLink:
    """What the chain needs from one digest."""

    found: str  # bucket/key where it is
    declared: str  # bucket/key where CloudTrail says it wrote it
    time: str  # delivery time of the declared key
    sha256: str | None
    signature: str | None
    previous: str | None  # the previous digest's declared location; None starts a chain
    previous_sha256: str | None = None
    previous_signature: str | None = None
    authentic: bool = False  # the signature verifies: the content is CloudTrail's
    clean: bool = False  # no finding of its own: its link to the previous digest is judged
    problem: str | None = None  # why the signature fails; the next digest tells modified from re-signed
    key_unknown: bool = False  # signed with a key CloudTrail does not list: nobody can say it is CloudTrail's
    start: str | None = None  # the hour it covers (digestStartTime, digestEndTime), when readable
    end: str | None = None

    @property
    def pending(self) -> bool:
        return self.problem is not None


@dataclass(frozen=True)
class DigestCheck:
    link: ChainLink
    digest: Digest | None  # None when unreadable: no log file to check
    findings: tuple[Finding, ...] = ()


def check_digest(obj: DigestObject, keys: PublicKeys) -> DigestCheck:
    """A digest on its own: readable, where CloudTrail wrote it, signed by CloudTrail."""
    if obj.content is None:
        return _unreadable(obj, obj.unreadable or NOT_GZIP)
    try:
        digest = Digest.model_validate_json(obj.content)
    except ValidationError as exc:
        return _unreadable(obj, f"not a CloudTrail digest ({exc.error_count()} errors)")
    sha256 = hashlib.sha256(obj.content).hexdigest()
    findings = []
    if digest.location != obj.location:
        findings.append(Finding(FindingKind.DIGEST_MOVED, obj.location,
                                f"CloudTrail wrote this digest to s3://{digest.location}"))
    problem = _signature_problem(obj, digest, sha256, keys)
    link = ChainLink(found=obj.location, declared=digest.location, time=key_time(digest.digest_s3_object),
                     sha256=sha256, signature=obj.signature, previous=digest.previous_location,
                     previous_sha256=digest.previous_digest_hash_value,
                     previous_signature=digest.previous_digest_signature,
                     authentic=problem is None, clean=problem is None and not findings, problem=problem,
                     key_unknown=problem is not None and not keys.knows(digest.digest_public_key_fingerprint),
                     start=digest.digest_start_time, end=digest.digest_end_time)
    return DigestCheck(link, digest, tuple(findings))


def _signature_problem(obj: DigestObject, digest: Digest, sha256: str, keys: PublicKeys) -> str | None:
    if not obj.signature:
        return "the object has no signature metadata"
    # validate-logs refuses a backfill digest without it: it says when CloudTrail signed the digest.
    if is_backfill(obj.key) and not obj.backfill_generated:
        return "the backfill digest has no backfill-generation-timestamp metadata"
    algorithm = obj.signature_algorithm or digest.digest_signature_algorithm
    if algorithm != SIGNATURE_ALGORITHM:
        return f"signature algorithm {algorithm!r}, not {SIGNATURE_ALGORITHM}"
    return keys.problem(digest.digest_public_key_fingerprint, obj.signature, string_to_sign(digest, sha256))


def _unreadable(obj: DigestObject, why: str) -> DigestCheck:
    sha256 = hashlib.sha256(obj.content).hexdigest() if obj.content is not None else None
    link = ChainLink(found=obj.location, declared=obj.location, time=key_time(obj.key), sha256=sha256,
                     signature=obj.signature, previous=None)
    return DigestCheck(link, None, (Finding(FindingKind.DIGEST_MODIFIED, obj.location, why),))


@dataclass(frozen=True)
class LogFileRead:
    """A log file as S3 holds it: the SHA-256 of its decompressed content, or why there is none."""

    location: str
    sha256: str | None
    missing: bool = False
    unreadable: str | None = None  # why there is no SHA-256 (see inflate)


def check_log_file(log: DigestLogFile, read: LogFileRead) -> Finding | None:
    where = f"{log.s3_bucket}/{log.s3_object}"
    if read.missing:
        return Finding(FindingKind.LOG_FILE_MISSING, where, "listed in its digest, not in the bucket")
    if log.hash_algorithm != HASH_ALGORITHM:
        return Finding(FindingKind.LOG_FILE_MODIFIED, where, f"the digest names hash {log.hash_algorithm!r}")
    if read.sha256 is None:
        return Finding(FindingKind.LOG_FILE_MODIFIED, where, read.unreadable or NOT_GZIP)
    if read.sha256 != log.hash_value:
        return Finding(FindingKind.LOG_FILE_MODIFIED, where,
                       f"SHA-256 {read.sha256[:16]}..., the digest says {log.hash_value[:16]}...")
    return None


# --- The chain -----------------------------------------------------------------------------------

def link_findings(previous: ChainLink, current: ChainLink) -> list[Finding]:
    """What the link from one digest to the next says (both in key order, same account and region).
    A digest that names no previous one starts the chain again: `restart` judges the time between."""
    findings = []
    if previous.pending:  # the content is CloudTrail's if the next digest still hashes it the same
        changed = current.authentic and current.previous == previous.declared and \
            current.previous_sha256 != previous.sha256
        findings.append(_signature_finding(previous, changed))
    if not current.clean or current.previous is None:
        return findings
    if current.previous == previous.declared:
        if previous.authentic and (current.previous_sha256 != previous.sha256
                                   or current.previous_signature != previous.signature):
            field_ = "previousDigestHashValue" if current.previous_sha256 != previous.sha256 \
                else "previousDigestSignature"
            findings.append(Finding(FindingKind.CHAIN_BROKEN, current.found,
                                    f"its {field_} does not match s3://{previous.found}"))
    elif key_time(current.previous) > previous.time:
        findings.append(_missing(current.previous, current, since=previous.end))
    else:
        findings.append(Finding(FindingKind.CHAIN_BROKEN, current.found,
                                f"links to s3://{current.previous}, not to s3://{previous.declared} before it"))
    return findings


def _signature_finding(link: ChainLink, changed: bool) -> Finding:
    if link.key_unknown:
        return Finding(FindingKind.DIGEST_KEY_UNKNOWN, link.found, link.problem or "")
    if changed:
        return Finding(FindingKind.DIGEST_MODIFIED, link.found,
                       f"its SHA-256 differs from the one the next digest recorded; {link.problem}")
    return Finding(FindingKind.DIGEST_SIGNATURE_INVALID, link.found, link.problem or "")


def _missing(location: str, referrer: ChainLink, since: str | None = None) -> Finding:
    hours = f"no digest from {since} to {referrer.start}: " if since and referrer.start else ""
    return Finding(FindingKind.DIGEST_MISSING, location,
                   f"{hours}s3://{referrer.found} names it as the previous digest")


@dataclass(frozen=True)
class Restart:
    """The hourly chain starting again (a digest naming no previous one) after hours without digests:
    logging stopped and started, validation turned off and on, or digests deleted with the link that
    named them. CloudTrail's event history tells which (`continuity`)."""

    since: str  # the end of the last digest before (RFC 3339)
    until: str  # the start of the digest that starts again
    location: str  # that digest


def restart(previous: ChainLink, current: ChainLink) -> Restart | None:
    if current.clean and current.previous is None and previous.end and current.start \
            and current.start > previous.end:
        return Restart(previous.end, current.start, current.found)
    return None


@dataclass
class Tally:
    """Counts of what was verified and found; the first findings kept, every one counted."""

    digests: int = 0
    log_files: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    # One chain's continuity (not summed by `add`): the hours its readable digests cover, and where
    # it starts again after hours without digests.
    first: str | None = None
    last: str | None = None
    restarts: list[Restart] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(self.counts.values())

    def note(self, finding: Finding) -> None:
        self.counts[finding.kind.value] += 1
        if len(self.findings) < KEEP_FINDINGS:
            self.findings.append(finding)

    def add(self, other: "Tally") -> None:
        self.digests += other.digests
        self.log_files += other.log_files
        self.counts.update(other.counts)
        self.findings.extend(other.findings[:max(0, KEEP_FINDINGS - len(self.findings))])


@dataclass
class ChainSegment:
    """Consecutive digests of one account and region (a day of them), walked in key order."""

    head: ChainLink | None = None
    tail: ChainLink | None = None
    tally: Tally = field(default_factory=Tally)

    def add(self, check: DigestCheck) -> None:
        self.tally.digests += 1
        for finding in check.findings:
            self.tally.note(finding)
        if self.tail is None:
            self.head = check.link
        else:
            for finding in link_findings(self.tail, check.link):
                self.tally.note(finding)
            _note_restart(self.tally, self.tail, check.link)
        _cover(self.tally, check.link)
        self.tail = check.link

    def log_file(self, finding: Finding | None) -> None:
        self.tally.log_files += 1
        if finding is not None:
            self.tally.note(finding)


@dataclass
class DayRead:
    """One account x region x day: a segment of the hourly chain and one of the backfill chain."""

    hourly: ChainSegment = field(default_factory=ChainSegment)
    backfill: ChainSegment = field(default_factory=ChainSegment)

    def segment(self, key: str) -> ChainSegment:
        return self.backfill if is_backfill(key) else self.hourly

    @property
    def digests(self) -> int:
        return self.hourly.tally.digests + self.backfill.tally.digests

    @property
    def log_files(self) -> int:
        return self.hourly.tally.log_files + self.backfill.tally.log_files


def link_day_reads(days: Sequence[DayRead | None], window: Window, expect_since: datetime | None = None,
                   folder: str = "") -> Tally:
    """One account and region's days joined: the hourly chain, owing a digest every hour from
    ``expect_since``, and the backfill chain, which owes none (CloudTrail writes one only when
    late log files need it)."""
    tally = link_chain([d and d.hourly for d in days], window, expect_since, folder)
    tally.add(link_chain([d and d.backfill for d in days], window))
    return tally


def link_chain(segments: Iterable[ChainSegment | None], window: Window,
               expect_since: datetime | None = None, folder: str = "") -> Tally:
    """Join one account and region's segments, in day order, into the chain's tally.

    None is a segment that could not be read: nothing is concluded across it. With
    ``expect_since`` (the trail logs, and has since then), a chain whose newest digest is more than
    DELIVERY_GRACE old lost its newest digests (nothing names them, so only their absence shows).
    """
    tally = Tally()
    last: ChainLink | None = None
    known = True  # nothing unread before: a head naming a digest inside the window proves it missing
    for segment in segments:
        if segment is None:
            _close(tally, last)
            last, known = None, False
            continue
        tally.add(segment.tally)
        _join_coverage(tally, segment.tally)
        if segment.head is None:
            continue
        if last is not None:
            for finding in link_findings(last, segment.head):
                tally.note(finding)
            _note_restart(tally, last, segment.head)
        elif known and segment.head.clean and segment.head.previous is not None \
                and window.contains(key_time(segment.head.previous)):
            tally.note(_missing(segment.head.previous, segment.head))
        last = segment.tail
    _close(tally, last)
    if expect_since is not None and known:
        due = window.end - DELIVERY_GRACE
        newest = last.time if last is not None else ""
        if due > expect_since and newest < format_key_time(due):
            tally.note(_overdue(folder, newest, expect_since))
    return tally


def _overdue(folder: str, newest: str, expect_since: datetime) -> Finding:
    if newest:
        return Finding(FindingKind.DIGEST_MISSING, folder,
                       f"no digest delivered after {newest}; CloudTrail writes one every hour")
    # Nothing at all: digests lost, or the verification looks where the trail does not deliver.
    since = expect_since.astimezone(timezone.utc)
    return Finding(FindingKind.DIGEST_MISSING, folder,
                   f"no digest of this trail here since {since:%Y-%m-%dT%H:%M:%SZ}, while CloudTrail writes one "
                   "every hour: lost, or this is not where the trail delivers (bucket, prefix, organization id)")


def digests_due_since(trail: TrailState | None, window: Window) -> datetime | None:
    """From when every hourly chain owes its digests: since the trail last started logging, and
    all the window long for a trail that could not be read (nothing is assumed in its favour); None
    when it does not log. CloudTrail's first digest comes within DELIVERY_GRACE of that."""
    if trail is None:
        return window.start
    if not trail.is_logging:
        return None
    if not trail.start_logging_time:
        return window.start
    return max(window.start, datetime.fromisoformat(trail.start_logging_time))


def _note_restart(tally: Tally, previous: ChainLink, current: ChainLink) -> None:
    found = restart(previous, current)
    if found is not None and len(tally.restarts) < KEEP_FINDINGS:
        tally.restarts.append(found)


def _cover(tally: Tally, link: ChainLink) -> None:
    """Widen the chain's covered hours to a digest's, if CloudTrail's signature vouches for them."""
    if link.authentic and link.start and link.end:
        tally.first = min(tally.first or link.start, link.start)
        tally.last = max(tally.last or link.end, link.end)


def _join_coverage(tally: Tally, segment: Tally) -> None:
    if segment.first and segment.last:
        tally.first = min(tally.first or segment.first, segment.first)
        tally.last = max(tally.last or segment.last, segment.last)
    tally.restarts.extend(segment.restarts[:max(0, KEEP_FINDINGS - len(tally.restarts))])


def _close(tally: Tally, last: ChainLink | None) -> None:
    if last is not None and last.pending:
        tally.note(_signature_finding(last, False))


# --- A run ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitError:
    """A part of the run (an account x region x day) that could not be read."""

    unit: str
    reason: str
    message: str


@dataclass(frozen=True)
class ChainCoverage:
    """One account and region's hourly chain in the window: the hours its authentic digests cover
    (RFC 3339; None when it has none), and where it starts again after hours without digests."""

    account: str
    region: str
    first: str | None
    last: str | None
    restarts: tuple[Restart, ...] = ()


@dataclass(frozen=True)
class Gap:
    """Hours without verified digests, and why: LoggingStopped (CloudTrail's events say who
    stopped the trail, and when; evidence, not tampering) or DigestMissing (nothing explains it)."""

    account: str  # "*" for the whole trail: a stop stops every account's chain
    region: str
    since: str
    until: str | None
    reason: str
    message: str


@dataclass
class IntegrityResult:
    window: Window
    chains: int = 0
    tally: Tally = field(default_factory=Tally)
    errors: list[UnitError] = field(default_factory=list)
    coverage: list[ChainCoverage] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)  # set by vigil.planning.continuity

    def add_chain(self, account: str, region: str, chain: Tally) -> None:
        self.coverage.append(ChainCoverage(account, region, chain.first, chain.last, tuple(chain.restarts)))
        self.tally.add(chain)

    @property
    def verified(self) -> bool:
        return not self.errors and not self.tally.failures

    def summary(self) -> str:
        t = self.tally
        text = f"{t.digests} digests and {t.log_files} log files in {self.chains} chains"
        if t.failures:
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(t.counts.items()))
            text += f": {t.failures} findings ({kinds})"
        if self.errors:
            text += f"; {len(self.errors)} parts unread ({self.errors[0].unit}: {self.errors[0].reason})"
        stopped = sum(1 for gap in self.gaps if gap.reason == LOGGING_STOPPED)
        if stopped:
            text += f"; the trail was stopped {stopped} time{'s' if stopped > 1 else ''} (LoggingStopped: who and when)"
        return text


def first_findings(findings: Sequence[Finding], count: int = 3) -> str:
    return "; ".join(str(f) for f in findings[:count])
