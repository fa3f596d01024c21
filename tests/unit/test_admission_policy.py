"""The generated weakening guard (vigil.admission_policy): deploy/weakening-policy.yaml is what the
table generates and the install ships it; every kind's rules are in the policy; it matches the
objects (never their status or finalizers) on create and update, fails closed and denies; who may
allow is decided by a verb only the shipped approver role grants (not the operator's role, not any
role by aggregation); and `vigil crds --check` catches a stale policy. The CEL itself runs on a real
API server in tests/kube/test_weakening_policy.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from vigil.admission_policy import (APPROVE_VERB, APPROVER_ROLE, FILE, POLICY, WILDCARD_PROBE, documents,
                                    policy_files)
from vigil.api import GROUP, KINDS, VERSION
from vigil.cli import main
from vigil.planning.spec_weakening import SPEC_RULES, cel_entries
from vigil.planning.weakening import ALLOW_ANNOTATION

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
POLICY_DOC, BINDING, ROLE = documents()


def variables() -> dict[str, str]:
    return {v["name"]: v["expression"] for v in POLICY_DOC["spec"]["variables"]}


def test_deploy_holds_the_policy_as_generated_and_installs_it() -> None:
    assert (DEPLOY / FILE).read_text() == policy_files()[FILE], "deploy/ is stale: run `vigil crds`"
    assert FILE in yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["resources"]
    assert list(yaml.safe_load_all((DEPLOY / FILE).read_text())) == documents()


def test_every_rule_of_every_kind_is_a_variable_the_kind_sums() -> None:
    found = variables()
    needed = found["needed"]
    for kind, rules in SPEC_RULES.items():
        branch = re.search(rf"request.kind.kind == '{kind}' \? \((.*?)\) :", needed, re.DOTALL)
        assert branch, f"{kind} has no branch in `needed`"
        for rule in rules:
            name = f"{kind}_{rule.path.replace('.', '_')}"
            assert found[name] == cel_entries(kind, rule)
            assert f"variables.{name}" in branch.group(1) and f"variables.{name}" in found["weakened"]
            assert f"'{rule.field}=" in found[name] or f"'{rule.field} " in found["weakened"]


def test_it_judges_the_objects_on_create_and_update_fails_closed_and_denies() -> None:
    spec = POLICY_DOC["spec"]
    [rule] = spec["matchConstraints"]["resourceRules"]
    assert rule["apiGroups"] == [GROUP] and rule["apiVersions"] == [VERSION]
    assert rule["operations"] == ["CREATE", "UPDATE"]
    # Only the objects: the operator's status writes (a subresource) are never judged.
    assert rule["resources"] == [info.plural for info in KINDS.values()]
    assert not any("/" in resource or "*" in resource for resource in rule["resources"])
    assert spec["failurePolicy"] == "Fail"
    assert BINDING["spec"] == {"policyName": POLICY, "validationActions": ["Deny"]}
    # A spec left as it is (the operator's finalizer and annotation patches) reaches no rule.
    assert "object.spec != oldObject.spec" in variables()["needed"]


def test_each_refusal_explains_itself() -> None:
    validations = POLICY_DOC["spec"]["validations"]
    assert [v["reason"] for v in validations] == ["Forbidden", "Forbidden", "Invalid", "Invalid"]
    assert all(v["message"] and v["messageExpression"] for v in validations)
    assert "authorizer" not in " ".join(v["messageExpression"] for v in validations)  # not in a message's scope
    weakening = validations[-1]["messageExpression"]
    assert "variables.weakened" in weakening and "kubectl annotate --overwrite -n" in weakening
    assert ALLOW_ANNOTATION in weakening and APPROVE_VERB in weakening


def test_allowing_takes_the_verb_by_name_not_a_wildcard() -> None:
    found = variables()
    assert f".check('{APPROVE_VERB}').allowed()" in found["approver"]
    assert f".check('{WILDCARD_PROBE}').allowed()" in found["wildcard"]
    assert "request.resource.resource" in found["approver"] and "object.metadata.name" in found["approver"]
    expressions = [v["expression"] for v in POLICY_DOC["spec"]["validations"]]
    assert "variables.added.size() == 0 || !variables.wildcard" in expressions
    assert "variables.added.size() == 0 || variables.approver" in expressions
    # An entry counts as added when the previous object did not have it: removing one needs nothing.
    assert found["added"] == "variables.allowances.filter(e, !(e in variables.granted))"


def test_the_approver_role_grants_the_verb_and_is_aggregated_into_nothing() -> None:
    assert ROLE["kind"] == "ClusterRole" and ROLE["metadata"]["name"] == APPROVER_ROLE
    assert "aggregationRule" not in ROLE
    assert not any(label.startswith("rbac.authorization.k8s.io/aggregate-to") for label in ROLE["metadata"]["labels"])
    [rule] = ROLE["rules"]
    assert rule["apiGroups"] == [GROUP] and rule["resources"] == [info.plural for info in KINDS.values()]
    assert APPROVE_VERB in rule["verbs"] and WILDCARD_PROBE not in rule["verbs"]
    shipped = [doc for path in DEPLOY.glob("*.yaml") for doc in yaml.safe_load_all(path.read_text())
               if doc and doc.get("kind") in ("RoleBinding", "ClusterRoleBinding")]
    assert not any(b["roleRef"]["name"] == APPROVER_ROLE for b in shipped), "bound to nobody by default"


def test_the_operators_role_cannot_allow() -> None:
    operator = [doc for doc in yaml.safe_load_all((DEPLOY / "rbac.yaml").read_text()) if doc and doc["kind"] == "ClusterRole"]
    for rule in operator[0]["rules"]:
        assert APPROVE_VERB not in rule["verbs"] and "*" not in rule["verbs"], rule


def test_vigil_crds_writes_the_policy_and_check_catches_it_stale(tmp_path: Path, capsys) -> None:
    crds, deploy = tmp_path / "crds", tmp_path / "deploy"
    arguments = ["crds", "--output", str(crds), "--deploy", str(deploy)]
    assert main(arguments) == 0
    assert (deploy / FILE).read_text() == policy_files()[FILE]
    assert main([*arguments, "--check"]) == 0
    (deploy / FILE).write_text((deploy / FILE).read_text().replace("Fail", "Ignore"))
    assert main([*arguments, "--check"]) == 1
    assert str(deploy / FILE) in capsys.readouterr().err
