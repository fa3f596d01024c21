"""Guardrails planner: the statements the namespace's objects call for (Vigil's role denied what it
never does), packing within AWS's 5,120 characters, the limit of five policies per target refused
with its figures, another tool's equivalent guardrail recognized (and one that exempts more not),
and the writes: created and attached, a detached policy re-attached as drift, a repacking that is
no weakening, a protection lost or a target dropped that is one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from vigil.api.guardrails import GuardrailsSpec
from vigil.aws.permissions import operations_by_service
from vigil.planning import guardrails as planning
from vigil.planning.guardrail_catalogue import BUILDERS, protections
from vigil.planning.guardrail_policy import POLICY_CHARACTERS, Statement, denials, pack, to_json
from vigil.planning.ownership import Owner
from vigil.planning.weakening import classify
from vigil.state.guardrails import RCP, SCP, OrgPolicy, PolicyTypeState
from vigil_sandbox.examples import example

OPERATOR = Path(__file__).resolve().parents[2] / "operator" / "vigil"
OWNER = Owner("baseline", "Guardrails", "guardrails", "default", "uid-1")
ROOT, ORG, ACCOUNT, REGION = "r-vigl", "o-vigilsandbox", "123456789012", "ca-central-1"
VIGIL_ROLE = "OrganizationAccountAccessRole"
KEY = "arn:aws:kms:ca-central-1:222222222222:key/36ff062e-61e6-4db0-924f-19e405e5b395"
FULL_ACCESS = OrgPolicy("p-FullAWSAccess", "FullAWSAccess", json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}), True)


def neighbours(*kinds: str) -> list[tuple[str, str, dict]]:
    """The example objects of ``kinds`` as the namespace holds them; the LogArchive Ready, with its key."""
    found = []
    for kind in kinds:
        doc = example(kind)
        status = {"kmsKeyArn": KEY} if kind == "LogArchive" else {}
        found.append((kind, doc["metadata"]["name"], {"spec": doc["spec"], "status": status}))
    return found


BASELINE = neighbours(*BUILDERS)


def spec(**fields) -> GuardrailsSpec:
    return GuardrailsSpec.model_validate({"organizationRef": {"name": "acme"}, **fields})


def wanted(policy_type: str = SCP, break_glass: tuple[str, ...] = ("VigilBreakGlass",),
           objects: list | None = None) -> list[Statement]:
    return planning.statements(protections(BASELINE if objects is None else objects, "default"), policy_type,
                               list(break_glass), VIGIL_ROLE, ORG)


def statement_denying(statements: list[Statement], action: str) -> Statement:
    return next(s for s in statements if action in s.actions)


def desired(policy_type: str = SCP, statements: list[Statement] | None = None, others=(), **fields):
    """The desired documents for a spec (with the example's break-glass role unless it names others)."""
    fields.setdefault("breakGlassRoleNames", ["VigilBreakGlass"])
    made = spec(**fields)
    if statements is None:
        statements = wanted(policy_type, tuple(made.break_glass_role_names))
    return planning.desired(made, OWNER, policy_type, statements, list(others))


def observed(policy_type: str = SCP, ours: dict | None = None, attached: dict | None = None) -> PolicyTypeState:
    return PolicyTypeState(policy_type, True, ours or {}, attached or {ROOT: (FULL_ACCESS,)})


def plan(want, state: PolicyTypeState, targets=(ROOT,)):
    return [a for step in planning.plan(want, state, list(targets), ROOT, OWNER, ACCOUNT, REGION)
            for a in step.actions]


# --- what is denied, and to whom ------------------------------------------------------------------


def test_vigils_own_role_is_denied_what_vigil_never_does():
    scp = wanted()
    stop = statement_denying(scp, "cloudtrail:StopLogging")
    assert stop.exempt == ("arn:aws:iam::*:role/VigilBreakGlass",)
    update = statement_denying(scp, "cloudtrail:UpdateTrail")
    assert update.exempt == ("arn:aws:iam::*:role/OrganizationAccountAccessRole",
                             "arn:aws:iam::*:role/VigilBreakGlass")
    for never in ("s3:DeleteObject", "s3:DeleteBucketPolicy", "kms:ScheduleKeyDeletion", "guardduty:DeleteDetector",
                  "securityhub:DisableSecurityHub", "config:StopConfigurationRecorder"):
        assert f"role/{VIGIL_ROLE}" not in " ".join(statement_denying(scp, never).exempt), never


def test_without_a_break_glass_role_nobody_is_exempt_from_what_vigil_never_does():
    stop = statement_denying(wanted(break_glass=()), "cloudtrail:StopLogging")
    assert stop.exempt == ()
    assert "Condition" not in stop.document()


def test_what_vigil_never_does_is_called_nowhere_in_its_code():
    """The ``never`` lists are the promise that not even Vigil's role needs those calls: none is
    among the operations Vigil calls (vigil.aws.permissions, to which botocore's models are trimmed,
    so no other can be called), and no module of the operator calls one as a boto3 method."""
    source = "\n".join(p.read_text() for p in OPERATOR.rglob("*.py") if "guardrail" not in p.name)
    never = {a.split(":", 1)[1] for p in protections(BASELINE, "default") for a in p.never}
    assert "StopLogging" in never and "DeleteObject" in never
    called = {operation for operations in operations_by_service().values() for operation in operations}
    for operation in sorted(never):
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        assert operation not in called and f".{snake}(" not in source, operation


def test_each_object_of_the_namespace_brings_its_protection():
    only_archive = wanted(objects=neighbours("LogArchive"))
    assert {a.split(":")[0] for s in only_archive for a in s.actions} == {"s3", "kms"}
    resources = {r for s in only_archive for r in s.resources}
    assert resources == {"arn:aws:s3:::acme-log-archive", "arn:aws:s3:::acme-log-archive/*", KEY}
    trail = statement_denying(wanted(objects=neighbours("OrgTrail")), "cloudtrail:StopLogging")
    assert trail.resources == ("arn:aws:cloudtrail:*:*:trail/vigil-org-trail",)


def test_a_logarchive_without_its_key_yet_protects_its_bucket():
    doc = example("LogArchive")
    statements = wanted(objects=[("LogArchive", "central", {"spec": doc["spec"], "status": {}})])
    assert statements and not any(a.startswith("kms:") for s in statements for a in s.actions)


def test_flow_logs_are_protected_only_where_vigil_manages_them():
    flow = statement_denying(wanted(), "ec2:DeleteFlowLogs")
    assert flow.condition == (("StringEquals", "aws:ResourceTag/vigil.dev/installation", ("default",)),)


def test_an_rcp_protects_the_archive_from_anyone_and_from_outside_the_organization():
    rcp = wanted(RCP)
    assert {a.split(":")[0] for s in rcp for a in s.actions} == {"s3", "kms"}
    assert all(s.everyone for s in rcp)
    outside = next(s for s in rcp if s.sid.endswith("DenyOutsideOrg") and "s3:DeleteObject" in s.actions)
    assert outside.exempt == ()
    assert ("StringNotEqualsIfExists", "aws:PrincipalOrgID", (ORG,)) in outside.condition
    assert "s3:PutBucketPolicy" in outside.actions  # a role named like Vigil's elsewhere is no one's


# --- AWS's limits ---------------------------------------------------------------------------------


def test_documents_are_compact_and_within_the_size_limit():
    many = [f"Role{i:02d}WithAQuiteLongNameForBreakGlassAccess" for i in range(10)]
    statements = wanted(break_glass=tuple(many))
    documents = pack(statements)
    assert len(documents) >= 2
    assert all(len(to_json(d)) <= POLICY_CHARACTERS for d in documents)
    assert set().union(*(denials(to_json(d)) for d in documents)) == set().union(*(s.denials() for s in statements))
    assert " " not in to_json(documents[0]).replace("no one", "")


def test_a_statement_too_big_alone_is_split_by_actions():
    big = Statement("Big", tuple(f"ec2:Action{i:04d}WithALongName" for i in range(400)))
    documents = pack([big])
    assert len(documents) > 1 and all(len(to_json(d)) <= POLICY_CHARACTERS for d in documents)
    assert sum(len(s.actions) for d in documents for s in d) == 400


def test_more_policies_than_a_target_takes_are_refused_with_the_figures():
    others = tuple(OrgPolicy(f"p-other{i}", f"landing-zone-{i}", "{}") for i in range(2))
    want = desired(breakGlassRoleNames=[f"Role{i:02d}WithAQuiteLongNameForBreakGlassAccess" for i in range(10)])
    assert len(want.documents) == 3
    refusal = planning.limit_error(want, observed(attached={ROOT: (FULL_ACCESS, *others)}), [ROOT])
    assert refusal is not None
    assert "need 3 service control policies on r-vigl" in refusal
    assert "already has 3 others attached (FullAWSAccess, landing-zone-0, landing-zone-1)" in refusal
    assert "AWS allows 5 per target" in refusal and "5,120 per policy" in refusal
    assert planning.limit_error(want, observed(), [ROOT]) is None


def test_vigils_own_attached_policies_do_not_count_against_it():
    want = desired()
    ours = {name: OrgPolicy(f"p-{i}", name, content, targets=(ROOT,))
            for i, (name, content) in enumerate(want.documents.items())}
    others = tuple(OrgPolicy(f"p-other{i}", f"other-{i}", "{}") for i in range(3))
    state = observed(ours=ours, attached={ROOT: (FULL_ACCESS, *others, *ours.values())})
    assert planning.limit_error(want, state, [ROOT]) is None


# --- another tool's guardrails --------------------------------------------------------------------


def landing_zone(statement: dict) -> OrgPolicy:
    return OrgPolicy("p-lz", "landing-zone-guardrails", json.dumps({"Version": "2012-10-17",
                                                                    "Statement": [statement]}))


def test_an_equivalent_guardrail_of_another_tool_is_recognized_not_duplicated():
    lz = landing_zone({"Sid": "GuardDutyProtected", "Effect": "Deny", "Action": "guardduty:*", "Resource": "*"})
    want = desired(others=[lz])
    content = " ".join(want.documents.values())
    assert "guardduty:DeleteDetector" not in content and "guardduty:UpdateDetector" not in content
    assert {(r.policy_name, r.statement, r.covers) for r in want.recognized} == {
        ("landing-zone-guardrails", "GuardDutyProtected", "GuardDutyDeny"),
        ("landing-zone-guardrails", "GuardDutyProtected", "GuardDutyDenyButVigil")}
    assert "cloudtrail:StopLogging" in content


def test_a_guardrail_that_exempts_another_role_is_not_the_same_guardrail():
    lz = landing_zone({"Effect": "Deny", "Action": "guardduty:*", "Resource": "*", "Condition": {
        "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/AWSControlTowerExecution"}}})
    want = desired(others=[lz])
    assert want.recognized == []
    assert "guardduty:DeleteDetector" in " ".join(want.documents.values())


