"""The weakening guard at admission, on a real kube-apiserver: deploy/weakening-policy.yaml as
`vigil crds` generates it, installed with the CRDs, and requests made with real ServiceAccount
tokens through RBAC.

Identities: "gitops" may create, update and patch vigil.dev objects (what a GitOps tool is
given); "approver" may too, and is bound to the shipped ClusterRole vigil-weakening-approver;
"wildcard" holds "*" on vigil.dev (what Argo CD's and Flux's controllers hold); the operator is
deploy/'s own ServiceAccount with deploy/rbac.yaml.

Covers: every edit of vigil_sandbox.spec_edits is refused or admitted as the Python table says
(so the CEL and planning.spec_weakening agree), and with the approver's allowance of exactly the
entries the table names it is admitted; the refusal names the field, both values and the
`kubectl annotate` command that allows it, and that very command, run by the approver, works;
gitops, a "*" grant and cluster-admin cannot add an allowance, on create or update; an
allowance of another value admits nothing; removing one needs no verb; a malformed entry is
refused; the operator's status, finalizer and annotation patches pass, and it cannot approve.
"""

from __future__ import annotations

import json
import re
import shlex
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from vigil.admission_policy import APPROVE_VERB, APPROVER_ROLE, POLICY, documents
from vigil.api import GROUP, KINDS, VERSION
from vigil.planning.spec_weakening import spec_weakenings
from vigil.planning.weakening import ALLOW_ANNOTATION
from vigil_sandbox.controlplane import ControlPlane
from vigil_sandbox.spec_edits import BASE, EDITS, SpecEdit

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PLURALS = [info.plural for info in KINDS.values()]
OPERATOR = ("vigil-system", "vigil")
IDENTITY_FILES = ("namespace.yaml", "serviceaccount.yaml", "rbac.yaml")


def _valid(edit: SpecEdit) -> bool:
    """The CRD takes what the model takes; an edit the model refuses is the unit tests' alone."""
    try:
        for spec in (edit.old, edit.new):
            KINDS[edit.kind].spec.model_validate(spec)
    except ValueError:
        return False
    return True


# --- the cluster -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def identities(controlplane: ControlPlane, namespace: str, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[dict[str, Path]]:
    """name -> a kubeconfig authenticating as that ServiceAccount, with its RBAC in place."""
    editor = {"apiGroups": [GROUP], "resources": PLURALS,
              "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}
    docs: list[dict[str, Any]] = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "vigil-editor", "namespace": namespace}, "rules": [editor]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "vigil-everything", "namespace": namespace},
         "rules": [{"apiGroups": [GROUP], "resources": ["*"], "verbs": ["*"]}]},
    ]
    bindings = {"gitops": [("Role", "vigil-editor")],
                "approver": [("Role", "vigil-editor"), ("ClusterRole", APPROVER_ROLE)],
                "wildcard": [("Role", "vigil-everything")]}
    for account, roles in bindings.items():
        docs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": namespace}})
        docs += [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                  "metadata": {"name": f"{account}-{role.lower()}", "namespace": namespace},
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
                  "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]}
                 for kind, role in roles]
    controlplane.apply(docs)
    # The operator exactly as deploy/ installs it (shared with other modules: applied, not deleted).
    controlplane.apply([doc for name in IDENTITY_FILES
                        for doc in yaml.safe_load_all((ROOT / "deploy" / name).read_text()) if doc])
    home = tmp_path_factory.mktemp("identities")
    yield {**{account: controlplane.kubeconfig_for(namespace, account, home / f"{account}.kubeconfig")
              for account in bindings},
           "operator": controlplane.kubeconfig_for(*OPERATOR, home / "operator.kubeconfig")}


@pytest.fixture(scope="module")
def policy(controlplane: ControlPlane, namespace: str, identities: dict[str, Path]) -> Iterator[None]:
    """The generated policy, binding and approver role, enforced; removed afterwards (and no longer
    enforced) so that the rest of the session's tests edit objects freely."""
    controlplane.apply(documents())
    probe = _Probe(controlplane, namespace)
    _until(probe.refused, "the policy to be enforced")
    try:
        yield
    finally:
        for kind, name in (("validatingadmissionpolicybinding", POLICY), ("validatingadmissionpolicy", POLICY),
                           ("clusterrole", APPROVER_ROLE)):
            controlplane.kubectl("delete", kind, name, "--ignore-not-found")
        _until(lambda: not probe.refused(), "the policy to be gone")
        probe.delete()


