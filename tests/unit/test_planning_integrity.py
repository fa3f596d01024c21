"""The pure integrity core (vigil.planning.integrity) on generated digest chains held in memory:
the string CloudTrail signs, key formats, each tampered variant found as exactly its own finding,
segments joined across days, unreadable days, and the missing-newest-digest check."""

from __future__ import annotations

import gzip
import hashlib
import os
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import cache

import pytest

from vigil.planning.continuity import TrailEvent, continuity, stops
from vigil.planning.integrity import (APPENDED, CHUNK, NOT_GZIP, TRUNCATED, DayRead, DigestLayout, FindingKind,
                                      IntegrityResult, LogFileRead, PublicKeys, Tally, Window, check_digest,
                                      check_log_file, digests_due_since, inflate, is_backfill, key_time,
                                      link_day_reads, string_to_sign)
from vigil_sandbox.digests import ChainWriter, Signer
from vigil.state.cloudtrail import TrailState
from vigil.state.digests import Digest, DigestObject

ACCOUNTS = ("123456789012", "222222222222", "555555555555")
REGIONS = ("ca-central-1", "us-east-1")
LAYOUT = DigestLayout(bucket="acme-log-archive", prefix="cloudtrail", trail_name="vigil-org-trail",
                      home_region="ca-central-1", organization_id="o-vigilsandbox")
NOW = datetime(2026, 3, 2, 6, 30, tzinfo=timezone.utc)  # a day boundary inside every window below
START = NOW - timedelta(hours=12)


class MemoryStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, dict[str, str]]] = {}

    def put(self, bucket, key, body, metadata=None):
        self.objects[(bucket, key)] = (body, dict(metadata or {}))

    def get(self, bucket, key):
        return self.objects[(bucket, key)]

    def delete(self, bucket, key):
        del self.objects[(bucket, key)]


@cache
def signer() -> Signer:
    return Signer.from_seed("unit-tests")


def keys_for(*signers: Signer, spki: bool = False) -> PublicKeys:
    return PublicKeys({s.fingerprint: s.public_der(spki) for s in signers})


def chain(hours: int = 12, accounts=ACCOUNTS[:1], regions=REGIONS[:1], **writer) -> tuple[ChainWriter, list[str]]:
    w = ChainWriter(MemoryStore(), LAYOUT, signer(), **writer)
    keys = [k for a in accounts for r in regions for k in w.write(a, r, START, hours)]
    return w, keys


def verify(w: ChainWriter, keys: PublicKeys | None = None, window: Window | None = None,
           accounts=ACCOUNTS[:1], regions=REGIONS[:1], unread_days=(), expect_since=None) -> Tally:
    """What the aws layer does, over the in-memory store: a DayRead per account x region x day."""
    keys = keys or keys_for(signer())
    window = window or Window(START, NOW)
    store: MemoryStore = w.store  # type: ignore[assignment]
    total = Tally()
    for account in accounts:
        for region in regions:
            days: list[DayRead | None] = []
            for day in window.days():
                if day in unread_days:
                    days.append(None)
                    continue
                day_read = DayRead()
                folder, pattern = LAYOUT.digest_folder(account, region, day), LAYOUT.digest_pattern(account, region)
                for (_, key) in sorted(k for k in store.objects if k[1].startswith(folder)):
                    match = pattern.match(key)
                    if not match or not window.contains(match.group(1)):
                        continue
                    body, meta = store.objects[(LAYOUT.bucket, key)]
                    parts: list[bytes] = []
                    unreadable = inflate(chunked(body), parts.append)
                    check = check_digest(DigestObject(LAYOUT.bucket, key, None if unreadable else b"".join(parts),
                                                      meta.get("signature"), meta.get("signature-algorithm"),
                                                      unreadable, meta.get("backfill-generation-timestamp")), keys)
                    segment = day_read.segment(key)
                    segment.add(check)
                    for log in check.digest.log_files if check.digest else ():
                        segment.log_file(check_log_file(log, read_log(store, log.s3_bucket, log.s3_object)))
                days.append(day_read)
            chain_tally = link_day_reads(days, window, expect_since, LAYOUT.digest_folder(account, region))
            total.add(chain_tally)
    # One chain: its own tally, with its coverage and restarts (which `add` does not sum).
    return chain_tally if len(accounts) * len(regions) == 1 else total


