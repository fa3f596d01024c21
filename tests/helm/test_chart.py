"""The Helm chart deploy/helm/vigil, held to deploy/: the chart must install what a security team
reviewed there, nothing more, nothing weaker.

Covers: `helm lint --strict` with the default and the IRSA values; renderings admitted by the
session's real kube-apiserver (`kubectl apply --dry-run=server`); on an API server of its own, a
real install (fresh, and over deploy/'s objects), an upgrade that changes a CRD, and an uninstall
that leaves the CRDs; the chart and deploy/ render the same operator (RBAC, Deployment, disruption
budget, weakening policy) once Helm's own labels are set aside, the CRDs of crds/ annotated to
survive an uninstall, and deploy/monitoring/'s objects behind their switches; the pod's security
context in every rendering and not a value; values that reach the output, and values the chart
refuses, saying why.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import vigil
from vigil_sandbox import controlplane as controlplanes
from vigil_sandbox.controlplane import ControlPlane

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "vigil"
IRSA_VALUES = DEPLOY / "helm" / "values-irsa.yaml"
Helm = Callable[..., subprocess.CompletedProcess[str]]
Objects = list[dict[str, Any]]
Render = Callable[..., Objects]
# What Helm (and the chart for it) adds to deploy/'s objects: which release, which chart.
HELM_LABELS = frozenset({"app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version",
                         "helm.sh/chart"})
KEEP = {"helm.sh/resource-policy": "keep"}
PROMETHEUS_SA = {"kind": "ServiceAccount", "name": "prometheus-kube-prometheus-prometheus", "namespace": "monitoring"}
READER = [f"metrics.readers[0].{key}={value}" for key, value in PROMETHEUS_SA.items()]
MONITORING = ["serviceMonitor.enabled=true", "prometheusRule.enabled=true", "grafanaDashboard.enabled=true", *READER]
# Value sets that change the Deployment the most; "options" applies everywhere, "monitoring" needs
# the Prometheus Operator's CRDs, which the test API server lacks.
RENDERINGS: dict[str, dict[str, Any]] = {
    "default": {},
    "irsa": {"values": [IRSA_VALUES]},
    "options": {"sets": ["replicas=1", "leaderElection.enabled=false", "watchNamespaces={team-a,team-b}",
                         f"image.digest=sha256:{'a' * 64}", "metrics.auth=none", "podDisruptionBudget.enabled=false",
                         "grafanaDashboard.enabled=true", *READER, "imagePullSecrets[0].name=registry",
                         "nodeSelector.kubernetes\\.io/os=linux"]},
    "monitoring": {"sets": MONITORING},
}
APPLIED = ("default", "irsa", "options")


def identity(obj: dict[str, Any]) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def by_identity(objects: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {identity(obj): obj for obj in objects}


def only(objects: Objects, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [obj for obj in objects if obj["kind"] == kind and name in (None, obj["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def without_helm_labels(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = dict(obj["metadata"])
    labels = {k: v for k, v in metadata.pop("labels", {}).items() if k not in HELM_LABELS}
    if labels:
        metadata["labels"] = labels
    return {**obj, "metadata": metadata}


def assert_same(chart: dict[str, Any], source: dict[str, Any], source_name: str) -> None:
    """Equal objects, or a failure showing the unified diff from the source to the chart's."""
    if chart == source:
        return
    before = yaml.safe_dump(source, sort_keys=True, width=120).splitlines()
    after = yaml.safe_dump(chart, sort_keys=True, width=120).splitlines()
    diff = "\n".join(difflib.unified_diff(before, after, source_name, "the chart's", lineterm="", n=2))
    pytest.fail(f"{'/'.join(identity(source))} differs between {source_name} and the chart:\n{diff}", pytrace=False)


