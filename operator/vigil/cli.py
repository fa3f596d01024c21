"""The `vigil` command: run the operator, generate CRDs, show statuses, audit, plan and apply from
manifests, verify a trail's integrity."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .version import VERSION
from .workstation.exit_codes import EPILOG, NOT_COMPLIANT, OK, USAGE, CommandError, UsageParser, failure


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
    """Everything generated from the API: the CRDs, the weakening admission policy in deploy/, and
    the Helm chart's copies of both (a chart reads no file outside its own directory)."""
    from .admission_policy import policy_files
    from .crdgen import crd_files

    crds, policies = crd_files(), policy_files()
    chart = Path(args.chart) if args.chart else Path(args.deploy) / "helm" / "vigil"
    generated = {**{Path(args.output) / name: text for name, text in crds.items()},
                 **{Path(args.deploy) / name: text for name, text in policies.items()},
                 **{chart / "files" / "crds" / name: text for name, text in crds.items()
                    if name != "kustomization.yaml"},
                 **{chart / "files" / name: text for name, text in policies.items()}}
    return _write_or_check(generated, args.check, "`vigil crds`")


def _iam(args: argparse.Namespace, rest: list[str]) -> int:
    """The IAM policies and the member role's StackSet template, from vigil.aws.permissions."""
    from .iam_policies import IamSettings, iam_files

    given = {"role_name": args.role_name, "organization_id": args.organization_id, "external_id": args.external_id}
    settings = IamSettings(**{option: value for option, value in given.items() if value is not None})
    generated = {Path(args.output) / name: text for name, text in iam_files(settings).items()}
    return _write_or_check(generated, args.check, "`vigil iam` with the options they were made with (their "
                                                  "README.md names them)")


def _write_or_check(generated: dict[Path, str], check: bool, how: str) -> int:
    """Write generated files; or, with ``check``, say in one line which differ on disk (exit 1)."""
    if check:
        stale = [str(path) for path, text in generated.items() if not path.exists() or path.read_text() != text]
        if stale:
            print(f"stale generated files: {', '.join(stale)}; run {how}", file=sys.stderr)
            return NOT_COMPLIANT
        return OK
    for path, text in generated.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path)
    return OK


def _get(args: argparse.Namespace, rest: list[str]) -> int:
    from .status_table import ClusterError, kind_names, print_status, resolve_kind

    kinds = None
    if args.kind and args.kind.lower() not in ("vigil", "all"):  # kubectl's category for every kind
        try:
            kinds = [resolve_kind(name) for name in args.kind.split(",") if name]
        except KeyError as exc:
            raise CommandError(f"unknown kind {exc.args[0]!r}", f"use one of: {kind_names()}", USAGE) from None
    try:
        return print_status(namespace=args.namespace, kinds=kinds, names=args.names)
    except ClusterError as exc:
        raise CommandError(exc.what, exc.fix) from exc


def _workstation(name: str) -> Callable[[argparse.Namespace, list[str]], int]:
    def run(args: argparse.Namespace, rest: list[str]) -> int:
        from .workstation import commands

        return int(getattr(commands, name)(args))
    return run


def _verify_trail(args: argparse.Namespace, rest: list[str]) -> int:
    from .workstation.verify_trail import run

    return run(args)


def _evidence(args: argparse.Namespace, rest: list[str]) -> int:
    from .workstation.evidence import run

    return run(args)


