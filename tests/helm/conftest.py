"""Shared by the Helm chart's tests (deploy/helm/vigil): helm, skipped with the command that builds
it when missing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

import pytest

from vigil_sandbox import tools

Helm = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """Runs helm with the given arguments; its exit code and output are the caller's to check. Its
    cache, configuration and data are the session's, not the user's (~/.cache/helm...)."""
    found = tools.helm()
    if found is None:
        pytest.skip(f"helm not found: build it with `{tools.helm_build_command()}`")
    home = tmp_path_factory.mktemp("helm")
    env = {**os.environ, **{f"HELM_{kind}_HOME": str(home / kind.lower()) for kind in ("CACHE", "CONFIG", "DATA")}}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(found), *args], capture_output=True, text=True, timeout=120, env=env)

    return run
