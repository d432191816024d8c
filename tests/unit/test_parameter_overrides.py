"""tools/parameter_overrides.py: samconfig's overrides of an environment, extended by the deploy run's own."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from rps_local.emulator.cloudformation.template import git_commit

from tests.support import ROOT

TOOL = ROOT / "tools" / "parameter_overrides.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, check=False)


def test_the_prod_list_is_kept_and_the_commit_added() -> None:
    done = run("prod", "GitCommit=0123abc")
    assert done.returncode == 0, done.stderr
    listed = tomllib.loads((ROOT / "samconfig.toml").read_text())["prod"]["deploy"]["parameters"]
    assert done.stdout.split(" GitCommit=")[0].strip() == " ".join(listed["parameter_overrides"])
    assert done.stdout.strip().endswith("GitCommit=0123abc")


def test_a_given_key_replaces_samconfigs() -> None:
    done = run("dev", "HorizonHours=1")
    assert done.stdout.count("HorizonHours=") == 1 and "HorizonHours=1" in done.stdout.split()


@pytest.mark.parametrize(
    ("args", "message"), [(["staging"], "no [staging.deploy"), (["prod", "GitCommit"], "not Key=Value")]
)
def test_bad_input_is_named_with_exit_2(args: list[str], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2 and message in done.stderr and not done.stdout


def test_the_local_cloud_finds_the_checked_out_commit(tmp_path) -> None:
    commit = git_commit(ROOT)
    assert len(commit) in (0, 40)  # a clone without .git has none
    assert git_commit(tmp_path) == ""
