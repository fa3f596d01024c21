"""`make bench`, integrity section: `vigil verify-trail` against `aws cloudtrail validate-logs`.

Both verify the same organization trail's chain (72 hours of 3 accounts x 2 regions) in the same
run, each as a user runs it: `vigil verify-trail` once for every account and region,
validate-logs once per account and region (it takes one of each), one after the other. Each is
timed twice: on S3 as the sandbox answers it, and with every answer held back LATENCY_MS, as S3's
answers take on AWS. Then both verify the chain tampered with, one way per chain, and their
verdicts are set side by side: each must flag exactly the object tampered with.

The sandbox runs in a process of its own, which writes the chain straight into moto's backend and
serves it: the verifiers' CPU (their own processes) and the sandbox's are measured apart. awscli
v1 carries a botocore of its own, so it lives in a venv of its own (AWSCLI_VENV), made on first use.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from multiprocessing.connection import Connection
from pathlib import Path

import boto3

from vigil.planning.integrity import DigestLayout
from .controlplane import cpu_seconds
from .digests import DELIVERY_DELAY, ChainWriter, MotoStore, Signer, hour_floor, reader_policy
from .faults import Fault, Faults

ROOT = Path(__file__).resolve().parents[2]
# awscli and what it installs, pinned: the same validate-logs on every machine.
AWSCLI_VENV = ROOT / ".venv-awscli"
AWSCLI_PINS = ("awscli==1.46.3", "colorama==0.4.6", "docutils==0.19", "jmespath==1.1.0", "pyasn1==0.6.5",
               "python-dateutil==2.9.0.post0", "PyYAML==6.0.4", "rsa==4.7.2", "six==1.17.0", "urllib3==2.8.0")

BUCKET = "vigil-bench-cloudtrail"
PREFIX = "bench"
TRAIL = "vigil-bench-trail"
HOURS = 72
ACCOUNTS = 3
LOGS_PER_HOUR = 7  # 3 accounts x 2 regions x 72 hours x 7 = 3,024 log files under 432 digests
EVENTS_PER_LOG = 20
# The chain's first digest stays in the window for an hour of bench.
LOOKBACK_HOURS = HOURS + 2
CONCURRENCY = 16  # verify-trail's default
# AWS: small objects' median latencies are "often in the range of tens of milliseconds" (S3
# performance whitepaper, "Timeouts and retries for latency-sensitive applications"): the low end.
LATENCY_MS = 20
CLOUDTRAIL = "cloudtrail.amazonaws.com"


@dataclass(frozen=True)
class Chain:
    """What the sandbox process wrote and serves."""

    endpoint: str
    trail_arn: str
    home_region: str
    regions: tuple[str, ...]
    accounts: tuple[str, ...]
    digests: int
    log_files: int

    @property
    def trail(self) -> str:
        return self.trail_arn.rsplit("/", 1)[1]


@dataclass(frozen=True)
class Tampering:
    case: str
    location: str  # bucket/key of the object tampered with, as both tools must name it


@dataclass
class Run:
    """One tool's verification of every chain: its time, its CPU and the sandbox's, what it flagged."""

    seconds: float = 0.0
    cpu: float = 0.0
    server_cpu: float = 0.0
    requests: int = 0
    digests: int = 0
    log_files: int = 0
    flagged: dict[str, str] = field(default_factory=dict)  # bucket/key: why
    peak_mib: float = 0.0


def integrity_verification() -> None:
    print(f"== Integrity verification: vigil verify-trail against aws cloudtrail validate-logs ({AWSCLI_PINS[0]})")
    aws = awscli()
    if aws is None:
        return
    context = multiprocessing.get_context("spawn")  # a fresh process: no lock of ours held across a fork
    here, there = context.Pipe()
    server = context.Process(target=serve_chain, args=(there,), daemon=True)
    started = time.monotonic()
    server.start()
    try:
        chain: Chain = here.recv()
        assert server.pid is not None
        print(f"  chain: {len(chain.accounts)} accounts x {len(chain.regions)} regions x {HOURS} hours, "
              f"{chain.digests} digests and {chain.log_files} log files of {EVENTS_PER_LOG} events, written in "
              f"{time.monotonic() - started:.0f}s by the sandbox, in a process of its own")
        print(f"  {'':<44} {'seconds':>8} {'requests':>9} {'client CPU':>11} {'sandbox CPU':>12} {'peak RSS':>9}")
        vigil, awscli_run = _compare(aws, chain, server.pid, "S3 as the sandbox answers it", 0)
        faults = Faults(chain.endpoint)
        faults.set(delay=Fault(ms=LATENCY_MS))
        try:
            _compare(aws, chain, server.pid, f"every answer {LATENCY_MS} ms later, as on AWS", LATENCY_MS)
        finally:
            faults.clear()
        here.send("tamper")
        tamperings: list[Tampering] = here.recv()
        _print_verdicts(vigil, awscli_run, tamperings, verify_with_vigil(chain, server.pid),
                        verify_with_awscli(aws, chain, server.pid))
    finally:
        here.send("stop")
        server.join(timeout=30)


def _compare(aws: Path, chain: Chain, server_pid: int, setting: str, latency_ms: int) -> tuple[Run, Run]:
    print(f"  {setting}:")
    vigil = verify_with_vigil(chain, server_pid)
    _print_run(f"vigil verify-trail (1 run, concurrency {CONCURRENCY})", vigil)
    awscli_run = verify_with_awscli(aws, chain, server_pid)
    _print_run(f"aws cloudtrail validate-logs ({len(chain.accounts) * len(chain.regions)} runs)", awscli_run)
    for run in (vigil, awscli_run):
        if (run.digests, run.log_files) != (chain.digests, chain.log_files):
            print(f"    VERIFIED {run.digests} digests and {run.log_files} log files, not all of the chain")
    load = os.getloadavg()[0]
    print(f"    vigil verify-trail {awscli_run.seconds / vigil.seconds:.1f}x faster (load average {load:.1f} "
          f"on {os.cpu_count()} CPUs)")
    _explain(vigil, awscli_run, latency_ms)
    return vigil, awscli_run


def _print_run(name: str, run: Run) -> None:
    print(f"    {name:<42} {run.seconds:>8.1f} {run.requests:>9,} {run.cpu:>10.1f}s {run.server_cpu:>11.1f}s "
          f"{run.peak_mib:>5.0f} MiB")


def _explain(vigil: Run, awscli_run: Run, latency_ms: int) -> None:
    """The best ratio these costs allow, whatever the machine's load. Each tool is one Python
    process, and so is the sandbox: one core each at most. validate-logs waits for each answer,
    so its time is at least its CPU, the sandbox's and the latencies, added; vigil overlaps them,
    so its time is at least the largest of its CPU, the sandbox's, and the latencies spread over
    its concurrency."""
    waited = awscli_run.requests * latency_ms / 1000
    theirs = awscli_run.cpu + awscli_run.server_cpu + waited
    ours = max(vigil.cpu, vigil.server_cpu, vigil.requests * latency_ms / 1000 / CONCURRENCY)
    added = f" + {awscli_run.requests:,} x {latency_ms} ms" if latency_ms else ""
    print(f"    at best {theirs / ours:.1f}x: validate-logs takes at least its CPU and the sandbox's{added}, "
          f"{theirs:.1f}s; vigil at least the larger of its CPU and the sandbox's, {ours:.1f}s")
    if not latency_ms:
        objects = vigil.digests + vigil.log_files
        print(f"    client CPU per object read (process start included): vigil {1000 * vigil.cpu / objects:.2f} ms, "
              f"validate-logs {1000 * awscli_run.cpu / max(awscli_run.digests + awscli_run.log_files, 1):.2f} ms; "
              f"sandbox CPU per request {1000 * vigil.server_cpu / max(vigil.requests, 1):.2f} ms")


def _print_verdicts(intact_vigil: Run, intact_awscli: Run, tamperings: Sequence[Tampering], vigil: Run,
                    awscli_run: Run) -> None:
    agree = not intact_vigil.flagged and not intact_awscli.flagged
    print(f"  verdicts, intact chain: vigil {_verdict(intact_vigil)}, validate-logs {_verdict(intact_awscli)}"
          + ("" if agree else "  VERDICTS DIFFER"))
    print(f"  verdicts, one tampering per chain (vigil {vigil.seconds:.1f}s, validate-logs {awscli_run.seconds:.1f}s):")
    print(f"    {'tampering':<34} {'vigil verify-trail':<23} validate-logs")
    for t in tamperings:
        both = t.location in vigil.flagged and t.location in awscli_run.flagged
        print(f"    {t.case:<34} {vigil.flagged.get(t.location, 'not flagged'):<23} "
              f"{awscli_run.flagged.get(t.location, 'not flagged')}" + ("" if both else "  VERDICTS DIFFER"))
    tampered = {t.location for t in tamperings}
    for name, run in (("vigil", vigil), ("validate-logs", awscli_run)):
        for location in sorted(set(run.flagged) - tampered):
            print(f"    {name} also flagged s3://{location}: {run.flagged[location]}  VERDICTS DIFFER")


def _verdict(run: Run) -> str:
    return f"{len(run.flagged)} objects flagged" if run.flagged else "all valid"


# --- The two tools ------------------------------------------------------------------------------

def _environment(chain: Chain) -> dict[str, str]:
    """The sandbox's default credentials (the management account), and nothing of this machine's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return {**env, "AWS_ENDPOINT_URL": chain.endpoint, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": chain.home_region,
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true"}


def verify_with_vigil(chain: Chain, server_pid: int) -> Run:
    """`vigil verify-trail --json` over every account and region, where the trail says it delivers."""
    args = [sys.executable, "-m", "vigil", "verify-trail", "--json", "--trail", chain.trail,
            "--home-region", chain.home_region, "--accounts", ",".join(chain.accounts),
            "--regions", ",".join(chain.regions), "--lookback", f"{LOOKBACK_HOURS}h",
            "--concurrency", str(CONCURRENCY)]
    run = Run()
    with _measured(run, chain, server_pid):
        output, _ = _run(args, _environment(chain), run)
    result = json.loads(output)
    run.digests, run.log_files = result["digestsVerified"], result["logFilesVerified"]
    run.flagged = {f["object"].removeprefix("s3://"): f["kind"] for f in result["findings"]}
    return run


# What validate-logs writes on stderr for each object it finds invalid, and its summary's counts.
_INVALID = re.compile(r"^(?:\(backfill\) )?(?:Digest|Log) file\ts3://(\S+)\tINVALID: (.*)$", re.MULTILINE)
_VALID = re.compile(r"^(\d+)/\d+ (digest|backfill digest|log) files valid", re.MULTILINE)


def verify_with_awscli(aws: Path, chain: Chain, server_pid: int) -> Run:
    """`aws cloudtrail validate-logs` for each account and region, one after the other, from the
    start of vigil's window."""
    start = (datetime.now(timezone.utc) - timedelta(hours=LOOKBACK_HOURS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = Run()
    with _measured(run, chain, server_pid):
        for account in chain.accounts:
            for region in chain.regions:
                output, errors = _run([str(aws), "cloudtrail", "validate-logs", "--trail-arn", chain.trail_arn,
                                       "--start-time", start, "--account-id", account, "--region", region],
                                      _environment(chain), run)
                run.flagged.update(_INVALID.findall(errors))
                for count, kind in _VALID.findall(output):
                    if kind == "log":
                        run.log_files += int(count)
                    else:
                        run.digests += int(count)
    return run


class _measured:
    """Around a tool's runs: their wall clock, and the sandbox's CPU and requests meanwhile."""

    def __init__(self, run: Run, chain: Chain, server_pid: int) -> None:
        self.run, self.chain, self.server_pid = run, chain, server_pid

    def __enter__(self) -> None:
        self.requests, self.cpu, self.started = _requests(self.chain), cpu_seconds(self.server_pid), time.monotonic()

    def __exit__(self, *_: object) -> None:
        self.run.seconds = time.monotonic() - self.started
        self.run.server_cpu = cpu_seconds(self.server_pid) - self.cpu
        self.run.requests = _requests(self.chain) - self.requests


def _requests(chain: Chain) -> int:
    """How many AWS requests the sandbox has answered since it started recording."""
    with urllib.request.urlopen(f"{chain.endpoint}/_vigil/calls", timeout=60) as response:
        return len(json.load(response))


def _run(args: Sequence[str], env: dict[str, str], run: Run) -> tuple[str, str]:
    """A tool's stdout and stderr; its CPU seconds added to the run's, its peak RSS kept if higher.
    Exit 0 (all valid) and 1 (something invalid) are both verdicts; anything else is a failure."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors, env=env, text=True)
        peak = [0.0]
        sampler = threading.Thread(target=_sample_peak, args=(process.pid, peak), daemon=True)
        sampler.start()
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # reaped here, for its CPU time
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.join()
        errors.seek(0)
        error_text = errors.read()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{args[0]} exited with {process.returncode}: {error_text[-2000:]}")
    run.cpu += usage.ru_utime + usage.ru_stime
    run.peak_mib = max(run.peak_mib, peak[0])
    return output, error_text


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


def awscli() -> Path | None:
    """The `aws` of AWSCLI_VENV, installed there at AWSCLI_PINS on first use; None, said why,
    when it cannot be (no access to PyPI)."""
    installed = installed_awscli()
    if installed is not None:
        return installed
    print(f"  installing {AWSCLI_PINS[0]} into {AWSCLI_VENV.relative_to(ROOT)}/ (once: it carries a botocore of its "
          "own, and .venv holds only what the lock pins)", flush=True)
    started = time.monotonic()
    python = AWSCLI_VENV / "bin" / "python"
    for step in ([sys.executable, "-m", "venv", "--clear", str(AWSCLI_VENV)],
                 [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *AWSCLI_PINS]):
        if subprocess.run(step).returncode != 0:
            print("  awscli could not be installed (pip's output above): no comparison this time")
            return None
    _AWSCLI_STAMP.touch()
    print(f"  installed in {time.monotonic() - started:.0f}s", flush=True)
    return AWSCLI_VENV / "bin" / "aws"


_AWSCLI_STAMP = AWSCLI_VENV / f".installed-{'-'.join(AWSCLI_PINS)}"


def installed_awscli() -> Path | None:
    """The `aws` of AWSCLI_VENV if it holds AWSCLI_PINS, without installing anything."""
    aws = AWSCLI_VENV / "bin" / "aws"
    return aws if aws.exists() and _AWSCLI_STAMP.exists() else None


# --- The sandbox's process ----------------------------------------------------------------------

def serve_chain(connection: Connection) -> None:
    """Start the sandbox, make the trail and write its chain, send the Chain; then tamper when
    asked, until told to stop."""
    from .cli import start_sandbox
    from .gaps.cloudtrail import find_trail

    endpoint, organization, stop = start_sandbox(port=0)
    try:
        home = organization.regions[0]
        accounts = (organization.management, *organization.members)[:ACCOUNTS]
        store = MotoStore(organization.log_archive)
        store.create_bucket(BUCKET, home)
        store.backend.put_bucket_policy(BUCKET, _bucket_policy(organization.management).encode())
        trail_arn = _trail(endpoint, home)
        # Up to the newest hour whose digest is delivered by now: the chain stays whole, and its
        # newest digest on time, for the hour a bench takes.
        start = hour_floor(datetime.now(timezone.utc) - DELIVERY_DELAY) - timedelta(hours=HOURS)
        # Logging since the chain's first hour: every hour's digest is due.
        find_trail(organization.management, home, TRAIL).status.started = start.replace(tzinfo=None)
        layout = DigestLayout(BUCKET, PREFIX, TRAIL, home, organization.organization_id)
        writer = ChainWriter(store, layout, Signer.from_seed(), logs_per_hour=LOGS_PER_HOUR,
                             events_per_log=EVENTS_PER_LOG)
        keys = writer.write_trail(accounts, organization.regions, start, HOURS)
        digests = sum(len(chain) for chain in keys.values())
        connection.send(Chain(endpoint, trail_arn, home, organization.regions, accounts, digests,
                              digests * LOGS_PER_HOUR))
        while (command := connection.recv()) != "stop":
            assert command == "tamper", command
            connection.send(tamper(writer, keys))
    finally:
        stop()


def _bucket_policy(reader: str) -> str:
    """The trail's bucket: CloudTrail may write to it, the management account read it."""
    policy = json.loads(reader_policy(BUCKET, reader))
    policy["Statement"].append({"Effect": "Allow", "Principal": {"Service": CLOUDTRAIL},
                                "Action": ["s3:GetBucketAcl", "s3:PutObject"],
                                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]})
    return json.dumps(policy)


def _trail(endpoint: str, home: str) -> str:
    """The organization trail delivering to BUCKET, made and started as a user would: both tools
    find where it delivers from it."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=home)
    session.client("organizations", endpoint_url=endpoint).enable_aws_service_access(ServicePrincipal=CLOUDTRAIL)
    cloudtrail = session.client("cloudtrail", endpoint_url=endpoint)
    arn: str = cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET, S3KeyPrefix=PREFIX, IsOrganizationTrail=True,
                                       IsMultiRegionTrail=True, EnableLogFileValidation=True)["TrailARN"]
    cloudtrail.start_logging(Name=arn)
    return arn


# The ways validate-logs tells apart, one per chain (account x region), at its middle digest.
CASES = ("log file edited", "log file deleted", "gzip member appended to a log", "digest edited",
         "digest deleted", "digest signed by another key")


def tamper(writer: ChainWriter, keys: dict[tuple[str, str], list[str]]) -> list[Tampering]:
    done = []
    for case, chain in zip(CASES, keys.values(), strict=True):
        digest = chain[len(chain) // 2]
        log = writer.log_keys(digest)[1]
        if case == "log file edited":
            writer.flip_log_byte(log)
        elif case == "log file deleted":
            writer.delete(log)
        elif case == "gzip member appended to a log":
            writer.append_gzip_member(log, b'{"Records": []}')
        elif case == "digest edited":
            writer.hide_log_in_digest(digest)
        elif case == "digest deleted":
            writer.delete(digest)
        else:
            writer.resign_digest(digest, Signer.from_seed("not cloudtrail"))
        done.append(Tampering(case, f"{writer.layout.bucket}/{digest if 'digest' in case else log}"))
    return done
