"""Command-line tools the tests use besides the control plane, found where their build scripts put
them. Nothing here builds: a build takes minutes, so tests that need a missing tool skip and name
the command (``promtool_build_command``)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

PROMTOOL_BUILD = Path(__file__).resolve().parents[1] / "tools" / "build-promtool.sh"


def promtool() -> Path | None:
    """promtool: ``$PROMTOOL``, else the one ``build-promtool.sh`` built into the cache, else one on
    PATH (Debian's ``prometheus`` package has it); None when there is none."""
    candidates = [os.environ.get("PROMTOOL"), _cache() / f"promtool-{promtool_version()}" / "promtool",
                  shutil.which("promtool")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def promtool_version() -> str:
    """The Prometheus release build-promtool.sh pins (read from the script, its one source)."""
    match = re.search(r"^PROMETHEUS_VERSION=(\S+)$", PROMTOOL_BUILD.read_text(), re.MULTILINE)
    assert match, f"{PROMTOOL_BUILD} names no PROMETHEUS_VERSION"
    return match.group(1)


def promtool_build_command() -> str:
    return f"bash {PROMTOOL_BUILD.relative_to(PROMTOOL_BUILD.parents[2])}"


def _cache() -> Path:
    return Path(os.environ.get("VIGIL_TOOLS_CACHE") or Path.home() / ".cache" / "vigil" / "tools")
