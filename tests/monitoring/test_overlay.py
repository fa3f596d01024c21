"""What `kubectl kustomize deploy/monitoring/` renders: a Service that reaches the operator's metrics
port, a ServiceMonitor that selects it (keeping Vigil's own `namespace` label), the alerts, and the
dashboard, unchanged, in a ConfigMap Grafana's sidecar loads; and deploy/ itself stays free of the
Prometheus Operator's kinds, so it applies on clusters without them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vigil.settings import VigilSettings

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"


def render(path: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed, so the kustomizations cannot be rendered")
    done = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in render(MONITORING)}


def test_renders_the_monitoring_objects_into_vigil_system(rendered: dict[str, dict]) -> None:
    assert rendered.keys() == {"Service", "ServiceMonitor", "PrometheusRule", "ConfigMap", "ClusterRoleBinding"}
    assert {doc["metadata"].get("namespace") for doc in rendered.values()} == {"vigil-system", None}


def test_prometheus_scrapes_with_a_token_rbac_lets_read_the_metrics(rendered: dict[str, dict]) -> None:
    """/metrics answers only an authenticated, authorized token: the ServiceMonitor sends
    Prometheus's, and the binding gives that ServiceAccount deploy/rbac.yaml's reader role."""
    [endpoint] = rendered["ServiceMonitor"]["spec"]["endpoints"]
    assert endpoint["bearerTokenFile"] == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    binding = rendered["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == "vigil-metrics-reader"
    roles = {d["metadata"]["name"]: d for d in yaml.safe_load_all((ROOT / "deploy" / "rbac.yaml").read_text())
             if d and d["kind"] == "ClusterRole"}
    assert {"nonResourceURLs": ["/metrics", "/report"], "verbs": ["get"]} in roles["vigil-metrics-reader"]["rules"]


def test_service_reaches_the_operator_metrics_port(rendered: dict[str, dict]) -> None:
    deployment = yaml.safe_load((ROOT / "deploy" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]
    service = rendered["Service"]["spec"]
    assert service["selector"].items() <= pod["metadata"]["labels"].items()
    [port] = service["ports"]
    [container] = pod["spec"]["containers"]
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert named[port["targetPort"]] == port["port"] == VigilSettings().metrics_port


def test_service_monitor_selects_the_service(rendered: dict[str, dict]) -> None:
    monitor, service = rendered["ServiceMonitor"]["spec"], rendered["Service"]
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]
    [endpoint] = monitor["endpoints"]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"]
    assert endpoint["path"] == "/metrics"
    # Else Prometheus renames Vigil's `namespace` and `service` labels to exported_*.
    assert endpoint["honorLabels"] is True
    # The job label is the Service's name: VigilOperatorDown looks for it.
    exprs = [rule["expr"] for group in rendered["PrometheusRule"]["spec"]["groups"] for rule in group["rules"]]
    assert any(f'up{{job="{service["metadata"]["name"]}"}}' in expr for expr in exprs)


def test_dashboard_config_map_holds_the_dashboard(rendered: dict[str, dict]) -> None:
    config_map = rendered["ConfigMap"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    [(name, text)] = config_map["data"].items()
    assert name.endswith(".json")
    assert json.loads(text) == json.loads((MONITORING / "grafana-dashboard.json").read_text())


def test_base_deploy_needs_no_prometheus_operator() -> None:
    assert not [doc["kind"] for doc in render(ROOT / "deploy") if doc["apiVersion"].startswith("monitoring.coreos.com")]
