"""The console's data and view layer, without a cloud or a server: execution histories recorded from the local
cloud (tests/unit/fixtures/console: a clean run, one with a station quarantined, one that failed in Train with
two), the deployed ASL, the template's dashboard, and view models built from small documents."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rps_core.drift.realized import Forecast
from rps_local.tools.console.data.drift import share_point
from rps_local.tools.console.data.executions import execution_detail, execution_row, state_names, trigger_of
from rps_local.tools.console.data.forecasts import location_forecasts
from rps_local.tools.console.data.metrics import _widget, dashboard_widgets
from rps_local.tools.console.data.models import load_models, model_row
from rps_local.tools.console.data.quality import gate_report, readable_cause
from rps_local.tools.console.source import TtlCache
from rps_local.tools.console.views.charts import Line, bar_chart, time_chart
from rps_local.tools.console.views.executions import execution_page, executions_page
from rps_local.tools.console.views.graph import layout, render_graph

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "console"
# The recorded executions ran the pipeline as it was then (an inline Map with the per-location states): the
# console draws whatever definition an execution ran, and these check its reading of inline Map iterations.
DEFINITION = json.loads((FIXTURES / "pipeline-inline-map.asl.json").read_text())
CURRENT = json.loads((ROOT / "statemachine" / "pipeline.asl.json").read_text())
_TIMES = ("timestamp", "startDate", "stopDate")


def _times(value: Any) -> Any:
    """The recorded JSON with boto3's datetimes back in place."""
    if isinstance(value, dict):
        return {k: datetime.fromisoformat(v) if k in _TIMES and v else _times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_times(v) for v in value]
    return value


