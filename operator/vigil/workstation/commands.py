"""`vigil audit`, `vigil plan`, `vigil apply`: argument handling, progress, exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..conditions import ADOPTION_REQUIRED, COMPLIANT, CONFLICT, DEPENDENCY_NOT_READY, READY, get_condition
from ..controls.base import Runtime
from . import render
from .arguments import region
from .exit_codes import CHANGES, NOT_COMPLIANT, OK, CommandError, failure
from .manifests import Manifest, ManifestError, load
from .reconcile_once import AS_WRITTEN, AUDIT, InventoryRecord, Result, reconcile_all

NOTHING_SENT = "nothing was sent to AWS: correct the manifest and run again"


# What each command can print: statuses (audit adds the posture report page, docs/report.md),
# or the plan (json and yaml: docs/plan-output.md).
OUTPUTS = {"audit": ("table", "json", "junit", "html"), "apply": ("table", "json", "junit"),
           "plan": ("table", "json", "yaml")}


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument("-f", "--filename", action="append", required=True, metavar="PATH",
                        help="a manifest file, a directory, or - for standard input (e.g. `kubectl kustomize`)")
    parser.add_argument("--namespace", "-n", default="default", help="for manifests that name none")
    parser.add_argument("--region", action="append", default=None, type=region,
                        help="only these regions (repeatable); controls with regions are narrowed to them")
    parser.add_argument("--concurrency", type=int, default=16, help="targets reconciled at once")
    parser.add_argument("--installation", default=os.environ.get("VIGIL_INSTALLATION", "default"),
                        help="the Vigil installation whose resources these are (as the operator's VIGIL_INSTALLATION)")
    parser.add_argument("--output", "-o", choices=OUTPUTS[command], default="table",
                        help="table: for a reviewer; json, yaml: docs/plan-output.md" if command == "plan" else None)


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


def _run(args: argparse.Namespace, mode: str | None, preview: bool = False) -> list[Result]:
    try:
        manifests = load(args.filename, args.namespace)
    except ManifestError as exc:
        errors = str(exc).splitlines()
        if len(errors) == 1:
            raise CommandError(errors[0], NOTHING_SENT) from None
        raise CommandError(f"{len(errors)} manifest errors", NOTHING_SENT.replace("manifest", "manifests"),
                           details=tuple(errors)) from None
    with _progress(len(manifests)) as advance:
        # The directory keeps the inventories read, so a plan names the accounts it writes to.
        runtime = Runtime(concurrency=args.concurrency, installation=args.installation, directory=InventoryRecord(),
                          preview=preview)
        return reconcile_all(manifests, mode, runtime, args.region, advance)


def _unchecked(results: list[Result]) -> list[Result]:
    """The objects with no verdict: not Ready, or Compliant neither True nor False."""
    return [r for r in results if not render.ready(r) or render.compliance(r) not in ("True", "False")]


def no_verdict(results: list[Result], unchecked: list[Result], where: str = "the findings") -> CommandError:
    """Why there is no verdict, as one line: the first cause that is not a dependency's."""
    if len(unchecked) < len(results):
        shown = ", ".join(str(r.manifest) for r in unchecked[:3]) + (", ..." if len(unchecked) > 3 else "")
        return CommandError(f"{len(unchecked)} of {len(results)} objects could not be checked ({shown})",
                            f"{where} say why; correct that and run again")
    causes = [get_condition(r.outcome.status.get("conditions"), READY if not render.ready(r) else COMPLIANT) or {}
              for r in unchecked]
    cause = next((c for c in causes if c.get("reason") != DEPENDENCY_NOT_READY), causes[0] if causes else {})
    return failure(str(cause.get("reason", "Unknown")), str(cause.get("message") or ""))


def verdict(results: list[Result]) -> int:
    """0 compliant, 1 when any object is not; CommandError when an object could not be checked and
    none is found not compliant (a partial check is no verdict of compliance)."""
    unchecked = _unchecked(results)
    if len(unchecked) == len(results):
        raise no_verdict(results, unchecked)
    if any(render.compliance(r) == "False" for r in results):
        return NOT_COMPLIANT
    if unchecked:
        raise no_verdict(results, unchecked)
    return OK


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
    """Observe AWS for every manifest as if in Audit mode: 0 compliant, 1 when anything is not, 3
    when something could not be checked."""
    results = _run(args, AUDIT)
    _print(results, args.output)
    return verdict(results)


def plan(args: argparse.Namespace) -> int:
    """The writes Enforce would make, as a table for a reviewer or as the document of
    docs/plan-output.md; exit 2 when there are some, 0 when none (terraform's -detailed-exitcode),
    3 when something could not be planned."""
    results = _run(args, AUDIT, preview=True)
    print(render.plan_json(results) if args.output == "json" else render.plan_yaml(results)
          if args.output == "yaml" else render.plan_text(results))
    blocked = [r for r in results if not render.ready(r) and not _only_owner_refusals(r)]
    if blocked:
        if len(blocked) < len(results):
            render.print_table(render.finding_rows(blocked), "Could not be planned", sys.stderr)
        raise no_verdict(results, blocked, "the \"Could not be planned\" rows")
    return CHANGES if any(render.actions(r) for r in results) else OK


def _only_owner_refusals(result: Result) -> bool:
    """Not Ready only because Enforce would not touch resources of another owner, or of nobody:
    planned all the same, the plan marks them "x"."""
    failures = result.outcome.status.get("failures") or []
    return bool(failures) and all(f.get("reason") in (CONFLICT, ADOPTION_REQUIRED) for f in failures)


def apply(args: argparse.Namespace) -> int:
    """One reconcile pass as the operator would make it (each manifest's managementPolicy holds:
    an Audit manifest is only audited), then the resulting status per object: 0 when everything is
    Ready and Compliant, 1 when something is not compliant (a weakening held among them), 3 when
    something could not be reconciled."""
    results = _run(args, AS_WRITTEN)
    _print(results, args.output)
    return verdict(results)