def test_a_guardrail_on_other_resources_or_with_other_conditions_is_not_recognized():
    elsewhere = landing_zone({"Effect": "Deny", "Action": "cloudtrail:StopLogging",
                              "Resource": "arn:aws:cloudtrail:*:*:trail/aws-controltower-BaselineCloudTrail"})
    conditional = landing_zone({"Effect": "Deny", "Action": "*", "Resource": "*",
                                "Condition": {"StringEquals": {"aws:RequestedRegion": "ap-east-1"}}})
    assert desired(others=[elsewhere, conditional]).recognized == []


# --- the writes ------------------------------------------------------------------------------------


def test_a_new_organization_gets_its_policy_type_enabled_then_policies_created_and_attached():
    want = desired()
    state = PolicyTypeState(SCP, False)
    actions = plan(want, state)
    assert [a.operation for a in actions] == ["EnablePolicyType", *["CreatePolicyAndAttach"] * len(want.documents)]
    create = actions[1]
    assert create.params["TargetIds"] == [ROOT] and create.params["Type"] == SCP
    assert {t["Key"] for t in create.params["Tags"]} >= {"vigil.dev/owner", "vigil.dev/installation"}
    assert all(a.creates for a in actions) and not any(classify(a) for a in actions)


def converged(want) -> PolicyTypeState:
    ours = {name: OrgPolicy(f"p-{i}", name, content, targets=(ROOT,))
            for i, (name, content) in enumerate(want.documents.items())}
    return observed(ours=ours)


