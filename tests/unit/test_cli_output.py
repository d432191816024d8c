"""One output convention (issue 14): every command that prints results takes ``--output text|json``, text by
default, and its JSON is one document on stdout (progress and messages on stderr)."""

from __future__ import annotations

import argparse
import json
from types import SimpleNamespace
from typing import Any

import pytest
from rps_local.emulator.client import InvokeResult
from rps_local.emulator.stepfunctions.executions import ExecutionReport
from rps_local.tools.cli import cmd_invoke, cmd_run
from rps_local.tools.cli.main import build_parser, main

# A server, and SAM's --env-vars file (JSON already): no text form to choose.
WITHOUT_OUTPUT = {"up", "env-vars"}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(set(_subcommands()) - WITHOUT_OUTPUT))
def test_every_command_takes_output_text_or_json(name: str) -> None:
    parser = _subcommands()[name]
    (output,) = [a for a in parser._actions if a.dest == "output"]
    assert list(output.choices or []) == ["text", "json"] and output.default == "text"
    assert output.help and output.help.startswith("text (the default) or json: ")


class FakeClient:
    """The part of CloudClient that rps run uses."""

    def start_execution(self, payload: Any, state_machine: str | None = None, name: str | None = None) -> str:
        self.payload = payload
        return "arn:aws:states:us-east-1:123456789012:execution:rps-pipeline:run-1"

    def running_states(self, arn: str) -> list[tuple[str, float]]:
        return [("Train", 12.0)]


@pytest.fixture
def execution(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """rps run against a fake cloud whose execution ends as ``outcome`` says."""
    outcome: dict[str, Any] = {}
    client = FakeClient()
    monkeypatch.setattr(cmd_run, "connect", lambda args: ({}, client))

    def follow(client: Any, arn: str, emit: Any, timeout_s: float) -> ExecutionReport:
        emit("Plan → succeeded in 0.2 s")
        return ExecutionReport(arn=arn, **outcome)

    monkeypatch.setattr("rps_local.emulator.stepfunctions.executions.follow_execution", follow)
    return outcome


def test_run_json_is_one_document_and_the_states_go_to_stderr(
    execution: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    execution.update(status="SUCCEEDED", output={"promoted": True}, states=[("Plan", 0.2)], duration_s=3.5)
    assert main(["run", "--output", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "name": "run-1",
        "arn": "arn:aws:states:us-east-1:123456789012:execution:rps-pipeline:run-1",
        "status": "SUCCEEDED",
        "duration_s": 3.5,
        "output": {"promoted": True},
        "error": None,
        "cause": None,
        "failed_state": None,
        "states": [{"state": "Plan", "seconds": 0.2}],
        "running": [],
    }
    assert "execution run-1" in err and "Plan" in err


def test_run_json_of_a_failure_exits_1_and_names_it(
    execution: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    execution.update(status="FAILED", error="DataQualityError", cause="JFK: nulls", failed_state="QualityGate")
    assert main(["run", "--output", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["status"], doc["error"], doc["failed_state"]) == ("FAILED", "DataQualityError", "QualityGate")


def test_run_json_after_the_timeout_names_the_running_states(
    execution: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    execution.update(status="RUNNING")
    assert main(["run", "--output", "json", "--timeout", "1"]) == 1
    assert json.loads(capsys.readouterr().out)["running"] == [{"state": "Train", "seconds": 12.0}]


def test_run_text_ends_with_the_status_line(execution: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    execution.update(status="SUCCEEDED", output={"promoted": True}, duration_s=3.5)
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("execution run-1\n") and out.rstrip().endswith("SUCCEEDED run-1 in 3.5 s")


def test_backfill_json_is_runs_document(execution: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    execution.update(status="SUCCEEDED", output={"ranged": True})
    assert main(["backfill", "2013-03-01T00:00", "2013-04-01T00:00", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["output"] == {"ranged": True}


@pytest.mark.parametrize("error", [None, "Unhandled"])
def test_invoke_json_says_whether_the_function_failed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: str | None
) -> None:
    result = InvokeResult(payload={"window_end": "2013-10-20T00:00"}, function_error=error, log_tail="")
    monkeypatch.setattr(cmd_invoke, "connect", lambda args: ({}, SimpleNamespace(invoke=lambda f, e: result)))
    assert main(["invoke", "PlanFunction", "--output", "json"]) == (1 if error else 0)
    assert json.loads(capsys.readouterr().out) == {
        "function": "PlanFunction",
        "function_error": error,
        "payload": {"window_end": "2013-10-20T00:00"},
    }


def test_console_text_and_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(
        "rps_local.emulator.endpoints.read_endpoints", lambda state_dir: {"console_url": "http://127.0.0.1:9/"}
    )
    assert main(["console"]) == 0
    assert capsys.readouterr().out == "http://127.0.0.1:9/\n"
    assert main(["console", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"console_url": "http://127.0.0.1:9/", "opened": False}
