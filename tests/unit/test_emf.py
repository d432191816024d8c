"""EMF lines (made by Powertools Metrics, as the functions make them) → CloudWatch metrics on moto."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws
from rps_local.emulator.cloudwatch.emf import EmfError, metric_data_of, publish_emf_lines

from tests.support import set_moto_env

NOW = datetime.now(UTC)
SERVING_DIMS = [{"Name": "location", "Value": "JFK"}, {"Name": "service", "Value": "serving"}]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    set_moto_env(monkeypatch, {"POWERTOOLS_METRICS_NAMESPACE": "RPS"})


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudwatch")


def powertools_lines(capsys: pytest.CaptureFixture[str], service: str = "serving", **dims: str) -> str:
    """Flush one set of metrics the way a function does, and return what it printed."""
    metrics = Metrics(service=service)
    metrics.clear_metrics()  # Powertools keeps metrics and dimensions on the class between instances
    for name, value in dims.items():
        metrics.add_dimension(name, value)
    metrics.add_metric("Latency", MetricUnit.Milliseconds, 12.5)
    metrics.add_metric("Latency", MetricUnit.Milliseconds, 7)
    metrics.add_metric("Predictions", MetricUnit.Count, 3, resolution=MetricResolution.High)
    metrics.add_metadata("request_id", "abc")
    capsys.readouterr()
    metrics.flush_metrics()
    return capsys.readouterr().out


def statistics(cloudwatch: Any, name: str, dims: list[dict[str, str]]) -> dict[str, float]:
    points = cloudwatch.get_metric_statistics(
        Namespace="RPS",
        MetricName=name,
        Dimensions=dims,
        StartTime=NOW - timedelta(hours=1),
        EndTime=NOW + timedelta(hours=1),
        Period=3600,
        Statistics=["SampleCount", "Sum", "Maximum", "Minimum"],
    )["Datapoints"]
    assert len(points) == 1
    return {k: points[0][k] for k in ("SampleCount", "Sum", "Maximum", "Minimum", "Unit")}


def test_powertools_metrics_become_cloudwatch_metrics(cloudwatch: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the EMF a function printed among its other output
    text = "START RequestId: 1\n" + powertools_lines(capsys, location="JFK") + "END RequestId: 1\n"
    # WHEN the lines are published
    assert publish_emf_lines(text, cloudwatch) == 3
    # THEN GetMetricStatistics returns the values, units and dimensions the function emitted
    assert statistics(cloudwatch, "Latency", SERVING_DIMS) == {
        "SampleCount": 2.0,
        "Sum": 19.5,
        "Maximum": 12.5,
        "Minimum": 7.0,
        "Unit": "Milliseconds",
    }
    assert statistics(cloudwatch, "Predictions", SERVING_DIMS)["Sum"] == 3.0
    # AND GetMetricData too
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "p99",
                "MetricStat": {
                    "Metric": {"Namespace": "RPS", "MetricName": "Latency", "Dimensions": SERVING_DIMS},
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=NOW - timedelta(hours=1),
        EndTime=NOW + timedelta(hours=1),
    )["MetricDataResults"][0]
    assert result["Values"] == [12.5]
    assert abs(result["Timestamps"][0] - datetime.now(UTC)) < timedelta(minutes=5)


def test_the_record_timestamp_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads(powertools_lines(capsys))
    record["_aws"]["Timestamp"] = 1_700_000_000_123
    entries = list(metric_data_of(record))
    assert {e["Timestamp"] for _, e in entries} == {datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)}
    assert {(ns, e["MetricName"], e["Unit"], e["StorageResolution"]) for ns, e in entries} == {
        ("RPS", "Latency", "Milliseconds", 60),
        ("RPS", "Predictions", "Count", 1),
    }
    assert next(e for _, e in entries if e["MetricName"] == "Latency")["Values"] == [12.5, 7.0]


def test_every_dimension_set_is_a_metric_and_none_means_no_dimensions(
    cloudwatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    record = json.loads(powertools_lines(capsys, location="LGA"))
    record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = [["service"], ["location", "service"]]
    assert publish_emf_lines(json.dumps(record), cloudwatch) == 6
    record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = []
    record["_aws"]["CloudWatchMetrics"][0]["Namespace"] = "Other"
    assert publish_emf_lines(json.dumps(record), cloudwatch) == 3
    listed = {
        (m["Namespace"], m["MetricName"], tuple(d["Value"] for d in m["Dimensions"]))
        for m in cloudwatch.list_metrics()["Metrics"]
    }
    assert listed == {
        ("RPS", "Latency", ("serving",)),
        ("RPS", "Latency", ("LGA", "serving")),
        ("RPS", "Predictions", ("serving",)),
        ("RPS", "Predictions", ("LGA", "serving")),
        ("Other", "Latency", ()),
        ("Other", "Predictions", ()),
    }


def test_non_emf_lines_are_ignored_quietly(
    cloudwatch: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    Logger(service="serving").info({"message": "a structured log line", "_aws_like": 1})
    log_line = capsys.readouterr().out
    text = "\n".join([log_line, "plain text", "{not json at all", '["a", "list"]', '{"_aws": {"other": 1}}', ""])
    with caplog.at_level(logging.WARNING):
        assert publish_emf_lines(text, cloudwatch) == 0
    assert json.loads(log_line)["message"]["message"] == "a structured log line"
    assert [r for r in caplog.records if r.name == "rps_local.emulator.cloudwatch.emf"] == []
    assert cloudwatch.list_metrics()["Metrics"] == []


def break_record(record: dict[str, Any], how: str) -> dict[str, Any]:
    directive = record["_aws"]["CloudWatchMetrics"][0]
    if how == "no timestamp":
        del record["_aws"]["Timestamp"]
    elif how == "text timestamp":
        record["_aws"]["Timestamp"] = "now"
    elif how == "directives not a list":
        record["_aws"]["CloudWatchMetrics"] = {"Namespace": "RPS"}
    elif how == "no namespace":
        del directive["Namespace"]
    elif how == "dimension missing":
        del record["location"]
    elif how == "dimension not a string":
        record["location"] = 3
    elif how == "dimensions flat":
        directive["Dimensions"] = ["location"]
    elif how == "too many dimensions":
        directive["Dimensions"] = [[f"d{i}" for i in range(31)]]
        record.update({f"d{i}": "x" for i in range(31)})
    elif how == "metric value missing":
        del record["Latency"]
    elif how == "metric value text":
        record["Latency"] = "fast"
    elif how == "metric value empty list":
        record["Latency"] = []
    elif how == "too many values":
        record["Latency"] = [1.0] * 101
    elif how == "bad unit":
        directive["Metrics"][0]["Unit"] = "Parsecs"
    elif how == "bad resolution":
        directive["Metrics"][0]["StorageResolution"] = 5
    elif how == "metric without name":
        directive["Metrics"][0] = {"Unit": "Count"}
    return record


BREAKS = [
    "no timestamp",
    "text timestamp",
    "directives not a list",
    "no namespace",
    "dimension missing",
    "dimension not a string",
    "dimensions flat",
    "too many dimensions",
    "metric value missing",
    "metric value text",
    "metric value empty list",
    "too many values",
    "bad unit",
    "bad resolution",
    "metric without name",
]


@pytest.mark.parametrize("how", BREAKS)
def test_a_malformed_emf_line_is_skipped_with_a_warning_and_the_others_published(
    how: str, cloudwatch: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    good = powertools_lines(capsys, location="JFK").strip()
    bad = json.dumps(break_record(json.loads(good), how))
    with pytest.raises(EmfError):
        list(metric_data_of(json.loads(bad)))
    with caplog.at_level(logging.WARNING, logger="rps_local.emulator.cloudwatch.emf"):
        assert publish_emf_lines(f"{bad}\n{good}\n", cloudwatch, source="/aws/lambda/serving") == 3
    assert "/aws/lambda/serving line 1: EMF record skipped" in caplog.text
    assert statistics(cloudwatch, "Latency", SERVING_DIMS)["SampleCount"] == 2.0  # nothing of the bad line


def test_truncated_emf_json_and_non_finite_values_are_skipped(
    cloudwatch: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    good = powertools_lines(capsys).strip()
    nan = good.replace('"Predictions":[3.0]', '"Predictions":[NaN]')
    assert nan != good
    with caplog.at_level(logging.WARNING, logger="rps_local.emulator.cloudwatch.emf"):
        assert publish_emf_lines(f"{good[:40]}\n{nan}", cloudwatch) == 0
    assert "line 1: EMF record skipped: not valid JSON" in caplog.text
    assert "line 2: EMF record skipped: metric Predictions: value nan" in caplog.text


class FailingCloudWatch:
    def __init__(self) -> None:
        self.calls = 0

    def put_metric_data(self, **_: Any) -> None:
        self.calls += 1
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def test_a_cloud_that_does_not_answer_loses_the_metrics_but_not_the_caller(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    client = FailingCloudWatch()
    with caplog.at_level(logging.WARNING, logger="rps_local.emulator.cloudwatch.emf"):
        assert publish_emf_lines(powertools_lines(capsys), client) == 0
    assert client.calls == 1 and "PutMetricData to RPS failed, 2 metrics lost" in caplog.text


class RecordingCloudWatch:
    def __init__(self) -> None:
        self.batches: list[tuple[str, int]] = []

    def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
        self.batches.append((Namespace, len(MetricData)))


def test_large_outputs_are_sent_in_batches(capsys: pytest.CaptureFixture[str]) -> None:
    line = powertools_lines(capsys).strip()  # 2 metrics a line
    client = RecordingCloudWatch()
    assert publish_emf_lines("\n".join([line] * 600), client) == 600 * 3
    assert client.batches == [("RPS", 500), ("RPS", 500), ("RPS", 200)]
