"""Fixtures for end-to-end tests: the real `vigil run` process against a real kube-apiserver (the
session's control plane) and the AWS sandbox, each a process of its own (vigil_sandbox.stack)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vigil_sandbox import examples
from vigil_sandbox.controlplane import ControlPlane
from vigil_sandbox.iam_coverage import gaps as iam_gaps
from vigil_sandbox.stack import Stack

# Resync this often in tests, so "corrected within one resync" is seconds, not minutes.
RESYNC = "3s"


def example(kind: str, namespace: str = "baseline", **spec: Any) -> dict[str, Any]:
    """The example manifest of ``kind``, in ``namespace``, with fast resyncs and ``spec`` merged in."""
    return examples.example(kind, namespace, resyncInterval=RESYNC, **spec)


@pytest.fixture(scope="session")
def manifest():
    """``manifest(kind, namespace, **spec)``: an example manifest, ready for a test to apply."""
    return example


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, controlplane: ControlPlane) -> Iterator[Stack]:
    """A fresh AWS sandbox and operator per test module, on the session's control plane: modules
    never see each other's AWS, and each leaves the cluster as it found it.

    At the end, every operation Vigil called in the module must be allowed by the IAM policies
    deploy/iam/ ships for the account it was called in: the module fails in teardown, naming each
    that is not (the modules with a stack of their own check theirs the same way)."""
    with Stack(tmp_path_factory.mktemp("stack"), namespaces=("baseline", "audit", "lifecycle"),
               controlplane=controlplane) as running:
        yield running
        missing = iam_gaps(running)
    if missing:
        pytest.fail(missing, pytrace=False)
