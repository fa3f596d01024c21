"""The corpus of invalid manifests (tests/invalid/) on a real kube-apiserver serving the CRDs the
models generate now: each manifest the corpus says admission refuses is refused with a 422 that
names its field (`kubectl apply` fails, nothing is stored, the operator never sees it); each the
corpus leaves to the operator is admitted, as only the operator can judge it. Every create is a
server-side dry run.

The operator's half is tests/unit/test_invalid_corpus.py; with the operator running and the
sandbox's call record, tests/e2e/test_invalid_corpus.py.
"""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from vigil_sandbox.controlplane import ControlPlane
from vigil_sandbox.invalid_corpus import ADMISSION, OPERATOR, load

pytestmark = pytest.mark.kube

CORPUS = load()


@pytest.mark.parametrize("entry", [e for e in CORPUS if e.at == ADMISSION], ids=str)
def test_admission_refuses_naming_the_field(dry_run_create, namespace, entry):
    with pytest.raises(ApiException) as refused:
        dry_run_create(entry.manifest(namespace))
    assert refused.value.status == 422, refused.value.body
    status = json.loads(refused.value.body)
    causes = [cause.get("field") for cause in status.get("details", {}).get("causes", [])]
    assert entry.field in causes and f"{entry.field}:" in status["message"], (causes, status["message"])


@pytest.mark.parametrize("entry", [e for e in CORPUS if e.at == OPERATOR], ids=str)
def test_what_only_the_operator_can_judge_is_admitted(dry_run_create, namespace, entry):
    dry_run_create(entry.manifest(namespace))


@pytest.mark.parametrize("path, words", [
    ("logarchives.spec.bucketName", "not formatted as an IP address (192.168.5.4); not beginning with xn--"),
    ("logarchives.spec.kms.alias", "not under alias/aws/, which AWS reserves for AWS managed keys"),
    ("logarchives.spec.kms.keyArn", "Use this existing key instead."),
    ("orgtrails.spec.trailName", "no two of . _ - side by side"),
    ("organizations.spec.regions.governed", "Each item: An AWS Region code"),
    ("organizations.spec.access.sessionDurationSeconds", "role chaining"),
    ("sessionloggings.spec.cloudWatch.logGroupName", "not beginning with aws/"),
    ("flowlogpolicies.spec.s3KeyPrefix", "no folder of it may be named AWSLogs"),
])
def test_kubectl_explain_states_the_aws_rule(crds: ControlPlane, path, words):
    assert words in " ".join(crds.kubectl("explain", path).stdout.split())
