"""Vigil's own CPU per AWS call, against a bare boto3 loop making the same calls.

A pass of Vigil's reconcilers (the `vigil apply` path, in this process) runs against a sandbox in
another process, with every call it makes captured as (service, account, region, operation,
parameters). The same calls are then made again by a plain loop: one boto3 client per service x
account x region, made before the clock starts, each call in turn. Both figures are this process's
CPU (``time.process_time``: every thread, not the sandbox's), so their ratio is what Vigil adds to
botocore per call: planning, ownership, fan-out, status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from vigil.aws import session as aws_session
from vigil.controls.base import Runtime
from vigil.workstation.manifests import load
from vigil.workstation.reconcile_once import InventoryRecord, reconcile_all


@dataclass(frozen=True)
class Captured:
    service: str
    account: str
    region: str
    operation: str  # botocore's method name: describe_vpcs
    params: dict[str, Any]


@dataclass(frozen=True)
class Pass:
    calls: list[Captured]
    cpu_seconds: float
    wall_seconds: float
    clients_cpu_seconds: float = 0.0  # of cpu_seconds, making clients (their models loaded): once a process

    @property
    def cpu_per_call_ms(self) -> float:
        return 1000 * self.cpu_seconds / max(1, len(self.calls))

    @property
    def cpu_per_call_ms_made_clients_apart(self) -> float:
        """As the bare loop is timed: its clients are made before its clock starts."""
        return 1000 * (self.cpu_seconds - self.clients_cpu_seconds) / max(1, len(self.calls))


class CaptureLog(list[Captured]):
    """The calls captured, and the CPU spent making clients (each thread's own, summed)."""

    def __init__(self) -> None:
        super().__init__()
        self.clients_cpu_seconds = 0.0
        self.lock = threading.Lock()


@contextmanager
def capturing() -> Iterator[CaptureLog]:
    """Every call Vigil's clients made while inside, with its parameters (a handler of botocore's
    ``provide-client-params`` event added to each client as it is made). Clients outlive a pass,
    so the list is the same one for every pass: a pass takes its calls out of it."""
    captured = CaptureLog()
    original = aws_session._instrument
    create_client = botocore.session.Session.create_client

    def timed_create_client(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()  # this thread's CPU: other threads go on calling meanwhile
        try:
            return create_client(*args, **kwargs)
        finally:
            spent = time.thread_time() - started
            with captured.lock:
                captured.clients_cpu_seconds += spent

    def instrument(client: Any, region: str, budget: Any) -> None:
        original(client, region, budget)
        service = client.meta.service_model.service_name

        def capture(params: dict[str, Any], model: Any, **_: Any) -> None:
            account = aws_session._SPEAKER.get().account_id
            captured.append(Captured(service, account, region, _method(client, model.name), dict(params)))

        client.meta.events.register("provide-client-params", capture)

    aws_session._instrument = instrument
    botocore.session.Session.create_client = timed_create_client  # type: ignore[method-assign]
    try:
        yield captured
    finally:
        aws_session._instrument = original
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


def _method(client: Any, operation: str) -> str:
    return next(m for m, op in client.meta.method_to_api_mapping.items() if op == operation)


def vigil_pass(manifests: list[Path], runtime: Runtime, captured: CaptureLog) -> Pass:
    """One reconcile pass of the manifests (as `vigil apply` makes it), its calls and its CPU.
    ``runtime`` is kept from pass to pass, as the operator keeps it: its clients are made once."""
    loaded = load([str(p) for p in manifests], "default")
    captured.clear()
    captured.clients_cpu_seconds = 0.0
    wall, cpu = time.monotonic(), time.process_time()
    reconcile_all(loaded, None, runtime)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return Pass(list(captured), cpu, wall, captured.clients_cpu_seconds)


def bare_loop(calls: list[Captured], role: str = "OrganizationAccountAccessRole") -> Pass:
    """The same calls, one after another, from reused clients made beforehand."""
    session = boto3.Session()
    config = Config(retries={"mode": "standard"})
    own = session.client("sts", config=config).get_caller_identity()["Account"]
    keys: dict[str, dict[str, str]] = {}
    for account in {c.account for c in calls} - {own, ""}:  # "": the operator's own, before it knows its account
        creds = session.client("sts", config=config).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="bare")["Credentials"]
        keys[account] = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                         "aws_session_token": creds["SessionToken"]}
    clients = {(c.service, c.account, c.region): session.client(
        c.service, region_name=None if c.region == "global" else c.region, config=config, **keys.get(c.account, {}))
        for c in calls}
    wall, cpu = time.monotonic(), time.process_time()
    for c in calls:
        try:
            answer = getattr(clients[(c.service, c.account, c.region)], c.operation)(**c.params)
            body = answer.get("Body") if isinstance(answer, dict) else None
            if body is not None:
                body.read()  # Vigil reads what it gets (digests, documents)
        except ClientError:
            pass  # an error answer costs its parsing, as Vigil's do
    return Pass(calls, time.process_time() - cpu, time.monotonic() - wall)


def compare(workdir: Path, manifests: list[Path], workloads: int = 10) -> tuple[Pass, Pass, Pass, Pass]:
    """On a fresh sandbox of its own process: Vigil's first pass and a second one (nothing drifted),
    each followed by the bare loop replaying its calls. The replay of the first pass meets an
    organization already converged, so its writes are answered as AWS answers a repeat (most
    are idempotent; a create answers that the resource exists): the second pass's pair, reads
    against the same state, is the like-for-like figure."""
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / "aws.log").open("w") as log:
        sandbox = subprocess.Popen([sys.executable, "-m", "vigil_sandbox", "--port", "0", "--json",
                                    "--workloads", str(workloads)], stdout=subprocess.PIPE, stderr=log, text=True)
    saved = dict(os.environ)
    try:
        assert sandbox.stdout is not None
        endpoint = json.loads(sandbox.stdout.readline())["endpoint"]
        os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ca-central-1",
                           "AWS_EC2_METADATA_DISABLED": "true"})
        runtime = Runtime(directory=InventoryRecord())
        with capturing() as captured:
            first = vigil_pass(manifests, runtime, captured)
            second = vigil_pass(manifests, runtime, captured)
        return first, bare_loop(first.calls), second, bare_loop(second.calls)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sandbox.terminate()
        sandbox.wait(timeout=30)
