"""Generate deploy/weakening-policy.yaml: the weakening guard at admission.

A ValidatingAdmissionPolicy (with its binding) that refuses an update of a vigil.dev object which
weakens its spec relative to the previous spec, unless the object's ``vigil.dev/allow-weakening``
annotation names every such change (``planning.spec_weakening`` is the table, rendered here as
CEL); and that refuses any create or update adding an entry to that annotation unless the
requester is granted the verb ``allow-weakening`` on the object by name. A GitOps tool's service
account lacks that verb, so a compromised repository can neither weaken a spec nor allow it; a
person holding it adds the allowance with ``kubectl annotate``.

Written by ``vigil crds`` beside the CRDs; ``vigil crds --check`` fails when it is stale.
"""

from __future__ import annotations

from typing import Any

import yaml

from .api import GROUP, KINDS, VERSION
from .planning.spec_rules import Rule, cel_literal
from .planning.spec_weakening import SPEC_RULES, cel_description, cel_entries
from .planning.weakening import ALLOW_ANNOTATION, ALLOWANCE_PATTERN

FILE = "weakening-policy.yaml"
POLICY = "vigil-weakening"
APPROVER_ROLE = "vigil-weakening-approver"
# The verb RBAC must grant, on the kind's resource, to whoever adds an allowance. No built-in
# role has it: only a rule naming it (or "*", which WILDCARD_PROBE rules out) grants it.
APPROVE_VERB = "allow-weakening"
# A verb no role should name: whoever is allowed it holds "*" on the resource (cluster-admin, or
# the controller of a GitOps tool, which Argo CD and Flux install with "*" by default). Such a
# grant is not a decision to approve weakening, so it does not count as APPROVE_VERB.
WILDCARD_PROBE = "vigil-wildcard-probe"
LABELS = {"app.kubernetes.io/name": "vigil", "app.kubernetes.io/part-of": "vigil"}


def _entries_of(root: str) -> str:
    return (f"{root}.metadata.?annotations[?'{ALLOW_ANNOTATION}'].orValue('')"
            ".replace('\\n', ',').split(',').map(e, e.trim()).filter(e, e != '')")


def _authorized(verb: str) -> str:
    return (f"authorizer.group('{GROUP}').resource(request.resource.resource).namespace(request.namespace)"
            f".name(object.metadata.name).check('{verb}').allowed()")


def _variable(kind: str, rule: Rule) -> str:
    return f"{kind}_{rule.path.replace('.', '_')}"


def _per_kind(terms: dict[str, list[str]]) -> str:
    """A CEL switch on the request's kind, to the sum of that kind's lists."""
    lines = [f"request.kind.kind == '{kind}' ? (\n  " + " +\n  ".join(kind_terms) + "\n) :"
             for kind, kind_terms in terms.items()]
    return "\n".join([*lines, "[]"])


def _variables() -> list[dict[str, Any]]:
    variables: list[dict[str, Any]] = [
        # The annotation's entries as the operator parses them: split on commas and new lines, trimmed.
        {"name": "allowances", "expression": _entries_of("object")},
        # What the object had: an entry counts as added only if it is new, so removing one needs nothing.
        {"name": "granted", "expression": f"request.operation == 'UPDATE' ? {_entries_of('oldObject')} : []"},
        {"name": "added", "expression": "variables.allowances.filter(e, !(e in variables.granted))"},
        {"name": "approver", "expression": _authorized(APPROVE_VERB)},
        {"name": "wildcard", "expression": _authorized(WILDCARD_PROBE)},
    ]
    # One variable per rule: the entries the edit needs for that field ([] when it does not weaken).
    for kind, rules in SPEC_RULES.items():
        variables += [{"name": _variable(kind, rule), "expression": cel_entries(kind, rule)} for rule in rules]
    # Only an update that changes the spec is judged: the operator's finalizer and annotation
    # patches never reach a rule (status is a subresource, not matched at all).
    spec_edit = "request.operation == 'UPDATE' && object.spec != oldObject.spec"
    needed = {kind: [f"variables.{_variable(kind, rule)}" for rule in rules] for kind, rules in SPEC_RULES.items()}
    weakened = {kind: [f"(variables.{_variable(kind, rule)}.all(e, e in variables.allowances) ? [] : "
                       f"[{cel_description(kind, rule)}])" for rule in rules]
                for kind, rules in SPEC_RULES.items()}
    variables += [
        {"name": "needed", "expression": f"!({spec_edit}) ? [] :\n{_per_kind(needed)}"},
        {"name": "missing", "expression": "variables.needed.filter(e, !(e in variables.allowances))"},
        # "<field> <old> -> <new>" for each field weakened without its allowance (for the message).
        {"name": "weakened", "expression": f"variables.missing.size() == 0 ? [] :\n{_per_kind(weakened)}"},
    ]
    return variables


_OBJECT = f"request.resource.resource + '.{GROUP}/' + object.metadata.name"  # as kubectl names it


