"""``rps report``: the four PNG charts from S3 and CloudWatch on moto, the joined data they draw, no-data notes."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws
from rps_core import storage
from rps_core.config import load_settings
from rps_core.datasets import build_version
from rps_core.datasets.store import point_latest, write_version
from rps_core.drift.compare import DriftSummary, FeatureDrift
from rps_core.drift.monitor import MonitorResult
from rps_core.schema import VARIABLES, Observations
from rps_local.tools.cli import cmd_report
from rps_local.tools.cli.main import main
from rps_local.tools.report_charts import (
    CHART_FILES,
    chart_drift,
    chart_forecast_vs_actual,
    chart_metric,
    discover_locations,
    drift_bars,
    latest_drift_report,
    serving_series,
    write_charts,
)

from tests.support import set_moto_env

DATA = "rps-data"
PNG = b"\x89PNG\r\n\x1a\n"
START = "2013-03-01T00"
HOURS = 48
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    set_moto_env(monkeypatch, {"DATA_BUCKET": DATA, "LOCATIONS": "JFK:40.6398:-73.7789,LGA:40.7772:-73.8726"})
    storage.s3_client.cache_clear()


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=DATA)
        yield s3, boto3.client("cloudwatch", region_name="us-east-1")


def temperature(i: int) -> float:
    """The observed temperature at hour ``i`` of the dataset: known numbers to check the join against."""
    return 10.0 + 0.5 * i


def put_dataset(s3: Any, location: str = "JFK") -> None:
    """48 hours from 2013-03-01T00, written as Transform writes a version, then latest.json."""
    time = np.datetime64(START, "h") + np.arange(HOURS)
    values = {name: np.full(HOURS, 50.0) for name in VARIABLES}
    values["temperature_2m"] = np.array([temperature(i) for i in range(HOURS)])
    values["temperature_2m"][30] = np.nan  # a missing reading: a forecast for that hour stays pending
    values["dew_point_2m"] = np.full(HOURS, 2.0)
    values["pressure_msl"] = np.full(HOURS, 1013.0)
    values["precipitation"] = np.zeros(HOURS)
    obs = Observations(location, time, values, latitude=40.64, longitude=-73.78)
    npz, manifest, profile = build_version(None, obs, load_settings(), None, "raw/test.json", "run-1")
    write_version(DATA, location, npz, manifest, profile, s3)
    point_latest(DATA, location, {"version": manifest["version"]}, "", s3)


def put_forecast(s3: Any, location: str, issued_hour: int, value: float, horizon: int = 6) -> None:
    base = np.datetime64(START, "h") + np.timedelta64(issued_hour, "h")
    doc = {
        "location": location,
        "issued_at": str(base.astype("datetime64[m]")),
        "base_time": str(base.astype("datetime64[m]")),
        "target_time": str((base + np.timedelta64(horizon, "h")).astype("datetime64[m]")),
        "value": value,
        "model_version": "1",
    }
    storage.put_json(DATA, f"forecasts/location={location}/issued={doc['issued_at']}.json", doc, client=s3)


def put_drift_report(s3: Any, window_end: str, features: list[dict[str, Any]]) -> None:
    report = {
        "status": "checked",
        "window_start": "2013-02-01T00:00",
        "window_end": window_end,
        "drift": {"psi_threshold": 0.25, "psi_warn": 0.1, "share": 0.5, "drifted": ["b"], "features": features},
    }
    storage.put_json(DATA, f"drift/window_end={window_end}/report.json", report, client=s3)


def put_metric(cloudwatch: Any, name: str, value: float, minutes_ago: float, dims: dict[str, str]) -> None:
    cloudwatch.put_metric_data(
        Namespace="RPS",
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Value": value,
                "Timestamp": NOW - timedelta(minutes=minutes_ago),
            }
        ],
    )


def assert_png(path: Path) -> None:
    assert path.is_file() and path.read_bytes()[:8] == PNG and path.stat().st_size > 1000


# ---------------------------------------------------------------- forecast against actual


def test_forecasts_are_joined_with_the_observed_target_and_the_mae_is_right(aws: Any, tmp_path: Path) -> None:
    s3, _ = aws
    # GIVEN a JFK dataset and four forecasts 6 h ahead: +1, -2, +3 off the observed value, and one whose
    # target hour (30) has no observation
    put_dataset(s3)
    put_forecast(s3, "JFK", 0, temperature(6) + 1.0)
    put_forecast(s3, "JFK", 10, temperature(16) - 2.0)
    put_forecast(s3, "JFK", 20, temperature(26) + 3.0)
    put_forecast(s3, "JFK", 24, 99.0)  # target hour 30: missing reading
    path = tmp_path / "fva.png"
    # WHEN the chart is drawn
    chart = chart_forecast_vs_actual(s3, DATA, ["JFK"], path)
    # THEN the pairs are (forecast, actual) at the target times, and the MAE is (1 + 2 + 3) / 3
    assert_png(path)
    realized = chart.data["JFK"].realized
    assert [(p.target_time, p.forecast, p.actual) for p in realized.pairs] == [
        ("2013-03-01T06:00", 14.0, 13.0),
        ("2013-03-01T16:00", 16.0, 18.0),
        ("2013-03-02T02:00", 26.0, 23.0),
    ]
    assert realized.mae == pytest.approx(2.0) and realized.pending == 1
    assert chart.has_data and "JFK MAE 2.00 (3 joined, 1 pending)" in chart.note
    # AND the observed line covers the forecasts' hours, with a day of context before the first target
    times = chart.data["JFK"].actual_times
    assert str(times[0]) == "2013-03-01T00" and str(times[-1]) == "2013-03-02T06"


def test_a_location_without_dataset_has_only_pending_forecasts(aws: Any, tmp_path: Path) -> None:
    s3, _ = aws
    put_dataset(s3, "JFK")
    put_forecast(s3, "JFK", 0, temperature(6))
    put_forecast(s3, "LGA", 0, 12.0)
    put_forecast(s3, "LGA", 1, 13.0)
    assert discover_locations(s3, DATA) == ["JFK", "LGA"]
    chart = chart_forecast_vs_actual(s3, DATA, ["JFK", "LGA"], tmp_path / "f.png")
    assert chart.data["JFK"].realized.mae == 0.0 and chart.data["JFK"].realized.count == 1
    lga = chart.data["LGA"].realized
    assert lga.count == 0 and lga.pending == 2 and math.isnan(lga.mae)
    assert "LGA MAE - (0 joined, 2 pending)" in chart.note


def test_no_forecasts_yet_still_writes_a_chart_that_says_so(aws: Any, tmp_path: Path) -> None:
    s3, _ = aws
    put_dataset(s3)
    path = tmp_path / "fva.png"
    chart = chart_forecast_vs_actual(s3, DATA, ["JFK"], path)
    assert_png(path)
    assert not chart.has_data and chart.note.startswith("no data yet") and chart.data is None


# ---------------------------------------------------------------- serving metrics


def test_latency_uses_the_service_wide_series(aws: Any, tmp_path: Path) -> None:
    _, cloudwatch = aws
    # GIVEN latency in both of serving's dimension sets, and another service's
    for minutes_ago, value in ((50, 10.0), (20, 30.0), (5, 50.0)):
        put_metric(cloudwatch, "Latency", value, minutes_ago, {"service": "serving"})
        put_metric(cloudwatch, "Latency", value * 10, minutes_ago, {"model_version": "1", "service": "serving"})
    put_metric(cloudwatch, "Latency", 999.0, 5, {"service": "other"})
    start = NOW - timedelta(hours=1)
    series, period = serving_series(cloudwatch, "Latency", start, NOW)
    assert [s.key.dimensions_label for s in series] == ["service=serving"]
    assert sorted(v for _, v in series[0].series) == [10.0, 30.0, 50.0] and period == 60
    path = tmp_path / "latency.png"
    chart = chart_metric(cloudwatch, "Latency", start, NOW, path, "ms")
    assert_png(path)
    assert chart.has_data and chart.note == "3 values, max 50 ms"


def test_per_version_series_are_drawn_when_there_is_no_service_wide_one(aws: Any, tmp_path: Path) -> None:
    _, cloudwatch = aws
    put_metric(cloudwatch, "OodRatio", 0.1, 10, {"model_version": "1", "service": "serving"})
    put_metric(cloudwatch, "OodRatio", 0.3, 5, {"model_version": "2", "service": "serving"})
    chart = chart_metric(cloudwatch, "OodRatio", NOW - timedelta(hours=1), NOW, tmp_path / "ood.png")
    assert [s.key.dimensions_label for s in chart.data] == [
        "model_version=1,service=serving",
        "model_version=2,service=serving",
    ]
    assert chart.note == "2 values, max 0.3"


def test_no_serving_metrics_yet(aws: Any, tmp_path: Path) -> None:
    _, cloudwatch = aws
    put_metric(cloudwatch, "Latency", 5.0, 90, {"service": "serving"})  # before the window
    path = tmp_path / "ood.png"
    chart = chart_metric(cloudwatch, "Latency", NOW - timedelta(hours=1), NOW, path)
    assert_png(path)
    assert not chart.has_data and "no Latency from serving" in chart.note


# ---------------------------------------------------------------- drift per feature


def test_drift_bars_come_from_the_newest_report(aws: Any, tmp_path: Path) -> None:
    s3, _ = aws
    put_drift_report(s3, "2013-03-01T00:00", [{"name": "old", "psi": 9.0, "status": "drift"}])
    put_drift_report(
        s3,
        "2013-04-01T00:00",
        [
            {"name": "a", "psi": 0.05, "status": "ok"},
            {"name": "b", "psi": 3.5, "status": "drift"},  # beyond the axis: clipped, labelled
            {"name": "c", "psi": None, "status": "no data"},
            {"name": "d", "psi": 0.15, "status": "warn"},
        ],
    )
    storage.put_json(DATA, "drift/triggers/drift-20130501T0000.json", {"x": 1}, client=s3)  # not a report
    key, _ = latest_drift_report(s3, DATA)  # type: ignore[misc]
    assert key == "drift/window_end=2013-04-01T00:00/report.json"
    path = tmp_path / "drift.png"
    chart = chart_drift(s3, DATA, path)
    assert_png(path)
    assert [(b.name, b.status) for b in chart.data] == [("b", "drift"), ("d", "warn"), ("a", "ok"), ("c", "no data")]
    assert chart.data[0].psi == 3.5 and math.isnan(chart.data[-1].psi)
    assert chart.note == f"4 features from {key}, 1 drifted"


def test_no_drift_report_yet(aws: Any, tmp_path: Path) -> None:
    s3, _ = aws
    chart = chart_drift(s3, DATA, tmp_path / "drift.png")
    assert_png(tmp_path / "drift.png")
    assert not chart.has_data and "no drift report" in chart.note


# ---------------------------------------------------------------- all four, and the command


def test_write_charts_writes_the_four_files(aws: Any, tmp_path: Path) -> None:
    s3, cloudwatch = aws
    put_dataset(s3)
    put_forecast(s3, "JFK", 0, temperature(6) + 1.0)
    put_metric(cloudwatch, "Latency", 12.0, 5, {"service": "serving"})
    charts = write_charts(s3, cloudwatch, DATA, tmp_path / "out", NOW - timedelta(hours=1), NOW)
    assert [c.path.name for c in charts] == list(CHART_FILES.values())
    for chart in charts:
        assert_png(chart.path)
    assert [c.has_data for c in charts] == [True, True, False, False]


class FakeClient:
    """What ``connect`` returns, on moto: the data bucket's physical id and boto3 clients."""

    def physical_id(self, logical_id: str) -> str:
        assert logical_id == "DataBucket"
        return DATA

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name="us-east-1")


