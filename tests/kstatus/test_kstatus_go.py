"""kstatus and Flux health over every recorded state: runs the Go tests beside this file (run.sh).

Covers, in health_test.go: each tests/states/*.json through kstatus (sigs.k8s.io/cli-utils, and
Flux's fork, which must agree) and through deploy/flux/kustomization.yaml's healthCheckExprs as
kustomize-controller evaluates them (github.com/fluxcd/pkg/runtime/cel), against
tests/states/expected.yaml; that every state has a row and every row a state; that every vigil.dev
CRD has its Flux entry. Skips without Go. The first run downloads and compiles for minutes (see
run.sh), hence the long timeout; later runs take seconds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.timeout(1800)
def test_kstatus_and_flux_health_of_every_recorded_state() -> None:
    if shutil.which("go") is None:
        pytest.skip("Go is not installed: tests/kstatus (kstatus and Flux health of tests/states) needs Go >= 1.26")
    run = subprocess.run([str(HERE / "run.sh")], capture_output=True, text=True, timeout=1700)
    assert run.returncode == 0, f"tests/kstatus/run.sh failed ({run.returncode}):\n{run.stdout}{run.stderr}"
