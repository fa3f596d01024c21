"""What `vigil plan` prints, from the results of a pass (the pass itself faked, as in
test_cli_verdicts; tests/e2e/test_workstation.py runs it against the sandbox): the table grouped by
object, account (id and name), region and resource, compared with tests/unit/golden/plan.txt
(VIGIL_UPDATE_GOLDEN=1 rewrites it); `-o json` valid against docs/plan-output.schema.json and
`-o yaml` the same document.

The writes come from the real planners, judged by the real weakening gate as an Audit pass judges
them; only the conflict and the adoption (which a real pass reports in Enforce, after reading tags)
are built by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml

from vigil import cli
from vigil.api.logarchive import LogArchiveSpec
from vigil.api.orgtrail import OrgTrailSpec
from vigil.conditions import ADOPTION_REQUIRED, CONFLICT
from vigil.controls.base import Report, TargetReport
from vigil.controls.guard import Blocked, weakenings
from vigil.controls.reconciler import Outcome
from vigil.planning.actions import Action, Change
from vigil.planning.logarchive import LogArchiveTarget, desired_bucket_settings, plan_bucket
from vigil.planning.orgtrail import TrailTarget, desired_event_selectors, desired_trail_settings, plan_trail
from vigil.planning.ownership import Owner
from vigil.state.cloudtrail import TrailState
from vigil.state.logarchive import BucketState
from vigil.workstation import commands, plan_view, render
from vigil.workstation.exit_codes import CHANGES, OK
from vigil.workstation.manifests import Manifest
from vigil.workstation.reconcile_once import Result

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "plan.txt"
SCHEMA = json.loads((ROOT / "docs" / "plan-output.schema.json").read_text())
ORGANIZATION = str(ROOT / "examples" / "organization.yaml")

MANAGEMENT, LOG_ARCHIVE, WORKLOAD = "111111111111", "222222222222", "444444444444"
NAMES = {MANAGEMENT: "management", LOG_ARCHIVE: "log-archive"}  # the workload account's name was not read
KEY = f"arn:aws:kms:ca-central-1:{LOG_ARCHIVE}:key/k1"


def result(kind: str, name: str, *targets: TargetReport, ready: str = "True") -> Result:
    conditions = [{"type": "Ready", "status": ready, "reason": "Reconciled", "message": ""},
                  {"type": "Compliant", "status": "False" if targets else "True", "reason": "Reconciled"}]
    return Result(Manifest(kind, "baseline", name, {}, f"examples/{kind.lower()}.yaml"),
                  Outcome({"conditions": conditions}, report=Report(list(targets))), "Audit", NAMES)


def audited(label: str, actions: list[Action], allowances: frozenset[str] = frozenset()) -> TargetReport:
    """A target as an Audit pass reports it (TargetRun.converge): planned, and what the gate holds."""
    apply, held, _ = weakenings(actions, allowances)
    return TargetReport(label, planned=list(actions), held=held, withheld=[a for a in actions if a not in apply])


def new_trail() -> TargetReport:
    spec = OrgTrailSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"}})
    target = TrailTarget(MANAGEMENT, "ca-central-1", "acme-log-archive", KEY, Owner("baseline", "OrgTrail", "org-trail"))
    return audited(f"{MANAGEMENT}/ca-central-1/vigil-org-trail", plan_trail(spec, target, TrailState(exists=False)))


def stopped_trail() -> TargetReport:
    """The same trail, seen from a workload account's region, stopped: one change (drift)."""
    spec = OrgTrailSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"}})
    target = TrailTarget(WORKLOAD, "us-east-1", "acme-log-archive", KEY, Owner("baseline", "OrgTrail", "org-trail"))
    trail = TrailState(exists=True, arn=f"arn:aws:cloudtrail:us-east-1:{WORKLOAD}:trail/vigil-org-trail",
                       settings=desired_trail_settings(spec, target), is_logging=False,
                       event_selectors=desired_event_selectors(spec))
    return audited(f"{WORKLOAD}/us-east-1/vigil-org-trail", plan_trail(spec, target, trail))


def shortened_retention() -> TargetReport:
    """The archive's retention cut to a day, and versioning suspended: the one held, the other not."""
    spec = LogArchiveSpec.model_validate({"organizationRef": {"name": "acme"}, "bucketName": "acme-log-archive",
                                          "retention": {"expireAfterDays": 2555, "transitionToGlacierAfterDays": 90}})
    target = LogArchiveTarget(LOG_ARCHIVE, "ca-central-1", "o-abc123", Owner("baseline", "LogArchive", "central"))
    settings = desired_bucket_settings(spec, target, KEY).model_copy(update={"versioning": "Suspended"})
    bucket = BucketState(exists=True, account_id=LOG_ARCHIVE, region="ca-central-1", settings=settings)
    shortened = spec.model_copy(update={"retention": spec.retention.model_copy(
        update={"expire_after_days": 1, "transition_to_glacier_after_days": None})})
    return audited(f"{LOG_ARCHIVE}/ca-central-1/acme-log-archive", plan_bucket(shortened, target, KEY, bucket))


