"""The `vigil` command: run the operator, generate CRDs, show statuses."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


# kopf imports these clients whenever they are installed (for typing and to piggyback on their
# login); the operator never uses them, and the kubernetes client alone would be most of its memory.
UNUSED_IN_THE_OPERATOR = ("kubernetes", "kubernetes_asyncio", "pykube")


def _run(args: argparse.Namespace, rest: list[str]) -> int:
    """Start the operator: kopf with Vigil's handlers (kopf's `run` flags), under leader election
    when VIGIL_LEADER_ELECTION is set (vigil.run)."""
    for name in UNUSED_IN_THE_OPERATOR:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None makes `import` fail fast
    from .run import main as run_operator

    return run_operator(rest)


def _crds(args: argparse.Namespace, rest: list[str]) -> int:
    """Everything generated from the API: the CRDs, and the weakening admission policy in deploy/."""
    from .admission_policy import policy_files
    from .crdgen import crd_files

    generated = {**{Path(args.output) / name: text for name, text in crd_files().items()},
                 **{Path(args.deploy) / name: text for name, text in policy_files().items()}}
    if args.check:
        stale = [str(path) for path, text in generated.items() if not path.exists() or path.read_text() != text]
        if stale:
            print(f"stale generated files: {', '.join(stale)}; run `vigil crds`", file=sys.stderr)
            return 1
        return 0
    for path, text in generated.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path)
    return 0


def _get(args: argparse.Namespace, rest: list[str]) -> int:
    from .status_table import print_status

    return print_status(namespace=args.namespace, kinds=args.kinds or None)


def _workstation(name: str) -> Callable[[argparse.Namespace, list[str]], int]:
    def run(args: argparse.Namespace, rest: list[str]) -> int:
        from .workstation import commands

        return int(getattr(commands, name)(args))
    return run


def _verify_trail(args: argparse.Namespace, rest: list[str]) -> int:
    from .workstation.verify_trail import run

    return run(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vigil", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the operator (kopf's run flags: `vigil run --help`)",
                              add_help=False)
    run.set_defaults(func=_run)

    crds = commands.add_parser("crds", help="generate crds/ and deploy/weakening-policy.yaml from the API models")
    crds.add_argument("--output", "-o", default="crds")
    crds.add_argument("--deploy", default="deploy", help="where the weakening admission policy goes")
    crds.add_argument("--check", action="store_true", help="exit 1 if the files differ from the models")
    crds.set_defaults(func=_crds)

    get = commands.add_parser("get", help="the status of every vigil.dev object, as `kubectl get vigil` shows it")
    get.add_argument("kinds", nargs="*")
    get.add_argument("--namespace", "-n", default=None)
    get.set_defaults(func=_get)

    for name, text in (("audit", "report where AWS stands against manifests, read only"),
                       ("plan", "the AWS writes Enforce would make (exit 2 when there are some)"),
                       ("apply", "one reconcile pass from manifests, then the resulting status")):
        from .workstation.commands import add_arguments

        command = commands.add_parser(name, help=text, description=text)
        add_arguments(command, outputs=name != "plan", html=name == "audit")
        command.set_defaults(func=_workstation(name))

    verify = commands.add_parser("verify-trail", help="verify a trail's digests and log files (exit 1 on a finding)",
                                 description="Verify a CloudTrail trail's digest chains and log files over a window.")
    from .workstation.verify_trail import add_arguments as verify_arguments

    verify_arguments(verify)
    verify.set_defaults(func=_verify_trail)

    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return int(args.func(args, rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
