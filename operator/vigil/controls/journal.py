"""The journal, as the operator keeps it: the LogArchive creates its signing key, and after each
reconcile of each object of the namespace the verdict is appended as one signed record
(docs/evidence.md).

One record per reconcile, whether or not the verdict changed: the records are what proves "compliant
since", and the resync interval is that proof's granularity. A write that fails never fails the
reconcile: the object's Journaled condition says so, and the next reconcile writes again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import conditions as c
from ..api.common import parse_duration
from ..api.journal import Journal
from ..api.logarchive import LogArchiveSpec
from ..api.organization import OrganizationSpec
from ..aws import journal as aws_journal
from ..aws.errors import TargetError, classify, is_code
from ..planning.journal import Head, Verdict, build_record, plan_signing_key, record_key
from ..planning.logarchive import LogArchiveTarget
from ..planning.ownership import Resource
from .base import Context, Report, TargetRun

log = logging.getLogger(__name__)

WRITTEN = "JournalWritten"
WRITE_FAILED = "JournalWriteFailed"


def converge_signing_key(ctx: Context, run: TargetRun, target: LogArchiveTarget, journal: Journal) -> str | None:
    """The signing key's ARN, once it exists (created in Enforce)."""
    a, r = target.account_id, target.region
    arn = aws_journal.signing_key_arn(ctx.access, a, r, journal.signing_key_alias)
    label = target.label(journal.signing_key_alias)
    wrote = run.converge(plan_signing_key(label, a, r, journal.signing_key_alias, target.organization_id, ctx.owner,
                                          exists=arn is not None),
                         Resource("kms-key", a, r, arn or "", label, exists=arn is not None))
    if wrote:
        arn = aws_journal.signing_key_arn(ctx.access, a, r, journal.signing_key_alias)
    return arn


@dataclass(frozen=True)
class JournalPlace:
    """Where a namespace's journal is: its LogArchive's bucket, account, Region and key."""

    bucket: str
    account_id: str
    region: str
    prefix: str
    key_arn: str
    organization: str  # the LogArchive's Organization, whose access role reaches the account


def place_of(namespace_objects: list[tuple[str, str, dict[str, Any]]]) -> JournalPlace | None:
    """The namespace's journal: the first (by name) LogArchive in Enforce with spec.journal and its
    signing key made; None while there is none."""
    for kind, _name, body in sorted(namespace_objects, key=lambda o: o[1]):
        if kind != "LogArchive":
            continue
        spec_raw, status = body.get("spec") or {}, body.get("status") or {}
        try:
            spec = LogArchiveSpec.model_validate(spec_raw)
        except ValueError:
            continue
        if spec.journal is None or spec.management_policy != "Enforce" or not status.get("journalSigningKeyArn"):
            continue
        return JournalPlace(spec.bucket_name, status.get("accountId") or "", status.get("region") or "",
                            spec.journal.prefix, status["journalSigningKeyArn"], spec.organization_ref.name)
    return None


def verdicts_of(report: Report | None) -> list[Verdict]:
    if report is None:
        return []
    verdicts = []
    for t in report.targets:
        reason = (t.error.reason if t.error else "Blocked" if t.blocked else c.DRIFTED if t.drifted else c.IN_SYNC)
        verdicts.append(Verdict(t.target, t.compliant, reason))
    return verdicts


@dataclass
class JournalWriter:
    """Appends to each namespace's chain, one writer at a time (reconciles run in threads)."""

    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    _heads: dict[tuple[str, str, str], Head | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, access: Any, place: JournalPlace, namespace: str, make: Callable[[Head | None, datetime],
                                                                                       dict[str, Any]]) -> Head:
        s3 = access.client("s3", place.account_id, place.region)
        chain = (place.bucket, place.prefix, namespace)
        with self._lock:
            for attempt in range(2):
                if chain not in self._heads or attempt:
                    self._heads[chain] = aws_journal.find_head(s3, place.bucket, place.account_id, place.prefix,
                                                               namespace, self.now())
                at = self.now()
                record = make(self._heads[chain], at)
                key = record_key(place.prefix, namespace, at, record["seq"])
                try:
                    head = aws_journal.write(access, place.account_id, place.region, place.bucket, place.key_arn,
                                             record, key)
                except ClientError as exc:
                    if attempt or not is_code(exc, "PreconditionFailed", "412", "ConditionalRequestConflict"):
                        raise
                    continue  # another writer took this sequence number: find the head again
                self._heads[chain] = head
                return head
        raise AssertionError("unreachable")


def record_reconcile(writer: JournalWriter, kind: str, namespace: str, name: str, generation: int | None,
                     raw_spec: dict[str, Any], status: dict[str, Any], report: Report | None, lookup: Any,
                     access_for: Callable[[OrganizationSpec, Any], Any], external_id: Callable[..., Any],
                     now: str) -> dict[str, Any]:
    """The status with its Journaled condition, after appending this reconcile's record; the status
    as it was when the namespace keeps no journal."""
    place = place_of(lookup.in_namespace(namespace))
    if place is None:
        return status
    try:
        org = lookup.get("Organization", namespace, place.organization)
        if org is None:
            raise LookupError(f"Organization {place.organization} of the journal's LogArchive does not exist")
        org_spec = OrganizationSpec.model_validate(org["spec"])
        access = access_for(org_spec, external_id(lookup, namespace, org_spec))
        ready = c.get_condition(status.get("conditions"), c.READY) or {}
        resync = parse_duration(raw_spec.get("resyncInterval") or org_spec.resync_interval).total_seconds()

        def make(head: Head | None, at: datetime) -> dict[str, Any]:
            return build_record(head, at, namespace, kind, name, generation,
                                raw_spec.get("managementPolicy", "Enforce"), raw_spec, ready, verdicts_of(report),
                                resync)

        head = writer.append(access, place, namespace, make)
        condition = ("True", WRITTEN, f"record {head.seq}: s3://{place.bucket}/{head.key}")
    except (ClientError, BotoCoreError, TargetError) as exc:
        error = classify(exc)
        condition = ("False", WRITE_FAILED, f"{error.reason}: {error.message}")
    except (LookupError, ValueError) as exc:
        condition = ("False", WRITE_FAILED, str(exc))
    if condition[0] == "False":
        log.warning("journal: %s/%s %s: %s", namespace, name, kind, condition[2])
    return {**status, "conditions": c.set_condition(list(status.get("conditions") or []), c.JOURNALED,
                                                     condition[0], condition[1], condition[2],  # type: ignore[arg-type]
                                                     generation, now)}