def recorded(label: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = _times(json.loads((FIXTURES / f"execution-{label}.json").read_text()))
    return data["describe"], data["history"]


def detail(label: str):
    described, history = recorded(label)
    return execution_detail(described, DEFINITION, history)


# ---------------------------------------------------------------- executions


def test_a_clean_run_has_every_state_and_each_map_iteration_succeeded():
    run = detail("succeeded")
    assert run.row.status == "SUCCEEDED" and run.error is None
    assert list(run.states) == state_names(DEFINITION)
    assert {"Plan", "PerLocation", "Ingest", "WindowRejected", "Train", "Summary"} <= set(run.states)
    for name in ("Plan", "PerLocation", "Ingest", "QualityGate", "Transform", "Train", "Register", "Forecast"):
        assert run.states[name].status == "SUCCEEDED", name
    assert run.states["Quarantine"].status == run.states["WindowRejected"].status == "NOT_RUN"
    assert run.states["Ingest"].entered == 3 and run.states["Train"].seconds > 0
    summary = run.states["PerLocation"].iterations
    assert (summary.total, summary.succeeded, summary.quarantined, summary.failed) == (3, 3, 0, 0)
    # each state's input and output are there to show on demand
    assert run.states["Train"].inputs and "training" in run.states["Train"].outputs[0]


def test_a_distributed_maps_summary_comes_from_its_result_writer_files():
    # GIVEN an execution whose Distributed Map wrote its results to S3 (its iterations are child executions)
    described, history = recorded("succeeded")
    pointer = {"Bucket": "data", "Key": "runs/map-results/r1/manifest.json"}
    for event in history:
        details = event.get("stateExitedEventDetails")
        if event["type"] == "MapStateExited" and details["name"] == "PerLocation":
            details["output"] = json.dumps(
                {"run_id": "r1", "map_results": {"MapRunArn": "m", "ResultWriterDetails": pointer}}
            )
    results = [
        {"location": "JFK", "dataset_version": "v1"},
        {"location": "LGA", "quarantined": True, "quarantine_key": "q", "cause": "schema"},
        {"location": "EWR", "failed": True, "error": "States.Timeout", "cause": "slow"},
    ]
    read = []
    # WHEN the page is built THEN the Map's summary is what those results say, read from that manifest
    run = execution_detail(described, CURRENT, history, lambda bucket, key: read.append((bucket, key)) or results)
    summary = run.states["PerLocation"].iterations
    assert (summary.total, summary.succeeded, summary.quarantined, summary.failed) == (3, 1, 1, 1)
    assert read == [("data", pointer["Key"])] and summary.label == "1 succeeded / 1 quarantined / 1 failed"
    assert run.states["Ingest"].in_child_executions and "in child executions" in render_graph(CURRENT, run.states)


def test_a_rejected_window_counts_as_quarantined_and_its_gate_as_caught():
    run = detail("one-bad")
    assert run.row.status == "SUCCEEDED"
    assert run.states["PerLocation"].iterations.label == "2 succeeded / 1 quarantined / 0 failed"
    assert run.states["QualityGate"].status == "CAUGHT" and run.states["QualityGate"].error == "DataQualityError"
    assert run.states["WindowRejected"].outputs == [
        {"location": "EWR", "quarantined": True, "quarantine_key": "quarantine/location=EWR/end=2013-10-20T00:00.json",
         "cause": run.states["WindowRejected"].outputs[0]["cause"]}
    ]  # fmt: skip


def test_a_failed_run_names_the_failing_state_and_its_cause():
    run = detail("two-bad")
    assert run.row.status == "FAILED"
    assert (run.failed_state, run.error) == ("Train", "DataQualityError")
    assert "2 of 3 locations quarantined" in run.short_cause
    assert run.states["Train"].status == "FAILED" and run.states["Train"].caught == 0
    assert run.states["Register"].status == "NOT_RUN"
    assert run.states["PerLocation"].iterations.label == "1 succeeded / 2 quarantined / 0 failed"


def test_a_running_execution_shows_its_open_state_as_running():
    described, history = recorded("succeeded")
    train_exit = next(i for i, e in enumerate(history) if e["type"] == "TaskStateExited" and "Train" in str(e))
    running = {**described, "status": "RUNNING"}
    running.pop("stopDate", None)
    run = execution_detail(running, DEFINITION, history[:train_exit])
    assert run.states["Train"].status == "RUNNING" and run.states["Register"].status == "NOT_RUN"
    page = execution_page(run)
    assert 'data-status="RUNNING"' in page and "/api/executions/" in page  # the page polls while it runs


def test_triggers_schedule_drift_manual():
    schedule = json.loads((ROOT / "events" / "plan_rule.json").read_text())
    assert trigger_of("run-20260101T000000-abcd", schedule) == "schedule"
    assert trigger_of("drift-20130620T0000", {"now": "2013-06-20T00:00", "reason": "data drift"}) == "drift"
    assert trigger_of("run-20260101T000000-abcd", {}) == "manual"


def test_the_list_shows_name_status_start_duration_and_trigger():
    described, _ = recorded("two-bad")
    row = execution_row(described, described)
    page = executions_page([row])
    assert row.name in page and "FAILED" in page and "manual" in page
    assert f"{row.duration_s(datetime.now(UTC)):.1f} s" in page
    assert "No execution yet" in executions_page([])


# ---------------------------------------------------------------- the graph


def test_the_graph_draws_every_state_with_its_status():
    run = detail("two-bad")
    svg = render_graph(DEFINITION, run.states)
    for name in state_names(DEFINITION):
        assert f'id="state-{name}"' in svg
    assert re.search(r'id="state-Train" data-status="FAILED"', svg)
    assert "1 succeeded / 2 quarantined / 0 failed" in svg


def test_map_states_sit_inside_the_map_box_and_no_two_states_overlap():
    placed = layout(DEFINITION)
    box = placed.node("PerLocation")
    inner = state_names(DEFINITION["States"]["PerLocation"]["ItemProcessor"])
    for name in inner:
        node = placed.node(name)
        assert box.x < node.x and node.x + node.w < box.x + box.w and box.y < node.y < box.y + box.h
    outer = [placed.node(n) for n in DEFINITION["States"]]
    for a in outer:
        for b in outer:
            if a is not b:
                assert a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y


# ---------------------------------------------------------------- other pages' data


def test_dashboard_widgets_come_from_the_template():
    widgets = {w.title: w for w in dashboard_widgets(ROOT / "template.yaml")}
    latency = widgets["Serving latency (ms)"]
    assert [(m.name, m.stat, m.dimensions) for m in latency.metrics] == [
        ("Latency", "p50", (("service", "serving"),)),
        ("Latency", "p99", (("service", "serving"),)),
    ]
    assert latency.annotations == (("p99 alarm", 500.0),)
    assert [m.name for m in widgets["Requests and errors"].metrics] == ["Requests", "Status4xx", "Status5xx"]
    mae = widgets["Realized MAE by location"].metrics[0]
    assert (mae.name, mae.search, mae.stat) == ("RealizedMAE", True, "Maximum")
    drift = widgets["Drifted feature share and max PSI"]
    assert drift.annotations[0][0] == "drift share alarm" and drift.annotations[0][1] > 0


def test_the_metric_array_shorthand():
    widget = _widget({"title": "t", "stat": "Sum", "metrics": [["NS", "A", "k", "v"], [".", "B", ".", "."]]})
    assert [(m.namespace, m.name, m.dimensions, m.stat) for m in widget.metrics] == [
        ("NS", "A", (("k", "v"),), "Sum"),
        ("NS", "B", (("k", "v"),), "Sum"),
    ]


def test_a_model_version_has_metrics_per_location_against_persistence():
    pointer = {
        "model_id": "m1",
        "model_version": "3",
        "trained_at": "2013-10-19T00:00",
        "dataset_version": "d1",
        "git_commit": "abc",
        "metrics": {
            "mae": 1.2, "persistence_mae": 2.0, "skill": 0.4,
            "per_location": {"JFK": {"mae": 1.1, "persistence_mae": 1.9, "skill": 0.42, "n": 10}},
        },
    }  # fmt: skip
    row = model_row(pointer, champion_id="m1")
    assert row.champion and row.version == "3"
    assert row.per_location == {"JFK": {"mae": 1.1, "persistence_mae": 1.9, "skill": 0.42}}


def test_forecasts_without_observations_are_pending():
    forecasts = [Forecast("JFK", "2013-10-19T00:00", f"2013-10-19T0{h}:00", 10.0 + h, "1") for h in range(3)]
    item = location_forecasts("JFK", forecasts, None, "temperature_2m")
    assert (item.count, item.pending, item.mae) == (0, 3, None)
    assert [f[1] for f in item.forecasts] == [10.0, 11.0, 12.0]


def test_gate_reports_and_drift_history_points():
    report = gate_report(
        {"window_end": "T", "passed": False, "summary": "EWR: failed schema", "failed_checks": ["schema"]}, "k"
    )
    assert not report.passed and report.failed_checks == ("schema",)
    point = share_point({"window_end": "2013-06-01T00:00", "drift": {"share": 0.3}, "retrain": True})
    assert (point.share, point.retrain) == (0.3, True)


# ---------------------------------------------------------------- charts and caching


def test_a_time_chart_draws_a_point_per_value_and_says_when_it_has_none():
    t0 = datetime(2013, 1, 1, tzinfo=UTC)
    svg = time_chart([Line("a", [(t0 + timedelta(hours=h), float(h)) for h in range(5)], dots=True)], [("limit", 3.0)])
    assert svg.count('class="pt"') == 5 and "limit" in svg
    assert "no data yet" in time_chart([])


def test_the_cache_keeps_a_value_until_it_expires():
    now = [0.0]
    cache, calls = TtlCache(clock=lambda: now[0]), []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get("k", 5.0, compute) == 1 and cache.get("k", 5.0, compute) == 1
    now[0] = 6.0
    assert cache.get("k", 5.0, compute) == 2


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("execution-*.json")), ids=lambda p: p.stem)
def test_every_recorded_page_renders_without_requests_outside(path):
    run = detail(path.stem.removeprefix("execution-"))
    page = execution_page(run)
    # no URL but the SVG namespace: every asset is inline
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {"http://www.w3.org/2000/svg"}


