"""The exit status of every `vigil` command: one meaning each, the same for every command, so a CI
job can tell "not compliant" from "could not tell" (README, `vigil --help`)."""

from __future__ import annotations

import argparse
from typing import NoReturn

OK = 0  # nothing to change: compliant, no change planned, every chain verified, files up to date
NOT_COMPLIANT = 1  # a verdict against: something differs, a finding, a stale generated file
CHANGES = 2  # plan: there are changes to make (terraform's -detailed-exitcode)
ERROR = 3  # no verdict: AWS or the cluster unreachable, no credentials, a manifest that cannot be loaded
USAGE = 64  # the command line is wrong (sysexits.h EX_USAGE): unknown command, flag, kind or region

EPILOG = f"""exit status, the same for every command:
  {OK}   nothing to change: compliant, no change planned, every chain verified, files up to date
  {NOT_COMPLIANT}   not compliant: audit or apply found a difference, verify-trail a finding,
      crds --check or iam --check a stale file
  {CHANGES}   changes to make (plan)
  {ERROR}   an error prevented a verdict: no AWS credentials or kubeconfig, AWS or the cluster
      unreachable, a manifest that cannot be loaded, a part that could not be read
  {USAGE}  a usage error: unknown command, flag, kind or region

--debug shows the traceback behind an error. docs/troubleshooting.md lists the common failures."""


class CommandError(Exception):
    """An expected failure, told as one line: what is wrong; what to do. ``details``: further lines
    (each manifest error, when there are several)."""

    def __init__(self, what: str, fix: str, code: int = ERROR, details: tuple[str, ...] = ()) -> None:
        super().__init__(what, fix)
        self.what, self.fix, self.code, self.details = what, fix, code, details

    def __str__(self) -> str:
        return "\n".join([f"{self.what}; {self.fix}", *(f"  {line}" for line in self.details)])


def failure(reason: str, message: str) -> CommandError:
    """A condition's or an AWS error's reason and sentence (aws.errors, written for the operator's
    status) as the command line tells it: credentials are the workstation's, and a command is not
    retried."""
    if reason == "NoCredentials":
        return CommandError("no AWS credentials found", "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                            "AWS_SECRET_ACCESS_KEY, as for the AWS CLI (docs/troubleshooting.md)")
    text = " ".join(message.split())
    for retried in ("; Vigil tries again", " Vigil tries again"):
        text = text.split(retried)[0]
    return CommandError(f"{reason}: {text.rstrip('.;')}", "correct that and run again (docs/troubleshooting.md)")


class UsageParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exits 64: argparse's own 2 means "changes" here.
    Every command's parser, `vigil run`'s too."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"error: {message}; see `{self.prog} --help`\n")
