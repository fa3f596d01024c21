"""The gate every write passes: is the resource this object's, and does the write weaken it?

``TargetRun.converge`` calls ``gate`` before applying anything. The rules themselves are in
``planning.ownership`` (whose resource) and ``planning.weakening`` (what weakens); this module
reads the tags they need and records what was held, so every control gets the same guard.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..aws.ownership import read_tags
from ..conditions import ADOPTION_REQUIRED, CONFLICT
from ..aws.session import AwsAccess
from ..planning.actions import Action
from ..planning.ownership import (GENERATION_TAG, Holding, Owner, Resource, Verdict, created_by, judge,
                                  tag_action)
from ..planning.weakening import REMOVING, Weakening, classify

# Tags are read again before every write; between writes, a resource confirmed as the object's
# needs no read at each resync. Bounded, so a huge organization cannot grow it without limit.
MAX_CONFIRMED = 200_000


class OwnershipLedger:
    """Resources this process has seen carry the object's tags (process-wide, thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._confirmed: set[tuple[str, ...]] = set()

    @staticmethod
    def _key(owner: Owner, r: Resource) -> tuple[str, ...]:
        return (owner.installation, owner.value, owner.uid, r.kind, r.account_id, r.region, r.identifier)

    def confirmed(self, owner: Owner, r: Resource) -> bool:
        with self._lock:
            return self._key(owner, r) in self._confirmed

    def confirm(self, owner: Owner, r: Resource) -> None:
        with self._lock:
            if len(self._confirmed) >= MAX_CONFIRMED:
                self._confirmed.clear()
            self._confirmed.add(self._key(owner, r))

    def forget(self, owner: Owner, r: Resource) -> None:
        with self._lock:
            self._confirmed.discard(self._key(owner, r))


@dataclass(frozen=True)
class Blocked:
    """A resource Vigil would not write to: its owner is another, or nobody (adoption needed)."""

    resource: str
    reason: str  # Conflict | AdoptionRequired
    message: str


@dataclass
class Gate:
    """What may be applied of one batch of actions, and what was held back, and why."""

    apply: list[Action] = field(default_factory=list)
    blocked: Blocked | None = None


def ownership(access: AwsAccess, ledger: OwnershipLedger, owner: Owner, resource: Resource,
              tags: dict[str, str] | None, known: bool, writing: bool) -> tuple[Verdict, dict[str, str] | None]:
    """Whose ``resource`` is, and its tags. Tags are read before any write; otherwise once per
    process (a resource confirmed as the object's is not read again at every resync)."""
    if not resource.exists:
        return Verdict(Holding.ABSENT), None
    if not known:
        if not writing and ledger.confirmed(owner, resource):
            return Verdict(Holding.MINE, owner.value), None
        tags = read_tags(access, resource)
    verdict = judge(tags, owner)
    if verdict.holding is Holding.MINE:
        ledger.confirm(owner, resource)
    else:
        ledger.forget(owner, resource)
    return verdict, tags


def created_here(verdict: Verdict, tags: dict[str, str] | None, owner: Owner) -> bool:
    """The object made this resource itself (not an adoption) under the spec it has now: a setting
    AWS reports unset there is that create not yet finished (an answer lost, a stopped operator).
    Once the spec changes, an unset setting is judged as any other (unset retention is for ever)."""
    return (verdict.holding is Holding.MINE and tags is not None and created_by(tags, owner)
            and owner.generation is not None and tags.get(GENERATION_TAG) == str(owner.generation))


def gate_ownership(verdict: Verdict, resource: Resource, owner: Owner, tags: dict[str, str] | None, adopt: bool,
                   actions: Sequence[Action]) -> Gate:
    """Actions on a resource of another are never applied; on nobody's, only when adopting."""
    if verdict.holding is Holding.OTHERS:
        return Gate(blocked=Blocked(resource.label, CONFLICT,
                                    f"owned by {verdict.holder}; Vigil wrote nothing to it"))
    if verdict.holding is Holding.UNOWNED:
        if not adopt:
            would = "; ".join(a.summary() for a in actions) or "only record itself as the owner"
            return Gate(blocked=Blocked(resource.label, ADOPTION_REQUIRED,
                                        f"exists and no Vigil object owns it; Vigil would: {would}. Set "
                                        f"spec.adoptionPolicy: Adopt to take it over"))
        return Gate(apply=[tag_action(resource, owner, tags or {}, adopting=True), *actions])
    if verdict.holding is Holding.MINE_TO_RETAG:
        return Gate(apply=[tag_action(resource, owner, tags or {}), *actions])
    return Gate(apply=list(actions))


def weakenings(actions: Sequence[Action], allowances: frozenset[str], completing: bool = False
               ) -> tuple[list[Action], list[Weakening], list[Weakening]]:
    """(actions to apply, weakenings held, weakenings allowed). Once a write of the batch is held,
    the removals after it are held too: they depend on it (a flow log is deleted only once its
    replacement exists). ``completing``: see ``classify``."""
    apply: list[Action] = []
    held: list[Weakening] = []
    allowed: list[Weakening] = []
    holding: Weakening | None = None
    for action in actions:
        found = classify(action, completing)
        blocked = [w for w in found if w.allowance not in allowances]
        if not blocked and holding is not None and REMOVING.match(action.operation):
            # Released by the same allowance as the write it waits for.
            blocked = [Weakening(action.target, action.operation, "present", "removed", holding.allowance)]
        if blocked:
            held.extend(blocked)
            holding = holding or blocked[0]
            continue
        apply.append(action)
        allowed.extend(found)
    return apply, held, allowed
