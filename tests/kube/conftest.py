"""Fixtures for the tests that use the session's kube-apiserver without the operator."""

from __future__ import annotations

import pytest

from vigil.crdgen import write_crds
from vigil_sandbox.controlplane import ControlPlane


@pytest.fixture(scope="module")
def crds(controlplane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> ControlPlane:
    """The session's control plane serving the CRDs the models generate now (the server refuses
    one whose CEL rules could cost more than its budget)."""
    directory = tmp_path_factory.mktemp("crds")
    write_crds(directory)
    controlplane.install_crds(directory)
    return controlplane
