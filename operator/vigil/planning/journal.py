"""The journal, without I/O: what a record holds, how it is hashed, signed and chained, and how a
run of stored records is checked (docs/evidence.md).

A record is one reconcile's verdict for one object: per target (account/Region/resource) whether it
was compliant, and why not. Each record names the one before it (its key and the SHA-256 of its
canonical JSON), and KMS signs the record's own SHA-256 with an asymmetric key (ECDSA P-256,
MessageType DIGEST): verifying needs only the public key. A record edited after it was written no
longer hashes to what the next one holds, nor verifies; a record deleted leaves a gap in the
sequence numbers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import policies
from .actions import Action, Change
from .ownership import Owner

FORMAT = 1
SIGNING_ALGORITHM = "ECDSA_SHA_256"
KEY_SPEC = "ECC_NIST_P256"
# A record stays small whatever the organization's size: the first targets one by one, the rest counted.
MAX_VERDICTS = 400
_TARGET = re.compile(r"^(?P<account>[0-9]{12})/(?P<region>[a-z0-9-]+)(/(?P<resource>.+))?$")


def canonical(value: Any) -> bytes:
    """The bytes hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def chain_prefix(prefix: str, namespace: str) -> str:
    return f"{prefix.strip('/')}/{namespace}/" if prefix.strip("/") else f"{namespace}/"


def record_key(prefix: str, namespace: str, at: datetime, seq: int) -> str:
    """Sortable by time, then sequence: a listing from a day on reads the chain in order."""
    return f"{chain_prefix(prefix, namespace)}{at:%Y/%m/%d}/{seq:012d}.json"


def day_start_key(prefix: str, namespace: str, at: datetime) -> str:
    """The StartAfter of a listing from ``at``'s day on."""
    return f"{chain_prefix(prefix, namespace)}{at:%Y/%m/%d}"


@dataclass(frozen=True)
class Head:
    """The newest record of a chain: what the next one links to."""

    seq: int
    key: str
    sha256: str


@dataclass(frozen=True)
class Verdict:
    target: str
    compliant: bool
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        found = _TARGET.match(self.target)
        where = ({"account": found["account"], "region": found["region"], "resource": found["resource"] or ""}
                 if found else {"account": "", "region": "", "resource": self.target})
        return {"target": self.target, **where, "compliant": self.compliant, "reason": self.reason}


def build_record(head: Head | None, at: datetime, namespace: str, kind: str, name: str, generation: int | None,
                 management_policy: str, spec: Mapping[str, Any], ready: Mapping[str, Any],
                 verdicts: Sequence[Verdict], resync_seconds: float) -> dict[str, Any]:
    """The record following ``head`` (None: the chain's first)."""
    kept = list(verdicts)[:MAX_VERDICTS]
    return {
        "format": FORMAT,
        "seq": 0 if head is None else head.seq + 1,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "namespace": namespace, "kind": kind, "name": name, "generation": generation,
        "managementPolicy": management_policy,
        "spec": dict(spec), "specSha256": sha256(dict(spec)),
        "ready": {"status": ready.get("status", "Unknown"), "reason": ready.get("reason", "")},
        "resyncSeconds": resync_seconds,
        "verdicts": [v.as_dict() for v in kept],
        "counts": {"targets": len(verdicts), "compliant": sum(v.compliant for v in verdicts),
                   "omitted": len(verdicts) - len(kept)},
        "previous": None if head is None else {"seq": head.seq, "key": head.key, "sha256": head.sha256},
    }


def envelope(record: dict[str, Any], key_arn: str, signature: bytes) -> bytes:
    """The stored object: the record, its SHA-256 and the signature over that digest."""
    return json.dumps({"record": record, "sha256": sha256(record),
                       "signature": {"keyArn": key_arn, "algorithm": SIGNING_ALGORITHM,
                                     "value": base64.b64encode(signature).decode()}}, indent=1).encode()


# --- Checking a stored run ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A record as read back: its key and body (None when the key named by a link is gone)."""

    key: str
    body: bytes | None


@dataclass(frozen=True)
class JournalProblem:
    """Why the journal is refused, naming the record."""

    key: str
    seq: int | None
    message: str

    def __str__(self) -> str:
        seq = f"record {self.seq}" if self.seq is not None else "record"
        return f"{seq} ({self.key}): {self.message}"


@dataclass
class ChainCheck:
    records: list[dict[str, Any]] = field(default_factory=list)  # verified, in order
    problems: list[JournalProblem] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)

    @property
    def verified(self) -> bool:
        return not self.problems and bool(self.records)


PublicKeyOf = Callable[[str], bytes]  # key ARN -> DER SubjectPublicKeyInfo (KMS GetPublicKey)


