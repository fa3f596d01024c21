"""The Grafana dashboard (deploy/monitoring/grafana-dashboard.json): every query, its template
variables substituted as Grafana would, parses as PromQL (promtool check rules, over the queries
written as recording rules: promtool has no offline query parser of its own) and reads only series
the operator exports; the data source is a variable, so the dashboard loads into any Grafana."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "monitoring" / "grafana-dashboard.json"
# Grafana's built-in variables that stand for a duration; every other variable here is a label value.
DURATIONS = frozenset({"__rate_interval", "__interval", "__range"})
VARIABLE = re.compile(r"\$\{?(\w+)(?::\w+)?\}?")
# A query variable's label_values(selector, label): the selector is PromQL, the rest is Grafana's.
LABEL_VALUES = re.compile(r"^label_values\((.+),\s*\w+\)$")


def load() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict) -> Iterator[dict]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row holds its panels


def queries(dashboard: dict) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and query variable."""
    found = [(f"panel {panel['title']!r} {target['refId']}", target["expr"])
             for panel in panels(dashboard) for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = LABEL_VALUES.match(query)
            found.append((f"variable ${variable['name']}", match.group(1) if match else query))
    return found


def substitute(expr: str) -> str:
    return VARIABLE.sub(lambda m: "5m" if m.group(1) in DURATIONS else "x", expr)


def test_every_query_parses(promtool: Callable, tmp_path: Path) -> None:
    found = queries(load())
    rules = [{"record": f"dashboard:query_{i}", "expr": substitute(expr)} for i, (_, expr) in enumerate(found)]
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = promtool("check", "rules", "queries.yaml", cwd=tmp_path)
    where = "\n".join(f"  dashboard:query_{i} is {place}" for i, (place, _) in enumerate(found))
    assert done.returncode == 0, f"{done.stdout}{done.stderr}\n{where}"


def test_every_query_reads_exported_series(unknown_metrics: Callable[[str], set[str]]) -> None:
    unknown = {place: names for place, expr in queries(load()) if (names := unknown_metrics(expr))}
    assert not unknown


def test_substitution_leaves_no_variable() -> None:
    assert all("$" not in substitute(expr) for _, expr in queries(load()))


def test_data_source_is_a_variable() -> None:
    dashboard = load()
    assert dashboard["schemaVersion"] >= 36
    assert {"name": "datasource", "type": "datasource", "query": "prometheus"}.items() <= \
        dashboard["templating"]["list"][0].items()
    variable = {"type": "prometheus", "uid": "${datasource}"}
    for panel in panels(dashboard):
        if panel["type"] != "row":
            assert panel["datasource"] == variable, panel["title"]
            assert panel["targets"] and all(t["datasource"] == variable for t in panel["targets"]), panel["title"]


def test_panels_have_unique_ids_and_do_not_overlap() -> None:
    every = list(panels(load()))
    assert len({p["id"] for p in every}) == len(every)
    cells: dict[tuple[int, int], str] = {}
    for panel in every:
        g = panel["gridPos"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]
        assert g["x"] + g["w"] <= 24, panel["title"]
