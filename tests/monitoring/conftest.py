"""Shared by the monitoring tests (deploy/monitoring/): promtool, skipped with the command that
builds it when missing, and the metric names the operator exports, which every alert and dashboard
query must keep to."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from vigil import metrics
from vigil_sandbox import tools

Promtool = Callable[..., subprocess.CompletedProcess[str]]

# Not Vigil's, but always there: Prometheus's own per-target series.
WELL_KNOWN = frozenset({"up"})
# Series names in PromQL, roughly: any vigil_* word, and any name followed by label matchers.
METRIC = re.compile(r"\b(vigil_[a-z_]+)\b|\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    """Runs promtool with the given arguments (in ``cwd``); its exit code and output are the caller's
    to check."""
    found = tools.promtool()
    if found is None:
        pytest.skip(f"promtool not found: build it with `{tools.promtool_build_command()}`")

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(found), *args], capture_output=True, text=True, timeout=120, cwd=cwd)

    return run


@pytest.fixture(scope="session")
def unknown_metrics() -> Callable[[str], set[str]]:
    """The series a PromQL expression reads that neither the operator nor Prometheus exports."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("", "_sum", "_count")}
    exported = {family.name + suffix for family in metrics.REGISTRY.collect()
                for suffix in suffixes.get(family.type, ("",))}

    def unknown(expr: str) -> set[str]:
        return {vigil or other for vigil, other in METRIC.findall(expr)} - exported - WELL_KNOWN

    return unknown
