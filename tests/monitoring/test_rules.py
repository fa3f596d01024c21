"""Vigil's alerts (deploy/monitoring/prometheus-rule.yaml): Prometheus loads them (promtool check
rules), they fire when they should and only then (promtool test rules over rules-test.yaml, every
alert both ways), each names its severity, its object and a runbook section of docs/operations.md
that exists, and they read only series the operator exports."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULE_FILE = ROOT / "deploy" / "monitoring" / "prometheus-rule.yaml"
RULE_TESTS = Path(__file__).with_name("rules-test.yaml")
OPERATIONS = ROOT / "docs" / "operations.md"


def groups() -> list[dict]:
    """The PrometheusRule's spec.groups: what the Prometheus Operator hands Prometheus."""
    return yaml.safe_load(RULE_FILE.read_text())["spec"]["groups"]


ALERTS = [rule for group in groups() for rule in group["rules"] if "alert" in rule]


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups()}, sort_keys=False))
    shutil.copy(RULE_TESTS, tmp_path)  # it names rules.yaml, beside itself
    return tmp_path


def test_prometheus_loads_the_rules(promtool: Callable, rules_dir: Path) -> None:
    done = promtool("check", "rules", "rules.yaml", cwd=rules_dir)
    assert done.returncode == 0, done.stdout + done.stderr


def test_alerts_fire_when_they_should(promtool: Callable, rules_dir: Path) -> None:
    done = promtool("test", "rules", RULE_TESTS.name, cwd=rules_dir)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    cases: dict[str, set[bool]] = {}
    for group in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for case in group.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], set()).add(bool(case.get("exp_alerts")))
    missing = {alert["alert"]: {True, False} - cases.get(alert["alert"], set()) for alert in ALERTS}
    assert not {name: gap for name, gap in missing.items() if gap}, \
        "alerts without a firing (True) or a quiet (False) case in rules-test.yaml"


@pytest.mark.parametrize("alert", ALERTS, ids=lambda alert: alert["alert"])
def test_alert_has_severity_summary_and_runbook(alert: dict) -> None:
    assert alert["labels"]["severity"] in ("critical", "warning")
    assert {"summary", "description", "runbook_url"} <= alert["annotations"].keys()
    # The anchor GitHub gives the heading `### VigilNotCompliant` is #vigilnotcompliant.
    anchor = alert["annotations"]["runbook_url"].rpartition("#")[2]
    assert anchor == alert["alert"].lower()
    headings = re.findall(r"^#{2,4} (\S+)\s*$", OPERATIONS.read_text(), re.MULTILINE)
    assert alert["alert"] in headings, f"docs/operations.md has no heading {alert['alert']}"


@pytest.mark.parametrize("alert", ALERTS, ids=lambda alert: alert["alert"])
def test_alert_reads_only_exported_series(alert: dict, unknown_metrics: Callable[[str], set[str]]) -> None:
    assert not unknown_metrics(alert["expr"])

