"""The kinds of spec rule: how a field weakens, said twice, in Python and in CEL.

Each kind compares a field's old and new value and names the allowance entries the change needs
([] when it does not weaken): ``entries`` in Python, ``cel`` the same in the CEL of the admission
policy, over CEL expressions of the two values. Side by side, so that they are read and changed
together; tests/kube holds them to the same answers. ``spec_weakening`` is the table of which
field of which kind follows which rule.

Pure: values in, entries out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vigil.api.common import parse_duration

from .weakening import ESCAPES, item_token, recorded_daily

Covers = Mapping[str, tuple[str, ...]]  # each value -> what it covers; losing any of it weakens


def ranked(order: tuple[str, ...]) -> Covers:
    """A strength order, weakest first, as coverage: each value covers itself and all below it."""
    return {value: order[: i + 1] for i, value in enumerate(order)}


def cel_literal(value: Any) -> str:
    """A Python value as a CEL literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        for plain, escaped in (("\\", "\\\\"), ("'", "\\'"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
            value = value.replace(plain, escaped)
        return f"'{value}'"
    if isinstance(value, Mapping):
        # A CEL map literal's values share one type: an object's default of mixed fields takes dyn.
        mixed = len({type(v) for v in value.values()}) > 1
        return "{" + ", ".join(f"{cel_literal(k)}: " + (f"dyn({cel_literal(v)})" if mixed else cel_literal(v))
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(cel_literal(v) for v in value) + "]"
    return json.dumps(value)


def cel_item_token(expression: str) -> str:
    """``weakening.item_token`` in CEL: the same escapes, in the same order."""
    return expression + "".join(f".replace({cel_literal(plain)}, {cel_literal(escaped)})" for plain, escaped in ESCAPES)


@dataclass(frozen=True)
class Rule:
    """One spec field (``path``, under spec) and the direction that weakens it. ``when``: (field,
    value) pairs both specs must hold for the field to count (a data events filter only while
    data events are on). ``unset``: the value of the field where it is absent and has no default."""

    path: str
    when: tuple[tuple[str, Any], ...] = ()
    unset: Any = ""

    @property
    def field(self) -> str:
        return f"spec.{self.path}"

    def entries(self, old: Any, new: Any) -> list[str]:
        """The allowance entries the change from ``old`` to ``new`` needs; [] when it does not weaken."""
        raise NotImplementedError

    def cel(self, old: str, new: str) -> str:
        """``entries`` in CEL, over expressions of the two values: a list of strings."""
        raise NotImplementedError

    def show(self, value: Any) -> str:
        """A value as the refusal prints it."""
        return str(value).lower() if isinstance(value, bool) else str(value)

    def cel_show(self, value: str) -> str:
        return f"string({value})"

    def _entry(self, value: str) -> str:
        return f"['{self.field}=' + {value}]"


@dataclass(frozen=True)
class Shorter(Rule):
    """A number or duration that got smaller (a retention, a look-back). ``unset``: what an absent
    number counts as, the longest (no expiry) or the shortest (no lock); its entry is empty."""

    duration: bool = False
    unset: Any = 0

    def entries(self, old: Any, new: Any) -> list[str]:
        less = parse_duration(new) < parse_duration(old) if self.duration else new < old
        return [f"{self.field}={'' if new == self.unset else new}"] if less else []

    def cel(self, old: str, new: str) -> str:
        if self.duration:
            return f"duration({new}) < duration({old}) ? {self._entry(new)} : []"
        value = f"({new} == {cel_literal(self.unset)} ? '' : string({new}))"
        return f"{new} < {old} ? {self._entry(value)} : []"

    def show(self, value: Any) -> str:
        return "none" if value == self.unset else str(value)

    def cel_show(self, value: str) -> str:
        return value if self.duration else f"({value} == {cel_literal(self.unset)} ? 'none' : string({value}))"

@dataclass(frozen=True)
class Longer(Rule):
    """A duration that got longer: a check made less often."""

    def entries(self, old: Any, new: Any) -> list[str]:
        return [f"{self.field}={new}"] if parse_duration(new) > parse_duration(old) else []

    def cel(self, old: str, new: str) -> str:
        return f"duration({new}) > duration({old}) ? {self._entry(new)} : []"


@dataclass(frozen=True)
class Covered(Rule):
    """A setting whose new value covers less than the old one: a readWriteType, a traffic type, a
    scope, or a ranked setting (``ranked``). ``covers`` has every value the field can take (unset,
    "", too where there is no default)."""

    covers: Covers = field(default_factory=dict)

    def entries(self, old: Any, new: Any) -> list[str]:
        lost = set(self.covers.get(old, ())) - set(self.covers.get(new, ()))
        return [f"{self.field}={new}"] if lost else []

    def moves(self) -> dict[str, list[str]]:
        """Each value -> the values that cover less (only those with some): the CEL's table."""
        found = {old: [new for new in self.covers if new != old and self.entries(old, new)] for old in self.covers}
        return {old: news for old, news in found.items() if news}

    def cel(self, old: str, new: str) -> str:
        moves = cel_literal(self.moves())
        return f"{old} in {moves} && {new} in {moves}[{old}] ? {self._entry(new)} : []"


@dataclass(frozen=True)
class Flag(Rule):
    """A boolean set to its weak value: a protection turned off, or (``weak=True``) an exclusion
    or a removal turned on."""

    weak: bool = False

    def entries(self, old: Any, new: Any) -> list[str]:
        return [f"{self.field}={str(new).lower()}"] if old != self.weak and new == self.weak else []

    def cel(self, old: str, new: str) -> str:
        turned = f"!{old} && {new}" if self.weak else f"{old} && !{new}"
        return f"{turned} ? {self._entry(cel_literal(str(self.weak).lower()))} : []"


@dataclass(frozen=True)
class Item:
    """How a list item is compared and named: itself, a key of it, or a part of it."""

    py: Callable[[Any], str] = str
    cel: str = "{}"  # a CEL template over the item


NAME = Item(lambda item: item["name"], "{}.name")
BUCKET = Item(lambda arn: arn.split("/", 1)[0], "{}.split('/')[0]")  # CloudTrail selects by bucket


@dataclass(frozen=True)
class _ListRule(Rule):
    item: Item = Item()
    unset: Any = ()

    def _items(self, value: Any) -> list[str]:
        return list(dict.fromkeys(self.item.py(v) for v in value or ()))

    def _cel_items(self, value: str) -> str:
        return value if self.item.cel == "{}" else f"{value}.map(x, {self.item.cel.format('x')})"

    def _named(self, sign: str, items: list[str]) -> list[str]:
        return [f"{self.field}={sign}{item_token(i)}" for i in items]

    def _cel_named(self, sign: str, items: str) -> str:
        return f"{items}.map(n, '{self.field}={sign}' + {cel_item_token('n')})"

    def show(self, value: Any) -> str:
        return "[" + ", ".join(self._items(value)) + "]"

    def cel_show(self, value: str) -> str:
        return f"'[' + {self._cel_items(value)}.join(', ') + ']'"


@dataclass(frozen=True)
class Removed(_ListRule):
    """A list whose items each add coverage (standards, regions, rules): each item lost weakens."""

    def entries(self, old: Any, new: Any) -> list[str]:
        return self._named("-", [i for i in self._items(old) if i not in self._items(new)])

    def cel(self, old: str, new: str) -> str:
        return self._cel_named("-", f"{self._cel_items(old)}.filter(i, !(i in {self._cel_items(new)}))")


@dataclass(frozen=True)
class Added(_ListRule):
    """An exclusion list: each item gained weakens."""

    def entries(self, old: Any, new: Any) -> list[str]:
        return self._named("+", [i for i in self._items(new) if i not in self._items(old)])

    def cel(self, old: str, new: str) -> str:
        return self._cel_named("+", f"{self._cel_items(new)}.filter(i, !(i in {self._cel_items(old)}))")


@dataclass(frozen=True)
class Narrowed(Removed):
    """A selection where empty means all (regions, buckets): listing items where there were none
    narrows it to them (each named ``+``), and from a list, each item lost weakens (``-``)."""

    def entries(self, old: Any, new: Any) -> list[str]:
        if not self._items(new):
            return []
        if not self._items(old):
            return self._named("+", self._items(new))
        return super().entries(old, new)

    def cel(self, old: str, new: str) -> str:
        return (f"{new}.size() == 0 ? [] : {old}.size() == 0 ? {self._cel_named('+', self._cel_items(new))} : "
                f"{super().cel(old, new)}")


@dataclass(frozen=True)
class TagsNarrowed(Rule):
    """A tag selector (every tag must match): a tag required that was not, or with another value,
    selects less. Named ``+<key>:<value>``, the key's own colons escaped."""

    unset: Any = field(default_factory=dict)

    def entries(self, old: Any, new: Any) -> list[str]:
        old, new = old or {}, new or {}
        return [f"{self.field}=+{item_token(k).replace(':', '%3A')}:{item_token(v)}"
                for k, v in new.items() if old.get(k) != v]

    def cel(self, old: str, new: str) -> str:
        key = cel_item_token("k") + ".replace(':', '%3A')"
        return (f"{new}.filter(k, !(k in {old}) || {old}[k] != {new}[k])"
                f".map(k, '{self.field}=+' + {key} + ':' + {cel_item_token(f'{new}[k]')})")

    def show(self, value: Any) -> str:
        return "{" + ", ".join(f"{k}: {v}" for k, v in (value or {}).items()) + "}"

    def cel_show(self, value: str) -> str:
        return f"'{{' + {value}.map(k, k + ': ' + {value}[k]).join(', ') + '}}'"


@dataclass(frozen=True)
class Filtered(Rule):
    """A filter set where there was none (none passes everything), or changed to another one."""

    def entries(self, old: Any, new: Any) -> list[str]:
        return [f"{self.field}={item_token(new)}"] if new and new != old else []

    def cel(self, old: str, new: str) -> str:
        return f"{new} != '' && {new} != {old} ? {self._entry(cel_item_token(new))} : []"


@dataclass(frozen=True)
class RecordedDaily(Rule):
    """Config's recording mode (``path``: the recordingMode object): a resource type that an
    override now records DAILY (``+<type>``) or that a CONTINUOUS override no longer lists while the
    default is DAILY (``-<type>``), where it was recorded at every change; named under the
    overrides field (``weakening.recorded_daily``). The default frequency has a rule of its own. The
    CEL reads the one override Config allows (the schema's maxItems 1)."""

    unset: Any = field(default_factory=dict)

    @property
    def field(self) -> str:
        return f"spec.{self.path}.recordingModeOverrides"

    def entries(self, old: Any, new: Any) -> list[str]:
        return [entry for resource_type, entry in recorded_daily(old, new) if resource_type is not None]

    def cel(self, old: str, new: str) -> str:
        def overrides(mode: str) -> str:
            return f"{mode}.?recordingModeOverrides.orValue([])"

        def at(mode: str, resource_type: str) -> str:
            listed = overrides(mode)
            return (f"(size({listed}) > 0 && {resource_type} in {listed}[0].resourceTypes ? "
                    f"{listed}[0].recordingFrequency : {mode}.?recordingFrequency.orValue('CONTINUOUS'))")

        o, n = overrides(old), overrides(new)
        gained = (f"(size({n}) > 0 && {n}[0].recordingFrequency == 'DAILY' ? {n}[0].resourceTypes.filter(t, "
                  f"{at(old, 't')} != 'DAILY').map(t, '{self.field}=+' + {cel_item_token('t')}) : [])")
        lost = (f"(size({o}) > 0 && {new}.?recordingFrequency.orValue('CONTINUOUS') == 'DAILY' ? "
                f"{o}[0].resourceTypes.filter(t, !(size({n}) > 0 && t in {n}[0].resourceTypes) && "
                f"{at(old, 't')} != 'DAILY').map(t, '{self.field}=-' + {cel_item_token('t')}) : [])")
        return f"{gained} + {lost}"

    def show(self, value: Any) -> str:
        mode = value or {}
        overrides = "; ".join(f"{o.get('recordingFrequency')}: {', '.join(o.get('resourceTypes') or [])}"
                              for o in mode.get("recordingModeOverrides") or [])
        return f"{mode.get('recordingFrequency', 'CONTINUOUS')}" + (f" ({overrides})" if overrides else "")

    def cel_show(self, value: str) -> str:
        listed = f"{value}.?recordingModeOverrides.orValue([])"
        return (f"{value}.?recordingFrequency.orValue('CONTINUOUS') + (size({listed}) > 0 ? ' (' + "
                f"{listed}[0].recordingFrequency + ': ' + {listed}[0].resourceTypes.join(', ') + ')' : '')")
