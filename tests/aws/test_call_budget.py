"""Each kind's AWS calls against the minimum derived from what can drift (issue 18;
vigil_sandbox.call_minimum, shown in docs/performance.md): the examples converged on a sandbox of
their own, then resynced twice (vigil_sandbox.call_budget, in a process of its own: one sandbox per
process). For every kind and pass the calls are at least the minimum (fewer means the derivation
is wrong) and at most 1.2 times it; the resyncs write nothing. Counts, never time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vigil_sandbox.call_budget import BUDGET, PASSES, PassCalls, budget
from vigil_sandbox.call_minimum import MINIMUM, examples_units, markdown

ROOT = Path(__file__).resolve().parents[2]
PERFORMANCE = ROOT / "docs" / "performance.md"


@pytest.fixture(scope="module")
def measured() -> dict[str, list[PassCalls]]:
    run = subprocess.run([sys.executable, "-m", "vigil_sandbox.call_budget", "--json"], capture_output=True,
                         text=True, cwd=ROOT, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    return {kind: [PassCalls(**counted) for counted in passes] for kind, passes in json.loads(run.stdout).items()}


def test_the_documented_minimum_is_the_derivation():
    assert markdown(examples_units()) in PERFORMANCE.read_text(), (
        "docs/performance.md's tables differ from vigil_sandbox.call_minimum: put in the output of "
        "`python -m vigil_sandbox.call_budget --markdown`")


def test_every_kind_is_measured_ready_in_every_pass(measured):
    assert sorted(measured) == sorted(MINIMUM)
    assert {kind: [p.ready for p in passes] for kind, passes in measured.items()} == {
        kind: [True] * len(PASSES) for kind in MINIMUM}


def test_resyncs_write_nothing(measured):
    assert {kind: [p.writes for p in passes[1:]] for kind, passes in measured.items()} == {
        kind: [0] * (len(PASSES) - 1) for kind in measured}


@pytest.mark.parametrize("phase", PASSES)
def test_calls_are_within_the_budget(measured, phase):
    at = PASSES.index(phase)
    off = {kind: f"{calls} calls, minimum {least}: {measured[kind][at].operations}"
           for kind, name, least, calls in budget(measured, examples_units())
           if name == phase and not least <= calls <= BUDGET * least}
    assert off == {}
