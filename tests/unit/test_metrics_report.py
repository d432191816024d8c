"""``rps metrics``: the report's figures from CloudWatch on moto, alarm states, the table, JSON and the chart."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import rps_local.emulator.cloudwatch
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from moto import mock_aws
from rps_local.emulator.cloudwatch.emf import publish_emf_lines
from rps_local.tools.cli import cmd_metrics
from rps_local.tools.cli.main import main
from rps_local.tools.metrics_chart import plot_report
from rps_local.tools.metrics_report import (
    MetricKey,
    alarm_states,
    build_report,
    choose_period,
    list_metric_keys,
    parse_since,
)

from tests.support import set_moto_env

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR_AGO = NOW - timedelta(hours=1)
SERVICE = [{"Name": "service", "Value": "serving"}]
# Alarm periods are aligned to the clock, as CloudWatch aligns them: 15 one-minute periods always hold the
# samples 7-8 minutes before NOW (one hour-long period did not during the first 7 minutes of an hour).
ALARM_TEMPLATE = """
Resources:
  LatencyAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: serving-latency
      Namespace: RPS
      MetricName: Latency
      Dimensions: [{Name: service, Value: serving}]
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 15
      DatapointsToAlarm: 1
      Threshold: 50
      ComparisonOperator: GreaterThanThreshold
"""


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    set_moto_env(monkeypatch, {"POWERTOOLS_METRICS_NAMESPACE": "RPS"})


def put(
    cloudwatch: Any, name: str, value: float, minutes_ago: float, dims: list[dict[str, str]], namespace: str = "RPS"
) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": dims,
                "Value": value,
                "Unit": "Milliseconds",
                "Timestamp": NOW - timedelta(minutes=minutes_ago),
            }
        ],
    )


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("cloudwatch")
        # GIVEN latency for the service, and per location with the same name
        put(client, "Latency", 10, 52, SERVICE)
        put(client, "Latency", 4, 8, SERVICE)
        put(client, "Latency", 60, 7, SERVICE)
        put(client, "Latency", 100, 30, [*SERVICE, {"Name": "location", "Value": "JFK"}])
        put(client, "Predictions", 1, 20, SERVICE)
        put(client, "Old", 1, 60 * 30, SERVICE)  # outside the window
        put(client, "Latency", 7, 5, [], namespace="Other")
        yield client


def by_key(report: Any) -> dict[tuple[str, str, str], Any]:
    return {(m.key.namespace, m.key.name, m.key.dimensions_label): m for m in report.metrics}


def test_report_figures_per_metric_and_exact_dimensions(cloudwatch: Any) -> None:
    report = build_report(cloudwatch, start=HOUR_AGO, end=NOW, period=600)
    metrics = by_key(report)
    assert set(metrics) == {
        ("RPS", "Latency", "service=serving"),
        ("RPS", "Latency", "location=JFK,service=serving"),
        ("RPS", "Predictions", "service=serving"),
        ("Other", "Latency", ""),
    }
    latency = metrics["RPS", "Latency", "service=serving"]  # not mixed with the JFK series
    assert (latency.count, latency.total, latency.maximum, latency.minimum) == (3, 74, 60, 4)
    assert latency.average == pytest.approx(74 / 3)
    assert latency.last == 32  # the average of the latest 10-minute period: (4 + 60) / 2
    assert latency.last_time is not None and NOW - latency.last_time <= timedelta(minutes=10)
    assert [v for _, v in latency.series] == [10, 32]
    assert metrics["RPS", "Latency", "location=JFK,service=serving"].count == 1
    assert report.quiet == 1 and report.period == 600 and report.alarms is None


def test_namespace_and_name_filters(cloudwatch: Any) -> None:
    report = build_report(cloudwatch, namespace="RPS", names=["Predictions"], start=HOUR_AGO, end=NOW)
    assert [m.key.name for m in report.metrics] == ["Predictions"]
    assert build_report(cloudwatch, namespace="Nope", start=HOUR_AGO, end=NOW).metrics == []


def test_metrics_listed_once_each(cloudwatch: Any) -> None:
    keys = list_metric_keys(cloudwatch, "RPS")
    assert len(keys) == len(set(keys)) == 4
    assert MetricKey("RPS", "Latency", (("service", "serving"),)) in keys


def test_emf_from_powertools_reaches_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = Metrics(service="drift")
    metrics.clear_metrics()
    metrics.add_metric("DriftShare", MetricUnit.Percent, 40)
    metrics.add_metric("DriftShare", MetricUnit.Percent, 10)
    metrics.flush_metrics()
    with mock_aws():
        client = boto3.client("cloudwatch")
        assert publish_emf_lines(capsys.readouterr().out, client) == 2
        report = build_report(client, start=HOUR_AGO, end=datetime.now(UTC) + timedelta(minutes=1))
    ((drift,),) = [report.metrics]
    assert (drift.key.name, drift.key.dimensions_label, drift.count, drift.average) == (
        "DriftShare",
        "service=drift",
        2,
        25,
    )


@pytest.mark.parametrize(
    ("window", "age", "period"),
    [
        (timedelta(hours=24), timedelta(hours=24), 720),
        (timedelta(hours=1), timedelta(hours=1), 60),
        (timedelta(days=7), timedelta(days=20), 5100),
        (timedelta(days=7), timedelta(days=100), 7200),
    ],
)
def test_periods_follow_cloudwatch_steps(window: timedelta, age: timedelta, period: int) -> None:
    assert choose_period(window, age=age) == period


def test_since_durations_and_times() -> None:
    assert parse_since("24h", NOW) == NOW - timedelta(hours=24)
    assert parse_since("30m", NOW) == NOW - timedelta(minutes=30)
    assert parse_since("7d", NOW) == NOW - timedelta(days=7)
    assert parse_since("2026-11-27T10:00", NOW) == datetime(2026, 11, 27, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="duration such as 24h"):
        parse_since("yesterday", NOW)


def test_an_empty_window_is_refused(cloudwatch: Any) -> None:
    with pytest.raises(ValueError, match="window is empty"):
        build_report(cloudwatch, start=NOW, end=NOW)


# ---------------------------------------------------------------- alarms


def test_alarm_states_from_the_template(cloudwatch: Any, tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(ALARM_TEMPLATE)
    report = build_report(cloudwatch, start=HOUR_AGO, end=NOW, template_path=template)
    assert report.alarms is not None
    ((alarm,),) = [report.alarms]
    assert (alarm["name"], alarm["state"]) == ("serving-latency", "ALARM")  # max 60 > 50
    assert "serving-latency" in cmd_metrics.render_table(report)


def test_alarms_skipped_when_the_module_is_absent(
    cloudwatch: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(ALARM_TEMPLATE)
    monkeypatch.delattr(rps_local.emulator.cloudwatch, "alarms", raising=False)
    monkeypatch.setitem(sys.modules, "rps_local.emulator.cloudwatch.alarms", None)
    assert alarm_states(cloudwatch, template, NOW, {}) == (None, None)
    assert build_report(cloudwatch, start=HOUR_AGO, end=NOW, template_path=template).alarms is None


def test_a_template_whose_alarms_cannot_be_read_still_gives_the_metrics(cloudwatch: Any, tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(ALARM_TEMPLATE.replace("Threshold: 50", "Threshold: !Ref Missing"))
    report = build_report(cloudwatch, start=HOUR_AGO, end=NOW, template_path=template)
    assert report.alarms is None and report.alarm_error is not None and "Missing" in report.alarm_error
    assert report.metrics
    assert "alarms: not evaluated" in cmd_metrics.render_table(report)


# ---------------------------------------------------------------- table, JSON, chart, command


def test_table_lists_each_metric(cloudwatch: Any) -> None:
    text = cmd_metrics.render_table(build_report(cloudwatch, start=HOUR_AGO, end=NOW, period=600))
    lines = text.splitlines()
    assert lines[1].split() == ["NAMESPACE", "METRIC", "DIMENSIONS", "COUNT", "LAST", "AVG", "MAX"]
    assert any(line.split() == ["RPS", "Latency", "service=serving", "3", "32", "24.67", "60"] for line in lines)
    assert "(1 more metrics without data in this window)" in text
    empty = build_report(boto3.client("cloudwatch", region_name="eu-west-1"), start=HOUR_AGO, end=NOW)
    assert "no metric has data in this window" in cmd_metrics.render_table(empty)


def test_chart_is_a_png(cloudwatch: Any, tmp_path: Path) -> None:
    report = build_report(cloudwatch, start=HOUR_AGO, end=NOW, period=600)
    path = tmp_path / "charts" / "metrics.png"
    assert plot_report(report, path, ["Latency"]) == ["Other/Latency", "RPS/Latency"]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_report(report, path) == ["Other/Latency", "RPS/Latency", "RPS/Predictions"]
    with pytest.raises(ValueError, match="no metric with data"):
        plot_report(report, path, ["Nope"])


class FakeCloud:
    """The CLI's view of a running cloud, backed by moto in-process."""

    def client(self, service: str) -> Any:
        return boto3.client(service)

    def resources(self) -> dict[str, str]:
        raise RuntimeError("no stack")


