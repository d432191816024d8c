"""samconfig.toml: dev and prod sections whose parameter overrides the template accepts, as SAM reads them.

The overrides are parsed by SAM CLI's own parser (from .venv-tools, which `make test` builds), because
SAM splits a value at spaces unless it is quoted: `PipelineSchedule=rate(1 day)` reaches CloudFormation
as `rate(1`.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support import sam_parse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from cfn_template import load_template  # noqa: E402

ENVIRONMENTS = ("dev", "prod")
REQUIRED = {
    "Source",
    "Locations",
    "PipelineSchedule",
    "HorizonHours",
    "NullThreshold",
    "PromotionMargin",
    "PsiThreshold",
    "DriftShareThreshold",
    "RealizedMaeThreshold",
    "MlflowTrackingUriParameter",
}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


@pytest.fixture(scope="module")
def parameters() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")["Parameters"]


def written(overrides: list[str]) -> dict[str, str]:
    """What each override says, read as a person would (outer double quotes dropped)."""
    pairs = dict(item.split("=", 1) for item in overrides)
    return {k: v[1:-1] if len(v) > 1 and v[0] == v[-1] == '"' else v for k, v in pairs.items()}


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest, config: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str]]:
    deploy = config[request.param]["deploy"]["parameters"]
    return request.param, deploy, sam_parse(deploy["parameter_overrides"])


def test_sam_reads_every_override_as_written(env: tuple[str, dict[str, Any], dict[str, str]]) -> None:
    _, deploy, parsed = env
    assert parsed == written(deploy["parameter_overrides"])


def test_the_sam_parser_check_catches_an_unquoted_space() -> None:
    overrides = ["PipelineSchedule=rate(1 day)"]
    assert sam_parse(overrides) != written(overrides)


def test_overrides_are_template_parameters_with_valid_values(
    env: tuple[str, dict[str, Any], dict[str, str]], parameters: dict[str, Any]
) -> None:
    name, _, parsed = env
    assert set(parsed) >= REQUIRED, f"{name} lacks {sorted(REQUIRED - set(parsed))}"
    for key, value in parsed.items():
        assert key in parameters, f"{name}: {key} is not a template parameter"
        spec = parameters[key]
        if "AllowedValues" in spec:
            assert value in spec["AllowedValues"], f"{name}: {key}={value}"
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), f"{name}: {key}={value}"
        if spec["Type"] == "Number":
            float(value)


def test_schedules_are_eventbridge_expressions(env: tuple[str, dict[str, Any], dict[str, str]]) -> None:
    _, _, parsed = env
    for key in ("PipelineSchedule", "DriftSchedule"):
        if key in parsed:
            assert re.fullmatch(r"rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\)", parsed[key])


def test_the_mlflow_uri_is_named_in_ssm_never_written_in_plain_text(
    env: tuple[str, dict[str, Any], dict[str, str]], config: dict[str, Any]
) -> None:
    name, _, parsed = env
    assert "MlflowTrackingUri" not in parsed
    assert parsed["MlflowTrackingUriParameter"].startswith(f"/rps/{name}/")
    assert "://" not in (ROOT / "samconfig.toml").read_text(), "a URL in samconfig.toml"


def test_environments_are_separate_stacks(config: dict[str, Any]) -> None:
    stacks = {config[e]["deploy"]["parameters"]["stack_name"] for e in ENVIRONMENTS}
    assert len(stacks) == len(ENVIRONMENTS)
    prod = config["prod"]["deploy"]["parameters"]
    assert prod["confirm_changeset"] is False, "CI deploys prod without a terminal"
    assert "CAPABILITY_IAM" in prod["capabilities"]
    assert config["default"]["build"]["parameters"]["use_container"] is False


# What an environment may set differently from the template's defaults, and why. Anything else must agree
# with template.yaml (one truth: a threshold tuned in the template is not silently overridden per stage).
ENVIRONMENT_CHOICES = {
    "dev": {"MlflowTrackingUriParameter"},  # each stage names its own SSM parameter
    "prod": {"Source", "PromotionMargin", "MlflowTrackingUriParameter"},  # live data; promote clear wins only
}


def test_overrides_agree_with_the_template_defaults(
    env: tuple[str, dict[str, Any], dict[str, str]], parameters: dict[str, Any]
) -> None:
    name, _, parsed = env
    differing = {
        key: (value, str(parameters[key].get("Default")))
        for key, value in parsed.items()
        if key not in ENVIRONMENT_CHOICES[name] and _normal(value) != _normal(str(parameters[key].get("Default")))
    }
    assert not differing, f"{name} overrides template defaults without saying why: {differing}"


def _normal(value: str) -> str:
    try:
        return repr(float(value))  # 0.2 and "0.20" are the same threshold
    except ValueError:
        return value.strip()
