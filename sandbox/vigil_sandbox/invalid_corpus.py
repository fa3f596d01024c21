"""tests/invalid/: manifests AWS would refuse, one file per kind, each entry citing the AWS rule it
breaks. Read here, in one place, by the tests (unit, kube, e2e) and by `make bench`.

A file reads::

    kind: LogArchive
    sources:                       # the AWS documents the entries cite, by a short key
      s3-naming: {title: "Amazon S3 User Guide: General purpose bucket naming rules", url: "https://..."}
    entries:
    - id: bucket-ip-address        # also the object's name
      spec: {bucketName: 192.168.10.20}   # a JSON merge patch of the kind's example spec (null deletes)
      field: spec.bucketName       # the field the refusal must name, as the API server names it
      at: admission                # admission: the API server refuses it (422); operator: Ready=False
      reason: InvalidSpec          # operator entries: InvalidSpec, or DependencyNotReady for a reference
      rule: {source: s3-naming, says: "A bucket name may not be formatted as an IP address."}

Long strings are written ``!chars {prefix: /vigil/, fill: a, length: 513}``. The operator entries
expect the examples' Organization ``acme`` and LogArchive ``central`` Ready in their namespace.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .examples import example

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "invalid"
ADMISSION, OPERATOR = "admission", "operator"
INVALID_SPEC, DEPENDENCY_NOT_READY = "InvalidSpec", "DependencyNotReady"


@dataclass(frozen=True)
class Rule:
    """The AWS rule an entry breaks: the document, and what it says (in our words)."""

    title: str
    url: str
    says: str


@dataclass(frozen=True)
class InvalidManifest:
    kind: str
    id: str
    spec: dict[str, Any]  # merge patch of the example's spec
    field: str
    at: Literal["admission", "operator"]
    rule: Rule
    reason: str | None = None  # for operator entries

    @property
    def name(self) -> str:
        return self.id

    def manifest(self, namespace: str = "baseline") -> dict[str, Any]:
        doc = example(self.kind, namespace, self.name)
        doc["spec"] = merge_patch(doc["spec"], self.spec)
        return doc

    def names_field(self, message: str) -> bool:
        """Whether a refusal's message names the field: "spec.x.y: ..." as the API server and the
        operator write it, or "x.y <value>" leading a clause, as the Organization's check of its
        core accounts does."""
        bare = re.escape(self.field.removeprefix("spec."))
        return f"{self.field}:" in message or re.search(rf"(^|[;:] ){bare}[: ]", message) is not None

    def __str__(self) -> str:
        return f"{self.kind}/{self.id}"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


class _Loader(yaml.SafeLoader):
    pass


def _chars(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    spec = loader.construct_mapping(node)  # type: ignore[arg-type]
    prefix, suffix = str(spec.get("prefix", "")), str(spec.get("suffix", ""))
    fill = str(spec.get("fill", "a"))
    body = (fill * int(spec["length"]))[: int(spec["length"]) - len(prefix) - len(suffix)]
    return prefix + body + suffix


_Loader.add_constructor("!chars", _chars)


def load_file(path: Path) -> list[InvalidManifest]:
    document = yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader with one tag
    kind, sources = document["kind"], document.get("sources") or {}
    entries = []
    for raw in document["entries"]:
        source = sources[raw["rule"]["source"]]
        at = raw["at"]
        if at not in (ADMISSION, OPERATOR):
            raise ValueError(f"{path.name}: {raw['id']}: at must be admission or operator")
        entries.append(InvalidManifest(
            kind=kind, id=raw["id"], spec=raw.get("spec") or {}, field=raw["field"], at=at,
            rule=Rule(source["title"], source["url"], raw["rule"]["says"]),
            reason=raw.get("reason", INVALID_SPEC) if at == OPERATOR else None))
    return entries


def load(directory: Path = CORPUS) -> list[InvalidManifest]:
    """Every entry of every file, file by file."""
    entries = [entry for path in sorted(directory.glob("*.yaml")) for entry in load_file(path)]
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        if (entry.kind, entry.id) in seen:
            raise ValueError(f"{entry}: the id is used twice")
        seen.add((entry.kind, entry.id))
    return entries


# --- applying the corpus to a running stack -------------------------------------------------------


@dataclass
class Verdict:
    entry: InvalidManifest
    refused_at: str | None = None  # admission | operator | None (not refused as it should be)
    reason: str = ""  # the Ready reason, for an operator refusal
    message: str = ""

    @property
    def as_expected(self) -> bool:
        entry = self.entry
        if self.refused_at != entry.at or not entry.names_field(self.message):
            return False
        return entry.at == ADMISSION or self.reason == entry.reason


@dataclass
class CorpusRun:
    verdicts: list[Verdict] = field(default_factory=list)
    writes: list[Any] = field(default_factory=list)  # the sandbox's AwsCalls that could change something

    @property
    def unexpected(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.as_expected]


def apply_corpus(stack: Any, entries: Iterable[InvalidManifest], namespace: str = "baseline",
                 timeout: float = 120, settle: float = 6.0,
                 progress: Callable[[str], None] | None = None) -> CorpusRun:
    """Apply every entry to ``stack`` (a vigil_sandbox.stack.Stack whose Organization ``acme`` and
    LogArchive ``central`` are Ready in ``namespace``), wait for each to be refused, then ``settle``
    seconds more (a few operator retries), and collect the AWS writes made meanwhile. Entries are
    judged as they are: one applied wrongly admitted is waited on like an operator entry."""
    from kubernetes.client.exceptions import ApiException

    calls = stack.calls()
    mark = len(calls.calls())
    run = CorpusRun()
    waiting: list[Verdict] = []
    for entry in entries:
        verdict = Verdict(entry)
        run.verdicts.append(verdict)
        try:
            stack.apply(entry.manifest(namespace))
        except ApiException as exc:
            if exc.status != 422:
                raise
            verdict.refused_at, verdict.message = ADMISSION, str(json.loads(exc.body).get("message", ""))
            continue
        waiting.append(verdict)
    if progress:
        progress(f"{len(run.verdicts) - len(waiting)} refused at admission; waiting on {len(waiting)} objects")
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for verdict in list(waiting):
            ready = _ready(stack.get(verdict.entry.kind, namespace, verdict.entry.name))
            if ready.get("status") == "False" and ready.get("reason") in (INVALID_SPEC, DEPENDENCY_NOT_READY):
                verdict.refused_at, verdict.reason = OPERATOR, ready["reason"]
                verdict.message = ready.get("message", "")
                waiting.remove(verdict)
            elif ready.get("status") == "True":
                verdict.reason, verdict.message = "Ready", ready.get("message", "")
                waiting.remove(verdict)
        time.sleep(0.5)
    for verdict in waiting:
        ready = _ready(stack.get(verdict.entry.kind, namespace, verdict.entry.name))
        verdict.reason, verdict.message = str(ready.get("reason", "no Ready condition")), ready.get("message", "")
    time.sleep(settle)
    run.writes = calls.writes(mark)
    return run


def _ready(obj: dict[str, Any]) -> dict[str, Any]:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})

