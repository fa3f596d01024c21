"""The journal in S3 and KMS: its signing key, appending a signed record, and reading a run back.

Records are written with ``IfNoneMatch: "*"``: S3 refuses a second object under a sequence number
already written, so two writers (a lost leadership, a restart mid-write) never fork the chain: the
loser finds the head again and writes after it. A bucket with Object Lock keeps each record under
its default retention.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from ..planning.evidence import parse_time
from ..planning.journal import (SIGNING_ALGORITHM, Head, Stored, canonical, chain_prefix, day_start_key, envelope,
                                sha256)
from .errors import or_default
from .session import AwsAccess

# How far back the head is looked for when a writer starts: the newest day first, then wider.
_HEAD_LOOKBACK_DAYS = (1, 32, 400, None)


def signing_key_arn(access: AwsAccess, account_id: str, region: str, alias: str) -> str | None:
    kms = access.client("kms", account_id, region)
    meta = or_default(lambda: kms.describe_key(KeyId=alias)["KeyMetadata"], None, "NotFoundException")
    return None if meta is None else str(meta["Arn"])


def create_signing_key_with_alias(client: Any, params: dict[str, Any]) -> None:
    """An asymmetric key for signing; the alias follows at once. Sent once (no client token), as
    the archive's key: the next pass finds an aliased key and makes none."""
    key = client.create_key(Description=params["Description"], Policy=params["Policy"], Tags=params["Tags"],
                            KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]
    client.create_alias(AliasName=params["AliasName"], TargetKeyId=key["KeyId"])


def sign(access: AwsAccess, account_id: str, region: str, key_arn: str, record: dict[str, Any]) -> bytes:
    """KMS signs the record's SHA-256 (MessageType DIGEST: a record may be larger than Sign's 4 KB)."""
    digest = hashlib.sha256(canonical(record)).digest()
    answer = access.client("kms", account_id, region).sign(KeyId=key_arn, Message=digest, MessageType="DIGEST",
                                                           SigningAlgorithm=SIGNING_ALGORITHM)
    return bytes(answer["Signature"])


def put_record(s3: Any, bucket: str, owner: str, key: str, body: bytes) -> None:
    """PreconditionFailed (a ClientError) when the key exists: the caller finds the head again."""
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", IfNoneMatch="*",
                  ExpectedBucketOwner=owner)


def write(access: AwsAccess, account_id: str, region: str, bucket: str, key_arn: str, record: dict[str, Any],
          key: str) -> Head:
    signature = sign(access, account_id, region, key_arn, record)
    put_record(access.client("s3", account_id, region), bucket, account_id, key, envelope(record, key_arn, signature))
    return Head(record["seq"], key, sha256(record))


def list_keys(s3: Any, bucket: str, owner: str, prefix: str, start_after: str) -> Iterator[str]:
    """Record keys under ``prefix`` after ``start_after``, in order."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, StartAfter=start_after,
                                                             ExpectedBucketOwner=owner):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".json"):
                yield obj["Key"]


def read(s3: Any, bucket: str, owner: str, key: str) -> bytes | None:
    """The record's body; None when the key is gone."""
    answer = or_default(lambda: s3.get_object(Bucket=bucket, Key=key, ExpectedBucketOwner=owner), None,
                        "NoSuchKey", "404")
    return None if answer is None else bytes(answer["Body"].read())


def find_head(s3: Any, bucket: str, owner: str, prefix: str, namespace: str, now: datetime) -> Head | None:
    """The newest record of the chain, or None for a chain not begun."""
    base = chain_prefix(prefix, namespace)
    for days in _HEAD_LOOKBACK_DAYS:
        after = base if days is None else day_start_key(prefix, namespace, now - timedelta(days=days))
        newest = None
        for newest in list_keys(s3, bucket, owner, base, after):
            pass
        if newest is not None:
            body = read(s3, bucket, owner, newest)
            if body is None:
                continue
            record = json.loads(body)["record"]
            return Head(int(record["seq"]), newest, sha256(record))
    return None


def read_window(s3: Any, bucket: str, owner: str, prefix: str, namespace: str, start: datetime,
                end: datetime) -> list[Stored]:
    """The records of the window, the one before its first (by the first one's link) and the first
    after it (whose link shows the window's last record was not taken away): in chain order."""
    base = chain_prefix(prefix, namespace)
    stored: list[Stored] = []
    for key in list_keys(s3, bucket, owner, base, day_start_key(prefix, namespace, start - timedelta(days=1))):
        body = read(s3, bucket, owner, key)
        stored.append(Stored(key, body))
        if body is not None and _time_of(body) > end:
            break  # the first record after the window
    first_in = next((s for s in stored if s.body is not None), None)
    if first_in is not None and first_in.body is not None:
        try:
            link = json.loads(first_in.body)["record"].get("previous") or {}
        except (ValueError, KeyError):
            link = {}
        if link.get("key") and link["key"] not in {s.key for s in stored}:
            stored.insert(0, Stored(link["key"], read(s3, bucket, owner, link["key"])))
    return stored


def _time_of(body: bytes) -> datetime:
    try:
        return parse_time(json.loads(body)["record"]["time"])
    except (ValueError, KeyError, TypeError):
        return parse_time("1970-01-01T00:00:00Z")  # not a record: the chain check names it


def public_key(access: AwsAccess, account_id: str, region: str, key_arn: str) -> bytes:
    return bytes(access.client("kms", account_id, region).get_public_key(KeyId=key_arn)["PublicKey"])
