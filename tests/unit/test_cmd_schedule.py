"""``rps schedule NAME`` through the cloud's control endpoint, with the template's rules on a real runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rps_local.emulator.control import ControlServer
from rps_local.emulator.endpoints import write_endpoints
from rps_local.emulator.eventbridge.schedules import Rule, ScheduleRunner, rules_from_template
from rps_local.tools.cli.main import main
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]


class ScheduleOnlyCloud:
    """What the control endpoint calls for schedules, as ``LocalCloud`` answers them."""

    def __init__(self) -> None:
        self.started: list[tuple[str, Any]] = []
        rules = rules_from_template(yaml_parse((ROOT / "template.yaml").read_text()))
        self.runner = ScheduleRunner(rules, self._fire)

    def _fire(self, rule: Rule, event: Any) -> None:
        self.started.append((rule.target, event))

    def status(self) -> dict[str, Any]:
        return {}

    def deploy(self, overrides: dict[str, str]) -> Any:
        raise AssertionError("rps schedule does not deploy")

    def fire_schedule(self, name: str) -> list[dict[str, Any]]:
        return [{"rule": r.name, "target": r.target, "event": e} for r, e in self.runner.fire_now(name)]


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[ScheduleOnlyCloud]:
    fake = ScheduleOnlyCloud()
    control = ControlServer(status=fake.status, deploy=fake.deploy, fire_schedule=fake.fire_schedule).start()
    write_endpoints(tmp_path, {"control_url": control.url, "aws_endpoint_url": "http://127.0.0.1:1"})
    yield fake
    control.stop()


def test_fires_the_named_schedule(cloud: ScheduleOnlyCloud, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "PipelineSchedule", "--state-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == (
        "fired PipelineSchedule: rule rps-PipelineStateMachinePipelineSchedule -> PipelineStateMachine"
    )
    ((target, event),) = cloud.started
    assert target == "PipelineStateMachine" and event["detail-type"] == "Scheduled Event"


def test_json_output_holds_the_events(
    cloud: ScheduleOnlyCloud, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schedule", "DriftFunctionDriftSchedule", "--output", "json", "--state-dir", str(tmp_path)]) == 0
    ((fired,),) = [json.loads(capsys.readouterr().out)]
    assert fired["target"] == "DriftFunction" and fired["event"]["source"] == "aws.events"


def test_unknown_schedule_is_a_clear_error(
    cloud: ScheduleOnlyCloud, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schedule", "Nightly", "--state-dir", str(tmp_path)]) == 2
    assert "no schedule named 'Nightly' (schedules: DriftSchedule, PipelineSchedule)" in capsys.readouterr().err
    assert cloud.started == []


def test_no_running_cloud(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "PipelineSchedule", "--state-dir", str(tmp_path / "none")]) == 2
    assert "no local cloud is running here" in capsys.readouterr().err
