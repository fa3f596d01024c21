"""The evidence bundle, without I/O: from the journal's verified records and the trail's verified
digest ranges, per control (kind/name), account and Region: what was configured, since when it has
been continuously compliant, and the digest range verified for that account and Region.

"Continuously compliant since" is the time of the earliest record of a run, ending at the last
record in the window, in which every record says the target was compliant and no two records are
further apart than twice the object's resync interval (Vigil looks at each target once per
interval: that interval is the proof's granularity). A run that reaches the window's first record
is marked ``sinceWindowStart``: it may have begun before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

BUNDLE_FORMAT = "vigil.dev/evidence/v1"
# A resync may start late (a busy operator, a restart): a gap up to twice the interval (and a minute) is no break.
SLACK_SECONDS = 60.0


@dataclass(frozen=True)
class DigestRange:
    account: str
    region: str
    first: str | None
    last: str | None


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _series(records: Iterable[Mapping[str, Any]], start: datetime,
            end: datetime) -> dict[tuple[str, str, str], list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]]:
    """Per (kind, name, target): each record of the object in the window with that target's verdict
    (None when the record does not name the target: not observed at that pass)."""
    by_object: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        if start <= parse_time(record["time"]) <= end:
            by_object.setdefault((record["kind"], record["name"]), []).append(record)
    series: dict[tuple[str, str, str], list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]] = {}
    for (kind, name), object_records in by_object.items():
        targets = sorted({v["target"] for r in object_records for v in r.get("verdicts", [])})
        for target in targets or [""]:
            series[(kind, name, target)] = [
                (r, next((v for v in r.get("verdicts", []) if v["target"] == target), None)) for r in object_records]
    return series


def continuity(points: Sequence[tuple[Mapping[str, Any], Mapping[str, Any] | None]]) -> tuple[str | None, bool]:
    """(compliant since, whether that is the window's first record) for one target's records in order."""
    since: str | None = None
    later: datetime | None = None
    for record, verdict in reversed(points):
        at = parse_time(record["time"])
        limit = 2 * float(record.get("resyncSeconds") or 300) + SLACK_SECONDS
        compliant = verdict["compliant"] if verdict is not None else (record["ready"]["status"] == "True")
        if not compliant or (later is not None and (later - at).total_seconds() > limit):
            return since, False
        since, later = record["time"], at
    return since, since is not None


def build_bundle(records: Sequence[Mapping[str, Any]], start: datetime, end: datetime, journal: Mapping[str, Any],
                 digests: Mapping[str, Any], ranges: Sequence[DigestRange], generated: datetime) -> dict[str, Any]:
    """The bundle's content: the JSON file is exactly this, and the HTML page shows it."""
    by_place = {(r.account, r.region): r for r in ranges}
    controls = []
    for (kind, name, target), points in sorted(_series(records, start, end).items()):
        last_record, last_verdict = points[-1]
        since, from_start = continuity(points)
        place = last_verdict or {"account": "", "region": "", "resource": target}
        digest = by_place.get((place["account"], place["region"]))
        controls.append({
            "kind": kind, "name": name, "target": target,
            "account": place["account"], "region": place["region"], "resource": place["resource"],
            "managementPolicy": last_record["managementPolicy"],
            "configured": {"specSha256": last_record["specSha256"], "spec": last_record["spec"],
                           "configurations": len({r["specSha256"] for r, _ in points})},
            "compliant": since is not None,
            "reason": (last_verdict or {}).get("reason") or last_record["ready"]["reason"],
            "continuouslyCompliantSince": since, "sinceWindowStart": from_start,
            "lastVerdict": last_record["time"], "records": len(points),
            "verifiedDigests": ({"from": digest.first, "to": digest.last} if digest and digest.first else None),
        })
    return {
        "format": BUNDLE_FORMAT,
        "generated": generated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window": {"from": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "journal": dict(journal),
        "digests": dict(digests),
        "controls": controls,
    }


def bundle_json(bundle: Mapping[str, Any]) -> bytes:
    """The bytes written to bundle.json, whose SHA-256 is quoted."""
    return (json.dumps(bundle, indent=2, sort_keys=True) + "\n").encode()
