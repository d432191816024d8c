"""Logs are kept for a set time: every function of template.yaml has its own ``AWS::Logs::LogGroup`` under
the name Lambda writes to (``/aws/lambda/<function name>``), with ``RetentionInDays`` from the
``LogRetentionDays`` parameter (default 30)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from cfn_template import load_template, resources_of_type  # noqa: E402

# CloudWatch Logs accepts only these retention periods (days).
RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922}
RETENTION_DAYS |= {3288, 3653}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def _log_groups_by_function(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each function's log groups, found by the ``!Sub "/aws/lambda/${XFunction}"`` in their names."""
    found: dict[str, list[dict[str, Any]]] = {}
    for group in resources_of_type(template, "AWS::Logs::LogGroup").values():
        name = group["Properties"]["LogGroupName"]
        match = re.fullmatch(r"/aws/lambda/\$\{(\w+)\}", name.get("Fn::Sub", "") if isinstance(name, dict) else "")
        assert match, f"log group named {name!r}: not !Sub /aws/lambda/${{Function}}"
        found.setdefault(match.group(1), []).append(group)
    return found


def test_retention_is_a_parameter_of_30_days_by_default(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["LogRetentionDays"]
    assert parameter["Type"] == "Number" and parameter["Default"] == 30
    assert set(parameter["AllowedValues"]) == RETENTION_DAYS


def test_every_function_has_one_log_group_with_the_retention(template: dict[str, Any]) -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    groups = _log_groups_by_function(template)
    assert set(groups) == set(functions), "a log group per function, and none for anything else"
    for function, (group,) in groups.items():  # exactly one each
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, function
        assert "FunctionName" not in functions[function]["Properties"], "a fixed name breaks the !Sub's Ref"


def test_a_function_added_without_a_log_group_is_caught(template: dict[str, Any]) -> None:
    # GIVEN a template with one more function and no log group for it
    extended = {
        **template,
        "Resources": {**template["Resources"], "NewFunction": {"Type": "AWS::Serverless::Function"}},
    }
    functions = resources_of_type(extended, "AWS::Serverless::Function")
    # THEN the check above sees it
    assert set(_log_groups_by_function(extended)) != set(functions)