def chunked(body: bytes, size: int = 7) -> list[bytes]:
    """Small chunks: a gzip member's end falls inside one, as it may in S3's stream."""
    return [body[i:i + size] for i in range(0, len(body), size)]


def read_log(store: MemoryStore, bucket: str, key: str) -> LogFileRead:
    found = store.objects.get((bucket, key))
    if found is None:
        return LogFileRead(key, None, missing=True)
    sha256 = hashlib.sha256()
    unreadable = inflate(chunked(found[0]), sha256.update)
    return LogFileRead(key, None if unreadable else sha256.hexdigest(), unreadable=unreadable)


def kinds(tally: Tally) -> Counter[str]:
    return Counter(f.kind.value for f in tally.findings)


def test_string_to_sign_is_end_time_location_hash_and_previous_signature():
    digest = Digest.model_validate({
        "digestStartTime": "2026-03-02T00:00:00Z", "digestEndTime": "2026-03-02T01:00:00Z",
        "digestS3Bucket": "b", "digestS3Object": "k.json.gz", "digestPublicKeyFingerprint": "f",
        "previousDigestSignature": None, "logFiles": []})
    assert string_to_sign(digest, "ab" * 32) == f"2026-03-02T01:00:00Z\nb/k.json.gz\n{'ab' * 32}\nnull".encode()
    linked = digest.model_copy(update={"previous_digest_signature": "0f"})
    assert string_to_sign(linked, "cd").endswith(b"\ncd\n0f")


def test_digest_keys_follow_cloudtrail_layout():
    at = datetime(2026, 3, 2, 1, 5, tzinfo=timezone.utc)
    key = LAYOUT.digest_key("555555555555", "us-east-1", at)
    assert key == ("cloudtrail/AWSLogs/o-vigilsandbox/555555555555/CloudTrail-Digest/us-east-1/2026/03/02/"
                   "555555555555_CloudTrail-Digest_us-east-1_vigil-org-trail_ca-central-1_20260302T010500Z.json.gz")
    assert key_time(key) == "20260302T010500Z"
    assert LAYOUT.digest_pattern("555555555555", "us-east-1").match(key)
    other_trail = key.replace("_vigil-org-trail_", "_someone-elses_")
    assert not LAYOUT.digest_pattern("555555555555", "us-east-1").match(other_trail)
    plain = DigestLayout("b", "", "t", "us-east-1")
    assert plain.digest_folder("111111111111", "us-east-1") == "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/"


def test_clean_chain_of_48_hours_3_accounts_2_regions_has_no_finding():
    w = ChainWriter(MemoryStore(), LAYOUT, signer(), logs_per_hour=1, events_per_log=1)
    start = NOW - timedelta(hours=48)
    for a in ACCOUNTS:
        for r in REGIONS:
            w.write(a, r, start, 48)
    tally = verify(w, window=Window(start, NOW), accounts=ACCOUNTS, regions=REGIONS)
    assert tally.findings == []
    assert tally.digests == 48 * 6 and tally.log_files == 48 * 6


def test_subject_public_key_info_keys_verify_as_well():
    """CloudTrail serves PKCS#1 RSAPublicKey DER; a key in SubjectPublicKeyInfo DER verifies too."""
    w, _ = chain(4)
    assert verify(w, keys=keys_for(signer(), spki=True)).findings == []


