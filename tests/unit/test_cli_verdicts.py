"""What `vigil audit`, `plan` and `apply` exit with, from the statuses a pass produced (the pass
itself faked: tests/e2e/test_workstation.py runs it against the sandbox): 0 compliant or nothing
to change, 1 not compliant, 2 changes to make, 3 no verdict. Also `vigil get`'s kind names, and
the version in the metrics and in the AWS User-Agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vigil import cli, metrics
from vigil.api import KINDS
from vigil.aws.session import AccessSettings, AwsAccess
from vigil.controls.reconciler import Outcome
from vigil.status_table import resolve_kind
from vigil.version import VERSION
from vigil.workstation import commands, render
from vigil.workstation.exit_codes import CHANGES, ERROR, NOT_COMPLIANT, OK, USAGE
from vigil.workstation.manifests import Manifest
from vigil.workstation.reconcile_once import Result

ORGANIZATION = str(Path(__file__).resolve().parents[2] / "examples" / "organization.yaml")


def result(name: str, ready: str, compliant: str, reason: str = "Reconciled", message: str = "") -> Result:
    conditions = [{"type": "Ready", "status": ready, "reason": reason, "message": message},
                  {"type": "Compliant", "status": compliant, "reason": reason, "message": message}]
    return Result(Manifest("OrgTrail", "baseline", name, {}, "test.yaml"), Outcome({"conditions": conditions}),
                  "Audit")


def run(monkeypatch, command: str, results: list[Result], changes: bool = False) -> int:
    monkeypatch.setattr(commands, "reconcile_all", lambda *args, **kwargs: results)
    monkeypatch.setattr(render, "actions", lambda r: ["a change"] if changes else [])
    monkeypatch.setattr(render, "plan_text", lambda rs: "the plan")
    return cli.main([command, "-f", ORGANIZATION, "-o", "json"] if command != "plan" else [command, "-f", ORGANIZATION])


COMPLIANT = result("a", "True", "True")
DIFFERS = result("b", "True", "False", "Drifted")
UNCHECKED = result("c", "False", "Unknown", "AccessDenied", "AWS denied cloudtrail:DescribeTrails to someone. "
                   "Allow it; Vigil tries again when the spec changes or at the next resync.")


@pytest.mark.parametrize("command", ["audit", "apply"])
@pytest.mark.parametrize("results, code", [
    ([COMPLIANT], OK),
    ([COMPLIANT, DIFFERS], NOT_COMPLIANT),
    ([DIFFERS, UNCHECKED], NOT_COMPLIANT),  # a difference found is a verdict, whatever else was not checked
    ([COMPLIANT, UNCHECKED], ERROR),  # compliant as far as it was checked is no verdict
    ([UNCHECKED], ERROR),
])
def test_audit_and_apply_exit_with_their_verdict(monkeypatch, capsys, command, results, code):
    assert run(monkeypatch, command, results) == code
    err = capsys.readouterr().err
    if code == ERROR and len(results) == 1:
        assert err == ("error: AccessDenied: AWS denied cloudtrail:DescribeTrails to someone. Allow it; "
                       "correct that and run again (docs/troubleshooting.md)\n")
    elif code == ERROR:
        assert err == ("error: 1 of 2 objects could not be checked (OrgTrail baseline/c); the findings say why; "
                       "correct that and run again\n")


@pytest.mark.parametrize("results, changes, code", [
    ([COMPLIANT], False, OK),
    ([COMPLIANT, DIFFERS], True, CHANGES),
    ([COMPLIANT, UNCHECKED], True, ERROR),
    ([UNCHECKED], False, ERROR),
])
def test_plan_exits_2_with_changes_and_3_when_something_could_not_be_planned(monkeypatch, capsys, results, changes,
                                                                              code):
    assert run(monkeypatch, "plan", results, changes) == code
    out, err = capsys.readouterr()
    assert out == "the plan\n"
    if code == ERROR:
        assert err.splitlines()[-1].startswith("error: ")


def test_no_credentials_is_told_for_a_workstation(monkeypatch, capsys):
    no_credentials = result("d", "False", "Unknown", "NoCredentials", "Vigil found no AWS credentials ... Give the "
                            "operator's ServiceAccount an IAM role (docs/deployment.md)")
    assert run(monkeypatch, "audit", [no_credentials]) == ERROR
    assert capsys.readouterr().err == ("error: no AWS credentials found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                                       "AWS_SECRET_ACCESS_KEY, as for the AWS CLI (docs/troubleshooting.md)\n")


def test_a_bug_is_an_error_with_its_traceback_never_a_verdict(monkeypatch, capsys):
    def broken(*args: Any, **kwargs: Any) -> list[Result]:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(commands, "reconcile_all", broken)
    assert cli.main(["audit", "-f", ORGANIZATION]) == ERROR
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.splitlines()[-1] == ("error: internal error (ZeroDivisionError: division by zero); this is a bug in "
                                    "Vigil: please report it with the traceback above")


def test_usage_errors_exit_64(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["plan", "-f", ORGANIZATION, "--region", "us-east-1", "--region", "Europe"])
    assert exited.value.code == USAGE
    assert capsys.readouterr().err == ("error: argument --region: 'Europe' is not an AWS region name (as us-east-1, "
                                       "eu-west-3, us-gov-west-1); see `vigil plan --help`\n")


def test_the_operators_usage_errors_exit_64_too(capsys):
    # `vigil run` takes kopf's flags with a parser of its own: the same code and the same one line.
    # (Its parser directly: `cli.main(["run", ...])` would bar the kubernetes client from this process.)
    from vigil import run

    with pytest.raises(SystemExit) as exited:
        run.main(["--all-namespaces", "--namespace", "baseline"])
    assert exited.value.code == USAGE
    assert capsys.readouterr().err == ("error: either --namespace or --all-namespaces, not both; "
                                       "see `vigil run --help`\n")


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_by_any_of_its_names(kind: str):
    info = KINDS[kind]
    for name in (kind, kind.lower(), kind.upper(), info.plural, info.plural.title(), *info.short_names,
                 f"{info.plural}.vigil.dev", f"{kind.lower()}.vigil.dev"):
        assert resolve_kind(name) == kind, name


def test_get_passes_the_kinds_and_names_it_resolved(monkeypatch):
    asked: dict[str, Any] = {}
    monkeypatch.setattr("vigil.status_table.print_status", lambda **kwargs: asked.update(kwargs) or 0)
    assert cli.main(["get", "orgtrail,VLA", "org-trail", "-n", "baseline"]) == OK
    assert asked == {"namespace": "baseline", "kinds": ["OrgTrail", "LogArchive"], "names": ["org-trail"]}
    assert cli.main(["get", "vigil"]) == OK and asked["kinds"] is None
    assert cli.main(["get"]) == OK and asked["kinds"] is None


def test_get_an_unknown_kind_lists_the_valid_names(capsys):
    assert cli.main(["get", "trail"]) == USAGE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("error: unknown kind 'trail'; use one of: organization (organizations, vorg), ")
    assert all(info.plural in err and all(s in err for s in info.short_names) for info in KINDS.values())


def test_the_version_is_in_the_metrics_and_the_aws_user_agent():
    assert metrics.REGISTRY.get_sample_value("vigil_build_info", {"version": VERSION}) == 1
    access = AwsAccess(AccessSettings())
    assert f"vigil/{VERSION}" in access._config.user_agent_extra


class FakeCluster:
    """CustomObjectsApi's two list calls, over one OrgTrail; ``refuse``: the API server's answer instead."""

    def __init__(self, refuse: int | None = None) -> None:
        self.refuse = refuse

    def list_cluster_custom_object(self, group: str, version: str, plural: str) -> dict[str, Any]:
        return self.list_namespaced_custom_object(group, version, "", plural)

    def list_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str) -> dict[str, Any]:
        if self.refuse:
            from kubernetes.client.exceptions import ApiException

            raise ApiException(status=self.refuse, reason="Not Found" if self.refuse == 404 else "Forbidden")
        if plural != "orgtrails":
            return {"items": []}
        return {"items": [{"metadata": {"namespace": "baseline", "name": "org-trail",
                                        "creationTimestamp": "2026-01-01T00:00:00Z"}}]}


def test_get_shows_the_objects_asked_for_and_names_the_missing(monkeypatch, capsys):
    monkeypatch.setattr("vigil.status_table._cluster_api", FakeCluster)
    assert cli.main(["get", "vtrail", "org-trail"]) == OK
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("baseline    orgtrail.vigil.dev/org-trail")
    assert cli.main(["get", "orgtrails", "other", "-n", "baseline"]) == ERROR
    assert capsys.readouterr().err == ("error: other not found in namespace baseline; list what there is with "
                                       "`vigil get orgtrail`\n")


@pytest.mark.parametrize("status, said", [
    (404, "error: the cluster does not serve orgtrails.vigil.dev; install Vigil's CRDs: kubectl apply -k deploy/\n"),
    (403, "error: the cluster refused to list orgtrails.vigil.dev (403 Forbidden); check the kubeconfig's "
          "credentials and that they may get and list vigil.dev objects\n"),
])
def test_get_tells_what_the_cluster_refused(monkeypatch, capsys, status, said):
    monkeypatch.setattr("vigil.status_table._cluster_api", lambda: FakeCluster(refuse=status))
    assert cli.main(["get", "OrgTrail"]) == ERROR
    assert capsys.readouterr().err == said
