"""Fixtures shared by the layers that need Kubernetes: one real control plane (etcd +
kube-apiserver, vigil_sandbox.controlplane) per test session, that is per pytest-xdist worker.

Its binaries come from KUBEBUILDER_ASSETS or the build cache that `make controlplane` fills; a
plain `pytest` builds them on first use. Users share it: each cleans up after itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil_sandbox.controlplane import ControlPlane, ControlPlaneUnavailable


STARTUP_FILE = "controlplane-startup.txt"


@pytest.fixture(scope="session")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    try:
        plane = ControlPlane(tmp_path_factory.mktemp("controlplane")).start()
    except ControlPlaneUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    # Each xdist worker starts its own; the summary below gathers what each took.
    (tmp_path_factory.getbasetemp() / STARTUP_FILE).write_text(f"{plane.started_in:.1f}")
    try:
        yield plane
    finally:
        plane.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # a worker: the controller reports for all of them
    root = Path(config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    times = sorted(float(p.read_text()) for p in root.rglob(STARTUP_FILE))
    if times:
        terminalreporter.write_line(f"control plane (etcd + kube-apiserver) started {len(times)} time(s), ready in "
                                    f"{', '.join(f'{t:.1f}s' for t in times)}")
