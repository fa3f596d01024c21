"""The whole test bed as real processes: the AWS sandbox, a Kubernetes control plane (etcd and
kube-apiserver, vigil_sandbox.controlplane), and the operator (`vigil run`), wired together by
environment variables exactly as on a real cluster. The operator authenticates as deploy/'s
ServiceAccount, so deploy/'s RBAC is all it may do; its /metrics and /report are read as
Prometheus reads them, with the token of a ServiceAccount bound to deploy/'s vigil-metrics-reader.

Used by `make demo`, `make bench` and the end-to-end tests; each process logs to a file in ``workdir``.
The operator runs under leader election as deploy/ runs it, with short timings; ``start_operator``
with another name starts a second replica.
A stack given a running control plane shares it, and leaves it as it found it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from vigil.api import GROUP, KINDS, VERSION
from vigil.crdgen import crd_documents

from .awsserver import CallLog
from .controlplane import ControlPlane, free_port, spawn, stop

PLURALS = {info.kind: info.plural for info in KINDS.values()}
ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# The operator's identity and permissions, exactly as deploy/ installs them.
OPERATOR_NAMESPACE, OPERATOR_ACCOUNT = "vigil-system", "vigil"
IDENTITY_FILES = ("namespace.yaml", "serviceaccount.yaml", "rbac.yaml")
# Who reads the operator's /metrics and /report (the operator asks the API server, as it does in a
# cluster): a ServiceAccount bound to deploy/'s ClusterRole for readers, as Prometheus's would be.
READER_ACCOUNT, READER_ROLE = "metrics-reader", "vigil-metrics-reader"
# Leader election as deploy/ runs it (the Lease in vigil-system), with timings short enough for
# tests (a killed leader's Lease is taken within LEASE_SECONDS + RETRY_SECONDS) and a renew
# deadline that leaves a loaded machine room (a leader that cannot renew exits; nothing restarts it).
LEASE_NAME, LEASE_SECONDS, RENEW_DEADLINE_SECONDS, RETRY_SECONDS = "vigil-leader", 8, 6, 1
LEADER_ELECTION_ENV = {"VIGIL_LEADER_ELECTION": "true", "POD_NAMESPACE": OPERATOR_NAMESPACE,
                       "VIGIL_LEASE_DURATION_SECONDS": str(LEASE_SECONDS),
                       "VIGIL_RENEW_DEADLINE_SECONDS": str(RENEW_DEADLINE_SECONDS),
                       "VIGIL_RETRY_PERIOD_SECONDS": str(RETRY_SECONDS)}


def wait_http(url: str, timeout: float, process: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}; see {log}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s; see {log}")


@dataclass
class Stack:
    workdir: Path
    namespaces: tuple[str, ...] = ("baseline",)
    workloads: int = 3
    # "aws": the sandbox throttles as AWS does (vigil_sandbox.rate_limits); "": as VIGIL_SANDBOX_RATE_LIMITS says
    rate_limits: str = ""
    operator_env: dict[str, str] = field(default_factory=dict)
    aws_endpoint: str = ""
    organization: dict[str, Any] = field(default_factory=dict)
    controlplane: ControlPlane | None = None
    kubeconfig: Path = Path()
    operator_kubeconfig: Path = Path()
    metrics_url: str = ""
    metrics_urls: dict[str, str] = field(default_factory=dict)  # per operator process, by name
    reader_token: str = ""  # READER_ACCOUNT's: what /metrics and /report are read with
    _processes: dict[str, subprocess.Popen[Any]] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)
    _owns_controlplane: bool = False

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, operator: bool = True) -> "Stack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_aws()
            self._start_kube()
            if operator:
                self.start_operator()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[Any]:
        process = spawn(args, self.workdir / f"{name}.log", env, stdout=subprocess.PIPE if name == "aws" else None)
        self._processes[name] = process
        return process

    def _start_aws(self) -> None:
        limits = ["--rate-limits", self.rate_limits] if self.rate_limits else []
        process = self._spawn("aws", [sys.executable, "-m", "vigil_sandbox", "--port", "0", "--json",
                                      "--workloads", str(self.workloads), *limits])
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the AWS sandbox did not start; see {self.workdir / 'aws.log'}")
        info = json.loads(line)
        self.aws_endpoint = info.pop("endpoint")
        self.organization = info

    def _start_kube(self) -> None:
        if self.controlplane is None:
            self.controlplane = ControlPlane(self.workdir / "controlplane").start()
            self._owns_controlplane = True
        plane = self.controlplane
        self.kubeconfig = plane.kubeconfig
        plane.install_crds(crd_documents())  # always the models' current CRDs
        plane.apply([*self.identity(), *self.reader_identity(),
                     *({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
                       for namespace in self.namespaces)])
        self.reader_token = plane.token(OPERATOR_NAMESPACE, READER_ACCOUNT)
        self.operator_kubeconfig = plane.kubeconfig_for(OPERATOR_NAMESPACE, OPERATOR_ACCOUNT,
                                                        self.workdir / "operator.kubeconfig")

    @staticmethod
    def identity() -> list[dict[str, Any]]:
        """deploy/'s namespace, ServiceAccount, ClusterRole and binding: what the operator runs as."""
        return [doc for name in IDENTITY_FILES for doc in yaml.safe_load_all((DEPLOY / name).read_text()) if doc]

    @staticmethod
    def reader_identity() -> list[dict[str, Any]]:
        """The ServiceAccount that reads /metrics and /report, bound to deploy/'s reader ClusterRole."""
        return [{"apiVersion": "v1", "kind": "ServiceAccount",
                 "metadata": {"name": READER_ACCOUNT, "namespace": OPERATOR_NAMESPACE}},
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                 "metadata": {"name": f"{READER_ROLE}-test"},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": READER_ROLE},
                 "subjects": [{"kind": "ServiceAccount", "name": READER_ACCOUNT, "namespace": OPERATOR_NAMESPACE}]}]

    def aws_env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.aws_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ca-central-1",
                "AWS_EC2_METADATA_DISABLED": "true"}

    def start_operator(self, name: str = "operator", env: dict[str, str] | None = None) -> subprocess.Popen[Any]:
        """One replica (``name``: its process, log file and POD_NAME); returns once /healthz answers,
        which it does while it waits for the Lease too. ``env`` adds to ``operator_env``."""
        port = free_port()
        self.metrics_urls[name] = f"http://127.0.0.1:{port}"
        if name == "operator":
            self.metrics_url = self.metrics_urls[name]
        env = {**self.aws_env(), "KUBECONFIG": str(self.operator_kubeconfig), "VIGIL_METRICS_PORT": str(port),
               "VIGIL_TICK_SECONDS": "1", "VIGIL_RETRY_SECONDS": "2", **LEADER_ELECTION_ENV, "POD_NAME": name,
               **self.operator_env, **(env or {})}
        process = self._spawn(name, [sys.executable, "-m", "vigil", "run", "--standalone",
                                     "--all-namespaces", "--verbose"], env)
        wait_http(f"{self.metrics_urls[name]}/healthz", 30, process, self.workdir / f"{name}.log")
        return process

    @property
    def operator_pid(self) -> int | None:
        process = self._processes.get("operator")
        return process.pid if process else None

    def operator_process(self, name: str = "operator") -> subprocess.Popen[Any] | None:
        return self._processes.get(name)

    def leads(self, name: str = "operator") -> bool:
        """Whether replica ``name`` holds the Lease and reconciles (its ``vigil_leader`` gauge)."""
        try:
            return self.metric("vigil_leader", replica=name) == 1
        except (OSError, KeyError):
            return False  # not serving (yet, or any more)

    def metrics(self, replica: str = "operator") -> str:
        """Replica ``replica``'s /metrics, as Prometheus scrapes it."""
        return self.scrape("/metrics", replica)

    def scrape(self, path: str, replica: str = "operator") -> str:
        """GET ``path`` (/metrics, /report) of replica ``replica`` with the reader's token; HTTPError
        (an OSError) on a refusal."""
        request = urllib.request.Request(f"{self.metrics_urls[replica]}{path}",
                                         headers={"Authorization": f"Bearer {self.reader_token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read().decode()

    def metric(self, sample: str, replica: str = "operator", **labels: str) -> float | None:
        """The sum of the samples named ``sample`` whose labels include ``labels``; None if none."""
        from prometheus_client.parser import text_string_to_metric_families

        found = [s.value for family in text_string_to_metric_families(self.metrics(replica)) for s in family.samples
                 if s.name == sample and labels.items() <= s.labels.items()]
        return sum(found) if found else None

    def stop_operator(self, name: str = "operator") -> None:
        self._stop(name)

    def kill_operator(self, name: str = "operator") -> None:
        """SIGKILL, as a node failure would: no handler runs, nothing is flushed (the Lease is not released)."""
        process = self._processes.pop(name, None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def _stop(self, name: str) -> None:
        # The operator gets kopf's graceful stop, but no longer than a test should wait for it.
        stop(self._processes.pop(name, None), timeout=5)

    def stop(self) -> None:
        for name in [name for name in self._processes if name.startswith("operator")]:
            self._stop(name)
        if self.controlplane is not None:
            if self._owns_controlplane:
                self.controlplane.stop()
            elif self.kubeconfig.exists():
                # Shared: leave no object, Event, Secret, policy, RBAC edit or Lease for the next user to trip on.
                self.controlplane.kubectl("delete", "--ignore-not-found", "-f", str(DEPLOY / "weakening-policy.yaml"))
                self.controlplane.kubectl("delete", "lease", "--ignore-not-found", "-n", OPERATOR_NAMESPACE, LEASE_NAME)
                self.controlplane.reset(GROUP)
                self.controlplane.apply(self.identity())
        self._stop("aws")

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    # --- Kubernetes --------------------------------------------------------------------------

    def kube(self) -> Any:
        """An admin client (the operator itself runs with deploy/'s ServiceAccount)."""
        if "api" not in self._clients:
            assert self.controlplane is not None
            self._clients["api"] = self.controlplane.client()
        return self._clients["api"]

    def custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.kube())

    def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create the object, or merge-patch its spec if it exists (enough for these tests)."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        kind, meta = manifest["kind"], manifest["metadata"]
        if kind == "Namespace":
            try:
                return client.CoreV1Api(self.kube()).create_namespace(manifest).to_dict()
            except ApiException as exc:
                if exc.status != 409:
                    raise
                return {}
        api, plural, ns = self.custom(), PLURALS[kind], meta.get("namespace", "default")
        try:
            return api.create_namespaced_custom_object(GROUP, VERSION, ns, plural, manifest)
        except ApiException as exc:
            if exc.status != 409:
                raise
        return api.patch_namespaced_custom_object(GROUP, VERSION, ns, plural, meta["name"],
                                                  {"spec": manifest["spec"]})

    def refusal(self, manifest: dict[str, Any]) -> str:
        """The API server's message refusing ``manifest`` (422); AssertionError if it is admitted."""
        from kubernetes.client.exceptions import ApiException

        try:
            self.apply(manifest)
        except ApiException as exc:
            if exc.status != 422:
                raise
            return str(json.loads(exc.body).get("message", ""))
        raise AssertionError(f"{manifest['kind']} {manifest['metadata']['name']} was admitted")

    def apply_files(self, paths: Iterable[Path]) -> list[dict[str, Any]]:
        return [self.apply(doc) for path in paths for doc in yaml.safe_load_all(path.read_text()) if doc
                and doc.get("kind") != "Kustomization"]

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        return self.custom().get_namespaced_custom_object(GROUP, VERSION, namespace, PLURALS[kind], name)

    def patch_spec(self, kind: str, namespace: str, name: str, spec: dict[str, Any],
                   dry_run: bool = False) -> dict[str, Any]:
        return self.custom().patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURALS[kind], name,
                                                            {"spec": spec}, **({"dry_run": "All"} if dry_run else {}))

    def enforce_weakening_policy(self, weakening_edit: Callable[[], Any], timeout: float = 30) -> str:
        """Apply deploy/weakening-policy.yaml and wait until the API server enforces it (policies
        take effect a few seconds after they are written): until ``weakening_edit`` is refused.
        Returns the refusal's message."""
        from kubernetes.client.exceptions import ApiException

        assert self.controlplane is not None
        self.controlplane.apply(doc for doc in yaml.safe_load_all((DEPLOY / "weakening-policy.yaml").read_text()) if doc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                weakening_edit()
            except ApiException as exc:
                if exc.status in (403, 422):
                    return str(json.loads(exc.body).get("message", ""))
                raise
            time.sleep(0.5)
        raise TimeoutError(f"the weakening policy was not enforced within {timeout}s")

    def annotate(self, kind: str, namespace: str, name: str, annotations: dict[str, str | None]) -> dict[str, Any]:
        """Set (or, with None, remove) annotations, as `kubectl annotate` does."""
        return self.custom().patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURALS[kind], name,
                                                            {"metadata": {"annotations": annotations}})

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.custom().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURALS[kind], name)

    def exists(self, kind: str, namespace: str, name: str) -> bool:
        from kubernetes.client.exceptions import ApiException

        try:
            self.get(kind, namespace, name)
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise

    def events(self, namespace: str, name: str | None = None) -> list[dict[str, Any]]:
        from kubernetes import client

        items = client.CoreV1Api(self.kube()).list_namespaced_event(namespace).to_dict()["items"]
        return [e for e in items if name is None or (e.get("involved_object") or {}).get("name") == name]

    def wait_events(self, namespace: str, name: str, predicate: Callable[[dict[str, Any]], bool],
                    timeout: float = 15, what: str = "an event") -> list[dict[str, Any]]:
        """The object's Events that ``predicate`` accepts, once there is at least one: kopf posts
        Events from a queue of its own, after the status patch, so a status seen does not mean its
        Event is there yet."""
        found: list[dict[str, Any]] = []

        def posted() -> bool:
            found[:] = [e for e in self.events(namespace, name) if predicate(e)]
            return bool(found)

        wait_until(f"{what} for {namespace}/{name} posted", posted, timeout)
        return found

    def wait(self, kind: str, namespace: str, name: str, predicate: Callable[[dict[str, Any]], bool],
             timeout: float = 60, what: str = "the condition") -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        obj: dict[str, Any] = {}
        while time.monotonic() < deadline:
            obj = self.get(kind, namespace, name)
            if predicate(obj):
                return obj
            time.sleep(0.25)
        raise TimeoutError(f"{kind} {namespace}/{name}: {what} not met in {timeout}s; generation "
                           f"{obj.get('metadata', {}).get('generation')}, spec {json.dumps(obj.get('spec'))}; status: "
                           f"{json.dumps(obj.get('status'), indent=1)}\noperator log: {self.workdir / 'operator.log'}")

    # --- AWS ---------------------------------------------------------------------------------

    def calls(self) -> CallLog:
        return CallLog(self.aws_endpoint)

    def make_role(self, account_id: str, name: str) -> None:
        """A role in ``account_id`` the management account may assume, as a person's role would be
        (a developer's, a break-glass role); kept if it exists."""
        import json

        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
            "AWS": f"arn:aws:iam::{self.organization['management']}:root"}}]}
        iam = self.aws("iam", account_id)
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        except iam.exceptions.EntityAlreadyExistsException:
            pass

    def aws(self, service: str, account_id: str | None = None, region: str = "ca-central-1",
            role: str = "OrganizationAccountAccessRole") -> Any:
        """A boto3 client in the management account, or in ``account_id`` through ``role`` (by
        default the organization's access role, the one Vigil works through)."""
        import boto3

        session = boto3.Session(**{k.lower(): v for k, v in self.aws_env().items()
                                   if k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")})
        if account_id and account_id != self.organization.get("management"):
            sts = session.client("sts", region_name=region, endpoint_url=self.aws_endpoint)
            creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{role}",
                                    RoleSessionName="vigil-test")["Credentials"]
            session = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"])
        return session.client(service, region_name=region, endpoint_url=self.aws_endpoint)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == type_), {})


def reconciled(obj: dict[str, Any]) -> bool:
    """Whether the current generation has been reconciled to the end. Not status.observedGeneration
    alone: Vigil writes it as it starts a generation (with Reconciling=True); Ready's own
    observedGeneration says which generation Ready describes."""
    generation = obj.get("metadata", {}).get("generation")
    return (condition(obj, "Ready").get("observedGeneration") == generation
            and condition(obj, "Reconciling").get("status") != "True")


def is_ready_and_compliant(obj: dict[str, Any]) -> bool:
    return (condition(obj, "Ready").get("status") == "True" and condition(obj, "Compliant").get("status") == "True"
            and reconciled(obj))


def wait_until(what: str, check: Callable[[], bool], timeout: float) -> None:
    """Poll ``check`` until it holds; TimeoutError naming ``what`` when it does not in time."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout}s")
        time.sleep(0.25)