class _Probe:
    """A LogArchive whose expiry is shortened and set back: refused while the policy is enforced."""

    def __init__(self, controlplane: ControlPlane, namespace: str) -> None:
        self.api = client.CustomObjectsApi(controlplane.client())
        self.namespace = namespace
        body = manifest("LogArchive", "probe", namespace, {**BASE["LogArchive"], "retention": {"expireAfterDays": 30}})
        self.api.create_namespaced_custom_object(GROUP, VERSION, namespace, "logarchives", body)

    def refused(self) -> bool:
        try:
            self.api.patch_namespaced_custom_object(GROUP, VERSION, self.namespace, "logarchives", "probe",
                                                    {"spec": {"retention": {"expireAfterDays": 1}}}, dry_run="All")
        except ApiException as exc:
            return exc.status == 422 and POLICY in exc.body
        return False

    def delete(self) -> None:
        self.api.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, "logarchives", "probe")


def _until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout}s for {what}")
        time.sleep(0.2)


def manifest(kind: str, name: str, namespace: str, spec: dict[str, Any],
             annotations: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "metadata": metadata, "spec": spec}


class Identity:
    """Requests on vigil.dev objects as one ServiceAccount (or as the admin)."""

    def __init__(self, api_client: Any, namespace: str) -> None:
        self.api = client.CustomObjectsApi(api_client)
        self.namespace = namespace

    def create(self, kind: str, name: str, spec: dict[str, Any], annotations: dict[str, str] | None = None) -> dict:
        return self.api.create_namespaced_custom_object(GROUP, VERSION, self.namespace, KINDS[kind].plural,
                                                        manifest(kind, name, self.namespace, spec, annotations))

    def get(self, kind: str, name: str) -> dict:
        return self.api.get_namespaced_custom_object(GROUP, VERSION, self.namespace, KINDS[kind].plural, name)

    def replace_spec(self, kind: str, name: str, spec: dict[str, Any]) -> dict:
        """An update (PUT) of the whole spec, as `kubectl replace` or a GitOps sync sends it."""
        body = self.get(kind, name)
        body["spec"] = spec
        return self.api.replace_namespaced_custom_object(GROUP, VERSION, self.namespace, KINDS[kind].plural, name, body)

    def annotate(self, kind: str, name: str, value: str | None) -> dict:
        return self.api.patch_namespaced_custom_object(GROUP, VERSION, self.namespace, KINDS[kind].plural, name,
                                                       {"metadata": {"annotations": {ALLOW_ANNOTATION: value}}})

    def delete(self, kind: str, name: str) -> None:
        self.api.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, KINDS[kind].plural, name)


@pytest.fixture(scope="module")
def admin(controlplane: ControlPlane, namespace: str, policy: None) -> Identity:
    return Identity(controlplane.client(), namespace)


@pytest.fixture(scope="module")
def as_(identities: dict[str, Path], namespace: str, policy: None) -> Callable[[str], Identity]:
    """``as_("gitops")``: requests made with that ServiceAccount's token."""
    made = {name: Identity(config.new_client_from_config(config_file=str(path)), namespace)
            for name, path in identities.items()}
    return made.__getitem__


@pytest.fixture
def name(admin: Identity) -> Iterator[str]:
    """A fresh object name; whatever the test made under it is deleted afterwards."""
    made = f"obj-{uuid.uuid4().hex[:6]}"
    yield made
    for kind in KINDS:
        try:
            admin.delete(kind, made)
        except ApiException as exc:
            assert exc.status == 404, exc


def refusal(call: Callable[[], Any]) -> tuple[int, str]:
    """(HTTP status, message) of a request the API server must refuse."""
    with pytest.raises(ApiException) as refused:
        call()
    return refused.value.status, json.loads(refused.value.body)["message"]


