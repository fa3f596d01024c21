"""`vigil audit`, `vigil plan`, `vigil apply`: argument handling, progress, exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..controls.base import Runtime
from . import render
from .manifests import Manifest, ManifestError, load
from .reconcile_once import AS_WRITTEN, AUDIT, Result, reconcile_all

OK, FAILED, CHANGES = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser, outputs: bool, html: bool = False) -> None:
    """``html``: the posture report page (docs/report.md) is offered too (audit)."""
    parser.add_argument("-f", "--filename", action="append", required=True, metavar="PATH",
                        help="a manifest file, a directory, or - for standard input (e.g. `kubectl kustomize`)")
    parser.add_argument("--namespace", "-n", default="default", help="for manifests that name none")
    parser.add_argument("--region", action="append", default=None,
                        help="only these regions (repeatable); controls with regions are narrowed to them")
    parser.add_argument("--concurrency", type=int, default=16, help="targets reconciled at once")
    parser.add_argument("--installation", default=os.environ.get("VIGIL_INSTALLATION", "default"),
                        help="the Vigil installation whose resources these are (as the operator's VIGIL_INSTALLATION)")
    if outputs:
        parser.add_argument("--output", "-o", choices=("table", "json", "junit", *(("html",) if html else ())),
                            default="table")


@contextmanager
def _progress(total: int) -> Iterator[Callable[[Manifest], None]]:
    """A progress bar on a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("reconciling", total=total)
        yield lambda manifest: bar.update(task, advance=1, description=str(manifest))


def _run(args: argparse.Namespace, mode: str | None) -> list[Result] | None:
    try:
        manifests = load(args.filename, args.namespace)
    except ManifestError as exc:
        print(f"error: {exc}\nnothing was sent to AWS", file=sys.stderr)
        return None
    with _progress(len(manifests)) as advance:
        runtime = Runtime(concurrency=args.concurrency, installation=args.installation)
        return reconcile_all(manifests, mode, runtime, args.region, advance)


def _print(results: list[Result], output: str, with_actions: bool = False) -> None:
    if output == "json":
        print(render.to_json(results, with_actions))
    elif output == "junit":
        print(render.to_junit(results))
    elif output == "html":
        print(render.to_html(results))
    else:
        render.print_table(render.finding_rows(results), "Findings")
        render.print_table(render.summary_rows(results), "Summary")


def audit(args: argparse.Namespace) -> int:
    """Observe AWS for every manifest as if in Audit mode; non-zero when anything is non-compliant."""
    results = _run(args, AUDIT)
    if results is None:
        return FAILED
    _print(results, args.output)
    return OK if all(render.compliant(r) for r in results) else FAILED


def plan(args: argparse.Namespace) -> int:
    """The writes Enforce would make; exit 2 when there are some, 0 when none (terraform's
    -detailed-exitcode), 1 when something could not be checked."""
    results = _run(args, AUDIT)
    if results is None:
        return FAILED
    print(render.plan_text(results))
    blocked = [r for r in results if not render.ready(r)]
    render.print_table(render.finding_rows(blocked), "Could not be planned", sys.stderr)
    if blocked:
        return FAILED
    return CHANGES if any(render.actions(r) for r in results) else OK


def apply(args: argparse.Namespace) -> int:
    """One reconcile pass as the operator would make it (each manifest's managementPolicy holds:
    an Audit manifest is only audited), then the resulting status per object."""
    results = _run(args, AS_WRITTEN)
    if results is None:
        return FAILED
    _print(results, args.output)
    return OK if all(render.ready(r) and render.compliant(r) for r in results) else FAILED