def test_in_sync_plans_nothing():
    want = desired()
    assert plan(want, converged(want)) == []


def test_a_policy_detached_behind_vigils_back_is_attached_again_as_drift():
    want = desired()
    state = converged(want)
    name = next(iter(want.documents))
    state.ours[name] = OrgPolicy(state.ours[name].id, name, want.documents[name], targets=())
    [attach] = plan(want, state)
    assert (attach.operation, attach.params["TargetId"], attach.creates) == ("AttachPolicy", ROOT, False)
    assert classify(attach) == []


def test_a_rewritten_policy_is_put_back_and_a_repacking_weakens_nothing():
    want = desired()
    state = converged(want)
    name = next(iter(want.documents))
    edited = json.loads(want.documents[name])
    edited["Statement"] = edited["Statement"][:1]
    state.ours[name] = OrgPolicy(state.ours[name].id, name, json.dumps(edited), targets=(ROOT,))
    [update] = plan(want, state)
    assert update.operation == "UpdatePolicy" and not update.creates
    assert classify(update) == []  # it gains denials back: a strengthening


def test_a_protection_lost_with_its_object_is_a_weakening_named_by_the_policy():
    before = desired()
    state = converged(before)
    without_trail = [n for n in BASELINE if n[0] != "OrgTrail"]
    after = desired(statements=wanted(objects=without_trail))
    updates = [a for a in plan(after, state) if a.operation == "UpdatePolicy"]
    found = [w for a in updates for w in classify(a)]
    assert found and all(w.allowance.startswith("guardrails.vigil-baseline-guardrails-scp-") for w in found)
    assert any("cloudtrail:StopLogging" in " ".join(w.before) for w in found)