def tampered(variant: str) -> tuple[ChainWriter, list[str], str]:
    """A 12-hour chain with one tampering; returns the location the finding must name."""
    if variant == "empty hour":
        w = ChainWriter(MemoryStore(), LAYOUT, signer())
        return w, w.write(ACCOUNTS[0], REGIONS[0], START, 12, empty_hours={5}), ""
    w, keys = chain(12)
    bucket = LAYOUT.bucket
    if variant == "flipped byte in a log":
        log = w.log_keys(keys[5])[1]
        w.flip_log_byte(log)
        return w, keys, f"{bucket}/{log}"
    if variant == "deleted log":
        log = w.log_keys(keys[5])[0]
        w.delete(log)
        return w, keys, f"{bucket}/{log}"
    if variant == "deleted digest":
        w.delete(keys[5])
        return w, keys, f"{bucket}/{keys[5]}"
    if variant == "deleted first digest":
        w.delete(keys[0])
        return w, keys, f"{bucket}/{keys[0]}"
    if variant == "moved digest":
        return w, keys, f"{bucket}/{w.move_digest(keys[5])}"
    if variant == "re-signed digest":
        w.resign_digest(keys[5], Signer.from_seed("someone else"))
        return w, keys, f"{bucket}/{keys[5]}"
    if variant == "re-signed newest digest":
        w.resign_digest(keys[-1], Signer.from_seed("someone else"))
        return w, keys, f"{bucket}/{keys[-1]}"
    if variant == "modified digest":
        w.hide_log_in_digest(keys[5])
        return w, keys, f"{bucket}/{keys[5]}"
    if variant == "broken chain":
        w.break_chain(keys, 5)
        return w, keys, f"{bucket}/{keys[5]}"
    if variant == "corrupt digest":
        w.store.put(bucket, keys[5], b"not gzip", w.store.get(bucket, keys[5])[1])
        return w, keys, f"{bucket}/{keys[5]}"
    raise LookupError(variant)


@pytest.mark.parametrize("variant, kind", [
    ("flipped byte in a log", FindingKind.LOG_FILE_MODIFIED),
    ("deleted log", FindingKind.LOG_FILE_MISSING),
    ("deleted digest", FindingKind.DIGEST_MISSING),
    ("deleted first digest", FindingKind.DIGEST_MISSING),
    ("moved digest", FindingKind.DIGEST_MOVED),
    ("re-signed digest", FindingKind.DIGEST_SIGNATURE_INVALID),
    ("re-signed newest digest", FindingKind.DIGEST_SIGNATURE_INVALID),
    ("modified digest", FindingKind.DIGEST_MODIFIED),
    ("broken chain", FindingKind.CHAIN_BROKEN),
    ("corrupt digest", FindingKind.DIGEST_MODIFIED),
    ("empty hour", None),
])
def test_each_tampering_is_found_as_its_own_finding_and_nothing_else(variant, kind):
    w, _, location = tampered(variant)
    tally = verify(w)
    if kind is None:
        assert tally.findings == [] and tally.digests == 12 and tally.log_files == 11 * 2
        return
    assert [(f.kind, f.location) for f in tally.findings] == [(kind, location)], [str(f) for f in tally.findings]
    assert tally.failures == 1


def test_a_digest_signed_with_a_key_cloudtrail_does_not_list_is_a_finding_of_its_own():
    w, keys = chain(3)
    tally = verify(w, keys=keys_for(Signer.from_seed("another")))
    assert kinds(tally) == {"DigestKeyUnknown": 3}
    assert "has no public key" in tally.findings[0].message


def test_a_chain_across_a_key_rotation_verifies_and_an_unlisted_new_key_is_found():
    rotated = Signer.from_seed("rotated")
    w = ChainWriter(MemoryStore(), LAYOUT, signer())
    keys = w.write(ACCOUNTS[0], REGIONS[0], START, 12, rotations={6: rotated})
    assert verify(w, keys=keys_for(signer(), rotated)).findings == []
    # CloudTrail lists the old key only: the six digests signed after the rotation cannot be vouched for.
    unvouched = verify(w, keys=keys_for(signer()))
    assert [(f.kind, f.location) for f in unvouched.findings] == [
        (FindingKind.DIGEST_KEY_UNKNOWN, f"{LAYOUT.bucket}/{key}") for key in keys[6:]]


def test_missing_signature_metadata_is_invalid():
    w, keys = chain(4)
    body, _ = w.store.get(LAYOUT.bucket, keys[2])
    w.store.put(LAYOUT.bucket, keys[2], body, {})
    assert [(f.kind, f.message) for f in verify(w).findings] == [
        (FindingKind.DIGEST_SIGNATURE_INVALID, "the object has no signature metadata")]