# --- the table, in CEL ------------------------------------------------------------------------------

@pytest.mark.parametrize("edit", [e for e in EDITS if _valid(e)], ids=lambda e: f"{e.kind}: {e.name}")
def test_each_edit_is_admitted_exactly_with_the_entries_the_table_names(edit: SpecEdit, as_, admin: Identity,
                                                                        name: str) -> None:
    admin.create(edit.kind, name, edit.old)
    gitops, approver = as_("gitops"), as_("approver")
    assert {e for w in spec_weakenings(edit.kind, edit.old, edit.new) for e in w.entries} == set(edit.entries)
    if not edit.entries:
        gitops.replace_spec(edit.kind, name, edit.new)
        return
    status, message = refusal(lambda: gitops.replace_spec(edit.kind, name, edit.new))
    assert status == 422 and POLICY in message, message
    for entry in edit.entries:
        assert entry in message, (entry, message)
    approver.annotate(edit.kind, name, ",".join(edit.entries))
    stored = gitops.replace_spec(edit.kind, name, edit.new)
    assert stored["metadata"]["annotations"][ALLOW_ANNOTATION] == ",".join(edit.entries)


# --- the story: refused, allowed by an approver, applied -------------------------------------------

ARCHIVE = {**BASE["LogArchive"], "retention": {"expireAfterDays": 2555}}
SHORTER = {**ARCHIVE, "retention": {"expireAfterDays": 1}}


def test_a_weakening_update_is_refused_with_the_field_both_values_and_the_command_to_allow_it(
        as_, admin: Identity, name: str, namespace: str) -> None:
    admin.create("LogArchive", name, ARCHIVE)
    status, message = refusal(lambda: as_("gitops").replace_spec("LogArchive", name, SHORTER))
    assert status == 422
    assert "spec.retention.expireAfterDays 2555 -> 1" in message
    assert (f"kubectl annotate --overwrite -n {namespace} logarchives.vigil.dev/{name} "
            f"{ALLOW_ANNOTATION}='spec.retention.expireAfterDays=1'") in message
    assert APPROVE_VERB in message
    assert as_("gitops").get("LogArchive", name)["spec"]["retention"] == {"expireAfterDays": 2555}


@pytest.mark.parametrize("kind, before, after, shown", [
    ("OrgTrail", {}, {"integrity": {"verify": False}}, "spec.integrity.verify true -> false"),
    ("OrgTrail", {"cloudWatchLogs": {"enabled": True}}, {}, "spec.cloudWatchLogs.enabled true -> false"),
    ("SecurityHubBaseline", {}, {"standards": ["aws-foundational-security-best-practices/v/1.0.0", "pci-dss/v/3.2.1"]},
     "spec.standards [aws-foundational-security-best-practices/v/1.0.0, pci-dss/v/3.2.1, "
     "cis-aws-foundations-benchmark/v/1.2.0] -> [aws-foundational-security-best-practices/v/1.0.0, pci-dss/v/3.2.1]"),
    ("FlowLogPolicy", {}, {"deletionPolicy": "Delete"}, "spec.deletionPolicy Retain -> Delete"),
])
def test_refusals_name_what_is_weakened(as_, admin: Identity, name: str, kind: str, before: dict, after: dict,
                                        shown: str) -> None:
    admin.create(kind, name, {**BASE[kind], **before})
    status, message = refusal(lambda: as_("gitops").replace_spec(kind, name, {**BASE[kind], **after}))
    assert status == 422 and shown in message, message


def test_the_printed_command_run_by_the_approver_lets_the_same_edit_through(
        controlplane: ControlPlane, identities: dict[str, Path], as_, admin: Identity, name: str) -> None:
    admin.create("LogArchive", name, ARCHIVE)
    _, message = refusal(lambda: as_("gitops").replace_spec("LogArchive", name, {**SHORTER, "deletionPolicy": "Delete"}))
    command = shlex.split(re.search(r"runs: (kubectl annotate .*?') and", message).group(1))
    assert command[-1] == f"{ALLOW_ANNOTATION}=spec.deletionPolicy=Delete,spec.retention.expireAfterDays=1"
    controlplane.kubectl(*command[1:], kubeconfig=identities["approver"])
    stored = as_("gitops").replace_spec("LogArchive", name, {**SHORTER, "deletionPolicy": "Delete"})
    assert stored["spec"]["retention"] == {"expireAfterDays": 1} and stored["spec"]["deletionPolicy"] == "Delete"


