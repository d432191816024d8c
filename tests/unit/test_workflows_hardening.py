"""Hardened workflows: actions pinned to commit SHAs (with their release in a comment), Dependabot for pip,
npm and the actions, the current Node LTS, and no comment attempted with a fork's read-only token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
# Left on a release tag because no commit SHA for it could be verified (say why in the workflow).
ON_A_TAG = {"iterative/setup-cml"}


def _uses_lines() -> list[tuple[str, str]]:
    return [
        (path.name, line.strip())
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for line in path.read_text().splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]


def test_every_action_is_pinned_to_a_commit_sha_with_its_release_in_a_comment() -> None:
    assert _uses_lines()
    for name, line in _uses_lines():
        action = re.sub(r"^(- )?uses:\s*", "", line)
        repo = action.split("@", 1)[0]
        if repo in ON_A_TAG:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", action), f"{name}: {line}"
            continue
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", action), f"{name}: {line}"


def test_the_same_action_has_the_same_pin_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for _, line in _uses_lines():
        action = re.sub(r"^(- )?uses:\s*", "", line)
        pins.setdefault(action.split("@", 1)[0], set()).add(action)
    assert all(len(p) == 1 for p in pins.values()), pins


def test_dependabot_covers_pip_npm_and_actions() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    by_ecosystem = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(by_ecosystem) == {"pip", "npm", "github-actions"}
    assert by_ecosystem["npm"]["directory"] == "/tools" and (ROOT / "tools" / "package.json").exists()
    assert by_ecosystem["github-actions"]["directory"] == "/"
    directories = by_ecosystem["pip"]["directories"]
    covered = {d for d in directories if "*" not in d} | {
        "/" + str(p.relative_to(ROOT)) for d in directories if "*" in d for p in ROOT.glob(d.lstrip("/"))
    }
    requirement_dirs = {
        "/" + p.parent.relative_to(ROOT).as_posix()
        for pattern in ("requirements*.txt", "*/requirements*.txt", "*/*/requirements*.txt")
        for p in ROOT.glob(pattern)
        if not any(part.startswith(".") or part == "node_modules" for part in p.relative_to(ROOT).parts)
    }
    assert requirement_dirs <= covered, requirement_dirs - covered
    assert "/" in directories and (ROOT / "pyproject.toml").exists()
    for update in config["updates"]:
        assert update["target-branch"] == "dev" and update["schedule"]["interval"] == "weekly"


def _steps(name: str) -> list[dict[str, Any]]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_node_is_the_current_lts() -> None:
    nodes = [s for name in ("ci.yml", "deploy.yml", "model-comparison.yml") for s in _steps(name)]
    nodes = [s for s in nodes if s.get("uses", "").startswith("actions/setup-node@")]
    assert nodes and all(s["with"]["node-version"] == "lts/*" for s in nodes)


def test_model_comparison_skips_the_comment_with_a_message_on_forks() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "model-comparison.yml").read_text())
    (job,) = workflow["jobs"].values()
    read_only = job["env"]["READ_ONLY_TOKEN"]
    assert "github.event.pull_request.head.repo.full_name != github.repository" in read_only
    assert "dependabot[bot]" in read_only
    steps = {s.get("name"): s for s in job["steps"]}
    comment = steps["Post the report on the pull request (CML)"]
    assert comment["if"] == "github.event_name == 'pull_request' && env.READ_ONLY_TOKEN != 'true'"
    notice = steps["No comment on a pull request from a fork (read-only token)"]
    assert notice["if"] == "env.READ_ONLY_TOKEN == 'true'" and "::notice" in notice["run"]
    # the report is still in the summary, and a worse model still fails the check
    assert "GITHUB_STEP_SUMMARY" in steps["rps compare (base champion against the new one)"]["run"]
    assert job["steps"][-1]["name"] == "Fail when the new model is worse"
