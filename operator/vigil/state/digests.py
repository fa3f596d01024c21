"""CloudTrail digest files, as CloudTrail writes them (AWS docs, "CloudTrail digest file structure").

A digest is the gzipped JSON CloudTrail delivers every hour for each account and region of a trail
with log file validation on. Its signature is not in the file but in the object's S3 metadata.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

SIGNATURE_ALGORITHM = "SHA256withRSA"
HASH_ALGORITHM = "SHA-256"


class _Wire(BaseModel):
    # Unknown fields are ignored: CloudTrail adds fields (awsAccountId, newestEventTime...) over time.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class DigestLogFile(_Wire):
    s3_bucket: str
    s3_object: str
    hash_value: str
    hash_algorithm: str = HASH_ALGORITHM


class Digest(_Wire):
    digest_start_time: str
    digest_end_time: str
    digest_s3_bucket: str
    digest_s3_object: str
    digest_public_key_fingerprint: str
    digest_signature_algorithm: str = SIGNATURE_ALGORITHM
    # All null on the first digest of a chain (validation just enabled, or logging restarted).
    previous_digest_s3_bucket: str | None = None
    previous_digest_s3_object: str | None = None
    previous_digest_hash_value: str | None = None
    previous_digest_hash_algorithm: str | None = None
    previous_digest_signature: str | None
    log_files: tuple[DigestLogFile, ...] = ()

    @property
    def location(self) -> str:
        """Where CloudTrail wrote this digest, as bucket/key."""
        return f"{self.digest_s3_bucket}/{self.digest_s3_object}"

    @property
    def previous_location(self) -> str | None:
        if not self.previous_digest_s3_bucket or not self.previous_digest_s3_object:
            return None
        return f"{self.previous_digest_s3_bucket}/{self.previous_digest_s3_object}"


@dataclass(frozen=True)
class DigestObject:
    """One digest object as S3 holds it: where it was found, its decompressed bytes, its metadata."""

    bucket: str
    key: str
    content: bytes | None  # None: the object is not exactly one gzip member
    signature: str | None  # hex, from x-amz-meta-signature
    signature_algorithm: str | None
    unreadable: str | None = None  # why there is no content
    backfill_generated: str | None = None  # x-amz-meta-backfill-generation-timestamp, on backfill digests

    @property
    def location(self) -> str:
        return f"{self.bucket}/{self.key}"