def test_a_bar_past_the_cap_is_cut_and_marked():
    svg = bar_chart(
        [("doy_sin", 16.1, "#999"), ("temperature_2m", 0.3, "#d62728")], [("drift 0.25", 0.25, "red")], cap=1.0
    )
    assert "16.1»" in svg and svg.count('class="bar"') == 2


def test_a_quarantined_window_shows_the_message_of_its_cut_cause():
    cut = (
        '{"errorType":"DataQualityError","errorMessage":"EWR: failed schema (an \\"HTML\\" page)","stackTrace":["  File'
    )
    assert readable_cause(cut) == 'EWR: failed schema (an "HTML" page)'
    assert readable_cause("plain words") == "plain words"


class FakeSource:
    """The few reads load_models makes, from a dict of S3 documents; MLflow off."""

    mlflow_uri = None

    def __init__(self, objects: dict[str, Any]) -> None:
        self.objects = objects

    def physical_id(self, logical_id: str) -> str:
        return "models-bucket"

    def json_object(self, bucket: str, key: str, immutable: bool = True) -> Any:
        return self.objects.get(key)

    def keys(self, bucket: str, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def mlflow(self, *args: Any, **kwargs: Any) -> None:
        return None

    def mlflow_ui(self, fragment: str) -> None:
        return None


def test_the_champion_is_shown_from_its_pointer_even_without_its_candidate():
    candidate = {"model_id": "old", "trained_at": "2013-01-01", "metrics": {"mae": 2.0}}
    pointer = {"model_id": "gone", "model_version": "swap-3", "trained_at": "2013-02-01", "metrics": {"mae": 1.0}}
    page = load_models(FakeSource({"models/old/pointer.json": candidate, "champion/pointer.json": pointer}))
    assert page.champion is not None and page.champion.version == "swap-3"
    assert [r.model_id for r in page.versions] == ["old"] and "MLflow is off" in page.note


def test_rps_console_prints_the_url(monkeypatch, capsys):
    from rps_local.tools.cli import cmd_console

    monkeypatch.setattr(
        "rps_local.emulator.endpoints.read_endpoints", lambda state_dir: {"console_url": "http://127.0.0.1:1"}
    )
    assert cmd_console.run(argparse.Namespace(state_dir=None, open=False, output="text")) == 0
    assert capsys.readouterr().out.strip() == "http://127.0.0.1:1"
