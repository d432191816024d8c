"""The ``rps`` command line's habits: ``--version``, a description and exit codes in every ``--help``,
and ``rps run``'s last line (status, name, duration), exit code and Ctrl-C."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rps_local.tools.cli import cmd_run
from rps_local.tools.cli.main import build_parser, main

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NAME = "run-20260101T000000-0a1b2c3d"
ARN = f"arn:aws:states:us-east-1:123456789012:execution:Pipeline:{NAME}"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("rps ") and len(out) > len("rps ")


def _commands() -> dict[str, Any]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_help_has_a_description_and_exit_codes(command: str) -> None:
    text = _commands()[command].format_help()
    description = _commands()[command].description or ""
    assert len(description) > 20, f"rps {command} --help has no description"
    assert "exit codes: 0 " in text and "130 interrupted" in text


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--version" in out
    for command in _commands():
        assert command in out


class FakeClient:
    """A cloud whose execution has already ended as ``status``."""

    def __init__(self, status: str, *, interrupt: bool = False) -> None:
        self.status = status
        self.interrupt = interrupt

    def start_execution(self, payload: Any, **_: Any) -> str:
        return ARN

    def describe_execution(self, arn: str) -> dict[str, Any]:
        described = {"status": self.status, "startDate": T0, "stopDate": T0 + timedelta(seconds=35.24)}
        if self.status == "SUCCEEDED":
            described["output"] = json.dumps({"promoted": True})
        else:
            described |= {"error": "DataQualityError", "cause": "JFK: 3 checks failed"}
        return described

    def history(self, arn: str) -> list[dict[str, Any]]:
        if self.interrupt:
            raise KeyboardInterrupt
        return [
            {"id": 1, "type": "TaskStateEntered", "timestamp": T0, "stateEnteredEventDetails": {"name": "Plan"}},
            {
                "id": 2,
                "type": "TaskStateExited",
                "timestamp": T0 + timedelta(seconds=1),
                "stateExitedEventDetails": {"name": "Plan"},
            },
        ]


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeClient]:
    holder: dict[str, FakeClient] = {}
    monkeypatch.setattr(cmd_run, "connect", lambda args: ({}, holder["client"]))
    return holder


def test_run_ends_with_status_name_and_duration(cloud: dict, capsys: pytest.CaptureFixture[str]) -> None:
    cloud["client"] = FakeClient("SUCCEEDED")
    assert main(["run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"SUCCEEDED {NAME} in 35.2 s"
    assert json.loads("\n".join(lines[lines.index("{") : -1])) == {"promoted": True}


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_run_that_does_not_succeed_exits_1_with_its_status_last(
    cloud: dict, capsys: pytest.CaptureFixture[str], status: str
) -> None:
    cloud["client"] = FakeClient(status)
    assert main(["run"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == f"{status} {NAME} in 35.2 s"
    assert "DataQualityError: JFK: 3 checks failed" in captured.err


def test_ctrl_c_while_following_is_a_line_not_a_traceback(cloud: dict, capsys: pytest.CaptureFixture[str]) -> None:
    cloud["client"] = FakeClient("RUNNING", interrupt=True)
    assert main(["run"]) == 130
    err = capsys.readouterr().err
    assert f"interrupted: execution {NAME} goes on" in err and "Traceback" not in err


def test_ctrl_c_in_any_command_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cmd_run, "run", interrupted)
    assert main(["run"]) == 130
    assert capsys.readouterr().err.strip() == "rps run: interrupted"