def test_the_command_prints_what_it_wrote(
    aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, _ = aws
    put_dataset(s3)
    put_forecast(s3, "JFK", 0, temperature(6) - 0.5)
    put_drift_report(s3, "2013-04-01T00:00", [{"name": "a", "psi": 0.3, "status": "drift"}])
    monkeypatch.setattr(cmd_report, "connect", lambda args: ({}, FakeClient()))
    assert main(["report", "--out", str(tmp_path / "out"), "--location", "JFK", "--since", "2h"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'out' / 'forecast_vs_actual.png'}: JFK MAE 0.50 (1 joined, 0 pending)" in out
    assert "no data yet in latency.png, ood_ratio.png" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(CHART_FILES.values())


def test_no_cloud_running_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "rps report: error:" in err and "no local cloud is running" in err
    assert not (tmp_path / "out").exists()


def test_a_bad_since_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--out", str(tmp_path), "--since", "yesterday"]) == 2
    assert "duration such as 24h" in capsys.readouterr().err


def test_report_json_round_trip_is_what_the_monitor_writes() -> None:
    """The fields read here are the ones ``MonitorResult.to_dict`` writes (guards a rename there)."""
    summary = DriftSummary([FeatureDrift("a", "drift", 0.4, 0.2, 100, 1.0, 2.0)], 0.25, 0.1)
    written = json.loads(json.dumps(MonitorResult("checked", "s", "e", summary=summary).to_dict()))
    assert [(b.name, b.psi, b.status) for b in drift_bars(written)] == [("a", 0.4, "drift")]
    assert written["drift"]["psi_warn"] == 0.1 and written["drift"]["psi_threshold"] == 0.25
