"""Each artifact's requirements.lock (made by `make lock`: uv, exact pins with hashes for Lambda's platform)
covers every entry of the requirements.txt beside it at a version that entry allows, pins everything with
hashes (what pip's --require-hashes needs), and agrees with the other locks on every package they share."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import ROOT

ARTIFACTS = ("layers/*/requirements.txt", "functions/*/requirements.txt", "serving/requirements.txt")
REQUIREMENTS = sorted(path for pattern in ARTIFACTS for path in ROOT.glob(pattern))


def _entries(path: Path) -> list[str]:
    """A pip requirements file's entries: continuation lines joined, comments and blank lines left out."""
    text = path.read_text().replace("\\\n", " ")
    return [line.split(" #")[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """The lock's pins: canonical name -> (version, hashes)."""
    pins: dict[str, tuple[str, list[str]]] = {}
    for entry in _entries(path):
        requirement, *options = entry.split(" --hash=")
        req = Requirement(requirement.strip())
        (spec,) = req.specifier
        assert spec.operator == "==", f"{path}: {requirement} is not pinned with =="
        pins[canonicalize_name(req.name)] = (spec.version, [h.strip() for h in options])
    return pins


def _locked_requirements() -> list[Path]:
    return [path for path in REQUIREMENTS if _entries(path)]


@pytest.mark.parametrize("requirements", _locked_requirements(), ids=lambda p: str(p.parent.relative_to(ROOT)))
def test_the_lock_covers_every_requirement_at_an_allowed_version(requirements: Path) -> None:
    lock = requirements.with_name("requirements.lock")
    assert lock.is_file(), f"{lock.relative_to(ROOT)} is missing: run `make lock`"
    pins = _lock(lock)
    for entry in _entries(requirements):
        req = Requirement(entry)
        name = canonicalize_name(req.name)
        assert name in pins, f"{entry} is not in {lock.relative_to(ROOT)}: run `make lock`"
        assert req.specifier.contains(pins[name][0], prereleases=True), (
            f"{lock.relative_to(ROOT)} pins {name}=={pins[name][0]}, which {entry} does not allow: run `make lock`"
        )


@pytest.mark.parametrize("requirements", _locked_requirements(), ids=lambda p: str(p.parent.relative_to(ROOT)))
def test_every_pin_carries_sha256_hashes(requirements: Path) -> None:
    for name, (_, hashes) in _lock(requirements.with_name("requirements.lock")).items():
        assert hashes, f"{name} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (name, hashes)


def test_the_locks_agree_on_the_packages_they_share() -> None:
    # numpy above all: the functions leave theirs to CoreLayer's, which only works at the same version
    seen: dict[str, tuple[str, Path]] = {}
    for requirements in _locked_requirements():
        lock = requirements.with_name("requirements.lock")
        for name, (version, _) in _lock(lock).items():
            first = seen.setdefault(name, (version, lock))
            assert first[0] == version, f"{name}: {version} in {lock}, {first[0]} in {first[1]}"
    assert "numpy" in seen


def test_an_artifact_without_packages_has_no_stale_lock() -> None:
    for requirements in REQUIREMENTS:
        if not _entries(requirements):
            assert not requirements.with_name("requirements.lock").exists(), requirements