def blocked_resources() -> list[TargetReport]:
    """Session Manager's document, which another installation's object owns, and a log group nobody
    owns."""
    taken = f"{WORKLOAD}/ca-central-1/SSM-SessionManagerRunShell"
    theirs = Action(taken, WORKLOAD, "ca-central-1", "ssm", "UpdateDocument",
                    changes=(Change("preferences.s3_bucket_name", "team-b-logs", "acme-log-archive"),))
    unowned = f"{MANAGEMENT}/ca-central-1/ssm-sessions"
    theirs_not = Action(unowned, MANAGEMENT, "ca-central-1", "logs", "AssociateKmsKey",
                        changes=(Change("kms_key_id", None, KEY),))
    return [
        TargetReport(taken, planned=[theirs], blocked=[Blocked(
            taken, CONFLICT, "owned by team-b/SessionLogging/ssm (installation b); Vigil wrote nothing to it")]),
        TargetReport(unowned, planned=[theirs_not], blocked=[Blocked(
            unowned, ADOPTION_REQUIRED, f"exists and no Vigil object owns it; Vigil would: {theirs_not.summary()}. "
                                        "Set spec.adoptionPolicy: Adopt to take it over")]),
    ]


def results() -> list[Result]:
    return [
        result("Organization", "acme"),  # nothing to change: not shown
        result("LogArchive", "central", shortened_retention()),
        result("OrgTrail", "org-trail", new_trail(), stopped_trail()),
        result("SessionLogging", "ssm", *blocked_resources()),
    ]


def test_the_table_reads_by_object_account_region_and_resource():
    text = render.plan_text(results()) + "\n"
    if os.environ.get("VIGIL_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "the plan changed: review it, then VIGIL_UPDATE_GOLDEN=1 to accept it"


def test_the_summary_counts_creates_changes_held_and_conflicts():
    summary = plan_view.build(results()).summary
    creates = sum(a.creates for a in new_trail().planned)
    assert (summary.create, summary.change, summary.held, summary.conflicts) == (creates, 2, 1, 2)
    assert render.plan_text(results()).splitlines()[-1] == (
        f"Plan: {creates} to create, 2 to change, 1 held (weakening), 2 conflicts.")


def test_no_change_says_so():
    assert render.plan_text([result("Organization", "acme")]) == (
        "No changes planned.\nPlan: 0 to create, 0 to change, 0 held (weakening), 0 conflicts.")


def test_an_account_is_named_by_its_id_alone_when_its_name_was_not_read():
    text = render.plan_text(results())
    assert f"  account {LOG_ARCHIVE} (log-archive)\n" in text
    assert f"  account {WORKLOAD}\n" in text


def plan(monkeypatch, capsys, output: str, rs: list[Result]) -> tuple[int, str]:
    monkeypatch.setattr(commands, "reconcile_all", lambda *args, **kwargs: rs)
    code = cli.main(["plan", "-f", ORGANIZATION, "-o", output])
    return code, capsys.readouterr().out


def test_json_follows_the_documented_schema(monkeypatch, capsys):
    code, out = plan(monkeypatch, capsys, "json", results())
    assert code == CHANGES
    document = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    archive = document["objects"][1]
    assert (archive["kind"], archive["accounts"][0]["id"], archive["accounts"][0]["name"]) == \
        ("LogArchive", LOG_ARCHIVE, "log-archive")
    writes = archive["accounts"][0]["regions"][0]["resources"][0]["writes"]
    held = next(w for w in writes if w["effect"] == "held")
    assert held["operation"] == "PutBucketLifecycleConfiguration"
    assert held["allowances"] == ["spec.retention.expireAfterDays=1"]
    assert document["summary"] == {"create": sum(a.creates for a in new_trail().planned), "change": 2, "held": 1,
                                   "conflicts": 2}
    conflicts = [b["reason"] for o in document["objects"] for a in o["accounts"] for r in a["regions"]
                 for res in r["resources"] for b in res["blocked"]]
    assert sorted(conflicts) == [ADOPTION_REQUIRED, CONFLICT]


@pytest.mark.parametrize("rs, code", [([result("Organization", "acme")], OK), (results(), CHANGES)])
def test_yaml_is_the_same_document(monkeypatch, capsys, rs, code):
    exit_code, as_yaml = plan(monkeypatch, capsys, "yaml", rs)
    assert exit_code == code
    _, as_json = plan(monkeypatch, capsys, "json", rs)
    assert yaml.safe_load(as_yaml) == json.loads(as_json)
    jsonschema.validate(yaml.safe_load(as_yaml), SCHEMA, cls=jsonschema.Draft202012Validator)


def test_an_object_that_could_not_be_planned_says_why_in_the_document():
    broken = result("FlowLogPolicy", "vpcs", ready="False")
    broken.outcome.status["conditions"][0].update(reason="DependencyNotReady", message="LogArchive central not Ready")
    document = plan_view.as_document(plan_view.build([broken]))
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert document["objects"][0]["error"] == {"reason": "DependencyNotReady",
                                               "message": "LogArchive central not Ready"}
