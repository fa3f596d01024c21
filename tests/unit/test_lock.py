"""The lock files pin what the pyproject files ask for, with hashes, and are what gets installed.

requirements/runtime.lock is what the image installs (Dockerfile), requirements/test.lock what
`make install` and CI install. A dependency added to a pyproject.toml and not locked would be
missing from those installs (the projects themselves go in with --no-deps): this says so, and
names `make lock`, before anything else fails strangely.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
OWN = {"vigil", "vigil-sandbox"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of each package the lock pins."""
    found: dict[str, tuple[str, int]] = {}
    name = None
    for line in lock.read_text().splitlines():
        if match := PIN.match(line):
            name = canonicalize_name(match[1])
            found[name] = (match[2], 0)
        elif name and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[name]
            found[name] = (version, hashes + 1)
    return found


def _project(path: Path) -> dict:
    return tomllib.loads(path.read_text())["project"]


def requirements(with_test: bool) -> list[Requirement]:
    """What the locked install asks for: vigil's runtime, and with the tests its extras and the sandbox's."""
    vigil = _project(ROOT / "pyproject.toml")
    wanted = [Requirement(r) for r in vigil["dependencies"]]
    if with_test:
        for extra in vigil["optional-dependencies"].values():
            wanted += [Requirement(r) for r in extra]
        wanted += [Requirement(r) for r in _project(ROOT / "sandbox" / "pyproject.toml")["dependencies"]]
    return [r for r in wanted if canonicalize_name(r.name) not in OWN]


@pytest.mark.parametrize("lock,with_test", [("runtime.lock", False), ("test.lock", True)])
def test_every_requirement_is_pinned_at_a_version_it_accepts(lock: str, with_test: bool):
    pinned = pins(LOCKS / lock)
    problems = []
    for requirement in requirements(with_test):
        name = canonicalize_name(requirement.name)
        if name not in pinned:
            problems.append(f"{requirement} is not in requirements/{lock}")
        elif not requirement.specifier.contains(pinned[name][0], prereleases=True):
            problems.append(f"{requirement}: requirements/{lock} pins {pinned[name][0]}")
    assert problems == [], "run `make lock`: " + "; ".join(problems)


@pytest.mark.parametrize("lock", ["runtime.lock", "test.lock"])
def test_every_pin_carries_hashes_and_nothing_of_our_own(lock: str):
    pinned = pins(LOCKS / lock)
    assert pinned, f"requirements/{lock} pins nothing"
    assert [name for name, (_, hashes) in pinned.items() if hashes == 0] == []
    assert OWN.isdisjoint(pinned)  # installed from the work tree, not from an index


def test_the_image_installs_the_runtime_lock_with_its_hashes_and_vigil_without_dependencies():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements/runtime.lock" in dockerfile
    assert re.search(r"install [^\n]*--no-deps \.", dockerfile)
    assert re.search(r"install(?!.*--no-deps)[^\n]* \.( |$)", dockerfile, re.M) is None


def test_make_install_uses_the_test_lock_with_its_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK   := requirements/test.lock" in makefile
    assert "--require-hashes -r $(LOCK)" in makefile
    assert "--no-deps --no-build-isolation -e '.[test]' -e ./sandbox" in makefile


def test_the_runtime_lock_holds_nothing_the_test_lock_pins_differently():
    # The tests run on the versions the image ships.
    runtime, test = pins(LOCKS / "runtime.lock"), pins(LOCKS / "test.lock")
    differ = {name: (version, test[name][0]) for name, (version, _) in runtime.items()
              if name in test and test[name][0] != version}
    assert differ == {}
