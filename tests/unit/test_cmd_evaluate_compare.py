"""``rps evaluate`` on a payload file and ``rps compare`` on pointer/metrics files (exit codes, table)."""

from __future__ import annotations

import json

import pytest
from rps_core.training import model as estimator
from rps_local.tools.cli.main import main

from tests.unit.model_data import FAST_PARAMS, payload_from_observations, two_locations

pytestmark = pytest.mark.filterwarnings("ignore:Field onnx.AttributeProto:DeprecationWarning")


def metrics(mae: float, jfk: float) -> dict:
    return {
        "mae": mae,
        "persistence_mae": 2.5,
        "skill": 1 - mae / 2.5,
        "per_location": {"JFK": {"mae": jfk, "persistence_mae": 2.4, "skill": 1 - jfk / 2.4}},
    }


@pytest.fixture
def files(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"model_version": "3", "metrics": metrics(1.5, 1.45)}))
    better = tmp_path / "better.json"
    better.write_text(json.dumps({"model_version": "4", "metrics": metrics(1.4, 1.38)}))
    evaluated = tmp_path / "evaluate.json"
    evaluated.write_text(
        json.dumps(
            {
                "overall": {k: v for k, v in metrics(1.6, 1.5).items() if k != "per_location"},
                "per_location": metrics(1.6, 1.5)["per_location"],
            }
        )
    )
    return old, better, evaluated


def test_compare_not_worse_prints_the_table(files, capsys) -> None:
    old, better, _ = files
    assert main(["compare", str(old), str(better)]) == 0
    out = capsys.readouterr().out
    assert "Not worse" in out
    assert "| all | 1.400 | 1.500 | 2.500 |" in out and "| JFK | 1.380 | 1.450 |" in out


def test_compare_worse_exits_1(files, capsys) -> None:
    old, _, evaluated = files
    assert main(["compare", str(old), str(evaluated)]) == 1
    assert "**Worse**" in capsys.readouterr().out
    assert main(["compare", str(old), str(evaluated), "--tolerance", "0.1"]) == 0


def test_compare_bad_input_exits_2(files, tmp_path, capsys) -> None:
    old, _, _ = files
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    assert main(["compare", str(old), str(junk)]) == 2
    assert main(["compare", str(old), str(tmp_path / "absent.json")]) == 2
    assert main(["compare", str(old), "0123456789abcdef0123456789abcdef", "--tracking-uri", ""]) == 2


def test_evaluate_on_a_payload_file(tmp_path, monkeypatch, capsys) -> None:
    for name, value in FAST_PARAMS.items():
        monkeypatch.setitem(estimator.PARAMS, name, value)
    monkeypatch.setenv("LOCATIONS", "WARM:10:10,COLD:60:10")
    coords = {"WARM": (10.0, 10.0), "COLD": (60.0, 10.0)}
    payloads = [payload_from_observations(o, *coords[o.location]) for o in two_locations()]
    path = tmp_path / "data.json"
    path.write_text(json.dumps(payloads))
    assert main(["evaluate", "--data", str(path), "--output", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["per_location"]) == {"WARM", "COLD"}
    for scores in result["per_location"].values():
        assert scores["mae"] < scores["persistence_mae"] and scores["skill"] > 0
    assert result["split"]["test_fraction"] == 0.2 and result["onnx_max_abs_diff"] <= 1e-4
    # the intervals' coverage and mean width per location at the horizon, and the calibration behind them
    measured = result["intervals"]["by_horizon"]["6"]
    assert set(measured["per_location"]) == {"WARM", "COLD"}
    for scores in [measured["overall"], *measured["per_location"].values()]:
        assert 0.6 < scores["coverage_80"] < scores["coverage_95"] <= 1.0
        assert 0 < scores["width_80"] < scores["width_95"]
    assert set(result["intervals"]["calibration"]["by_horizon"]["6"]["quantiles"]) == {"0.8", "0.95"}
    assert main(["evaluate", "--data", str(tmp_path / "absent.json")]) == 2


def test_evaluate_a_payload_without_coordinates(tmp_path, monkeypatch, capsys) -> None:
    # GIVEN one payload with no latitude/longitude (a bare file stands for the configured location)
    for name, value in {**FAST_PARAMS, "ensemble_size": 1}.items():
        monkeypatch.setitem(estimator.PARAMS, name, value)
    monkeypatch.setenv("LOCATIONS", "WARM:10:10")
    payload = payload_from_observations(two_locations()[0], 10.0, 10.0)
    del payload["latitude"], payload["longitude"]
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(payload))
    # WHEN evaluated THEN the configured location's coordinates are used (text: the table, the default)
    assert main(["evaluate", "--data", str(path)]) == 0
    table = capsys.readouterr().out
    assert "| location | MAE | persistence MAE | skill | RMSE | rows |" in table and "| WARM |" in table
    assert "| location | horizon | 80% coverage | 80% width | 95% coverage | 95% width |" in table
    assert "| WARM | 6 h |" in table
    # GIVEN two such payloads (no way to tell which is where) THEN a named error, exit 2
    path.write_text(json.dumps([payload, payload]))
    assert main(["evaluate", "--data", str(path)]) == 2
    assert "no coordinates" in capsys.readouterr().err


def test_compare_mlflow_runs(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from rps_core.registry.tracking import start_run

    uri = (tmp_path / "mlruns").as_uri()
    ids = []
    for mae, jfk in ((1.5, 1.45), (1.6, 1.5)):
        candidate = {
            "model_id": f"m{mae}",
            "target": "temperature_2m",
            "horizon_hours": 6,
            "history_hours": 169,
            "features": ["a"],
            "dataset_version": "d",
            "metrics": metrics(mae, jfk),
        }
        run = start_run(uri, candidate, {}, champion_metrics={"mae": 0.1})
        run.finish()
        ids.append(run.run_id)
    assert main(["compare", f"runs:/{ids[0]}", ids[1], "--tracking-uri", uri]) == 1
    out = capsys.readouterr().out
    assert "| all | 1.600 | 1.500 |" in out and "| JFK | 1.500 | 1.450 |" in out
    assert main(["compare", ids[1], ids[0], "--tracking-uri", uri]) == 0
