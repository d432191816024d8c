"""Schedules: AWS rate/cron expressions, rules from template.yaml, and the runner on a fake clock."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rps_local.emulator.eventbridge.expressions import Cron, Rate, ScheduleExpressionError, parse_schedule
from rps_local.emulator.eventbridge.schedules import (
    Rule,
    ScheduleError,
    ScheduleRunner,
    rules_from_template,
    scheduled_event,
)
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def sam_template() -> dict[str, Any]:
    return yaml_parse((ROOT / "template.yaml").read_text())


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def time(self) -> float:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta).total_seconds()


class Fired:
    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[Rule, Any]] = []
        self.fail_on = fail_on
        self.event = threading.Event()

    def __call__(self, rule: Rule, event: Any) -> None:
        self.calls.append((rule, event))
        self.event.set()
        if rule.event_name == self.fail_on:
            raise RuntimeError("target unavailable")


# ---------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("rate( 7 days )", 604800),
    ],
)
def test_rate_expressions(expression: str, seconds: int) -> None:
    assert parse_schedule(expression) == Rate(expression, seconds)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("rate(0 minutes)", "positive"),
        ("rate(1 minutes)", "singular"),
        ("rate(5 hour)", "plural"),
        ("rate(5 weeks)", "a schedule is"),
        ("every day", "a schedule is"),
        ("cron(0 12 * * ?)", "6 fields"),
        ("cron(0 12 * * * *)", "exactly one"),
        ("cron(0 12 ? * ? *)", "exactly one"),
        ("cron(60 12 * * ? *)", "'60' is not in 0-59"),
        ("cron(0 24 * * ? *)", "'24' is not in 0-23"),
        ("cron(0 0 32 * ? *)", "'32' is not in 1-31"),
        ("cron(0 0 * 13 ? *)", "'13' is not in 1-12"),
        ("cron(0 0 ? * 0 *)", "'0' is not in 1-7"),
        ("cron(0 0 ? * 8 *)", "'8' is not in 1-7"),
        ("cron(0 0 ? * FUNDAY *)", "FUNDAY"),
        ("cron(0 0 * * ? 1969)", "1969"),
        ("cron(30-10 0 * * ? *)", "backwards"),
        ("cron(*/0 0 * * ? *)", "step"),
        ("cron(0 0 ? * 2#6 *)", "occurrence"),
        ("cron(0 0 L,5 * ? *)", "'L'"),
    ],
)
def test_invalid_expressions_are_rejected(expression: str, problem: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=problem):
        parse_schedule(expression)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 12 * * ? *)", "2026-11-27T11:59:30", "2026-11-27T12:00"),
        ("cron(0 12 * * ? *)", "2026-11-27T12:00", "2026-11-28T12:00"),
        ("cron(0/15 * * * ? *)", "2026-11-27T10:07", "2026-11-27T10:15"),
        ("cron(0/15 * * * ? *)", "2026-11-27T23:45", "2026-11-28T00:00"),
        ("cron(5-30/10 8,20 * * ? *)", "2026-11-27T08:26", "2026-11-27T20:05"),
        ("cron(0 18 ? * MON-FRI *)", "2026-11-27T18:00", "2026-11-30T18:00"),
        ("cron(0 0 ? * 1 *)", "2026-11-27T00:00", "2026-11-29T00:00"),  # 1 is SUNDAY in AWS
        ("cron(0 0 ? * L *)", "2026-11-27T00:00", "2026-11-28T00:00"),  # L alone: Saturday
        ("cron(0 8 1 * ? *)", "2026-12-01T08:00", "2027-01-01T08:00"),
        ("cron(0 0 L * ? *)", "2028-02-01T00:00", "2028-02-29T00:00"),
        ("cron(0 0 L * ? *)", "2026-02-01T00:00", "2026-02-28T00:00"),
        ("cron(0 10 ? * 6L *)", "2026-11-01T00:00", "2026-11-27T10:00"),  # last Friday
        ("cron(0 10 ? * MON#1 *)", "2026-11-27T00:00", "2026-12-07T10:00"),  # first Monday
        ("cron(0 10 ? * 3#5 *)", "2026-11-27T00:00", "2026-12-29T10:00"),  # a 5th Tuesday
        ("cron(0 9 15W * ? *)", "2026-08-01T00:00", "2026-08-14T09:00"),  # the 15th is a Saturday
        ("cron(0 9 15W * ? *)", "2026-11-01T00:00", "2026-11-16T09:00"),  # the 15th is a Sunday
        ("cron(0 9 1W * ? *)", "2026-07-31T12:00", "2026-08-03T09:00"),  # never leaves the month
        ("cron(0 9 LW * ? *)", "2026-05-01T00:00", "2026-05-29T09:00"),  # the 31st is a Sunday
        ("cron(0 0 29 FEB ? *)", "2026-01-01T00:00", "2028-02-29T00:00"),
        ("cron(0 0 1 1 ? 2030-2032)", "2026-01-01T00:00", "2030-01-01T00:00"),
    ],
)
def test_cron_next_fire(expression: str, after: str, expected: str) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, Cron)
    assert schedule.next_fire(at(after)) == at(expected)


def test_cron_that_has_run_out_never_fires() -> None:
    schedule = parse_schedule("cron(0 0 1 1 ? 2020)")
    assert isinstance(schedule, Cron)
    assert schedule.next_fire(T0) is None
    assert parse_schedule("cron(0 0 31 2 ? *)").next_fire(T0, T0) is None  # no 31 February


def test_rate_counts_from_its_anchor() -> None:
    rate = parse_schedule("rate(1 hour)")
    assert rate.next_fire(T0, T0) == T0 + timedelta(hours=1)
    assert rate.next_fire(T0 + timedelta(minutes=59), T0) == T0 + timedelta(hours=1)
    assert rate.next_fire(T0 + timedelta(hours=1), T0) == T0 + timedelta(hours=2)
    assert rate.next_fire(T0 + timedelta(hours=5, minutes=30), T0) == T0 + timedelta(hours=6)


# ---------------------------------------------------------------- rules from the template


def test_rules_from_the_sam_template() -> None:
    rules = {r.event_name: r for r in rules_from_template(sam_template(), stack_name="rps")}
    assert set(rules) == {"PipelineSchedule", "DriftSchedule"}
    pipeline, drift = rules["PipelineSchedule"], rules["DriftSchedule"]
    assert (pipeline.target, pipeline.target_kind) == ("PipelineStateMachine", "state_machine")
    assert (drift.target, drift.target_kind) == ("DriftFunction", "function")
    assert pipeline.logical_id == "PipelineStateMachinePipelineSchedule"
    assert pipeline.expression == "rate(1 day)" and pipeline.schedule == Rate("rate(1 day)", 86400)
    assert pipeline.arn == "arn:aws:events:us-east-1:123456789012:rule/rps-PipelineStateMachinePipelineSchedule"
    assert pipeline.enabled and pipeline.input is None


def test_parameters_override_the_defaults() -> None:
    rules = rules_from_template(sam_template(), {"PipelineSchedule": "cron(0 6 * * ? *)"})
    pipeline = next(r for r in rules if r.event_name == "PipelineSchedule")
    assert isinstance(pipeline.schedule, Cron) and pipeline.expression == "cron(0 6 * * ? *)"


def test_the_translated_template_gives_the_same_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = sam_template()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in props:
                props[key] = "s3://bucket/key"

    class NoPolicies:
        def load(self) -> dict[str, str]:
            return {}

    translated = transform(template, {}, NoPolicies())
    assert rules_from_template(translated) == rules_from_template(sam_template())


def fn_with_schedule(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Events": {"Tick": {"Type": "Schedule", "Properties": props}}},
            }
        }
    }


def test_input_state_and_name_are_read() -> None:
    rule = rules_from_template(
        fn_with_schedule(
            {"Schedule": "rate(5 minutes)", "Input": '{"now": "2013-10-19T00:00"}', "State": "DISABLED", "Name": "tick"}
        )
    )[0]
    assert (rule.name, rule.enabled, rule.event_name, rule.logical_id) == ("tick", False, "Tick", "FnTick")
    assert rule.event(T0) == {"now": "2013-10-19T00:00"}
    assert rules_from_template(fn_with_schedule({"Schedule": "rate(5 minutes)", "Enabled": False}))[0].enabled is False


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (fn_with_schedule({"Schedule": "rate(5 minute)"}), r"FnTick: 'rate\(5 minute\)'"),
        (fn_with_schedule({"Schedule": {"Ref": "Missing"}}), "parameter 'Missing'"),
        (fn_with_schedule({"Schedule": {"Fn::Sub": "rate(1 day)"}}), "cannot read"),
        (fn_with_schedule({"Schedule": "rate(1 day)", "Input": "{not json"}), "not valid JSON"),
        (
            {
                "Resources": {
                    "Topic": {"Type": "AWS::SNS::Topic"},
                    "R": {
                        "Type": "AWS::Events::Rule",
                        "Properties": {
                            "ScheduleExpression": "rate(1 day)",
                            "Targets": [{"Arn": {"Ref": "Topic"}, "Id": "t"}],
                        },
                    },
                }
            },
            "not a function or a state machine",
        ),
        (
            {
                "Resources": {
                    "Fn": {"Type": "AWS::Lambda::Function"},
                    "R": {
                        "Type": "AWS::Events::Rule",
                        "Properties": {
                            "ScheduleExpression": "rate(1 day)",
                            "Targets": [{"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}, "Id": "t", "InputPath": "$.x"}],
                        },
                    },
                }
            },
            "InputPath",
        ),
        (
            {
                "Resources": {
                    "R": {
                        "Type": "AWS::Events::Rule",
                        "Properties": {
                            "ScheduleExpression": "rate(1 day)",
                            "Targets": [{"Arn": "arn:aws:sns:::x", "Id": "t"}],
                        },
                    }
                }
            },
            "not a resource of the template",
        ),
    ],
)
def test_schedules_that_cannot_run_are_named(template: dict[str, Any], problem: str) -> None:
    with pytest.raises(ScheduleError, match=problem):
        rules_from_template(template)


def test_scheduler_schedules_are_reported_as_not_fired(caplog: pytest.LogCaptureFixture) -> None:
    template = fn_with_schedule({"Schedule": "rate(1 day)"})
    template["Resources"]["Fn"]["Properties"]["Events"]["V2"] = {
        "Type": "ScheduleV2",
        "Properties": {"ScheduleExpression": "rate(1 day)"},
    }
    template["Resources"]["Explicit"] = {"Type": "AWS::Scheduler::Schedule", "Properties": {}}
    with caplog.at_level(logging.WARNING, logger="rps_local.emulator.eventbridge.schedules"):
        assert [r.event_name for r in rules_from_template(template)] == ["Tick"]
    assert "Fn.Events.V2: EventBridge Scheduler schedules are not fired" in caplog.text
    assert "Explicit: EventBridge Scheduler" in caplog.text


# ---------------------------------------------------------------- events


def test_scheduled_event_has_the_shape_aws_sends() -> None:
    arn = "arn:aws:events:eu-west-1:111122223333:rule/rps-tick"
    event = scheduled_event(arn, datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC))
    reference = json.loads((ROOT / "events" / "reference" / "eventBridgeSchedulerEvent.json").read_text())
    assert set(event) == set(reference)
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert (event["account"], event["region"], event["resources"]) == ("111122223333", "eu-west-1", [arn])
    assert event["time"] == "2026-01-02T03:04:05Z" and event["detail"] == {} and event["version"] == "0"
    assert uuid.UUID(event["id"]) != uuid.UUID(scheduled_event(arn, T0)["id"])


# ---------------------------------------------------------------- the runner


def template_rules(**overrides: str) -> list[Rule]:
    return rules_from_template(sam_template(), overrides)


def test_runner_fires_each_rule_at_its_times() -> None:
    clock, fired = FakeClock(T0), Fired()
    runner = ScheduleRunner(
        template_rules(PipelineSchedule="rate(1 hour)", DriftSchedule="cron(30 * * * ? *)"), fired, clock
    )
    assert runner.run_pending() == []
    clock.advance(minutes=29)
    assert runner.run_pending() == []
    clock.advance(minutes=1)
    assert [r.event_name for r, _ in runner.run_pending()] == ["DriftSchedule"]
    clock.advance(minutes=30)
    ((rule, event),) = runner.run_pending()
    assert rule.event_name == "PipelineSchedule" and event["time"] == "2026-11-27T11:00:00Z"
    assert event["resources"] == [rule.arn] and event["source"] == "aws.events"
    assert runner.run_pending() == []  # once per time
    assert runner.next_fire_times() == {
        "PipelineSchedule": T0 + timedelta(hours=2),
        "DriftSchedule": T0 + timedelta(hours=1, minutes=30),
    }
    assert len(fired.calls) == 2


def test_a_clock_jump_fires_once_and_keeps_the_rhythm() -> None:
    clock, fired = FakeClock(T0), Fired()
    runner = ScheduleRunner(template_rules(PipelineSchedule="rate(1 hour)", DriftSchedule="rate(1 day)"), fired, clock)
    clock.advance(hours=5, minutes=30)
    assert [r.event_name for r, _ in runner.run_pending()] == ["PipelineSchedule"]
    assert runner.next_fire_times()["PipelineSchedule"] == T0 + timedelta(hours=6)


def test_disabled_rules_do_not_fire_on_time_but_fire_on_request() -> None:
    template = fn_with_schedule({"Schedule": "rate(1 minute)", "State": "DISABLED"})
    clock, fired = FakeClock(T0), Fired()
    runner = ScheduleRunner(rules_from_template(template), fired, clock)
    clock.advance(hours=1)
    assert runner.run_pending() == [] and runner.next_fire_times() == {"Tick": None}
    assert len(runner.fire_now("Tick")) == 1


def test_a_failing_target_does_not_stop_the_others() -> None:
    clock, fired = FakeClock(T0), Fired(fail_on="PipelineSchedule")
    runner = ScheduleRunner(template_rules(PipelineSchedule="rate(1 hour)", DriftSchedule="rate(1 hour)"), fired, clock)
    clock.advance(hours=1)
    assert {r.event_name for r, _ in runner.run_pending()} == {"PipelineSchedule", "DriftSchedule"}
    clock.advance(hours=1)
    assert len(runner.run_pending()) == 2


def test_fire_now_by_event_name_or_logical_id() -> None:
    clock, fired = FakeClock(T0 + timedelta(seconds=12.5)), Fired(fail_on="DriftSchedule")
    runner = ScheduleRunner(template_rules(), fired, clock)
    ((rule, event),) = runner.fire_now("PipelineSchedule")
    assert rule.target == "PipelineStateMachine" and event["time"] == "2026-11-27T10:00:12Z"
    assert runner.fire_now("PipelineStateMachinePipelineSchedule")[0][0] == rule
    with pytest.raises(RuntimeError, match="target unavailable"):  # a requested firing reports its failure
        runner.fire_now("DriftSchedule")
    with pytest.raises(ScheduleError, match=r"no schedule named 'Nope' \(schedules: DriftSchedule, PipelineSchedule\)"):
        runner.fire_now("Nope")
    assert runner.run_pending() == []  # firing on request does not move the timetable


def test_redeploy_keeps_unchanged_rules_and_anchors_new_ones_now() -> None:
    clock, fired = FakeClock(T0), Fired()
    runner = ScheduleRunner(template_rules(PipelineSchedule="rate(1 hour)"), fired, clock)
    clock.advance(minutes=40)
    runner.set_rules(template_rules(PipelineSchedule="rate(1 hour)", DriftSchedule="rate(2 hours)"))
    times = runner.next_fire_times()
    assert times["PipelineSchedule"] == T0 + timedelta(hours=1)
    assert times["DriftSchedule"] == T0 + timedelta(hours=2, minutes=40)


def test_background_thread_fires_when_the_clock_moves() -> None:
    clock, fired = FakeClock(T0), Fired()
    with ScheduleRunner(template_rules(PipelineSchedule="rate(1 minute)"), fired, clock, max_sleep=0.5) as runner:
        time.sleep(0.05)
        assert fired.calls == []
        clock.advance(minutes=1)
        runner.wake()
        assert fired.event.wait(5), "the runner did not fire"
    assert [r.event_name for r, _ in fired.calls] == ["PipelineSchedule"]
    clock.advance(minutes=5)
    time.sleep(0.1)
    assert len(fired.calls) == 1  # stopped: nothing more fires


def test_background_thread_on_the_real_clock() -> None:
    fired = Fired()
    rule = rules_from_template(fn_with_schedule({"Schedule": "rate(1 minute)"}))[0]
    runner = ScheduleRunner([rule], fired)
    start = datetime.now(UTC)
    assert timedelta(seconds=59) < runner.next_fire_times()["Tick"] - start <= timedelta(seconds=61)
    runner.start()
    runner.stop()
    assert fired.calls == []
