"""The pure integrity core (vigil.planning.integrity) on generated digest chains held in memory:
the string CloudTrail signs, key formats, each tampered variant found as exactly its own finding,
segments joined across days, unreadable days, and the missing-newest-digest check."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import cache

import pytest

from vigil.planning.integrity import (ChainSegment, DigestLayout, FindingKind, LogFileRead, PublicKeys, Tally,
                                      Window, check_digest, check_log_file, key_time, link_chain, string_to_sign)
from vigil.sandbox.digests import ChainWriter, Signer
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


def keys_for(*signers: Signer, pkcs1: bool = False) -> PublicKeys:
    return PublicKeys({s.fingerprint: s.public_der(pkcs1) for s in signers})


def chain(hours: int = 12, accounts=ACCOUNTS[:1], regions=REGIONS[:1], **writer) -> tuple[ChainWriter, list[str]]:
    w = ChainWriter(MemoryStore(), LAYOUT, signer(), **writer)
    keys = [k for a in accounts for r in regions for k in w.write(a, r, START, hours)]
    return w, keys


def verify(w: ChainWriter, keys: PublicKeys | None = None, window: Window | None = None,
           accounts=ACCOUNTS[:1], regions=REGIONS[:1], unread_days=(), expect_since=None) -> Tally:
    """What the aws layer does, over the in-memory store: a segment per account x region x day."""
    keys = keys or keys_for(signer())
    window = window or Window(START, NOW)
    store: MemoryStore = w.store  # type: ignore[assignment]
    total = Tally()
    for account in accounts:
        for region in regions:
            segments: list[ChainSegment | None] = []
            for day in window.days():
                if day in unread_days:
                    segments.append(None)
                    continue
                segment = ChainSegment()
                folder, pattern = LAYOUT.digest_folder(account, region, day), LAYOUT.digest_pattern(account, region)
                for (_, key) in sorted(k for k in store.objects if k[1].startswith(folder)):
                    match = pattern.match(key)
                    if not match or not window.contains(match.group(1)):
                        continue
                    body, meta = store.objects[(LAYOUT.bucket, key)]
                    try:
                        content = zlib.decompress(body, zlib.MAX_WBITS | 16)
                    except zlib.error:
                        content = None
                    check = check_digest(DigestObject(LAYOUT.bucket, key, content, meta.get("signature"),
                                                      meta.get("signature-algorithm")), keys)
                    segment.add(check)
                    for log in check.digest.log_files if check.digest else ():
                        found = store.objects.get((log.s3_bucket, log.s3_object))
                        read = LogFileRead(log.s3_object, hashlib.sha256(gzip.decompress(found[0])).hexdigest()
                                           if found else None, missing=found is None)
                        segment.log_file(check_log_file(log, read))
                segments.append(segment)
            total.add(link_chain(segments, window, expect_since, LAYOUT.digest_folder(account, region)))
    return total


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


def test_pkcs1_public_keys_verify_as_well():
    w, _ = chain(4)
    assert verify(w, keys=keys_for(signer(), pkcs1=True)).findings == []


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


def test_signature_by_a_key_cloudtrail_does_not_have_is_invalid():
    w, keys = chain(3)
    tally = verify(w, keys=keys_for(Signer.from_seed("another")))
    assert kinds(tally) == {"DigestSignatureInvalid": 3}
    assert "has no public key" in tally.findings[0].message


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
    assert check_log_file(log, LogFileRead("b/k", "bb")).kind is FindingKind.LOG_FILE_MODIFIED


def test_findings_are_all_counted_and_the_first_ones_kept():
    w, keys = chain(12, accounts=ACCOUNTS, regions=REGIONS)
    for key in keys:
        for log in w.log_keys(key):
            w.delete(log)
    tally = verify(w, accounts=ACCOUNTS, regions=REGIONS)
    assert tally.failures == 12 * 2 * 6 and len(tally.findings) == 100
    assert dict(tally.counts) == {"LogFileMissing": 144}
