"""Every Lambda artifact is built from wheels for Lambda's platform (CPython 3.12, manylinux x86_64) whatever
the build machine, and from locked requirements: each build path in template.yaml is either SAM's own python
builder, which fetches manylinux wheels for the function's architecture by itself (checked here on the
builder SAM CLI runs, from .venv-tools), or a Makefile whose pip calls carry the platform flags and install
the artifact's requirements.lock with --require-hashes (checked on the commands `make -n` expands)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT, TOOLS_PYTHON

sys.path.insert(0, str(ROOT / "tools"))
from cfn_template import load_template

BUILT_TYPES = ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion")
TEMPLATE = load_template(ROOT / "template.yaml")
GLOBALS = TEMPLATE.get("Globals", {}).get("Function", {})


def _artifacts() -> dict[str, dict[str, Any]]:
    return {
        name: res
        for name, res in TEMPLATE["Resources"].items()
        if res.get("Type") in BUILT_TYPES and res.get("Properties", {}).get("PackageType", "Zip") == "Zip"
    }


def _source_dir(res: dict[str, Any]) -> Path:
    props = res["Properties"]
    return ROOT / (props.get("CodeUri") or props["ContentUri"])


def _makefile_built() -> list[str]:
    return [name for name, res in _artifacts().items() if res.get("Metadata", {}).get("BuildMethod") == "makefile"]


def _python_built() -> list[str]:
    return [name for name in _artifacts() if name not in _makefile_built()]


def _pip_commands(name: str) -> list[list[str]]:
    """The pip calls of the Makefile's build target, expanded by make itself (`make -n`: nothing runs)."""
    out = subprocess.run(
        ["make", "-n", "-s", "-f", "Makefile", f"build-{name}", "ARTIFACTS_DIR=/artifacts"],
        cwd=_source_dir(_artifacts()[name]),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    commands = [shlex.split(line) for line in out.splitlines() if " pip " in f" {line} "]
    return [words for words in commands if "install" in words or "download" in words]


def test_every_artifact_is_built_by_the_python_builder_or_a_makefile() -> None:
    # GIVEN every zip function and layer of the template
    # THEN each is a Makefile build, or a python3.12 x86_64 function that SAM's python builder makes
    assert _makefile_built(), "no Makefile builds: the layer and the large functions need them"
    for name in _python_built():
        props = {**GLOBALS, **_artifacts()[name]["Properties"]}
        assert _artifacts()[name]["Type"] == "AWS::Serverless::Function", f"{name}: a layer needs a Makefile"
        assert props.get("Runtime") == "python3.12", name
        assert props.get("Architectures") == ["x86_64"], name


@pytest.mark.parametrize("name", _makefile_built())
def test_a_makefile_installs_the_lock_for_lambdas_platform(name: str) -> None:
    # GIVEN the build target SAM runs for this artifact (a Mac or arm64 machine runs the same commands)
    commands = _pip_commands(name)
    assert commands, f"{name}: the Makefile's build target calls no pip"
    for words in commands:
        # THEN every pip call takes binary wheels for manylinux x86_64, CPython 3.12, and nothing else
        platforms = [words[i + 1] for i, word in enumerate(words) if word == "--platform"]
        assert platforms and all(p.startswith("manylinux") and p.endswith("_x86_64") for p in platforms), words
        assert "--only-binary=:all:" in words, words
        assert words[words.index("--python-version") + 1] == "3.12", words
        assert words[words.index("--implementation") + 1] == "cp", words
        # AND it installs the artifact's lock, every file checked against the lock's hashes
        assert "--require-hashes" in words, words
        assert words[words.index("-r") + 1] == "requirements.lock", words
        assert (_source_dir(_artifacts()[name]) / "requirements.lock").is_file(), name


# SAM's python builder as SAM CLI runs it: which platforms it accepts for python3.12 on x86_64, and the pip
# call that fetches a Lambda-compatible wheel for a package whose first download (for the build machine) is not.
_SAM_BUILDER_PROBE = """
import json
from aws_lambda_builders.workflows.python_pip.packager import DependencyBuilder, PipRunner, get_lambda_abi
from aws_lambda_builders.workflows.python_pip.utils import OSUtils

calls = []
class RecordingPip:
    def main(self, args, env_vars=None, shim=None):
        calls.append(args)
        return 0, b"", b""

runner = PipRunner("python3.12", RecordingPip())
builder = DependencyBuilder(OSUtils(), "python3.12", "python3.12", pip_runner=runner, architecture="x86_64")
platforms = builder.compatible_platforms
runner.download_manylinux_wheels(["numpy==2.5.5"], "/tmp/none", get_lambda_abi("python3.12"), platforms)
print(json.dumps({"platforms": platforms, "calls": calls}))
"""


def test_sams_python_builder_fetches_manylinux_wheels_for_the_architecture() -> None:
    assert TOOLS_PYTHON.exists(), ".venv-tools is missing: run `make tools-venv` (make test does)"
    out = subprocess.run([str(TOOLS_PYTHON), "-c", _SAM_BUILDER_PROBE], capture_output=True, text=True, check=True)
    probe = json.loads(out.stdout)
    # THEN it accepts only pure-Python wheels and Linux x86_64 ones up to Lambda python3.12's glibc (2.34)
    assert probe["platforms"] and all(
        p == "any" or ("linux" in p and p.endswith("_x86_64")) for p in probe["platforms"]
    )
    assert not any(word in p for p in probe["platforms"] for word in ("aarch64", "macosx", "win"))
    assert "manylinux2014_x86_64" in probe["platforms"]
    assert not any(p.startswith(("manylinux_2_35", "manylinux_2_39")) for p in probe["platforms"])
    # AND fetches a replacement wheel binary-only, for CPython's cp312 ABI on those platforms
    (call,) = probe["calls"]
    assert call[0] == "download" and "--only-binary=:all:" in call
    assert call[call.index("--implementation") + 1] == "cp"
    assert call[call.index("--abi") + 1] == "cp312"
    assert {call[i + 1] for i, word in enumerate(call) if word == "--platform"} == set(probe["platforms"])
