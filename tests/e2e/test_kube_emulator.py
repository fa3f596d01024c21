"""The Kubernetes API emulator (`vigil.sandbox.kube`) as its real clients see it over HTTP.

Covers, through the `kubernetes` client: server-set metadata and schema defaults at create;
generation moving only on spec changes; the status subresource changing only the status; no-op
writes keeping the resourceVersion; admission refusing invalid objects with HTTP 422 and the
API server's Status naming the field; unknown fields pruned with a Warning header; two-phase
deletion with finalizers; watches resumed from a resourceVersion. Through kubectl: listing by the
`vigil` category with the CRDs' printer columns, and server-side strict validation on apply.
And a real `kopf run` subprocess with a throwaway operator: its create handler patches the
status and posts an Event, and its delete handler's finalizer holds the deletion until handled.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from vigil.sandbox.kube import RunningEmulator, start_in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

GROUP, VERSION, NAMESPACE = "vigil.dev", "v1alpha1", "default"


@pytest.fixture
def kube() -> Iterator[RunningEmulator]:
    running = start_in_thread()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def kubeconfig(kube: RunningEmulator, tmp_path: Path) -> Path:
    return kube.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def api_client(kube: RunningEmulator) -> Iterator[kubernetes.client.ApiClient]:
    with kubernetes.client.ApiClient(kubernetes.client.Configuration(host=kube.url)) as client:
        yield client


@pytest.fixture
def custom(api_client: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api_client)


def orgtrail(name: str = "main", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "OrgTrail", "metadata": {"name": name},
        "spec": {"organizationRef": {"name": "org"}, "logArchiveRef": {"name": "archive"}, **spec},
    }


def organization(name: str = "main", log_archive: str = "222222222222") -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Organization", "metadata": {"name": name},
        "spec": {
            "accounts": {"logArchive": log_archive, "security": "333333333333"},
            "regions": {"home": "eu-west-1", "governed": ["eu-west-1"]},
        },
    }


def create(
        custom: kubernetes.client.CustomObjectsApi, body: dict[str, Any], plural: str = "orgtrails",
) -> dict[str, Any]:
    return custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, plural, body)


def wait_for(predicate: Callable[[], Any], timeout: float = 15, what: str = "a condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.05)
    raise AssertionError(f"Timed out waiting for {what}.")


def test_create_sets_server_fields_and_schema_defaults(custom: kubernetes.client.CustomObjectsApi) -> None:
    created = create(custom, orgtrail())

    meta = created["metadata"]
    assert meta["generation"] == 1
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) > 0
    assert created["spec"]["managementPolicy"] == "Enforce"
    assert created["spec"]["trailName"] == "vigil-org-trail"
    assert "integrity" not in created["spec"]  # defaults apply only inside objects that are present
    fetched = custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "orgtrails", "main")
    assert fetched == created


def test_spec_patch_bumps_generation_and_ignores_status(custom: kubernetes.client.CustomObjectsApi) -> None:
    created = create(custom, orgtrail())

    patched = custom.patch_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, "orgtrails", "main",
        {"spec": {"managementPolicy": "Audit"}, "status": {"trailArn": "arn:ignored"}},
    )

    assert patched["metadata"]["generation"] == 2
    assert int(patched["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert patched["spec"]["managementPolicy"] == "Audit"
    assert "trailArn" not in patched.get("status", {})


def test_status_subresource_changes_only_the_status(custom: kubernetes.client.CustomObjectsApi) -> None:
    created = create(custom, orgtrail())

    patched = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, NAMESPACE, "orgtrails", "main",
        {"status": {"trailArn": "arn:aws:cloudtrail:eu-west-1:111111111111:trail/t", "observedGeneration": 1},
         "spec": {"managementPolicy": "Audit"}},
    )

    assert patched["metadata"]["generation"] == 1
    assert int(patched["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert patched["spec"] == created["spec"]
    assert patched["status"]["trailArn"].endswith("trail/t")
    assert patched["status"]["driftCorrections"] == 0  # status defaults apply too


def test_noop_patch_keeps_the_resource_version(custom: kubernetes.client.CustomObjectsApi) -> None:
    created = create(custom, orgtrail())

    patched = custom.patch_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, "orgtrails", "main", {"spec": {"managementPolicy": "Enforce"}},
    )

    assert patched["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


@pytest.mark.parametrize(("plural", "body", "field", "reason", "message"), [
    pytest.param(
        "orgtrails", {**orgtrail("bad"), "spec": {"logArchiveRef": {"name": "archive"}}},
        "spec.organizationRef", "FieldValueRequired",
        'OrgTrail.vigil.dev "bad" is invalid: spec.organizationRef: Required value',
        id="missing-required-field",
    ),
    pytest.param(
        "orgtrails", orgtrail("bad", managementPolicy="Sometimes"),
        "spec.managementPolicy", "FieldValueNotSupported",
        'OrgTrail.vigil.dev "bad" is invalid: spec.managementPolicy: Unsupported value: "Sometimes": '
        'supported values: "Enforce", "Audit"',
        id="not-in-enum",
    ),
    pytest.param(
        "organizations", organization("bad", log_archive="1234"),
        "spec.accounts.logArchive", "FieldValueInvalid",
        'Organization.vigil.dev "bad" is invalid: spec.accounts.logArchive: Invalid value: "1234": '
        "spec.accounts.logArchive in body should match '^[0-9]{12}$'",
        id="pattern-mismatch",
    ),
])
def test_invalid_objects_are_refused_naming_the_field(
        custom: kubernetes.client.CustomObjectsApi,
        plural: str, body: dict[str, Any], field: str, reason: str, message: str,
) -> None:
    with pytest.raises(kubernetes.client.ApiException) as exc_info:
        create(custom, body, plural=plural)

    assert exc_info.value.status == 422
    status = json.loads(exc_info.value.body)
    assert status["kind"] == "Status" and status["reason"] == "Invalid"
    assert status["message"] == message
    cause_message = message.split(f"{field}: ", 1)[1]
    assert status["details"]["causes"] == [{"reason": reason, "field": field, "message": cause_message}]
    with pytest.raises(kubernetes.client.ApiException) as not_found:
        custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, plural, "bad")
    assert not_found.value.status == 404


def test_unknown_fields_are_pruned_with_a_warning(custom: kubernetes.client.CustomObjectsApi) -> None:
    created, status, headers = custom.create_namespaced_custom_object_with_http_info(
        GROUP, VERSION, NAMESPACE, "orgtrails", orgtrail(bogus={"x": 1}),
    )

    assert status == 201
    assert headers["Warning"] == '299 - "unknown field \\"spec.bogus\\""'
    assert "bogus" not in created["spec"]


def test_deletion_waits_for_the_finalizers(custom: kubernetes.client.CustomObjectsApi) -> None:
    body = orgtrail()
    body["metadata"]["finalizers"] = ["vigil.dev/cleanup"]
    create(custom, body)

    custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "orgtrails", "main")
    deleting = custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "orgtrails", "main")
    assert deleting["metadata"]["deletionTimestamp"]
    assert deleting["metadata"]["generation"] == 2

    with pytest.raises(kubernetes.client.ApiException) as forbidden:
        custom.patch_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, "orgtrails", "main",
            {"metadata": {"finalizers": ["vigil.dev/cleanup", "vigil.dev/another"]}},
        )
    assert forbidden.value.status == 422

    custom.patch_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, "orgtrails", "main", {"metadata": {"finalizers": None}},
    )
    with pytest.raises(kubernetes.client.ApiException) as gone:
        custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "orgtrails", "main")
    assert gone.value.status == 404


def test_watch_resumes_from_a_resource_version(custom: kubernetes.client.CustomObjectsApi) -> None:
    create(custom, orgtrail())
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "orgtrails")
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, "orgtrails", "main", {"spec": {"trailName": "renamed"}},
    )

    watch = kubernetes.watch.Watch()
    events = []
    for event in watch.stream(
            custom.list_namespaced_custom_object, GROUP, VERSION, NAMESPACE, "orgtrails",
            resource_version=listed["metadata"]["resourceVersion"], timeout_seconds=5,
    ):
        events.append((event["type"], event["object"]["spec"]["trailName"]))
        watch.stop()

    assert events == [("MODIFIED", "renamed")]


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=20,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
    )


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_lists_the_category_with_printer_columns(
        custom: kubernetes.client.CustomObjectsApi, kubeconfig: Path,
) -> None:
    create(custom, orgtrail())
    create(custom, organization(), plural="organizations")

    listed = kubectl(kubeconfig, "get", "vigil")
    wide = kubectl(kubeconfig, "get", "vtrail", "-o", "wide")

    assert listed.returncode == 0, listed.stderr
    assert "orgtrail.vigil.dev/main" in listed.stdout and "organization.vigil.dev/main" in listed.stdout
    header, row = [line.split() for line in wide.stdout.splitlines()[:2]]
    assert header == ["NAME", "READY", "COMPLIANT", "TARGETS", "MODE", "LOGGING", "AGE"]
    assert row[:2] == ["main", "Enforce"]  # the empty status columns print as blanks


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_apply_validates_on_the_server(kubeconfig: Path) -> None:
    manifest = json.dumps(orgtrail(bogus=1))

    refused = kubectl(kubeconfig, "apply", "-f", "-", stdin=manifest)
    applied = kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(orgtrail()))

    assert refused.returncode != 0
    assert 'strict decoding error: unknown field "spec.bogus"' in refused.stderr
    assert applied.returncode == 0, applied.stderr
    assert "orgtrail.vigil.dev/main created" in applied.stdout


THROWAWAY_OPERATOR = """
import kopf