def container(objects: Objects) -> dict[str, Any]:
    [vigil_container] = only(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return vigil_container


def env(objects: Objects) -> dict[str, Any]:
    return {var["name"]: var.get("value") for var in container(objects)["env"]}


# --- renderings ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def render_text(helm: Helm) -> Callable[..., str]:
    """``helm template`` of the chart as release ``vigil`` in ``namespace``, with values files and
    ``--set`` pairs; a refusal fails the test with helm's message."""

    def render(values: Iterable[Path] = (), sets: Iterable[str] = (), namespace: str = "vigil-system") -> str:
        args = ["template", "vigil", str(CHART), "--namespace", namespace]
        args += [arg for path in values for arg in ("--values", str(path))]
        args += [arg for pair in sets for arg in ("--set", pair)]
        done = helm(*args)
        assert done.returncode == 0, f"helm {' '.join(args)}:\n{done.stderr}"
        return done.stdout

    return render


@pytest.fixture(scope="module")
def render(render_text: Callable[..., str]) -> Render:
    """The same, as objects."""
    return lambda *args, **kwargs: [doc for doc in yaml.safe_load_all(render_text(*args, **kwargs)) if doc]


@pytest.fixture(scope="module")
def kustomize() -> Callable[[Path], Objects]:
    """``kubectl kustomize`` of a directory, by the control plane's kubectl (kustomize is built in)."""
    try:
        kubectl = controlplanes.binaries() / "kubectl"
    except controlplanes.ControlPlaneUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)

    def build(directory: Path) -> Objects:
        done = subprocess.run([str(kubectl), "kustomize", str(directory)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    return build


# --- helm lint, and the real API server ------------------------------------------------------------

@pytest.mark.parametrize("values", [[], [IRSA_VALUES]], ids=["default", "irsa"])
def test_lint_strict_passes(helm: Helm, values: list[Path]) -> None:
    done = helm("lint", "--strict", str(CHART), *[arg for path in values for arg in ("--values", str(path))])
    assert done.returncode == 0 and "0 chart(s) failed" in done.stdout, done.stdout + done.stderr


@pytest.fixture
def scratch_namespace(controlplane: ControlPlane) -> Iterator[str]:
    """A namespace to install into, of this test's own: the control plane is shared by the session."""
    name = f"helm-{uuid.uuid4().hex[:8]}"
    controlplane.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        controlplane.kubectl("delete", "namespace", name, "--wait=false")


@pytest.mark.parametrize("rendering", APPLIED)
def test_the_api_server_admits_every_object(controlplane: ControlPlane, render_text: Callable[..., str],
                                            scratch_namespace: str, rendering: str) -> None:
    text = render_text(namespace=scratch_namespace, **RENDERINGS[rendering])
    objects = [doc for doc in yaml.safe_load_all(text) if doc]
    done = controlplane.kubectl("apply", "--dry-run=server", "-f", "-", input=text, check=False)
    assert done.returncode == 0, done.stderr
    admitted = [line for line in done.stdout.splitlines() if line.endswith("(server dry run)")]
    assert len(admitted) == len(objects), done.stdout
    # The rendering is the whole install: the CRDs, the operator and the weakening guard.
    kinds = {obj["kind"] for obj in objects}
    assert {"CustomResourceDefinition", "Deployment", "ValidatingAdmissionPolicy"} <= kinds


@pytest.mark.parametrize("start", ["fresh", "from-deploy"])
def test_an_upgrade_upgrades_the_crds_and_an_uninstall_keeps_them(helm: Helm, tmp_path: Path, start: str) -> None:
    # On a control plane of its own: an install changes cluster-wide objects the session's users share.
    plane = ControlPlane(tmp_path / "controlplane").start()
    try:
        cluster = ["--kubeconfig", str(plane.kubeconfig), "--namespace", "vigil-system"]
        if start == "fresh":
            plane.kubectl("create", "namespace", "vigil-system")
            install, upgrade = ["install", *cluster], ["upgrade", *cluster]
        else:
            # Installed from deploy/, then moved to the chart as docs/deployment.md says: kubectl's
            # client-side apply keeps a share of every field, hence --force-conflicts on upgrades too.
            plane.kubectl("apply", "-k", str(DEPLOY))
            install = ["install", *cluster, "--take-ownership", "--force-conflicts"]
            upgrade = ["upgrade", *cluster, "--force-conflicts"]
        done = helm(*install, "vigil", str(CHART))
        assert done.returncode == 0, done.stderr
        # The next release of the chart changes a CRD (here, its description).
        upgraded = tmp_path / "vigil"
        shutil.copytree(CHART, upgraded)
        crd = upgraded / "files" / "crds" / "vigil.dev_orgtrails.yaml"
        crd.write_text(crd.read_text().replace("'OrgTrail: ", "'OrgTrail, upgraded: ", 1))
        done = helm(*upgrade, "vigil", str(upgraded))
        assert done.returncode == 0, done.stderr
        served = plane.kubectl("get", "crd", "orgtrails.vigil.dev", "-o",
                               "jsonpath={.spec.versions[0].schema.openAPIV3Schema.description}").stdout
        assert served.startswith("OrgTrail, upgraded: ")
        done = helm("uninstall", "vigil", *cluster)
        assert done.returncode == 0, done.stderr
        left = plane.kubectl("get", "crd,clusterrole,clusterrolebinding,validatingadmissionpolicy,deployment,"
                             "serviceaccount", "-A", "-l", "app.kubernetes.io/instance=vigil", "-o", "name").stdout
        crds = {f"customresourcedefinition.apiextensions.k8s.io/{path.name.removeprefix('vigil.dev_')[:-5]}.vigil.dev"
                for path in (ROOT / "crds").glob("vigil.dev_*.yaml")}
        assert set(left.split()) == crds, "the uninstall should leave the CRDs, and only them"
    finally:
        plane.stop()


# --- the chart against deploy/ ---------------------------------------------------------------------

def test_the_chart_renders_deploys_operator(render: Render, kustomize: Callable[[Path], Objects]) -> None:
    chart = by_identity(without_helm_labels(obj) for obj in render())
    deploy = by_identity(kustomize(DEPLOY))
    # deploy/ creates the namespace, labelled for Pod Security; a Helm release lives in one made
    # before it. The chart adds the metrics Service (deploy/monitoring/ has it).
    assert set(deploy) - set(chart) == {("Namespace", "vigil-system")}
    assert set(chart) - set(deploy) == {("Service", "vigil-metrics")}
    for key in sorted(set(deploy) & set(chart)):
        if key[0] != "CustomResourceDefinition":  # the next test's
            assert_same(chart[key], deploy[key], "deploy/")


def test_the_crds_are_crds_kept_on_uninstall(render: Render) -> None:
    chart = {obj["metadata"]["name"]: without_helm_labels(obj) for obj in render()
             if obj["kind"] == "CustomResourceDefinition"}
    generated = [yaml.safe_load(path.read_text()) for path in sorted((ROOT / "crds").glob("vigil.dev_*.yaml"))]
    assert set(chart) == {crd["metadata"]["name"] for crd in generated}
    for crd in generated:
        kept = {**crd, "metadata": {**crd["metadata"], "annotations": KEEP}}
        assert_same(chart[crd["metadata"]["name"]], kept, "crds/ (plus the keep annotation)")


def test_the_monitoring_is_deploy_monitoring(render: Render, kustomize: Callable[[Path], Objects]) -> None:
    chart = by_identity(without_helm_labels(obj) for obj in render(sets=MONITORING))
    monitoring = by_identity(kustomize(DEPLOY / "monitoring"))
    for key in [("Service", "vigil-metrics"), ("ServiceMonitor", "vigil"), ("ConfigMap", "vigil-dashboard")]:
        assert_same(chart[key], monitoring[key], "deploy/monitoring/")
    # From the file, not kustomize's rewrite of it: kustomize's YAML library reads the folded PromQL
    # with an extra blank line (whitespace to PromQL, but not equal).
    rule = yaml.safe_load((DEPLOY / "monitoring" / "prometheus-rule.yaml").read_text())
    assert_same(chart["PrometheusRule", "vigil"], rule, "deploy/monitoring/prometheus-rule.yaml")
    # The one binding the chart makes of metrics.readers, deploy/monitoring/'s for Prometheus.
    binding, prometheus = chart["ClusterRoleBinding", "vigil-metrics-reader"], \
        monitoring["ClusterRoleBinding", "vigil-metrics-reader-prometheus"]
    assert (binding["roleRef"], binding["subjects"]) == (prometheus["roleRef"], prometheus["subjects"])


def test_the_charts_monitoring_files_are_deploy_monitorings() -> None:
    for name in ("prometheus-rule.yaml", "grafana-dashboard.json"):
        copy, source = CHART / "files" / "monitoring" / name, DEPLOY / "monitoring" / name
        fix = f"cp {source.relative_to(ROOT)} {copy.relative_to(ROOT)}"
        assert copy.read_text() == source.read_text(), f"the chart's copy is stale: {fix}"


def test_the_chart_installs_this_release() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    [image] = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["images"]
    assert chart["appVersion"] == vigil.__version__ == image["newTag"]


# --- security ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rendering", RENDERINGS)
def test_the_pod_is_non_root_on_a_read_only_root_filesystem(render: Render, rendering: str) -> None:
    objects = render(**RENDERINGS[rendering])
    pod = only(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container(objects)["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}}
    assert all("hostPath" not in volume for volume in pod["volumes"])


# --- values ----------------------------------------------------------------------------------------

def test_values_reach_the_deployment(render: Render) -> None:
    objects = render(sets=["replicas=3", "image.tag=9.9.9", "aws.region=eu-west-1", "watchNamespaces={team-a,team-b}",
                           "resources.limits.memory=256Mi"])
    assert only(objects, "Deployment")["spec"]["replicas"] == 3
    assert container(objects)["image"] == "ghcr.io/vigil-dev/vigil:9.9.9"
    assert container(objects)["args"] == ["run", "--namespace", "team-a", "--namespace", "team-b", "--standalone"]
    assert env(objects)["AWS_REGION"] == "eu-west-1"
    assert container(objects)["resources"]["limits"] == {"memory": "256Mi"}


def test_irsa_values_annotate_the_service_account(render: Render) -> None:
    values = yaml.safe_load(IRSA_VALUES.read_text())
    objects = render(values=[IRSA_VALUES])
    assert only(objects, "ServiceAccount")["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": values["aws"]["roleArn"]}
    # Pod Identity (and a default install) needs no annotation at all.
    assert "annotations" not in only(render(), "ServiceAccount")["metadata"]


def test_a_digest_pins_the_image(render: Render) -> None:
    digest = f"sha256:{'b' * 64}"
    assert container(render(sets=[f"image.digest={digest}"]))["image"] == f"ghcr.io/vigil-dev/vigil@{digest}"


def test_switches_remove_what_they_name(render: Render) -> None:
    kinds = {obj["kind"] for obj in render(sets=["crds.install=false", "admissionPolicy.enabled=false",
                                                 "podDisruptionBudget.enabled=false", "metrics.service.enabled=false"])}
    assert kinds.isdisjoint({"CustomResourceDefinition", "ValidatingAdmissionPolicy",
                             "ValidatingAdmissionPolicyBinding", "PodDisruptionBudget", "Service"})
    single = render(sets=["replicas=1", "leaderElection.enabled=false", "metrics.auth=none"])
    assert not [obj for obj in single if obj["kind"] in ("Role", "RoleBinding")]
    assert (env(single)["VIGIL_LEADER_ELECTION"], env(single)["VIGIL_METRICS_AUTH"]) == ("false", "none")
    assert "VIGIL_METRICS_AUTH" not in env(render())  # the operator's default: reviewed by the API server


@pytest.mark.parametrize("sets, said", [
    (["replicas=2", "leaderElection.enabled=false"], "replicas > 1 needs leaderElection.enabled"),
    (["serviceMonitor.enabled=true", "metrics.service.enabled=false"], "serviceMonitor.enabled scrapes through"),
    (["securityContext.runAsNonRoot=false"], "additional properties 'securityContext' not allowed"),
    (["aws.roleArn=vigil-operator"], "at '/aws/roleArn'"),
    (["metrics.auth=basic"], "at '/metrics/auth'"),
], ids=["replicas-without-lease", "servicemonitor-without-service", "security-context", "role-arn", "metrics-auth"])
def test_values_the_chart_refuses(helm: Helm, sets: list[str], said: str) -> None:
    done = helm("template", "vigil", str(CHART), *[arg for pair in sets for arg in ("--set", pair)])
    assert done.returncode != 0
    assert said in done.stderr, done.stderr
