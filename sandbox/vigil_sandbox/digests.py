"""Test vectors for CloudTrail log integrity: a signing key, hourly digest chains over gzipped log
files as CloudTrail writes them, and the ways someone could tamper with them.

The sandbox's signing key is derived from a fixed seed, so the sandbox process (which serves its
public half from ListPublicKeys) and a test process (which signs new vectors) agree on it without
a private key checked into the repository. Objects go through an `ObjectStore`: boto3 against the
sandbox like any caller, or moto's backend directly when the sandbox runs in-process and the
vectors are many (the benchmark).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from vigil.planning.integrity import DigestLayout, format_key_time, is_backfill, key_time, string_to_sign
from vigil.state.digests import SIGNATURE_ALGORITHM, Digest
from .seed import SandboxOrganization

SANDBOX_SEED = "vigil-sandbox-cloudtrail"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Digests land a few minutes after the hour they cover, as CloudTrail's do.
DELIVERY_DELAY = timedelta(minutes=5)
# A backfill digest is generated later, when log files delivered late need one.
BACKFILL_DELAY = timedelta(minutes=30)


# --- The signing key -----------------------------------------------------------------------------

class Signer:
    """An RSA key pair signing digests as CloudTrail does (SHA256withRSA, hex in the metadata)."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key

    @classmethod
    def generate(cls) -> "Signer":
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_seed(cls, seed: str = SANDBOX_SEED) -> "Signer":
        """The same 2048-bit key for the same seed, in every process."""
        return cls(_seeded_key(seed))

    def public_der(self, spki: bool = False) -> bytes:
        """PKCS#1 RSAPublicKey DER, as CloudTrail's ListPublicKeys serves it (and as
        `aws cloudtrail validate-logs` alone can read it); or SubjectPublicKeyInfo DER."""
        fmt = serialization.PublicFormat.SubjectPublicKeyInfo if spki else serialization.PublicFormat.PKCS1
        return self.key.public_key().public_bytes(serialization.Encoding.DER, fmt)

    @property
    def fingerprint(self) -> str:
        """As the sandbox's ListPublicKeys names the key (MD5 of the DER it serves)."""
        return hashlib.md5(self.public_der()).hexdigest()

    def sign(self, message: bytes) -> str:
        return self.key.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()


@functools.cache
def _seeded_key(seed: str) -> rsa.RSAPrivateKey:
    e = 65537
    p = _prime(seed + "/p", e, _FIRST_PRIME_AT.get(seed + "/p", 0))
    q = _prime(seed + "/q", e, _FIRST_PRIME_AT.get(seed + "/q", 0))
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                    rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, p * q))
    return numbers.private_key()


# Where the search for the sandbox key's primes ends, so every sandbox start skips it (a hint:
# the candidate is still tested, and a wrong hint only means a longer search).
_FIRST_PRIME_AT = {SANDBOX_SEED + "/p": 1035, SANDBOX_SEED + "/q": 332}


def _prime(seed: str, e: int, counter: int = 0, bits: int = 1024) -> int:
    while True:
        block = b"".join(hashlib.sha256(f"{seed}/{counter}/{i}".encode()).digest() for i in range(bits // 256))
        counter += 1
        candidate = int.from_bytes(block, "big") | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if (candidate - 1) % e and _probably_prime(candidate):
            return candidate


_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p ** 0.5) + 1, 2))]


def _probably_prime(n: int) -> bool:
    """Miller-Rabin with fixed bases: only our own generated candidates are tested."""
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


# --- Where the objects go ------------------------------------------------------------------------

class ObjectStore(Protocol):
    def put(self, bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None: ...

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]: ...

    def delete(self, bucket: str, key: str) -> None: ...


