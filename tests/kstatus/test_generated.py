"""What is generated here stays in step with its source.

Covers: deploy/flux/kustomization.yaml carries exactly deploy/flux/health-check-exprs.yaml (its
single source), as generate.py writes it; the expressions are one set shared by every kind; and
tests/states/sample-*.json are what make_samples.py makes from Vigil's status code today.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]
FLUX = ROOT / "deploy" / "flux"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_flux_example_is_up_to_date_with_its_source() -> None:
    generator = load(FLUX / "generate.py")
    assert (FLUX / "kustomization.yaml").read_text() == generator.render(generator.load_exprs()), \
        "run: python deploy/flux/generate.py"


def test_the_flux_example_carries_the_expressions_of_the_source() -> None:
    example = yaml.safe_load((FLUX / "kustomization.yaml").read_text())
    assert example["spec"]["healthCheckExprs"] == yaml.safe_load((FLUX / "health-check-exprs.yaml").read_text())


def test_every_kind_has_the_same_expressions() -> None:
    entries = yaml.safe_load((FLUX / "health-check-exprs.yaml").read_text())
    assert {e["apiVersion"] for e in entries} == {"vigil.dev/v1alpha1"}
    assert len({e["kind"] for e in entries}) == len(entries)
    assert len({(e["inProgress"], e["failed"], e["current"]) for e in entries}) == 1


def test_the_sample_states_are_what_vigil_writes_today() -> None:
    samples = load(Path(__file__).with_name("make_samples.py"))
    for scenario in samples.SAMPLES:
        path = samples.STATES / f"{scenario}.json"
        assert path.read_text() == samples.render(scenario), "run: python tests/kstatus/make_samples.py"
