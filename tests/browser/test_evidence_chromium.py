"""The evidence bundle's HTML in a real browser: headless Chromium (Debian's `chromium`) renders
bundle.html, and what its DOM says per control, account and Region (verdict, compliant since,
verified digests) and about the journal is what bundle.json says. The bundle is built by the pure
planner from a signed chain (tests/unit/test_journal.py's), not from the sandbox."""

from __future__ import annotations

import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from vigil.evidence_html import render
from vigil.planning.evidence import bundle_json

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)")]


class Rows(HTMLParser):
    """The controls table's rows as rendered: each row's data- attributes and its cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[dict[str, str], list[str]]] = []
        self.journal: dict[str, str] = {}
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "tr" and "data-kind" in found:
            self.rows.append((found, []))
        elif tag == "td" and self.rows:
            self._cell = []
        elif tag == "p" and found.get("id") == "journal":
            self.journal = found

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1][1].append("".join(self._cell).strip())
            self._cell = None


def test_the_page_says_what_the_json_says(tmp_path):
    from tests.unit.test_journal import bundle

    content = bundle()
    (tmp_path / "bundle.json").write_bytes(bundle_json(content))
    (tmp_path / "bundle.html").write_text(render(content))
    dom = subprocess.run([str(CHROMIUM), *FLAGS, "--dump-dom", (tmp_path / "bundle.html").as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    parsed = Rows()
    parsed.feed(dom)
    expected = json.loads((tmp_path / "bundle.json").read_text())
    assert parsed.journal["data-verified"] == "True" and parsed.journal["data-records"] == str(
        expected["journal"]["records"])
    assert len(parsed.rows) == len(expected["controls"])
    for (attrs, cells), row in zip(parsed.rows, expected["controls"]):
        assert (attrs["data-kind"], attrs["data-account"], attrs["data-region"]) == (
            row["kind"], row["account"], row["region"])
        assert cells[4].startswith("compliant" if row["compliant"] else "not compliant")
        assert cells[5].startswith(row["continuouslyCompliantSince"] or "not compliant")
        digests = row["verifiedDigests"]
        assert cells[6] == (f"{digests['from']} .. {digests['to']}" if digests else "not verified")
