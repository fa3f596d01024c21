"""Command-line tools the tests use besides the control plane, found where their build scripts put
them. Nothing here builds: a build takes minutes, so tests that need a missing tool skip and name
the command (``promtool_build_command``, ``helm_build_command``)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1] / "tools"
PROMTOOL_BUILD = TOOLS / "build-promtool.sh"
HELM_BUILD = TOOLS / "build-helm.sh"


def promtool() -> Path | None:
    """promtool: ``$PROMTOOL``, else the one ``build-promtool.sh`` built into the cache, else one on
    PATH (Debian's ``prometheus`` package has it); None when there is none."""
    return _first_executable(os.environ.get("PROMTOOL"), _cache() / f"promtool-{promtool_version()}" / "promtool",
                             shutil.which("promtool"))


def promtool_version() -> str:
    """The Prometheus release build-promtool.sh pins (read from the script, its one source)."""
    return _pinned(PROMTOOL_BUILD, "PROMETHEUS_VERSION")


def promtool_build_command() -> str:
    return _build_command(PROMTOOL_BUILD)


def helm() -> Path | None:
    """helm: ``$HELM``, else the one ``build-helm.sh`` built into the cache, else one on PATH; None
    when there is none."""
    return _first_executable(os.environ.get("HELM"), _cache() / f"helm-{helm_version()}" / "helm",
                             shutil.which("helm"))


def helm_version() -> str:
    """The Helm release build-helm.sh pins (read from the script, its one source)."""
    return _pinned(HELM_BUILD, "HELM_VERSION")


def helm_build_command() -> str:
    return _build_command(HELM_BUILD)


def _first_executable(*candidates: str | Path | None) -> Path | None:
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def _pinned(script: Path, variable: str) -> str:
    match = re.search(rf"^{variable}=(\S+)$", script.read_text(), re.MULTILINE)
    assert match, f"{script} names no {variable}"
    return match.group(1)


def _build_command(script: Path) -> str:
    return f"bash {script.relative_to(script.parents[2])}"


def _cache() -> Path:
    return Path(os.environ.get("VIGIL_TOOLS_CACHE") or Path.home() / ".cache" / "vigil" / "tools")