@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    # The CRD schema declares no status.kopf: the API server (and the emulator) would prune it.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage()
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage()

@kopf.on.create('vigil.dev', 'v1alpha1', 'orgtrails')
def created(body, patch, **_):
    kopf.info(body, reason='Observed', message='Seen by the throwaway operator.')
    patch.status['trailArn'] = 'arn:aws:cloudtrail:eu-west-1:111111111111:trail/' + body['spec']['trailName']

@kopf.on.delete('vigil.dev', 'v1alpha1', 'orgtrails')
def deleted(body, **_):
    kopf.info(body, reason='Released', message='Let go by the throwaway operator.')
"""


@pytest.fixture
def kopf_operator(kubeconfig: Path, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    source = tmp_path / "operator.py"
    source.write_text(textwrap.dedent(THROWAWAY_OPERATOR))
    log = tmp_path / "kopf.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "kopf", "run", "--standalone", "--namespace", NAMESPACE, "--verbose", str(source)],
            stdout=output, stderr=subprocess.STDOUT, env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    if process.returncode not in (0, -15):
        print(log.read_text())


def test_kopf_operator_handles_objects_through_the_emulator(
        kopf_operator: subprocess.Popen[bytes],
        custom: kubernetes.client.CustomObjectsApi,
        api_client: kubernetes.client.ApiClient,
) -> None:
    core = kubernetes.client.CoreV1Api(api_client)
    create(custom, orgtrail())

    def fetch() -> dict[str, Any]:
        return custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "orgtrails", "main")

    def reasons() -> set[str]:
        events = core.list_namespaced_event(NAMESPACE).items
        return {event.reason for event in events if event.involved_object.name == "main"}

    handled = wait_for(lambda: fetch().get("status", {}).get("trailArn"), what="the status from the create handler")
    assert handled.endswith("trail/vigil-org-trail")
    assert "kopf.zalando.org/KopfFinalizerMarker" in fetch()["metadata"]["finalizers"]
    wait_for(lambda: "Observed" in reasons(), what="the Event from the create handler")

    custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "orgtrails", "main")

    def gone() -> bool:
        try:
            fetch()
        except kubernetes.client.ApiException as e:
            return e.status == 404
        return False
    wait_for(gone, what="the finalizer to be released by the delete handler")
    wait_for(lambda: "Released" in reasons(), what="the Event from the delete handler")
    assert kopf_operator.poll() is None, "kopf exited early"