class ClientStore:
    """Through an S3 client (boto3), as any caller of the sandbox."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def put(self, bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata or {})

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        response = self.s3.get_object(Bucket=bucket, Key=key)
        return response["Body"].read(), response.get("Metadata") or {}

    def delete(self, bucket: str, key: str) -> None:
        self.s3.delete_object(Bucket=bucket, Key=key)


class MotoStore:
    """Straight into moto's S3 backend of an account: only in the sandbox's own process."""

    def __init__(self, account_id: str) -> None:
        from moto.s3.models import s3_backends

        self.backend = s3_backends[account_id]["aws"]

    def create_bucket(self, bucket: str, region: str) -> None:
        self.backend.create_bucket(bucket, region)

    def put(self, bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        stored = self.backend.put_object(bucket, key, body, disable_notification=True)
        stored.set_metadata({f"x-amz-meta-{k}": v for k, v in (metadata or {}).items()})

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        stored = self.backend.get_object(bucket, key)
        if stored is None:
            raise KeyError(f"{bucket}/{key}")
        return stored.value, {k.removeprefix("x-amz-meta-"): v for k, v in stored.metadata.items()
                              if k.startswith("x-amz-meta-")}

    def delete(self, bucket: str, key: str) -> None:
        self.backend.delete_object(bucket, key)


# --- Chains --------------------------------------------------------------------------------------

def hour_floor(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def log_body(account: str, region: str, at: datetime, n: int, events: int) -> bytes:
    """A small CloudTrail log file: ``events`` management events."""
    records = [{"eventVersion": "1.09", "eventTime": (at + timedelta(seconds=i)).strftime(TIME_FORMAT),
                "eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity", "awsRegion": region,
                "recipientAccountId": account, "requestID": f"{account}-{region}-{at:%Y%m%d%H}-{n}-{i}"}
               for i in range(events)]
    return json.dumps({"Records": records}).encode()


@dataclass
class ChainWriter:
    """Writes hourly digest chains, each digest signed and linked to the one before."""

    store: ObjectStore
    layout: DigestLayout
    signer: Signer
    logs_per_hour: int = 2
    events_per_log: int = 3

    def write(self, account: str, region: str, start: datetime, hours: int,
              empty_hours: Iterable[int] = (), backfill: bool = False,
              rotations: Mapping[int, Signer] | None = None) -> list[str]:
        """The digest keys, oldest first. The first digest starts the chain (previous-* null).

        ``backfill``: backfill digests instead (``..._backfill.json.gz``, with their
        backfill-generation-timestamp metadata), listing log files of their own and chained to
        each other, as validate-logs walks them apart from the hourly chain.
        ``rotations``: from that hour on, CloudTrail signs with that key (a key rotation)."""
        empty = set(empty_hours)
        keys: list[str] = []
        previous: tuple[str, str, str] | None = None  # location, sha256, signature
        signer = self.signer
        for hour in range(hours):
            signer = (rotations or {}).get(hour, signer)
            begin = hour_floor(start) + timedelta(hours=hour)
            logs = [] if hour in empty else [self._log(account, region, begin, n, backfill)
                                             for n in range(self.logs_per_hour)]
            key = self.layout.digest_key(account, region, begin + timedelta(hours=1) + DELIVERY_DELAY, backfill)
            document = {
                "awsAccountId": account,
                "digestStartTime": begin.strftime(TIME_FORMAT),
                "digestEndTime": (begin + timedelta(hours=1)).strftime(TIME_FORMAT),
                "digestS3Bucket": self.layout.bucket,
                "digestS3Object": key,
                "digestPublicKeyFingerprint": signer.fingerprint,
                "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
                "newestEventTime": None, "oldestEventTime": None,
                "previousDigestS3Bucket": previous[0].split("/", 1)[0] if previous else None,
                "previousDigestS3Object": previous[0].split("/", 1)[1] if previous else None,
                "previousDigestHashValue": previous[1] if previous else None,
                "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                "previousDigestSignature": previous[2] if previous else None,
                "logFiles": logs,
            }
            previous = self.put_digest(key, document, signer)
            keys.append(key)
        return keys

    def put_digest(self, key: str, document: dict[str, Any], signer: Signer | None = None,
                   bucket: str | None = None) -> tuple[str, str, str]:
        """Sign and store a digest document; returns (location, sha256, signature) for the next link."""
        content = json.dumps(document).encode()
        sha256 = hashlib.sha256(content).hexdigest()
        signature = (signer or self.signer).sign(string_to_sign(Digest.model_validate(document), sha256))
        metadata = {"signature": signature, "signature-algorithm": SIGNATURE_ALGORITHM}
        if is_backfill(key):
            generated = datetime.strptime(key_time(key), "%Y%m%dT%H%M%SZ") + BACKFILL_DELAY
            metadata["backfill-generation-timestamp"] = generated.strftime(TIME_FORMAT)
        self.store.put(bucket or self.layout.bucket, key, gzip.compress(content, 1, mtime=0), metadata)
        return f"{document['digestS3Bucket']}/{document['digestS3Object']}", sha256, signature

    def _log(self, account: str, region: str, begin: datetime, n: int, backfill: bool = False) -> dict[str, str]:
        body = log_body(account, region, begin, n, self.events_per_log)
        unique = f"{'b' if backfill else 'v'}{n:04d}"  # late log files are other files than the hour's
        key = self.layout.log_key(account, region, begin + timedelta(minutes=5 * (n + 1)), unique)
        self.store.put(self.layout.bucket, key, gzip.compress(body, 1, mtime=0))
        return {"s3Bucket": self.layout.bucket, "s3Object": key,
                "hashValue": hashlib.sha256(body).hexdigest(), "hashAlgorithm": "SHA-256"}

    def write_trail(self, accounts: Sequence[str], regions: Sequence[str], start: datetime,
                    hours: int) -> dict[tuple[str, str], list[str]]:
        return {(a, r): self.write(a, r, start, hours) for a in accounts for r in regions}

    # --- Tampering ---------------------------------------------------------------------------

    def document(self, key: str) -> tuple[dict[str, Any], dict[str, str]]:
        body, metadata = self.store.get(self.layout.bucket, key)
        return json.loads(gzip.decompress(body)), metadata

    def log_keys(self, digest_key: str) -> list[str]:
        return [log["s3Object"] for log in self.document(digest_key)[0]["logFiles"]]

    def flip_log_byte(self, log_key: str) -> None:
        """Someone edits an event in a delivered log file (and gzips it again)."""
        body, metadata = self.store.get(self.layout.bucket, log_key)
        content = bytearray(gzip.decompress(body))
        content[len(content) // 2] ^= 0x01
        self.store.put(self.layout.bucket, log_key, gzip.compress(bytes(content), 1, mtime=0), metadata)

    def append_gzip_member(self, key: str, content: bytes) -> None:
        """Someone appends a gzip member to a delivered object (a log file or a digest): the bytes
        CloudTrail wrote are untouched, and every gzip reader reads ``content`` after them."""
        body, metadata = self.store.get(self.layout.bucket, key)
        self.store.put(self.layout.bucket, key, body + gzip.compress(content, 1, mtime=0), metadata)

    def delete(self, key: str) -> None:
        self.store.delete(self.layout.bucket, key)

    def move_digest(self, key: str) -> str:
        """The digest goes to another key of its folder (a minute later, still before the next one)."""
        body, metadata = self.store.get(self.layout.bucket, key)
        moved_at = datetime.strptime(key_time(key), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        moved = key.replace(key_time(key), format_key_time(moved_at + timedelta(minutes=1)))
        self.store.put(self.layout.bucket, moved, body, metadata)
        self.store.delete(self.layout.bucket, key)
        return moved

    def resign_digest(self, key: str, other: Signer) -> None:
        """Same content, signed with another key (who claims to be CloudTrail)."""
        body, metadata = self.store.get(self.layout.bucket, key)
        content = gzip.decompress(body)
        digest = Digest.model_validate_json(content)
        signature = other.sign(string_to_sign(digest, hashlib.sha256(content).hexdigest()))
        self.store.put(self.layout.bucket, key, body, {**metadata, "signature": signature})

    def hide_log_in_digest(self, key: str) -> str:
        """The digest's content edited to drop a log file, its signature metadata left as it was."""
        document, metadata = self.document(key)
        hidden = document["logFiles"].pop()["s3Object"]
        self.store.put(self.layout.bucket, key, gzip.compress(json.dumps(document).encode(), 1, mtime=0), metadata)
        return hidden

    def break_chain(self, keys: Sequence[str], at: int) -> None:
        """Digest ``at`` names a previous signature that is not its predecessor's; it and the digests
        after it are validly signed and linked to each other, so only that one link is wrong."""
        previous: tuple[str, str, str] | None = None
        for n, key in enumerate(keys[at:]):
            document, _ = self.document(key)
            if n == 0:
                document["previousDigestSignature"] = "00" * 256
            else:
                assert previous is not None
                document["previousDigestHashValue"], document["previousDigestSignature"] = previous[1], previous[2]
            previous = self.put_digest(key, document)