def test_gitops_server_side_apply_keeps_the_approvers_annotation(
        controlplane: ControlPlane, identities: dict[str, Path], as_, admin: Identity, name: str,
        namespace: str) -> None:
    """The flow a GitOps tool follows: its apply carries no annotation, the approver's stays."""
    def sync(spec: dict[str, Any]) -> None:
        controlplane.kubectl("apply", "--server-side", "--field-manager=argocd-controller", "-f", "-",
                             kubeconfig=identities["gitops"], input=yaml.safe_dump(manifest("LogArchive", name,
                                                                                            namespace, spec)))

    sync(ARCHIVE)
    with pytest.raises(RuntimeError, match="the edit weakens spec.retention.expireAfterDays 2555 -> 1"):
        sync(SHORTER)
    as_("approver").annotate("LogArchive", name, "spec.retention.expireAfterDays=1")
    sync(SHORTER)
    stored = admin.get("LogArchive", name)
    assert stored["spec"]["retention"] == {"expireAfterDays": 1}
    assert stored["metadata"]["annotations"][ALLOW_ANNOTATION] == "spec.retention.expireAfterDays=1"


def test_an_allowance_of_another_value_admits_nothing(as_, admin: Identity, name: str, namespace: str) -> None:
    admin.create("LogArchive", name, ARCHIVE)
    as_("approver").annotate("LogArchive", name, "spec.retention.expireAfterDays=30")
    status, message = refusal(lambda: as_("gitops").replace_spec("LogArchive", name, SHORTER))
    assert status == 422 and "lacks spec.retention.expireAfterDays=1" in message
    # The command keeps what was allowed and adds what is missing.
    assert f"{ALLOW_ANNOTATION}='spec.retention.expireAfterDays=30,spec.retention.expireAfterDays=1'" in message
    as_("gitops").replace_spec("LogArchive", name, {**ARCHIVE, "retention": {"expireAfterDays": 30}})


def test_one_allowance_of_two_weakenings_is_not_enough(as_, admin: Identity, name: str) -> None:
    admin.create("LogArchive", name, ARCHIVE)
    as_("approver").annotate("LogArchive", name, "spec.retention.expireAfterDays=1")
    status, message = refusal(lambda: as_("gitops").replace_spec("LogArchive", name,
                                                                  {**SHORTER, "deletionPolicy": "Delete"}))
    assert status == 422 and "lacks spec.deletionPolicy=Delete)" in message
    assert "spec.retention.expireAfterDays 2555" not in message  # allowed: not listed as weakened


def test_strengthening_neutral_and_new_objects_need_no_allowance(as_, admin: Identity, name: str) -> None:
    gitops = as_("gitops")
    gitops.create("LogArchive", name, {**SHORTER, "deletionPolicy": "Delete"})  # a create has no previous spec
    gitops.replace_spec("LogArchive", name, ARCHIVE)
    gitops.replace_spec("LogArchive", name, {**ARCHIVE, "adoptionPolicy": "Adopt", "resyncInterval": "1m"})


# --- who may allow ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["gitops", "wildcard", "operator"])
def test_only_the_verb_granted_by_name_may_add_an_allowance(who: str, as_, admin: Identity, name: str) -> None:
    admin.create("LogArchive", name, ARCHIVE)
    status, message = refusal(lambda: as_(who).annotate("LogArchive", name, "spec.retention.expireAfterDays=1"))
    assert status == 403, message
    assert f"may not add {ALLOW_ANNOTATION} entries (spec.retention.expireAfterDays=1)" in message
    assert f"the verb {APPROVE_VERB} on logarchives.vigil.dev" in message and APPROVER_ROLE in message
    if who == "wildcard":
        assert '"*" grant' in message
    assert ALLOW_ANNOTATION not in (admin.get("LogArchive", name)["metadata"].get("annotations") or {})