def signature_problem(envelope_: Mapping[str, Any], public_key: PublicKeyOf) -> str | None:
    """Why the envelope's signature does not stand for its record, or None."""
    # Imported here: cryptography costs a process ~7 MiB, and only `vigil evidence` checks a journal.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    record = envelope_.get("record")
    signature = envelope_.get("signature") or {}
    if not isinstance(record, dict):
        return "holds no record"
    digest = hashlib.sha256(canonical(record)).digest()
    if envelope_.get("sha256") != digest.hex():
        return "its content does not hash to the SHA-256 it states: it was changed after it was written"
    if signature.get("algorithm") != SIGNING_ALGORITHM:
        return f"signed with {signature.get('algorithm')!r}, not {SIGNING_ALGORITHM}"
    try:
        key = load_der_public_key(public_key(str(signature.get("keyArn"))))
        value = base64.b64decode(str(signature.get("value")), validate=True)
    except LookupError:
        return f"its signature cannot be checked: the key {signature.get('keyArn')} is not known"
    except ValueError:
        return "its signature cannot be checked: the key or the signature is not well-formed"
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return f"key {signature.get('keyArn')} is not an elliptic-curve key"
    try:
        key.verify(value, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except InvalidSignature:
        return f"its signature does not verify with key {signature.get('keyArn')}: it was changed after it was signed"
    return None


def check_chain(stored: Sequence[Stored], public_key: PublicKeyOf) -> ChainCheck:
    """Checks records read in key order: each parses, its signature verifies, the sequence has no
    gap and each names the one before it by key and SHA-256. The first record's own link is not
    followed here (the caller reads its predecessor and puts it first)."""
    check = ChainCheck()
    previous: tuple[Stored, dict[str, Any], str] | None = None
    for item in stored:
        if item.body is None:
            check.problems.append(JournalProblem(item.key, None, "is missing: a later record links to it"))
            previous = None
            continue
        try:
            parsed = json.loads(item.body)
            record = parsed["record"]
            seq = int(record["seq"])
        except (ValueError, KeyError, TypeError):
            check.problems.append(JournalProblem(item.key, None, "is not a journal record"))
            previous = None
            continue
        why = signature_problem(parsed, public_key)
        if why is not None:
            check.problems.append(JournalProblem(item.key, seq, why))
        check.keys.add(str((parsed.get("signature") or {}).get("keyArn")))
        if previous is not None:
            check.problems.extend(_link_problems(previous, item, record, seq))
        previous = (item, record, sha256(record))
        check.records.append(record)
    return check


def _link_problems(previous: tuple[Stored, dict[str, Any], str], item: Stored, record: dict[str, Any],
                   seq: int) -> list[JournalProblem]:
    before, before_record, before_sha = previous
    before_seq = int(before_record["seq"])
    link = record.get("previous") or {}
    if seq != before_seq + 1:
        missing = (f"record {before_seq + 1}" if seq == before_seq + 2
                   else f"records {before_seq + 1} to {seq - 1}")
        return [JournalProblem(str(link.get("key") or "?"), before_seq + 1,
                               f"is missing: {missing} between {before.key} and {item.key} "
                               "was deleted (or never written)")]
    if link.get("key") != before.key:
        return [JournalProblem(item.key, seq, f"links to {link.get('key')}, not to {before.key}")]
    if link.get("sha256") != before_sha:
        return [JournalProblem(before.key, before_seq, f"was changed after it was written: record {seq} "
                                                       "holds another SHA-256 for it")]
    return []


# --- The signing key ------------------------------------------------------------------------------


def signing_key_policy(account_id: str, organization_id: str) -> dict[str, Any]:
    """The log-archive account administers the key and signs with it (through IAM); any principal of
    the organization may read its public key and verify, as an auditor's workstation does."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "VigilAccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "VigilOrganizationVerifies", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:GetPublicKey", "kms:Verify", "kms:DescribeKey"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}}},
        ],
    }


def plan_signing_key(label: str, account_id: str, region: str, alias: str, organization_id: str, owner: Owner,
                     exists: bool) -> list[Action]:
    """The journal's signing key, created once; an existing key of that alias is used as it is (an
    asymmetric key has no rotation, and its policy is the account's to widen)."""
    if exists:
        return []
    return [Action(label, account_id, region, "kms", "CreateSigningKeyWithAlias", creates=True, params={
        "AliasName": alias,
        "Description": f"Vigil journal signing key ({owner})",
        "Policy": policies.to_json(signing_key_policy(account_id, organization_id)),
        "Tags": owner.tag_list("TagKey", "TagValue"),
    }, changes=(Change("key", None, alias),))]
