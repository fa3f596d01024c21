"""The posture report in a real browser: `vigil audit -o html` run against the AWS sandbox (the
baseline of examples/ applied, then two controls drifted behind Vigil's back), the page served
from 127.0.0.1 and loaded by headless Chromium (Debian's `chromium`), which renders every example
object, the drift as high findings and the severity chart, fetches nothing but the page, and
takes the screenshot docs/report.md shows.

Regenerating docs/images/posture-report.png (the test writes it to its tmp folder, and copies it
to VIGIL_SCREENSHOTS when set):
    VIGIL_SCREENSHOTS=docs/images .venv/bin/python -m pytest -q tests/browser
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from vigil_sandbox import examples
from vigil_sandbox.controlplane import spawn, stop

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
# Headless, and nothing of its own on the network: no QUIC, updates, sync or background fetches.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
WINDOW = (1280, 1600)
SCREENSHOT = "posture-report.png"

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)")]


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A fresh AWS sandbox, a process of its own; the environment that points AWS tools at it."""
    log = tmp_path_factory.mktemp("aws") / "aws.log"
    process = spawn([sys.executable, "-m", "vigil_sandbox", "--port", "0", "--json"], log, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, f"the AWS sandbox did not start; see {log}"
        yield {"AWS_ENDPOINT_URL": json.loads(line)["endpoint"], "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ca-central-1",
               "AWS_EC2_METADATA_DISABLED": "true"}
    finally:
        stop(process)


def vigil(aws: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vigil", *args], capture_output=True, text=True,
                          env={**os.environ, **aws}, cwd=ROOT, timeout=300)


def client(aws: dict[str, str], service: str, account: str | None = None) -> Any:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    if account:
        sts = session.client("sts", region_name="ca-central-1", endpoint_url=aws["AWS_ENDPOINT_URL"])
        keys = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                               RoleSessionName="vigil-browser-test")["Credentials"]
        session = boto3.Session(aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
                                aws_session_token=keys["SessionToken"])
    return session.client(service, region_name="ca-central-1", endpoint_url=aws["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def site(aws: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The page `vigil audit -o html` prints for the drifted baseline, served on 127.0.0.1; the URL
    and the paths the browser asked the server for."""
    applied = vigil(aws, "apply", "-f", "examples/")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    client(aws, "cloudtrail").stop_logging(Name="vigil-org-trail")
    client(aws, "s3", "222222222222").delete_public_access_block(Bucket="acme-log-archive")
    audit = vigil(aws, "audit", "-f", "examples/", "-o", "html")
    assert audit.returncode == 1, audit.stderr  # not compliant: the drift is found
    folder = tmp_path_factory.mktemp("site")
    (folder / "report.html").write_text(audit.stdout)

    asked: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            asked.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/report.html", asked
    finally:
        server.shutdown()
        server.server_close()


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="vigil-chromium-") as profile:
        done = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_chromium_renders_every_example_object_the_findings_and_the_chart(site: tuple[str, list[str]]):
    url, asked = site
    dom = chromium("--dump-dom", url).stdout
    assert "<title>Vigil posture report</title>" in dom
    objects = dom.split('<table id="objects">', 1)[1].split("</table>", 1)[0]
    for doc in examples.objects():
        meta = doc["metadata"]
        assert f"<td>{doc['kind']}</td><td>{meta['namespace']}/{meta['name']}</td>" in objects, doc["kind"]
    found = dom.split('<table id="findings">', 1)[1].split("</table>", 1)[0]
    high = [row for row in found.split("<tr>") if '<span class="sev high">high</span>' in row]
    assert any("OrgTrail" in row and "Drifted" in row and "is_logging" in row for row in high), found
    assert any("LogArchive" in row and "Drifted" in row and "acme-log-archive" in row for row in high), found
    assert '<svg id="severity-chart"' in dom and "high" in dom.split('<svg id="severity-chart"', 1)[1]
    assert "<script" not in dom
    assert set(asked) <= {"/report.html", "/favicon.ico"}, f"the page fetched {asked}"


def test_chromium_takes_the_screenshot_the_docs_show(site: tuple[str, list[str]], tmp_path: Path):
    url, _ = site
    shot = tmp_path / SCREENSHOT
    chromium(f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", "--hide-scrollbars", url)
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == WINDOW
    if os.environ.get("VIGIL_SCREENSHOTS"):
        target = Path(os.environ["VIGIL_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target / SCREENSHOT)
