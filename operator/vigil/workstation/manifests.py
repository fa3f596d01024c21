"""Manifests from files, directories or standard input, checked before anything touches AWS."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..api import API_VERSION, KINDS
from ..controls.reconciler import parse_spec, validation_message

# References resolve in this order: an Organization first, then the LogArchives, then the controls;
# LogSubscriptionPolicy last, so one pass also subscribes the log groups the other controls create.
# Guardrails last: its policies are made from the other objects' outputs, which must exist first
# (otherwise a second pass would rewrite its policies once).
ORDER = {"Organization": 0, "LogArchive": 1, "LogSubscriptionPolicy": 3, "Guardrails": 4}


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file, the object and the field."""


@dataclass
class Manifest:
    kind: str
    namespace: str
    name: str
    spec: dict[str, Any]
    source: str  # "examples/orgtrail.yaml" (or "<stdin>"), for error messages
    annotations: dict[str, str] = field(default_factory=dict)  # a weakening allowance among them

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def _files(paths: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for raw in paths:
        if raw == "-":
            found.append(("<stdin>", sys.stdin.read()))
            continue
        path = Path(raw)
        if path.is_dir():
            found += [(str(p), _read(p)) for p in sorted(path.rglob("*.y*ml")) if p.suffix in (".yaml", ".yml")]
        elif path.is_file():
            found.append((str(path), _read(path)))
        else:
            raise ManifestError(f"{raw}: no such file or directory")
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not a text file") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line, where the parser found it: "line 3, column 1: expected the node content"."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + " ".join(str(problem).split())


def load(paths: list[str], default_namespace: str = "default") -> list[Manifest]:
    """Every vigil.dev object in ``paths``, validated, in dependency order. Other kinds (a
    Namespace, a Kustomization) are skipped. All errors are reported at once."""
    manifests: list[Manifest] = []
    errors: list[str] = []
    for source, text in _files(paths):
        try:
            documents = [d for d in yaml.safe_load_all(text) if d]
        except yaml.YAMLError as exc:
            errors.append(f"{source}: not YAML: {_yaml_problem(exc)}")
            continue
        for doc in documents:
            if not isinstance(doc, dict) or not str(doc.get("apiVersion", "")).startswith("vigil.dev/"):
                continue
            meta = doc.get("metadata") or {}
            where = f"{source}: {doc.get('kind')} {meta.get('name', '<no name>')}"
            if doc.get("apiVersion") != API_VERSION:
                errors.append(f"{where}: apiVersion {doc.get('apiVersion')} is not served; use {API_VERSION}")
            elif doc.get("kind") not in KINDS:
                errors.append(f"{where}: unknown kind; known kinds: {', '.join(KINDS)}")
            elif not meta.get("name"):
                errors.append(f"{where}: metadata.name is required")
            else:
                try:
                    parse_spec(doc["kind"], doc.get("spec") or {})
                except ValidationError as exc:
                    errors.append(f"{where}: {validation_message(exc)}")
                    continue
                manifests.append(Manifest(doc["kind"], meta.get("namespace") or default_namespace, meta["name"],
                                          doc.get("spec") or {}, source, dict(meta.get("annotations") or {})))
    if errors:
        raise ManifestError("\n".join(errors))
    if not manifests:
        raise ManifestError(f"no vigil.dev objects in {', '.join(paths)}")
    return sorted(manifests, key=lambda m: ORDER.get(m.kind, 2))