def test_a_re_signed_digest_at_the_end_of_a_day_is_judged_by_the_next_day_first_digest():
    w, keys = chain(12)
    last_of_day = max(k for k in keys if "/2026/03/01/" in k)
    w.hide_log_in_digest(last_of_day)
    assert [(f.kind, f.location.split("/")[-1]) for f in verify(w).findings] == [
        (FindingKind.DIGEST_MODIFIED, last_of_day.split("/")[-1])]


def test_a_digest_deleted_across_a_day_boundary_is_missing():
    w, keys = chain(12)
    first_of_day = min(k for k in keys if "/2026/03/02/" in k)
    w.delete(first_of_day)
    assert [(f.kind, f.location) for f in verify(w).findings] == [
        (FindingKind.DIGEST_MISSING, f"{LAYOUT.bucket}/{first_of_day}")]


def test_nothing_is_concluded_across_a_day_that_could_not_be_read():
    w, keys = chain(12)
    w.delete(min(k for k in keys if "/2026/03/02/" in k))
    tally = verify(w, unread_days={NOW.date() - timedelta(days=1)})
    assert tally.findings == []  # the deleted digest's successor is the first one read: nothing before it is known


def test_a_new_chain_start_is_not_a_finding():
    w = ChainWriter(MemoryStore(), LAYOUT, signer())
    w.write(ACCOUNTS[0], REGIONS[0], START, 5)
    w.write(ACCOUNTS[0], REGIONS[0], START + timedelta(hours=7), 5)  # logging stopped for two hours
    assert verify(w).findings == []


def test_newest_digests_missing_while_the_trail_logs():
    w, keys = chain(12)
    since = START - timedelta(days=1)
    assert verify(w, expect_since=since).findings == []
    for key in keys[-3:]:
        w.delete(key)
    found = verify(w, expect_since=since).findings
    assert [f.kind for f in found] == [FindingKind.DIGEST_MISSING]
    assert "no digest delivered after" in found[0].message
    assert verify(w, expect_since=NOW - timedelta(minutes=30)).findings == [], "a trail just started owes nothing yet"


def test_an_account_with_no_digest_at_all_is_missing_them_while_the_trail_logs():
    w, _ = chain(12)
    found = verify(w, accounts=ACCOUNTS[:2], expect_since=START).findings
    assert [(f.kind, f.location) for f in found] == [
        (FindingKind.DIGEST_MISSING, LAYOUT.digest_folder(ACCOUNTS[1], REGIONS[0]))]


def test_log_file_checks():
    from vigil.state.digests import DigestLogFile

    log = DigestLogFile(s3_bucket="b", s3_object="k", hash_value="aa")
    assert check_log_file(log, LogFileRead("b/k", "aa")) is None
    assert check_log_file(log, LogFileRead("b/k", None, missing=True)).kind is FindingKind.LOG_FILE_MISSING
    assert check_log_file(log, LogFileRead("b/k", None)).message == "the object is not gzip"
    assert check_log_file(log, LogFileRead("b/k", None, unreadable=APPENDED)).message == APPENDED
    assert check_log_file(log, LogFileRead("b/k", "bb")).kind is FindingKind.LOG_FILE_MODIFIED


def test_findings_are_all_counted_and_the_first_ones_kept():
    w, keys = chain(12, accounts=ACCOUNTS, regions=REGIONS)
    for key in keys:
        for log in w.log_keys(key):
            w.delete(log)
    tally = verify(w, accounts=ACCOUNTS, regions=REGIONS)
    assert tally.failures == 12 * 2 * 6 and len(tally.findings) == 100
    assert dict(tally.counts) == {"LogFileMissing": 144}


# --- What a reader reads: exactly one gzip member -------------------------------------------------

