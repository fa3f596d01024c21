"""``vigil-sandbox``: the AWS stand-in, seeded, on a local port until stopped.

``start_sandbox()`` is the same thing for tests, in their own process.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict

from vigil_sandbox.awsserver import reset_aws_state, start_aws_server
from vigil_sandbox.digests import SANDBOX_TRAIL_BUCKET, seed_trail
from vigil_sandbox.gaps import apply_gaps, clear_public_keys, remove_gaps
from vigil_sandbox.rate_limits import ENVIRONMENT_VARIABLE, MODES, from_mode
from vigil_sandbox.seed import (
    DEFAULT_REGIONS,
    DEFAULT_WORKLOADS,
    SandboxOrganization,
    seed_organization,
)


def start_sandbox(
    port: int = 0,
    workloads: int = DEFAULT_WORKLOADS,
    regions: Sequence[str] = DEFAULT_REGIONS,
    host: str = "127.0.0.1",
    rate_limits: str = "off",
) -> tuple[str, SandboxOrganization, Callable[[], None]]:
    """Start moto with the gaps, seed the organization; return (endpoint, organization, stop).

    Moto's state is per process, and this starts it afresh: one sandbox per process at a time.
    The call record starts empty, after the seeding; so do AWS's rate limits, with ``rate_limits``
    "aws" (vigil_sandbox.rate_limits).
    """
    limits = from_mode(rate_limits)
    reset_aws_state()
    clear_public_keys()
    server = start_aws_server(host, port)
    apply_gaps()

    def stop() -> None:
        server.stop()
        remove_gaps()

    try:
        organization = seed_organization(server.endpoint, workloads, regions)
        seed_trail(organization)
    except BaseException:
        stop()
        raise
    server.recorder.reset()
    server.limit_rates(limits)
    # What is loaded by now (moto, botocore's models, the seeded organization) lives as long as
    # the sandbox: kept out of the collector's full passes, which would otherwise walk all of
    # it again and again while serving, and once more at exit.
    gc.freeze()
    return server.endpoint, organization, stop


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigil-sandbox",
        description="Serve a moto-based AWS stand-in with a seeded organization until stopped.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    parser.add_argument(
        "--workloads", type=int, default=DEFAULT_WORKLOADS, help="how many workload accounts"
    )
    parser.add_argument(
        "--regions",
        default=",".join(DEFAULT_REGIONS),
        help="governed regions, comma-separated; the first is the home region",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the endpoint and organization as one JSON line"
    )
    parser.add_argument(
        "--rate-limits", choices=MODES, default=os.environ.get(ENVIRONMENT_VARIABLE, "off"),
        help=f"aws: throttle requests beyond AWS's documented rates, once seeded (default: ${ENVIRONMENT_VARIABLE}, "
             "else off)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.rate_limits not in MODES:  # argparse checks choices given, not a default from the environment
        parser.error(f"{ENVIRONMENT_VARIABLE} must be one of {', '.join(MODES)}, not {args.rate_limits!r}")
    regions = [region.strip() for region in args.regions.split(",") if region.strip()]
    endpoint, organization, stop = start_sandbox(args.port, args.workloads, regions, args.host, args.rate_limits)

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())

    if args.json:  # one line, for a parent process to read
        print(json.dumps({"endpoint": endpoint, **asdict(organization)}), flush=True)
    else:
        print(
            f"AWS sandbox on {endpoint}\n"
            f"  export AWS_ENDPOINT_URL={endpoint}\n"
            "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing\n"
            f"  export AWS_DEFAULT_REGION={regions[0]}\n"
            f"calls made: {endpoint}/_vigil/calls\n"
            f"faults to inject: POST a plan to {endpoint}/_vigil/faults (docs/testing.md, Faults)\n"
            f"AWS's rate limits: {args.rate_limits}\n"
            f"{organization.summary()}\n"
            f"signed CloudTrail digests of the last hours: vigil verify-trail --bucket {SANDBOX_TRAIL_BUCKET} "
            f"--prefix cloudtrail --trail vigil-org-trail --home-region {regions[0]} "
            f"--organization-id {organization.organization_id} --regions {','.join(regions)}",
            flush=True,
        )
    stopping.wait()
    stop()
    return 0