def _parser() -> argparse.ArgumentParser:
    parser = UsageParser(prog="vigil", description=__doc__, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"vigil {VERSION}")
    parser.add_argument("--debug", action="store_true", help="show the traceback behind an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, **kwargs: object) -> argparse.ArgumentParser:
        made = commands.add_parser(name, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                                   **kwargs)  # type: ignore[arg-type]
        # After the command too (vigil audit --debug); not for run, whose --debug is kopf's.
        made.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return made

    run = commands.add_parser("run", help="run the operator (kopf's run flags: `vigil run --help`)",
                              add_help=False)
    run.set_defaults(func=_run)

    crds = command("crds", help="generate crds/, deploy/weakening-policy.yaml and the Helm chart's copies of "
                                "both from the API models")
    crds.add_argument("--output", "-o", default="crds")
    crds.add_argument("--deploy", default="deploy", help="where the weakening admission policy goes")
    crds.add_argument("--chart", help="the Helm chart whose files/ get the CRDs and the policy "
                                      "(default: DEPLOY/helm/vigil)")
    crds.add_argument("--check", action="store_true", help="exit 1 if the files differ from the models")
    crds.set_defaults(func=_crds)

    iam = command("iam", help="write the IAM policies Vigil needs and its member role's StackSet template",
                  description="Write the least-privilege IAM policies of the operator role and the member role "
                              "(each with a read-only variant for Audit mode), and a CloudFormation StackSet "
                              "template that makes the member role in every account; from the list of every AWS "
                              "operation Vigil calls (operator/vigil/aws/permissions.py).")
    from .workstation.arguments import external_id, organization_id, role_name

    iam.add_argument("--output", "-o", default="deploy/iam", help="the directory to write (default: deploy/iam)")
    iam.add_argument("--role-name", type=role_name, default=None,
                     help="the member role: the Organization's spec.access.roleName (default: its default, "
                          "OrganizationAccountAccessRole)")
    iam.add_argument("--organization-id", type=organization_id, default=None,
                     help="the organization (o-...): the operator role assumes the member role in its accounts "
                          "only (default: AWS's example id, which matches none)")
    iam.add_argument("--external-id", type=external_id, default=None,
                     help="the external id the member role asks for (the value of the Organization's "
                          "spec.access.externalIdSecretRef); the template's default")
    iam.add_argument("--check", action="store_true", help="exit 1 if the files differ from what would be written")
    iam.set_defaults(func=_iam)

    get = command("get", help="the status of vigil.dev objects, as `kubectl get vigil` shows it",
                  description="The status of vigil.dev objects from the cluster of the current kubeconfig "
                              "context, as `kubectl get` shows it.")
    get.add_argument("kind", nargs="?", metavar="KIND",
                     help="a kind by its name, plural or short name, any case (orgtrail, OrgTrails, vtrail); "
                          "comma-separated for several; every kind when omitted")
    get.add_argument("names", nargs="*", metavar="NAME", help="only these objects")
    get.add_argument("--namespace", "-n", default=None, help="one namespace; default: every namespace")
    get.set_defaults(func=_get)

    for name, text in (("audit", "report where AWS stands against manifests, read only (exit 1 when not compliant)"),
                       ("plan", "the AWS writes Enforce would make (exit 2 when there are some)"),
                       ("apply", "one reconcile pass from manifests, then the resulting status")):
        from .workstation.commands import add_arguments

        workstation = command(name, help=text, description=text)
        add_arguments(workstation, name)
        workstation.set_defaults(func=_workstation(name))

    verify = command("verify-trail", help="verify a trail's digests and log files (exit 1 on a finding)",
                     description="Verify a CloudTrail trail's digest chains and log files over a window.")
    from .workstation.verify_trail import add_arguments as verify_arguments

    verify_arguments(verify)
    verify.set_defaults(func=_verify_trail)

    evidence = command("evidence", help="verify Vigil's journal and write an evidence bundle (exit 1 if refused)",
                       description="Verify the journal's chain and signatures over a window, the trail's digests "
                                   "with --trail, and write bundle.json and bundle.html (docs/evidence.md).")
    from .workstation.evidence import add_arguments as evidence_arguments

    evidence_arguments(evidence)
    evidence.set_defaults(func=_evidence)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The exit status is one of workstation.exit_codes, whatever happens: an expected failure is
    one line on stderr (what is wrong; what to do), its traceback only with --debug."""
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return int(args.func(args, rest) or 0)
    except KeyboardInterrupt:
        return 130  # as a shell reports an interrupted command
    except Exception as exc:
        told = _explain(exc)
        if args.debug or told is None:
            traceback.print_exc()
        if told is None:
            told = CommandError(f"internal error ({type(exc).__name__}: {' '.join(str(exc).split())})",
                                "this is a bug in Vigil: please report it with the traceback above")
        print(f"error: {told}", file=sys.stderr)
        return told.code


def _explain(exc: Exception) -> CommandError | None:
    """An expected failure as one line; None for a bug."""
    if isinstance(exc, CommandError):
        return exc
    if "botocore" in sys.modules:  # else no AWS error can have been raised
        from botocore.exceptions import BotoCoreError, ClientError

        from .aws.errors import TargetError, classify

        if isinstance(exc, BotoCoreError | ClientError | TargetError):
            told = classify(exc)
            return failure(told.reason, told.message)
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return CommandError(f"{where}{exc.strerror}", "check the path and its permissions")
    return None


if __name__ == "__main__":
    sys.exit(main())
