"""Actions and changes: a plan as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Change:
    """One field that differs: where, what AWS has, what the spec wants."""

    path: str
    before: Any
    after: Any
    # The spec field that asks for ``after``, where the change's own path does not say it (the
    # same AWS setting can come from different kinds' fields); a weakening allowance names it.
    spec: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {_short(self.before)} -> {_short(self.after)}"


@dataclass(frozen=True)
class Action:
    """One AWS write. ``operation`` is the botocore operation name (or a composite that the aws
    layer knows, such as CreateKeyWithAlias) and ``params`` its arguments."""

    target: str  # what the user reads in status.failures, e.g. "222222222222/ca-central-1/acme-logs"
    account_id: str
    region: str
    service: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    # True when the action brings a resource into being (or configures one just created);
    # False when it corrects something that was there and differed: that is drift.
    creates: bool = False

    def summary(self) -> str:
        """The operation and what it changes, e.g. "StartLogging (is_logging: False -> True)"."""
        detail = "; ".join(str(c) for c in self.changes)
        return self.operation + (f" ({detail})" if detail else "")

    def describe(self) -> str:
        return f"{self.target}: {self.summary()}"


def diff(desired: BaseModel, observed: BaseModel, prefix: str = "") -> list[Change]:
    """Field-level differences between two models of the same type, leaves only.

    A desired field holding None means "not managed" and is skipped, so a spec that leaves a
    setting out never fights a value someone chose on purpose.
    """
    changes: list[Change] = []
    for name in type(desired).model_fields:
        want, have = getattr(desired, name), getattr(observed, name)
        path = f"{prefix}{name}"
        if want is None:
            continue
        if isinstance(want, BaseModel) and isinstance(have, BaseModel) and type(want) is type(have):
            changes.extend(diff(want, have, prefix=f"{path}."))
        elif want != have:
            changes.append(Change(path, _plain(have), _plain(want)))
    return changes


def changed_roots(changes: list[Change]) -> set[str]:
    """The top-level fields touched by ``changes`` ("encryption.kms_key_id" -> "encryption")."""
    return {c.path.split(".", 1)[0] for c in changes}


def _plain(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