def test_a_target_dropped_is_a_weakening_and_a_move_to_the_root_is_not():
    want = desired()
    ou_a, ou_b = "ou-vigl-security", "ou-vigl-workloads"
    state = observed(ours={name: OrgPolicy(f"p-{i}", name, c, targets=(ou_a, ou_b))
                           for i, (name, c) in enumerate(want.documents.items())},
                     attached={ou_a: (FULL_ACCESS,)})
    detaches = [a for a in plan(want, state, targets=(ou_a,)) if a.operation == "DetachPolicy"]
    assert detaches and all(a.params["TargetId"] == ou_b for a in detaches)
    assert all(classify(a) for a in detaches)
    to_root = plan(want, state, targets=(ROOT,))
    assert {a.operation for a in to_root} == {"AttachPolicy", "DetachPolicy"}
    assert not any(classify(a) for a in to_root)


def test_turning_a_policy_type_off_removes_vigils_policies_as_a_weakening():
    want = desired()
    state = converged(want)
    off = desired(serviceControlPolicies={"enabled": False})
    actions = plan(off, state)
    assert {a.operation for a in actions} == {"DetachPolicy", "DeletePolicy"}
    assert all(classify(a) for a in actions)


def test_a_plan_made_in_full_leaves_the_policies_it_wrote_with_the_ids_aws_gave():
    """What status shows after a pass whose whole plan was made, without reading it all again."""
    want = desired()
    first, *others = want.documents
    state = observed(ours={first: OrgPolicy("p-kept", first, "{}", targets=("ou-vigl-security",))})
    after = planning.settled(want, state, [ROOT], {name: f"p-new-{i}" for i, name in enumerate(others)})
    assert {name: (p.id, p.content, p.targets) for name, p in after.items()} == {
        first: ("p-kept", want.documents[first], (ROOT,)),
        **{name: (f"p-new-{i}", want.documents[name], (ROOT,)) for i, name in enumerate(others)}}
    assert planning.settled(want, PolicyTypeState(SCP, False), [ROOT], {}) == {}, "no id from AWS: not shown"


def test_policy_names_fit_aws_limit():
    long = Owner("n" * 63, "Guardrails", "g" * 200)
    name = planning.policy_name(long, SCP, 3)
    assert len(name) <= planning.MAX_POLICY_NAME and name.endswith("-scp-3")
    assert name != planning.policy_name(Owner("n" * 63, "Guardrails", "g" * 199), SCP, 3)


@pytest.mark.parametrize("fields,message", [
    ({"attachTo": {"root": True, "organizationalUnits": ["ou-vigl-security"]}}, "one of the two"),
    ({"attachTo": {"root": False}}, "one of the two"),
    ({"breakGlassRoleNames": ["A", "A"]}, "lists a role twice"),
])
def test_specs_that_say_two_things_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        spec(**fields)
