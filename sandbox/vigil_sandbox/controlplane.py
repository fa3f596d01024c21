"""A real Kubernetes control plane as local processes: etcd and kube-apiserver, as kubebuilder's
envtest starts them, so RBAC, CEL, ValidatingAdmissionPolicy and server-side apply are the real
thing in every end-to-end test and in `make demo`.

The binaries come from ``KUBEBUILDER_ASSETS`` (envtest's convention: a folder holding etcd,
kube-apiserver and kubectl) or are built once from their Go modules by ``controlplane/build.sh``
into a cache outside the work tree. There is no controller-manager: namespaces are never
finalized and nothing is garbage-collected, so users of a shared control plane clean up after
themselves (``ControlPlane.reset``).
"""

from __future__ import annotations

import base64
import ctypes
import datetime
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

BUILD_SCRIPT = Path(__file__).resolve().parents[1] / "controlplane" / "build.sh"
PROGRAMS = ("etcd", "kube-apiserver", "kubectl")
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "vigil-system"})


class ControlPlaneUnavailable(RuntimeError):
    """The binaries are neither given nor buildable; the message says what to install or set."""


def binaries() -> Path:
    """The folder holding etcd, kube-apiserver and kubectl: KUBEBUILDER_ASSETS, else the build cache
    (built now, once, with progress on stderr, if it is missing)."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        missing = [p for p in PROGRAMS if not os.access(Path(assets) / p, os.X_OK)]
        if missing:
            raise ControlPlaneUnavailable(f"KUBEBUILDER_ASSETS={assets} lacks {', '.join(missing)}; it must hold "
                                          f"the executables {', '.join(PROGRAMS)}")
        return Path(assets)
    if shutil.which("go") is None:
        raise ControlPlaneUnavailable(
            "the tests need kube-apiserver, etcd and kubectl: install Go >= 1.26 (they are then built from the Go "
            "module proxy, once) or set KUBEBUILDER_ASSETS to a folder holding those binaries")
    done = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise ControlPlaneUnavailable(f"building the control plane failed ({BUILD_SCRIPT} exited "
                                      f"{done.returncode}; its output is above)")
    return Path(done.stdout.strip().splitlines()[-1])


PORTS_FROM = 20000  # above the well-known servers' registered ports that a developer's machine runs


def free_port() -> int:
    """A port nothing listens on, below the kernel's range for outgoing connections: a port the
    kernel hands out (bind to 0) is one any connection made meanwhile on the machine can take before
    the server binds it, and with four test workers starting stacks at once one did (etcd: "bind:
    address already in use", and every module of that worker lost its control plane)."""
    below = _ephemeral_low()
    for _ in range(200 if below - PORTS_FROM >= 1000 else 0):  # else the kernel hands out nearly all
        port = random.randrange(PORTS_FROM, below)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # something listens there already
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; macOS's range starts at 49152, above it too


def _die_with_parent(death_signal: int) -> Callable[[], None] | None:
    """Linux: the child gets ``death_signal`` when the process that started it dies, even by
    SIGKILL, so a crashed test run leaves no etcd or kube-apiserver behind."""
    if sys.platform != "linux":
        return None
    return lambda: ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, death_signal)  # PR_SET_PDEATHSIG


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None, stdout: int | None = None,
          death_signal: int = signal.SIGTERM) -> subprocess.Popen[Any]:
    """A child process that logs to ``log`` and never outlives this one."""
    handle = log.open("w")
    return subprocess.Popen(args, stdout=handle if stdout is None else stdout, stderr=handle, text=True,
                            env={**os.environ, **(env or {})}, preexec_fn=_die_with_parent(death_signal))


def stop(process: subprocess.Popen[Any] | None, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a live process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- certificates ----------------------------------------------------------------------------


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _certificate(subject: x509.Name, key: rsa.RSAPrivateKey, issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None,
                 ca: bool = False, names: Iterable[x509.GeneralName] = (), client: bool = False) -> bytes:
    now = datetime.datetime.now(datetime.timezone.utc)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=7))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@dataclass
class Certificates:
    """A CA, the API server's serving certificate, an admin client in system:masters (as envtest
    makes), and the service-account signing key."""

    directory: Path

    def write(self) -> "Certificates":
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        ca_key = _key()
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil-test-ca")])
        (d / "ca.crt").write_bytes(_certificate(ca_name, ca_key, None, ca=True))
        server_key = _key()
        names = [x509.DNSName("localhost"), x509.DNSName("kubernetes.default.svc"),
                 x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        (d / "apiserver.crt").write_bytes(_certificate(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]), server_key,
            (ca_name, ca_key), names=names))
        (d / "apiserver.key").write_bytes(_pem_key(server_key))
        admin_key = _key()
        (d / "admin.crt").write_bytes(_certificate(
            x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                       x509.NameAttribute(NameOID.COMMON_NAME, "vigil-test-admin")]),
            admin_key, (ca_name, ca_key), client=True))
        (d / "admin.key").write_bytes(_pem_key(admin_key))
        sa_key = _key()
        (d / "sa.key").write_bytes(_pem_key(sa_key))
        (d / "sa.pub").write_bytes(sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        return self

    def data(self, name: str) -> str:
        return base64.b64encode((self.directory / name).read_bytes()).decode()


def kubeconfig(server: str, ca_data: str, user: dict[str, str], name: str = "vigil-test") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}]}


