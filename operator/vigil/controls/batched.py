"""Targets of one group whose writes AWS takes together (``planning.batches``): each planned and
reported as its own target, the writes sent in as few calls as AWS takes.

Audit and plans write nothing, so there every target converges alone, as any other. A call that
fails may have made some of its writes (AWS lists the accounts or VPCs it could not do in its
answer): the group is then read again (``landed``), and each target reports its own write as made
or failed with the call's error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.errors import TargetError, classify
from ..planning.actions import Action
from ..planning.batches import batchable, batches
from .base import GroupRun, TargetRun
from .guard import weakenings


@dataclass(frozen=True)
class Planned:
    """One target of the group: its label, its plan, and what it does once its writes are made."""

    label: str
    actions: list[Action]
    then: Callable[[TargetRun], None] | None = None


def converge_batched(group: GroupRun, targets: Sequence[Planned], landed: Callable[[], set[str]]) -> None:
    """Reconcile ``targets`` as the group's own; ``landed()``: the labels of the targets whose plan
    AWS now holds (read again only when a call failed)."""
    ctx = group.ctx
    writes: dict[str, Action] = {}  # label -> the target's write, sent with others'
    for target in targets if ctx.enforce else ():
        write = batchable(target.actions)
        # A weakening waits for its allowance target by target: it is never sent with others.
        if write is not None and not weakenings([write], ctx.allowances)[1]:
            writes[target.label] = write
    label_of = {id(w): label for label, w in writes.items()}
    made: dict[str, TargetError | None] = {}  # label -> the error of the call its write went in
    for call, carried in batches(list(writes.values()), group.label):
        error = _send(TargetRun(ctx, group.label), call)
        done = _read_again(landed) if error is not None else set()
        made.update((label, None if error is None or label in done else error)
                    for label in (label_of[id(w)] for w in carried))
    for target in targets:
        group.target(target.label, lambda run, t=target: _settle(run, t, writes.get(t.label), made.get(t.label)))


def _send(run: TargetRun, call: Action) -> TargetError | None:
    try:
        run.converge([call])
    except (ClientError, BotoCoreError, TargetError) as exc:
        return classify(exc)
    return None


def _read_again(landed: Callable[[], set[str]]) -> set[str]:
    """What a failed call made after all; nothing, when that cannot be read either."""
    try:
        return landed()
    except (ClientError, BotoCoreError, TargetError):
        return set()


def _settle(run: TargetRun, target: Planned, write: Action | None, error: TargetError | None) -> None:
    """The target's report: its write as sent with others' (made, or failed with the call's
    error), or its plan converged alone."""
    if write is None:
        run.converge(target.actions)
    else:
        run.report.planned.append(write)
        if error is not None:
            _raise(error)
        run.report.applied.append(write)
    if target.then is not None:
        target.then(run)


def fail_each(group: GroupRun, labels: Sequence[str], error: TargetError) -> None:
    """Each target reports ``error``: what they all needed could not be read."""
    for label in labels:
        group.target(label, lambda _: _raise(error))


def _raise(error: TargetError) -> None:
    raise replace(error)  # each target its own exception: one raised is changed (its traceback)