def test_inflate_reads_one_complete_gzip_member_and_refuses_anything_else():
    content = b'{"Records": []}'
    member = gzip.compress(content)
    for body, why in [(member, None), (member + gzip.compress(b'{"Records": [{"eventName": "StopLogging"}]}'),
                                       APPENDED),
                      (member + b"\0", APPENDED), (member[:-4], TRUNCATED), (b"", TRUNCATED),
                      (b"not gzip at all", NOT_GZIP)]:
        for size in (1, 7, len(body) or 1, CHUNK):  # wherever the member's end falls in the stream
            out: list[bytes] = []
            assert inflate(chunked(body, size), out.append) == why, (body, size)
            if why is None:
                assert b"".join(out) == content


def test_inflate_hands_out_bounded_pieces_of_a_highly_compressed_object():
    content = b"\0" * (8 * CHUNK) + os.urandom(1000)  # 8 chunks that compress to a few hundred bytes
    out: list[bytes] = []
    assert inflate([gzip.compress(content)], out.append) is None
    assert b"".join(out) == content and max(map(len, out)) <= CHUNK


def test_a_gzip_member_appended_to_a_log_file_is_a_modified_log():
    """Readers of the file read the appended event; the SHA-256 of the first member still matches."""
    w, keys = chain(4)
    log = w.log_keys(keys[2])[0]
    w.append_gzip_member(log, b'{"Records": [{"eventName": "StopLogging"}]}')
    found = verify(w).findings
    assert [(f.kind, f.location, f.message) for f in found] == [
        (FindingKind.LOG_FILE_MODIFIED, f"{LAYOUT.bucket}/{log}", APPENDED)]


def test_a_gzip_member_appended_to_a_digest_is_a_modified_digest_and_nothing_else():
    w, keys = chain(4)
    w.append_gzip_member(keys[2], b'{"logFiles": []}')
    found = verify(w).findings
    assert [(f.kind, f.location, f.message) for f in found] == [
        (FindingKind.DIGEST_MODIFIED, f"{LAYOUT.bucket}/{keys[2]}", APPENDED)]


# --- Backfill digests: a chain of their own -------------------------------------------------------

def backfilled(hours: int = 4) -> tuple[ChainWriter, list[str], list[str]]:
    """A 12-hour chain, and backfill digests for ``hours`` of its hours, with late log files."""
    w, keys = chain(12)
    return w, keys, w.write(ACCOUNTS[0], REGIONS[0], START + timedelta(hours=3), hours, backfill=True)


def test_backfill_digest_keys_follow_cloudtrail_naming():
    at = datetime(2026, 3, 2, 1, 5, tzinfo=timezone.utc)
    key = LAYOUT.digest_key("555555555555", "us-east-1", at, backfill=True)
    assert key.endswith("_vigil-org-trail_ca-central-1_20260302T010500Z_backfill.json.gz")
    assert is_backfill(key) and not is_backfill(LAYOUT.digest_key("555555555555", "us-east-1", at))
    assert key_time(key) == "20260302T010500Z"
    assert LAYOUT.digest_pattern("555555555555", "us-east-1").match(key).group(1) == "20260302T010500Z"


def test_backfill_digests_and_their_log_files_are_verified():
    w, keys, backfill = backfilled(4)
    tally = verify(w, expect_since=START - timedelta(days=1))
    assert tally.findings == []
    assert (tally.digests, tally.log_files) == (12 + 4, (12 + 4) * 2)
    _, metadata = w.store.get(LAYOUT.bucket, backfill[0])
    assert metadata["backfill-generation-timestamp"]


