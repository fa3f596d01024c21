"""Two objects of the cluster that address the same AWS resource are caught before AWS is asked.

Each kind names the AWS resources an object addresses (its claims, from its spec and its
organization): a bucket name, a trail, an organization's GuardDuty. The registry keeps, per
claim, which object holds it; the object created first keeps it (then the lower uid, so every
replica and every restart decides alike), the others get ``Conflict`` without a single AWS call.
The tags in AWS (``planning.ownership``) remain the record that outlives the cluster.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Claimant:
    owner: str  # namespace/Kind/name
    created: str  # metadata.creationTimestamp (RFC 3339 sorts as text)
    uid: str

    @property
    def rank(self) -> tuple[str, str, str]:
        return (self.created or "9999", self.uid, self.owner)


def claims_of(kind: str, spec: Any, organization_id: str, management_account: str, log_archive_account: str,
              home_region: str) -> list[str]:
    """The AWS resources an object addresses that no other object may address too."""
    org = organization_id or management_account
    if kind == "LogArchive":
        found = [f"s3 bucket {spec.bucket_name}"]  # bucket names are global
        if spec.kms.create:
            found.append(f"kms alias {log_archive_account}/{home_region}/{spec.kms.alias}")
        return found
    if kind == "OrgTrail":
        found = [f"cloudtrail trail {management_account}/{home_region}/{spec.trail_name}"]
        if spec.cloud_watch_logs.enabled:
            found.append(f"logs log group {management_account}/{home_region}/{spec.cloud_watch_logs.log_group_name}")
        return found
    # One organization-wide configuration each: two objects would undo each other's settings.
    if kind in ("GuardDutyOrg", "SecurityHubBaseline", "ConfigBaseline", "Guardrails"):
        return [f"{kind} of organization {org}"]
    return []


class ClaimRegistry:
    """Which object holds each claim, process-wide."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[str, Claimant] = {}
        self._by_owner: dict[str, set[str]] = {}

    def claim(self, claimant: Claimant, claims: list[str]) -> tuple[str, Claimant] | None:
        """Register ``claims`` for ``claimant``; the first claim another (earlier) object holds,
        if any. The claimant's earlier claims that it no longer makes are released."""
        with self._lock:
            for released in self._by_owner.get(claimant.owner, set()) - set(claims):
                if self._holders.get(released, claimant).owner == claimant.owner:
                    self._holders.pop(released, None)
            conflict = None
            for name in claims:
                holder = self._holders.get(name)
                if holder is None or holder.owner == claimant.owner or claimant.rank < holder.rank:
                    self._holders[name] = claimant
                elif conflict is None:
                    conflict = (name, holder)
            self._by_owner[claimant.owner] = {n for n in claims if self._holders.get(n) == claimant}
            return conflict

    def release(self, owner: str) -> None:
        """The object is gone: its claims are free for the next."""
        with self._lock:
            for name in self._by_owner.pop(owner, set()):
                if self._holders.get(name, Claimant("", "", "")).owner == owner:
                    del self._holders[name]