def _validations() -> list[dict[str, Any]]:
    # A messageExpression has no authorizer: the two checks of the requester are two validations.
    refused = (f"request.userInfo.username + ' may not add {ALLOW_ANNOTATION} entries (' + "
               "variables.added.join(', ') + '): that takes the verb " + APPROVE_VERB + " on ' + "
               f"request.resource.resource + '.{GROUP}, granted by name (ClusterRole {APPROVER_ROLE}), ")
    approver = "A security approver holding it adds them with kubectl annotate."
    annotate = (f"'kubectl annotate --overwrite -n ' + request.namespace + ' ' + {_OBJECT} + "
                f"\" {ALLOW_ANNOTATION}='\" + (variables.granted + variables.missing).join(',') + \"'\"")
    return [
        {
            "expression": "variables.added.size() == 0 || !variables.wildcard",
            "messageExpression": refused + "and a \"*\" grant (cluster-admin, a GitOps controller) does not count. "
                                 f"{approver}'",
            "message": f"a \"*\" grant does not allow adding {ALLOW_ANNOTATION} entries: that takes the verb "
                       f"{APPROVE_VERB}, granted by name",
            "reason": "Forbidden",
        },
        {
            "expression": "variables.added.size() == 0 || variables.approver",
            "messageExpression": refused + f"which it is not. {approver}'",
            "message": f"adding {ALLOW_ANNOTATION} entries takes the verb {APPROVE_VERB} on the object",
            "reason": "Forbidden",
        },
        {
            "expression": f"variables.added.all(e, e.matches({cel_literal(ALLOWANCE_PATTERN.pattern)}))",
            "messageExpression": f"'{ALLOW_ANNOTATION} entries read <field>=<new value>, as the refusal or status "
                                 "prints them; not ' + variables.added.filter(e, "
                                 f"!e.matches({cel_literal(ALLOWANCE_PATTERN.pattern)})).join(', ')",
            "message": f"{ALLOW_ANNOTATION} entries read <field>=<new value>",
            "reason": "Invalid",
        },
        {
            "expression": "variables.missing.size() == 0",
            "messageExpression": (
                "request.kind.kind + ' ' + request.namespace + '/' + object.metadata.name + ': the edit weakens ' + "
                f"variables.weakened.join('; ') + ', which {ALLOW_ANNOTATION} does not allow (it lacks ' + "
                "variables.missing.join(', ') + '). To allow exactly this change, someone granted the verb "
                f"{APPROVE_VERB} on ' + request.resource.resource + '.{GROUP} (a security approver, not the GitOps "
                "tool) runs: ' + " + annotate + " + ' and the edit is applied again.'"),
            "message": f"the edit weakens the spec, and {ALLOW_ANNOTATION} does not name the change",
            "reason": "Invalid",
        },
    ]


def policy() -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY, "labels": LABELS},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": [GROUP], "apiVersions": [VERSION], "operations": ["CREATE", "UPDATE"],
                # The objects themselves: their status and finalizers subresources are not matched.
                "resources": [info.plural for info in KINDS.values()],
            }]},
            "variables": _variables(),
            "validations": _validations(),
        },
    }


def binding() -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY, "labels": LABELS},
        "spec": {"policyName": POLICY, "validationActions": ["Deny"]},
    }


def approver_role() -> dict[str, Any]:
    """What a security approver is given (bound to nobody here, aggregated into no other role):
    the verb, and get and patch so that `kubectl annotate` works."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": APPROVER_ROLE, "labels": LABELS},
        "rules": [{"apiGroups": [GROUP], "resources": [info.plural for info in KINDS.values()],
                   "verbs": ["get", "patch", APPROVE_VERB]}],
    }


def documents() -> list[dict[str, Any]]:
    return [policy(), binding(), approver_role()]


HEADER = f"""\
# Generated by `vigil crds` from operator/vigil/planning/spec_weakening.py (what weakens) and
# operator/vigil/admission_policy.py. Do not edit by hand; docs/api.md explains it.
#
# The weakening guard at admission (Kubernetes >= 1.30):
# - ValidatingAdmissionPolicy {POLICY}: an update of a vigil.dev object that weakens its spec
#   against the previous spec is refused unless {ALLOW_ANNOTATION} names the change; an entry
#   added to that annotation is refused unless the requester is granted the verb {APPROVE_VERB}
#   on the object (by name: a "*" grant does not count).
# - its binding, Deny.
# - ClusterRole {APPROVER_ROLE}: that verb, for a security approver. Bound to nobody; bind it
#   (RoleBinding per namespace, or ClusterRoleBinding) to the people who approve weakening.
"""


class _Expression(str):
    """A CEL expression, written as a YAML block so that a reviewer reads it as it is."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Expression, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text,
                                                                                    style="|"))


def _blocks(node: Any) -> Any:
    if isinstance(node, list):
        return [_blocks(item) for item in node]
    if isinstance(node, dict):
        return {k: _Expression(v) if k in ("expression", "messageExpression") else _blocks(v) for k, v in node.items()}
    return node


def policy_files() -> dict[str, str]:
    """File name (in deploy/) -> YAML text."""
    return {FILE: HEADER + yaml.dump_all(_blocks(documents()), Dumper=_Dumper, sort_keys=False, width=120,
                                         explicit_start=True)}