@pytest.mark.parametrize("variant, kind", [
    ("flipped byte in a backfilled log", FindingKind.LOG_FILE_MODIFIED),
    ("deleted backfilled log", FindingKind.LOG_FILE_MISSING),
    ("modified backfill digest", FindingKind.DIGEST_MODIFIED),
    ("re-signed backfill digest", FindingKind.DIGEST_SIGNATURE_INVALID),
    ("deleted backfill digest", FindingKind.DIGEST_MISSING),
    ("backfill digest without its generation time", FindingKind.DIGEST_SIGNATURE_INVALID),
    ("gzip member appended to a backfill digest", FindingKind.DIGEST_MODIFIED),
])
def test_tampering_with_a_backfill_digest_or_its_log_files_is_found(variant, kind):
    w, _, backfill = backfilled(4)
    target = backfill[1]
    if variant == "flipped byte in a backfilled log":
        w.flip_log_byte(target := w.log_keys(backfill[1])[1])
    elif variant == "deleted backfilled log":
        w.delete(target := w.log_keys(backfill[1])[0])
    elif variant == "modified backfill digest":
        w.hide_log_in_digest(backfill[1])
    elif variant == "re-signed backfill digest":
        w.resign_digest(backfill[1], Signer.from_seed("someone else"))
    elif variant == "deleted backfill digest":
        w.delete(backfill[1])
    elif variant == "backfill digest without its generation time":
        body, metadata = w.store.get(LAYOUT.bucket, backfill[1])
        w.store.put(LAYOUT.bucket, backfill[1], body, {k: v for k, v in metadata.items()
                                                      if k != "backfill-generation-timestamp"})
    else:
        w.append_gzip_member(backfill[1], b"{}")
    found = verify(w).findings
    assert [(f.kind, f.location) for f in found] == [(kind, f"{LAYOUT.bucket}/{target}")], [str(f) for f in found]


def test_the_backfill_chain_is_not_the_hourly_chain():
    """Hourly digests link to hourly ones and backfill to backfill, so neither breaks the other; a
    trail owes no backfill digest, and a backfill digest does not stand for a missing hourly one."""
    w, keys = chain(12)
    backfill = w.write(ACCOUNTS[0], REGIONS[0], START + timedelta(hours=11), 1, backfill=True)
    assert key_time(backfill[0]) == key_time(keys[-1])  # the newest hour, backfilled
    assert verify(w, expect_since=START).findings == []
    w.delete(keys[-1])
    assert verify(w).findings == [], "the newest digest is named by no other"
    later = Window(START, NOW + timedelta(hours=1, minutes=30))  # the newest hour's digest is due by now
    assert [(f.kind, f.location) for f in verify(w, window=later, expect_since=START).findings] == [
        (FindingKind.DIGEST_MISSING, LAYOUT.digest_folder(ACCOUNTS[0], REGIONS[0]))]


# --- No digest where the trail delivers -----------------------------------------------------------

def test_no_digest_at_all_while_the_trail_logs_says_where_it_looked():
    w = ChainWriter(MemoryStore(), LAYOUT, signer())  # nothing written: a wrong prefix looks like this
    folder = LAYOUT.digest_folder(ACCOUNTS[0], REGIONS[0])
    found = verify(w, expect_since=START).findings
    assert [(f.kind, f.location) for f in found] == [(FindingKind.DIGEST_MISSING, folder)]
    assert str(found[0]).startswith(f"DigestMissing s3://{folder}: no digest of this trail here since ")
    assert "not where the trail delivers (bucket, prefix, organization id)" in found[0].message
    assert verify(w, expect_since=NOW - timedelta(hours=1)).findings == [], "none due yet"


def test_digests_are_due_since_the_trail_started_logging_and_all_the_window_when_unknown():
    window = Window(START, NOW)
    started = NOW - timedelta(hours=3)
    logging = TrailState(exists=True, is_logging=True, start_logging_time=started.isoformat())
    assert digests_due_since(logging, window) == started
    long_ago = logging.model_copy(update={"start_logging_time": (START - timedelta(days=3)).isoformat()})
    assert digests_due_since(long_ago, window) == START
    assert digests_due_since(TrailState(exists=True, is_logging=False), window) is None
    assert digests_due_since(TrailState(exists=True, is_logging=True), window) == START
    assert digests_due_since(None, window) == START, "a trail that could not be read is owed every digest"


# --- Continuity ------------------------------------------------------------------------------------