@pytest.fixture
def cli_cloud(cloudwatch: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cmd_metrics, "connect", lambda _args: ({}, FakeCloud()))


def test_command_json_and_png(
    cli_cloud: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["metrics", "--namespace", "RPS", "--since", "2h", "--output", "json", "--png", "out.png"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {(m["metric"], json.dumps(m["dimensions"])) for m in out["metrics"]} == {
        ("Latency", '{"service": "serving"}'),
        ("Latency", '{"location": "JFK", "service": "serving"}'),
        ("Predictions", '{"service": "serving"}'),
    }
    assert out["alarms"] is None  # no template.yaml here
    assert (tmp_path / "out.png").stat().st_size > 0


def test_command_table_evaluates_the_template_alarms(
    cli_cloud: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(ALARM_TEMPLATE)
    assert main(["metrics", "--template", str(template)]) == 0
    out = capsys.readouterr().out
    assert "RPS" in out and "serving-latency" in out and "ALARM" in out


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--since", "yesterday"], "duration such as 24h"),
        (["--period", "90"], "multiple of 60"),
        (["--png", "x.png", "--metric", "Nope"], "no metric with data"),
    ],
)
def test_command_bad_input_is_one_clear_error(
    cli_cloud: None,
    argv: list[str],
    problem: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["metrics", *argv]) == 2
    assert problem in capsys.readouterr().err