# --- the control plane -----------------------------------------------------------------------

# Every request of a ServiceAccount, with its verdict: how a test sees what the operator asked of
# the API server and what RBAC answered, without trusting the operator's own logs.
AUDIT_POLICY = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
                "rules": [{"level": "Metadata", "userGroups": ["system:serviceaccounts"]}, {"level": "None"}]}


@dataclass
class ControlPlane:
    """etcd + kube-apiserver on free loopback ports; ``kubeconfig`` is the admin's."""

    workdir: Path
    bin: Path | None = None
    url: str = ""
    kubeconfig: Path = Path()
    started_in: float = 0.0
    certs: Certificates | None = None
    _processes: dict[str, subprocess.Popen[Any]] = field(default_factory=dict)
    _data: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> "ControlPlane":
        self.bin = self.bin or binaries()
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self.certs = Certificates(self.workdir / "pki").write()
            self._start_etcd()
            self._start_apiserver()
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - started
        return self

    def _start_etcd(self) -> None:
        assert self.bin is not None
        self._data = tempfile.TemporaryDirectory(prefix="vigil-etcd-")
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        self._processes["etcd"] = spawn([
            str(self.bin / "etcd"), "--data-dir", self._data.name, "--name", "default",
            "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
            "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls",
            f"http://127.0.0.1:{peer}", "--initial-cluster", f"default=http://127.0.0.1:{peer}",
            # A test database: durability is not worth an fsync per write.
            "--unsafe-no-fsync", "--log-level", "warn"], self.workdir / "etcd.log")
        self._wait(f"{self.etcd_url}/health", "etcd", 30)

    def _start_apiserver(self) -> None:
        assert self.bin is not None and self.certs is not None
        pki = self.certs.directory
        port = free_port()
        self.url = f"https://127.0.0.1:{port}"
        policy = self.workdir / "audit-policy.yaml"
        policy.write_text(yaml.safe_dump(AUDIT_POLICY))
        self._processes["kube-apiserver"] = spawn([
            str(self.bin / "kube-apiserver"), "--etcd-servers", self.etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(port),
            "--cert-dir", str(pki), "--tls-cert-file", str(pki / "apiserver.crt"),
            "--tls-private-key-file", str(pki / "apiserver.key"), "--client-ca-file", str(pki / "ca.crt"),
            "--authorization-mode", "RBAC", "--service-cluster-ip-range", "10.0.0.0/24", "--allow-privileged=true",
            # No kubernetes Service endpoints to keep: there is no cluster network behind loopback.
            "--endpoint-reconciler-type", "none",
            "--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file",
            str(pki / "sa.pub"), "--service-account-signing-key-file", str(pki / "sa.key"),
            "--audit-policy-file", str(policy), "--audit-log-path", str(self.workdir / "audit.log"),
            "--audit-log-mode", "batch", "--audit-log-batch-max-wait", "1s", "--audit-log-maxsize", "0",
            "--profiling=false", "--event-ttl", "1h"], self.workdir / "kube-apiserver.log",
            # Orphaned, it would hang on an etcd that got SIGTERM at the same moment; it keeps no
            # state of its own, so SIGKILL loses nothing.
            death_signal=signal.SIGKILL)
        self.kubeconfig = self.workdir / "kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump(kubeconfig(self.url, self.certs.data("ca.crt"), {
            "client-certificate-data": self.certs.data("admin.crt"),
            "client-key-data": self.certs.data("admin.key")})))
        self._wait(f"{self.url}/readyz", "kube-apiserver", 90)

    def _ssl(self) -> ssl.SSLContext:
        assert self.certs is not None
        context = ssl.create_default_context(cafile=str(self.certs.directory / "ca.crt"))
        context.load_cert_chain(self.certs.directory / "admin.crt", self.certs.directory / "admin.key")
        return context

    def _wait(self, url: str, name: str, timeout: float) -> None:
        process, log = self._processes[name], self.workdir / f"{name}.log"
        context = self._ssl() if url.startswith("https") else None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {log}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2, context=context):
                    return
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.1)
        raise TimeoutError(f"{name} was not ready within {timeout}s; see {log}")

    def cpu_seconds(self) -> float:
        """CPU time etcd and kube-apiserver have used: benchmarks share the machine with them."""
        return sum(cpu_seconds(p.pid) for p in self._processes.values())

    def stop(self) -> None:
        # The API server first: stopped together, etcd goes first and the API server hangs on it.
        for name in ("kube-apiserver", "etcd"):
            stop(self._processes.pop(name, None), timeout=15)
        if self._data is not None:
            self._data.cleanup()
            self._data = None

    def __enter__(self) -> "ControlPlane":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    # --- as a client ---------------------------------------------------------------------------

    def client(self) -> Any:
        """An admin kubernetes.client.ApiClient."""
        from kubernetes import client, config

        configuration = client.Configuration()
        config.load_kube_config(config_file=str(self.kubeconfig), client_configuration=configuration,
                                persist_config=False)
        return client.ApiClient(configuration)

    def kubectl(self, *args: str, kubeconfig: Path | None = None, input: str | None = None,
                check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.bin is not None
        # A discovery cache of this control plane's own: ~/.kube/cache is keyed by host and port, and
        # a port reused from an earlier control plane would answer with that one's resources.
        done = subprocess.run([str(self.bin / "kubectl"), "--kubeconfig", str(kubeconfig or self.kubeconfig),
                               "--cache-dir", str(self.workdir / "kubectl-cache"), *args],
                              input=input, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return done

    def apply(self, documents: Iterable[dict[str, Any]], field_manager: str = "vigil-test") -> None:
        """Server-side apply, as admin: creates or updates, whatever exists."""
        text = "\n---\n".join(json.dumps(document) for document in documents)  # JSON is YAML, and fast to write
        self.kubectl("apply", "--server-side", "--force-conflicts", f"--field-manager={field_manager}", "-f", "-",
                     input=text)

    def install_crds(self, documents: list[dict[str, Any]], timeout: float = 60) -> None:
        """Apply the CRDs and wait until the API server serves them."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        self.apply(documents)
        names = [d["metadata"]["name"] for d in documents]
        self.kubectl("wait", "--for=condition=Established", f"--timeout={int(timeout)}s",
                     *[f"customresourcedefinition/{n}" for n in names])
        # Established is not yet served: a new resource's watch cache answers 429 ("storage is
        # (re)initializing") for a moment, which an operator started now would log as errors.
        deadline = time.monotonic() + timeout
        api = client.CustomObjectsApi(self.client())
        for doc in documents:
            group, version, plural = doc["spec"]["group"], doc["spec"]["versions"][0]["name"], doc["spec"]["names"]["plural"]
            while True:
                try:
                    api.list_cluster_custom_object(group, version, plural, limit=1)
                    break
                except ApiException:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{group}/{version} {plural} was not served within {timeout}s") from None
                    time.sleep(0.1)
        # kubectl's cached discovery predates these resources and (for categories such as
        # `kubectl get vigil`) would not look again for hours.
        shutil.rmtree(self.workdir / "kubectl-cache", ignore_errors=True)

    def token(self, namespace: str, service_account: str, seconds: int = 86400) -> str:
        """A bound token for the ServiceAccount (TokenRequest), as a pod would be given."""
        from kubernetes import client

        request = {"spec": {"expirationSeconds": seconds}}
        answer = client.CoreV1Api(self.client()).create_namespaced_service_account_token(
            service_account, namespace, request)
        return str(answer.status.token)

    def kubeconfig_for(self, namespace: str, service_account: str, path: Path) -> Path:
        """A kubeconfig that authenticates as the ServiceAccount: what RBAC grants it is all it gets."""
        assert self.certs is not None
        path.write_text(yaml.safe_dump(kubeconfig(self.url, self.certs.data("ca.crt"),
                                                  {"token": self.token(namespace, service_account)})))
        return path

    def audit(self, username: str | None = None) -> list[dict[str, Any]]:
        """The audit events so far (ServiceAccounts' requests), of ``username`` if given. The log is
        written in batches of at most a second."""
        path = self.workdir / "audit.log"
        events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
        return [e for e in events if username is None or e.get("user", {}).get("username") == username]

    def reset(self, group: str) -> None:
        """Forget what a user of a shared control plane left: every object of ``group`` (finalizers
        dropped: no controller is left to honour them), and every Event and Secret outside the
        system namespaces (namespaces themselves never go: nothing finalizes them)."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = self.client()
        custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
        crds = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
        for crd in (c for c in crds if c.spec.group == group):
            plural, version = crd.spec.names.plural, crd.spec.versions[0].name
            for obj in custom.list_cluster_custom_object(group, version, plural)["items"]:
                meta = obj["metadata"]
                try:
                    if meta.get("finalizers"):
                        custom.patch_namespaced_custom_object(group, version, meta["namespace"], plural, meta["name"],
                                                              {"metadata": {"finalizers": None}})
                    custom.delete_namespaced_custom_object(group, version, meta["namespace"], plural, meta["name"])
                except ApiException as exc:
                    if exc.status != 404:
                        raise
        for namespace in core.list_namespace().items:
            name = namespace.metadata.name
            if name not in SYSTEM_NAMESPACES:
                core.delete_collection_namespaced_event(name)
                core.delete_collection_namespaced_secret(name)


def _interrupt(*_: Any) -> None:
    """SIGTERM stops it as ^C does: the API server first, then etcd."""
    raise KeyboardInterrupt


def main() -> int:
    """python -m vigil_sandbox.controlplane: start one, print its kubeconfig path, run until ^C."""
    workdir = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="vigil-controlplane-"))
    signal.signal(signal.SIGTERM, _interrupt)
    with ControlPlane(workdir) as plane:
        print(json.dumps({"kubeconfig": str(plane.kubeconfig), "url": plane.url,
                          "startedInSeconds": round(plane.started_in, 1)}), flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
