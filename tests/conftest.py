"""Fixtures shared by the layers that need Kubernetes: one real control plane (etcd +
kube-apiserver, vigil_sandbox.controlplane) per test session, that is per pytest-xdist worker.

Its binaries come from KUBEBUILDER_ASSETS or the build cache that `make controlplane` fills; a
plain `pytest` builds them on first use. Users share it: each cleans up after itself."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from vigil_sandbox.controlplane import ControlPlane, ControlPlaneUnavailable


@pytest.fixture(scope="session")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    try:
        plane = ControlPlane(tmp_path_factory.mktemp("controlplane")).start()
    except ControlPlaneUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    print(f"\ncontrol plane (etcd + kube-apiserver) ready in {plane.started_in:.1f}s", file=sys.stderr)
    try:
        yield plane
    finally:
        plane.stop()