def test_cluster_admin_holds_every_verb_and_so_cannot_allow_either(admin: Identity, name: str) -> None:
    admin.create("LogArchive", name, ARCHIVE)
    status, message = refusal(lambda: admin.annotate("LogArchive", name, "spec.retention.expireAfterDays=1"))
    assert status == 403 and '"*" grant' in message


def test_gitops_cannot_create_an_object_carrying_an_allowance(as_, name: str) -> None:
    status, message = refusal(lambda: as_("gitops").create("LogArchive", name, ARCHIVE,
                                                           {ALLOW_ANNOTATION: "spec.deletionPolicy=Delete"}))
    assert status == 403 and APPROVE_VERB in message
    as_("approver").create("LogArchive", name, ARCHIVE, {ALLOW_ANNOTATION: "spec.deletionPolicy=Delete"})


def test_gitops_cannot_add_entries_to_an_existing_allowance_but_may_remove_it(as_, admin: Identity,
                                                                              name: str) -> None:
    admin.create("LogArchive", name, ARCHIVE)
    as_("approver").annotate("LogArchive", name, "spec.retention.expireAfterDays=30")
    status, _ = refusal(lambda: as_("gitops").annotate("LogArchive", name,
                                                       "spec.retention.expireAfterDays=30,spec.deletionPolicy=Delete"))
    assert status == 403
    as_("gitops").annotate("LogArchive", name, "spec.retention.expireAfterDays=30")  # unchanged: admitted
    as_("gitops").annotate("LogArchive", name, None)  # removed: an allowance withdrawn weakens nothing


def test_a_malformed_entry_is_refused(as_, admin: Identity, name: str) -> None:
    admin.create("LogArchive", name, ARCHIVE)
    status, message = refusal(lambda: as_("approver").annotate("LogArchive", name, "retention shorter please"))
    assert status == 422 and "entries read <field>=<new value>" in message and "retention shorter please" in message


def test_rbac_grants_the_verb_to_the_approver_alone(controlplane: ControlPlane, namespace: str,
                                                    identities: dict[str, Path]) -> None:
    authorization = client.AuthorizationV1Api(controlplane.client())

    def allowed(user: str) -> bool:
        review = {"spec": {"user": user, "resourceAttributes": {
            "group": GROUP, "resource": "orgtrails", "verb": APPROVE_VERB, "namespace": namespace}}}
        return bool(authorization.create_subject_access_review(review).status.allowed)

    assert allowed(f"system:serviceaccount:{namespace}:approver")
    assert not allowed(f"system:serviceaccount:{namespace}:gitops")
    assert not allowed("system:serviceaccount:{}:{}".format(*OPERATOR))


# --- the operator ----------------------------------------------------------------------------------

def test_the_operators_own_patches_pass(as_, admin: Identity, name: str, namespace: str) -> None:
    """Status (a subresource, not matched), its finalizer and kopf's annotations (the object itself,
    spec untouched), on an object that carries an allowance."""
    as_("approver").create("LogArchive", name, SHORTER, {ALLOW_ANNOTATION: "spec.retention.expireAfterDays=1"})
    operator = as_("operator").api
    plural = "logarchives"
    operator.patch_namespaced_custom_object(GROUP, VERSION, namespace, plural, name, {"metadata": {
        "finalizers": ["kopf.zalando.org/KopfFinalizerMarker"],
        "annotations": {"kopf.zalando.org/last-handled-configuration": json.dumps({"spec": SHORTER})}}})
    operator.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, plural, name, {"status": {
        "observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled",
                                                 "message": "", "lastTransitionTime": "2026-12-07T00:00:00Z"}]}})
    operator.patch_namespaced_custom_object(GROUP, VERSION, namespace, plural, name, {"metadata": {"finalizers": None}})
    stored = admin.get("LogArchive", name)
    assert stored["status"]["conditions"][0]["type"] == "Ready"
    assert not stored["metadata"].get("finalizers")