def hour(n: int) -> str:
    return (START.replace(minute=0, second=0) + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def stopped_and_restarted(stop_hour: int = 5, restart_hour: int = 8) -> tuple[ChainWriter, list[str]]:
    """A chain that stops after ``stop_hour`` hours and starts again, previous-* null, at ``restart_hour``."""
    w = ChainWriter(MemoryStore(), LAYOUT, signer())
    first = w.write(ACCOUNTS[0], REGIONS[0], START, stop_hour)
    later = w.write(ACCOUNTS[0], REGIONS[0], START + timedelta(hours=restart_hour), 12 - restart_hour)
    return w, first + later


def judged(tally: Tally, events=()) -> IntegrityResult:
    result = IntegrityResult(Window(START, NOW))
    result.add_chain(ACCOUNTS[0], REGIONS[0], tally)
    continuity(result, events)
    return result


def test_the_chain_reports_the_hours_its_digests_cover():
    w, _ = chain(12)
    tally = verify(w)
    assert (tally.first, tally.last, tally.restarts) == (hour(0), hour(12), [])


def test_a_missing_hour_is_digest_missing_with_its_range():
    w, keys = chain(12)
    w.delete(keys[5])
    result = judged(verify(w))
    [finding] = result.tally.findings
    assert finding.kind is FindingKind.DIGEST_MISSING and finding.location == f"{LAYOUT.bucket}/{keys[5]}"
    assert finding.message.startswith(f"no digest from {hour(5)} to {hour(6)}: ")


def test_a_restart_that_no_stop_explains_is_digest_missing_with_its_range():
    w, keys = stopped_and_restarted()
    result = judged(verify(w))
    assert [(f.kind, f.location) for f in result.tally.findings] == [
        (FindingKind.DIGEST_MISSING, f"{LAYOUT.bucket}/{keys[5]}")]
    assert result.tally.findings[0].message.startswith(f"no digest from {hour(5)} to {hour(8)}: the chain starts "
                                                       "again here, and CloudTrail's event history records no stop")
    assert [(g.account, g.since, g.until, g.reason) for g in result.gaps] == [
        (ACCOUNTS[0], hour(5), hour(8), "DigestMissing")]


def test_a_stop_and_restart_is_logging_stopped_attributed_to_its_callers_not_a_finding():
    w, _ = stopped_and_restarted()
    events = [TrailEvent("StopLogging", "%s" % hour(5).replace(":00:00Z", ":12:30Z"),
                         "arn:aws:sts::123456789012:assumed-role/Admin/mallory"),
              TrailEvent("StartLogging", hour(7).replace(":00:00Z", ":41:07Z"),
                         "arn:aws:sts::123456789012:assumed-role/vigil-operator/vigil")]
    result = judged(verify(w), events)
    assert result.tally.findings == []
    [gap] = result.gaps
    assert (gap.account, gap.reason, gap.since, gap.until) == ("*", "LoggingStopped", events[0].time, events[1].time)
    assert gap.message == (f"logging stopped at {events[0].time} by arn:aws:sts::123456789012:assumed-role/Admin/"
                           f"mallory; started again at {events[1].time} by arn:aws:sts::123456789012:assumed-role/"
                           "vigil-operator/vigil")


def test_a_stop_days_away_does_not_explain_a_restart():
    w, _ = stopped_and_restarted()
    long_before = (START - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = [TrailEvent("StopLogging", long_before, "arn:aws:iam::123456789012:user/ops"),
              TrailEvent("StartLogging", long_before.replace("00Z", "30Z"), "arn:aws:iam::123456789012:user/ops")]
    result = judged(verify(w), events)
    assert kinds(result.tally) == {"DigestMissing": 1}
    assert sorted(g.reason for g in result.gaps) == ["DigestMissing", "LoggingStopped"]


def test_validation_turned_off_and_on_stops_the_digests_as_a_stop_does():
    off = TrailEvent("UpdateTrail", hour(5), "arn:aws:iam::123456789012:user/ops", validation=False)
    on = TrailEvent("UpdateTrail", hour(7), "arn:aws:iam::123456789012:user/ops", validation=True)
    unrelated = TrailEvent("UpdateTrail", hour(6), "arn:aws:iam::123456789012:user/ops")
    [stop] = stops([on, unrelated, off])
    assert (stop.stopped, stop.started) == (off, on)
    assert stop.describe().startswith(f"log file validation turned off at {hour(5)} by")
    assert stops([off])[0].describe().endswith("; not started again")
