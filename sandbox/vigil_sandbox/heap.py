"""The operator's largest heap holders, by package: what its code keeps once imported, and what one
reconcile pass over the examples adds and keeps, from tracemalloc snapshots. `make bench` prints
it; ``python -m vigil_sandbox.heap [--top N] [--imports-only]`` does the same alone.

The operator's code runs here in-process, as in `vigil run`: its modules imported with the
kubernetes client kept out (vigil.cli), then one pass of the reconcilers (the workstation's
`vigil apply`, vigil.workstation.reconcile_once) against a fresh sandbox of its own. Run it in a
fresh interpreter (``report()`` does): a process that has imported the kubernetes client, as the
bench and the tests have, would show kopf holding it.

An allocation is charged to the innermost frame outside the standard library (json's decoder
parsing botocore's data is botocore's); the code objects of imported modules, which the import
machinery allocates, are one line of their own. tracemalloc sees what Python allocates, not what
C and Rust extensions allocate themselves (pydantic-core's validators, OpenSSL): the resident
size, measured on the real operator, is the figure; this says where the Python part of it lies.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import subprocess
import sys
import sysconfig
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# Deep enough to get past json, copy and dataclasses to the package that called them (24 charges
# the same to within 1%, and takes twice as long).
FRAMES = 8
CODE_OBJECTS = "(code objects of imported modules)"
_STDLIB = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])


def charged_file(traceback: tracemalloc.Traceback) -> str:
    """The file of the innermost frame outside the standard library; while the standard library
    imports its own modules, that module's; CODE_OBJECTS for the import machinery's own."""
    stdlib = None
    for frame in reversed(traceback):  # innermost first: tracemalloc keeps the oldest frame first
        name = frame.filename
        if name.startswith("<frozen importlib"):
            return stdlib or CODE_OBJECTS
        if name.startswith("<") or (name.startswith(_STDLIB) and "site-packages" not in name):
            stdlib = stdlib or (None if name.startswith("<") else name)
            continue
        return name
    return traceback[-1].filename


@functools.cache
def module_name(filename: str) -> str:
    """``botocore.hooks``, ``vigil.aws.session``, ``stdlib json.decoder``."""
    parts = Path(filename).with_suffix("").parts
    if "site-packages" in parts:
        return ".".join(parts[parts.index("site-packages") + 1:])
    for top in ("vigil", "vigil_sandbox"):
        if top in parts:
            return ".".join(parts[parts.index(top):])
    if filename.startswith(_STDLIB):
        return "stdlib " + ".".join(Path(filename).relative_to(_STDLIB[0]).with_suffix("").parts)
    return filename


def package_name(module: str) -> str:
    """vigil by subpackage (vigil.aws), anything else by its top-level name."""
    if module.startswith(("stdlib ", "(", "<")):
        return module
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "vigil" else parts[0]


def sizes_by_module(snapshot: tracemalloc.Snapshot, since: tracemalloc.Snapshot | None = None) -> Counter[str]:
    """Bytes by module charged: those live in ``snapshot``, or, given ``since``, those added after it."""
    sizes: Counter[str] = Counter()
    if since is None:
        for stat in snapshot.statistics("traceback"):
            sizes[module_name(charged_file(stat.traceback))] += stat.size
    else:
        for diff in snapshot.compare_to(since, "traceback"):
            sizes[module_name(charged_file(diff.traceback))] += diff.size_diff
    return sizes


def print_holders(title: str, by_module: Counter[str], top: int) -> None:
    """The ``top`` packages, each with its three largest modules."""
    by_package: Counter[str] = Counter()
    for module, size in by_module.items():
        by_package[package_name(module)] += size
    print(f"  {title}: {sum(by_module.values()) / 2**20:.1f} MiB traced; the largest holders:")
    for package, size in by_package.most_common(top):
        modules = sorted(((s, m) for m, s in by_module.items() if package_name(m) == package and m != package),
                         reverse=True)[:3]
        inside = ", ".join(f"{m.removeprefix(package + '.')} {s / 2**20:.1f}" for s, m in modules if s >= 2**16)
        print(f"    {size / 2**20:7.2f} MiB  {package}" + (f" ({inside})" if inside else ""))


def operator_heap(top: int = 12, endpoint: str | None = None, examples: Path = EXAMPLES) -> None:
    """Import the operator's modules, and with ``endpoint`` (an AWS sandbox) reconcile ``examples``
    once; print the largest holders after each."""
    from vigil.cli import UNUSED_IN_THE_OPERATOR

    for name in UNUSED_IN_THE_OPERATOR:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # as `vigil run` does
    tracemalloc.start(FRAMES)
    import vigil.handlers  # noqa: F401  (and through it everything the operator runs)
    import vigil.run  # noqa: F401
    gc.collect()
    imported = tracemalloc.take_snapshot()
    print_holders("the operator's modules imported", sizes_by_module(imported), top)
    if endpoint is None:
        return
    from vigil.controls.base import Runtime
    from vigil.workstation.manifests import load
    from vigil.workstation.reconcile_once import reconcile_all

    os.environ.update(aws_environment(endpoint))
    runtime = Runtime()  # kept, as the operator keeps its own: what it holds is the point
    reconcile_all(load([str(examples)], "default"), None, runtime)
    gc.collect()
    print_holders(f"kept after one reconcile pass over {examples.name}/",
                  sizes_by_module(tracemalloc.take_snapshot(), since=imported), top)


def aws_environment(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "ca-central-1", "AWS_EC2_METADATA_DISABLED": "true"}


def report(top: int = 12) -> None:
    """The same, in a fresh interpreter (for the bench, whose own process holds the kubernetes client)."""
    sys.stdout.flush()
    subprocess.run([sys.executable, "-m", "vigil_sandbox.heap", "--top", str(top)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vigil_sandbox.heap", description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=12, help="holders shown per stage")
    parser.add_argument("--imports-only", action="store_true", help="no sandbox, no reconcile pass")
    args = parser.parse_args(argv)
    if args.imports_only:
        operator_heap(args.top)
        return 0
    sandbox = subprocess.Popen([sys.executable, "-m", "vigil_sandbox", "--port", "0", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert sandbox.stdout is not None
        endpoint = json.loads(sandbox.stdout.readline())["endpoint"]
        operator_heap(args.top, endpoint)
    finally:
        sandbox.terminate()
        sandbox.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
