"""`make bench`, integrity section: `vigil verify-trail` on a generated chain.

The sandbox runs in this process so the chain (10,368 gzipped log files under 384 signed digests)
goes straight into moto's backend; the verifier runs as its own process, as a user would run it,
so its peak RSS is its own. Windows of growing length over the same chain show how the rate and
the memory scale with the window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3

from vigil.planning.integrity import DigestLayout
from .cli import start_sandbox
from .digests import ChainWriter, MotoStore, Signer, hour_floor, reader_policy, sandbox_layout
from .seed import SandboxOrganization

BUCKET = "vigil-bench-cloudtrail"
HOURS = 48
ACCOUNTS = 4
LOGS_PER_HOUR = 27  # 4 accounts x 2 regions x 48 hours x 27 = 10,368 log files
EVENTS_PER_LOG = 20
WINDOWS = ("6h", "12h", "24h", "48h")


def integrity_verification() -> None:
    print("== Integrity verification (vigil verify-trail, one process, concurrency 16)")
    endpoint, organization, stop = start_sandbox(port=0)
    try:
        accounts = (organization.management, *organization.members)[:ACCOUNTS]
        regions = organization.regions
        layout = sandbox_layout(BUCKET, organization.organization_id, regions[0])
        _bucket(endpoint, organization)
        writer = ChainWriter(MotoStore(organization.log_archive), layout, Signer.from_seed(),
                             logs_per_hour=LOGS_PER_HOUR, events_per_log=EVENTS_PER_LOG)
        started = time.monotonic()
        now = datetime.now(timezone.utc)
        writer.write_trail(accounts, regions, hour_floor(now) - timedelta(hours=HOURS + 1), HOURS)
        logs = len(accounts) * len(regions) * HOURS * LOGS_PER_HOUR
        print(f"  chain: {len(accounts)} accounts x {len(regions)} regions x {HOURS} hours, {logs} log files "
              f"({EVENTS_PER_LOG} events each), generated in {time.monotonic() - started:.1f}s")
        print(f"  {'window':>6} {'digests':>8} {'log files':>10} {'seconds':>8} {'digests/s':>10} "
              f"{'log files/s':>12} {'peak RSS':>10} {'verifier CPU':>13}")
        for window in WINDOWS:
            result, peak, cpu = _verify(endpoint, layout, accounts, regions, window)
            seconds, digests, logs = result["seconds"], result["digestsVerified"], result["logFilesVerified"]
            print(f"  {window:>6} {digests:>8} {logs:>10} {seconds:>8.1f} {digests / seconds:>10.0f} "
                  f"{logs / seconds:>12.0f} {peak:>6.1f} MiB {cpu:>11.1f}s"
                  + (f"  FINDINGS {result['failures']}" if result["failures"] else ""))
        print("  The sandbox serves every GetObject from this process: the wall-clock rate is moto's; the")
        print("  verifier's own cost is its CPU time (imports included).")
    finally:
        stop()


def _bucket(endpoint: str, org: SandboxOrganization) -> None:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    keys = session.client("sts", endpoint_url=endpoint, region_name=org.regions[0]).assume_role(
        RoleArn=org.role_arn(org.log_archive), RoleSessionName="vigil-bench")["Credentials"]
    s3 = session.client("s3", endpoint_url=endpoint, region_name=org.regions[0],
                        aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
                        aws_session_token=keys["SessionToken"])
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": org.regions[0]})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=reader_policy(BUCKET, org.management))  # verify-trail reads as it


def _verify(endpoint: str, layout: DigestLayout, accounts: Sequence[str], regions: Sequence[str],
            window: str) -> tuple[dict[str, Any], float, float]:
    """One `vigil verify-trail --json` run: its result, its peak RSS in MiB, its CPU seconds."""
    args = [sys.executable, "-m", "vigil", "verify-trail", "--json", "--bucket", layout.bucket,
            "--prefix", layout.prefix, "--trail", layout.trail_name, "--home-region", layout.home_region,
            "--organization-id", layout.organization_id or "", "--accounts", ",".join(accounts),
            "--regions", ",".join(regions), "--lookback", window, "--concurrency", "16"]
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": layout.home_region,
           "AWS_EC2_METADATA_DISABLED": "true"}
    env.pop("AWS_PROFILE", None)
    process = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, text=True)
    peak = [0.0]
    sampler = threading.Thread(target=_sample_peak, args=(process.pid, peak), daemon=True)
    sampler.start()
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # reaped here, for its CPU time
    process.returncode = os.waitstatus_to_exitcode(status)
    sampler.join()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"verify-trail exited with {process.returncode}: {output[-2000:]}")
    return json.loads(output), peak[0], usage.ru_utime + usage.ru_stime


def _sample_peak(pid: int, peak: list[float]) -> None:
    """The process's own high-water mark (VmHWM), read until it is gone. Not ru_maxrss: that
    would count this process's memory, which the child shares between fork and exec."""
    while True:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            return
        for line in lines:
            if line.startswith("VmHWM:"):
                peak[0] = max(peak[0], int(line.split()[1]) / 1024)
        time.sleep(0.02)