# --- The sandbox's own trail ---------------------------------------------------------------------

SANDBOX_TRAIL_BUCKET = "vigil-sandbox-cloudtrail"
SANDBOX_TRAIL = "vigil-org-trail"
SANDBOX_HOURS = 3


def sandbox_layout(bucket: str, organization_id: str, home_region: str, prefix: str = "cloudtrail") -> DigestLayout:
    return DigestLayout(bucket, prefix, SANDBOX_TRAIL, home_region, organization_id)


def reader_policy(bucket: str, *readers: str) -> str:
    """A trail bucket's policy letting other accounts read it: S3 refuses another account's
    reads (GetBucketLocation, ListObjectsV2, GetObject) that the bucket policy does not grant.
    The sandbox's default credentials act in the management account, so `vigil verify-trail`
    run with them reads the log-archive account's bucket through such a grant."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "VerifierRead", "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in readers]},
        "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]})


def seed_trail(organization: SandboxOrganization, hours: int = SANDBOX_HOURS) -> DigestLayout:
    """`vigil-sandbox`'s CloudTrail: its signing key served by ListPublicKeys in every region, and a
    clean chain of the last few hours for every account and region in a bucket of the log-archive
    account, for `vigil verify-trail` to find. Runs in the sandbox's process, after the gaps."""
    from .gaps.cloudtrail import register_public_key

    signer = Signer.from_seed()
    now = datetime.now(timezone.utc)
    for region in organization.regions:
        register_public_key(region, signer.public_der(), now - timedelta(days=365), now + timedelta(days=365))
    # Straight into moto: a hundred objects through HTTP would slow every sandbox start.
    store = MotoStore(organization.log_archive)
    store.create_bucket(SANDBOX_TRAIL_BUCKET, organization.regions[0])
    store.backend.put_bucket_policy(SANDBOX_TRAIL_BUCKET,
                                    reader_policy(SANDBOX_TRAIL_BUCKET, organization.management).encode())
    layout = sandbox_layout(SANDBOX_TRAIL_BUCKET, organization.organization_id, organization.regions[0])
    writer = ChainWriter(store, layout, signer, logs_per_hour=1)
    writer.write_trail((organization.management, *organization.members), organization.regions,
                       hour_floor(now) - timedelta(hours=hours + 1), hours)  # all delivered by now
    return layout
