"""The prediction API through the Lambda handler path: routes, 503, every bad input, event sources,
the OpenAPI document behind a stage prefix, the latest-data forecast and the metrics of each request."""

# The fixtures are imported from test_serving_model (only the root conftest may declare plugins), and
# pytest passes them back as arguments of the same names.
# ruff: noqa: F811

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from rps_core.config import load_settings
from rps_core.datasets import build_version
from rps_core.datasets.store import point_latest, write_version
from rps_core.features import HISTORY_HOURS
from rps_core.forecasts.intervals import calibration_document, scale_feature
from rps_core.schema import VARIABLES, Observations
from rps_serving.app import create_app
from rps_serving.gateway import make_adapter
from rps_serving.latest import LatestData
from rps_serving.store import ModelStore

from tests.unit.test_serving_model import (  # noqa: F401 - fixtures
    DATA_BUCKET,
    HORIZON,
    MODEL_BUCKET,
    TARGET,
    Api,
    Trained,
    api,
    publish,
    request_rows,
    s3,
    serving_config,
    store,
    synthetic_obs,
    trained,
)


@pytest.fixture
def body(trained: Trained) -> dict[str, Any]:
    return {"location": "JFK", "observations": request_rows(trained.obs)}


def details(resp: Any) -> str:
    return json.dumps(resp.json()["detail"])


# ---------------------------------------------------------------- routes


def test_health_and_model(api: Api) -> None:
    health = api.get("/health")
    assert health.status == 200
    assert health.json() | {"detail": ""} == {"status": "ok", "model_loaded": True, "model_version": "1", "detail": ""}
    info = api.get("/model").json()
    assert info["model_version"] == "1" and info["dataset_version"] == "abc123"
    assert info["metrics"]["mae"] == 1.0 and info["trained_at"] == "2013-10-19T00:00"
    assert info["history_hours"] == HISTORY_HOURS and info["horizon_hours"] == HORIZON and len(info["features"]) > 10


def test_no_model_yet_is_a_503_with_a_clear_message(s3: Any, body: dict[str, Any]) -> None:
    store = ModelStore(MODEL_BUCKET, check_seconds=3600, client=s3)
    store.refresh()
    api = Api(make_adapter(create_app(serving_config(), store, LatestData(DATA_BUCKET, client=s3))))
    for resp in (api.post("/predict", body), api.get("/model"), api.get("/forecast/JFK")):
        assert resp.status == 503
        assert "no champion model yet" in resp.json()["detail"]
        assert "champion/pointer.json" in resp.json()["detail"]
    health = api.get("/health").json()
    assert health["model_loaded"] is False and "no champion model yet" in health["detail"]


def test_batch_gives_the_single_predictions(api: Api, trained: Trained) -> None:
    items = [
        {"location": loc, "observations": request_rows(trained.obs, end)}
        for loc, end in (("JFK", len(trained.obs)), ("LGA", 400), ("EWR", 500))
    ]
    resp = api.post("/predict/batch", {"items": items})
    assert resp.status == 200, resp.text
    out = resp.json()
    assert out["model_version"] == "1" and [f["location"] for f in out["forecasts"]] == ["JFK", "LGA", "EWR"]
    for item, forecast in zip(items, out["forecasts"], strict=True):
        single = api.post("/predict", item).json()
        assert forecast == single


def test_a_calibrated_champion_answers_with_its_intervals(
    s3: Any, trained: Trained, store: ModelStore, body: dict[str, Any]
) -> None:
    """The pointer's calibration (rps_core.forecasts.intervals) gives /predict and the batch the 80% and 95%
    intervals, ordered around the value; a champion without one answers with nulls (the test below)."""
    calibration = calibration_document(
        {HORIZON: {"scale_feature": scale_feature(TARGET), "scale_offset": 1.0, "scale_fill": 1.0,
                   "quantiles": {"0.8": 0.5, "0.95": 1.0}, "n": 100}}
    )  # fmt: skip
    publish(s3, trained, intervals=calibration)
    store.refresh()
    api = Api(make_adapter(create_app(serving_config(), store, LatestData(DATA_BUCKET, client=s3))))
    single = api.post("/predict", body).json()
    assert single["lower_95"] < single["lower_80"] < single["value"] < single["upper_80"] < single["upper_95"]
    # half-widths are the quantiles times the row's scale (its 72 h spread + 1): the 95% twice the 80%
    assert single["upper_95"] - single["value"] == pytest.approx(2 * (single["upper_80"] - single["value"]), rel=1e-6)
    batch = api.post("/predict/batch", {"items": [body]}).json()["forecasts"]
    assert batch == [single]


def test_an_uncalibrated_champion_answers_with_null_intervals(api: Api, body: dict[str, Any]) -> None:
    out = api.post("/predict", body).json()
    assert [out[k] for k in ("lower_80", "upper_80", "lower_95", "upper_95")] == [None] * 4


# ---------------------------------------------------------------- bad input: 4xx naming the problem


def _rows(trained: Trained) -> list[dict[str, Any]]:
    return request_rows(trained.obs)


BAD_BODIES: list[tuple[str, Any, int, str]] = [
    ("missing location", lambda b: {"observations": b["observations"]}, 422, "location"),
    ("missing observations", lambda b: {"location": "JFK"}, 422, "observations"),
    ("extra field", lambda b: {**b, "horizon": 3}, 422, "horizon"),
    ("extra observation field", lambda b: _set(b, -1, "snow_depth", 1.0), 422, "snow_depth"),
    ("missing observation field", lambda b: _drop(b, 3, "pressure_msl"), 422, "pressure_msl"),
    ("string for a number", lambda b: _set(b, 5, "pressure_msl", "1013"), 422, "pressure_msl"),
    ("boolean for a number", lambda b: _set(b, 5, "precipitation", True), 422, "precipitation"),
    ("number for the time", lambda b: _set(b, 0, "time", 1381000000), 422, "time"),
    ("badly formatted time", lambda b: _set(b, 0, "time", "2013-10-01 00:00"), 422, "time"),
    ("impossible date", lambda b: _set(b, 0, "time", "2013-02-30T00:00"), 422, "not a valid date"),
    (
        "time not on the hour",
        lambda b: _set(b, 7, "time", b["observations"][7]["time"][:-2] + "30"),
        422,
        "not on the hour",
    ),
    (
        "a missing hour",
        lambda b: {**b, "observations": b["observations"][:50] + b["observations"][51:] + [b["observations"][-1]]},
        422,
        "consecutive hours",
    ),
    ("unordered times", lambda b: {**b, "observations": b["observations"][::-1]}, 422, "consecutive hours"),
    ("too few observations", lambda b: {**b, "observations": b["observations"][1:]}, 422, str(HISTORY_HOURS)),
    (
        "too many observations",
        lambda b: {**b, "observations": b["observations"] + b["observations"][:1]},
        422,
        str(HISTORY_HOURS),
    ),
    ("unknown location", lambda b: {**b, "location": "XYZ"}, 422, "JFK"),
    ("out of physical range", lambda b: _set(b, 9, "relative_humidity_2m", 150.0), 422, "relative_humidity_2m"),
    ("null last target", lambda b: _set(b, -1, TARGET, None), 422, "predicted change"),
    ("a list, not an object", lambda b: [b], 422, "body"),
]


def _set(body: dict[str, Any], i: int, key: str, value: Any) -> dict[str, Any]:
    rows = [dict(r) for r in body["observations"]]
    rows[i][key] = value
    return {**body, "observations": rows}


def _drop(body: dict[str, Any], i: int, key: str) -> dict[str, Any]:
    rows = [dict(r) for r in body["observations"]]
    del rows[i][key]
    return {**body, "observations": rows}


@pytest.mark.parametrize(("case", "change", "status", "named"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_bad_input_is_a_4xx_naming_the_problem(
    api: Api, body: dict[str, Any], case: str, change: Any, status: int, named: str
) -> None:
    resp = api.post("/predict", change(body))
    assert resp.status == status, resp.text
    assert named in details(resp)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_rejected(api: Api, body: dict[str, Any], literal: str) -> None:
    text = json.dumps(_set(body, 5, "pressure_msl", 987654.25)).replace("987654.25", literal)
    resp = api.call("POST", "/predict", body=text)
    assert resp.status == 422, resp.text
    assert "finite" in details(resp) and "pressure_msl" in details(resp)


@pytest.mark.parametrize("text", ['{"location": "JFK", ', "not json", '{"location": "JFK"}}'])
def test_malformed_json_is_a_400(api: Api, text: str) -> None:
    resp = api.call("POST", "/predict", body=text)
    assert resp.status == 400
    assert "malformed JSON" in resp.json()["detail"]


def test_empty_body_names_the_missing_body(api: Api) -> None:
    resp = api.call("POST", "/predict", body="")
    assert resp.status == 422 and "no body" in details(resp)


def test_content_type(api: Api, body: dict[str, Any]) -> None:
    event = api.event("POST", "/predict", json.dumps(body), "v2", None)
    del event["headers"]["content-type"]
    assert api.adapter(event, None)["statusCode"] == 200  # no Content-Type: still read as JSON
    event["headers"]["content-type"] = "application/vnd.api+json"
    assert api.adapter(event, None)["statusCode"] == 200
    event["headers"]["content-type"] = "text/plain"
    out = api.adapter(event, None)
    assert out["statusCode"] == 415 and "application/json" in out["body"]


def test_oversize_body_is_a_413(s3: Any, trained: Trained, store: ModelStore, body: dict[str, Any]) -> None:
    publish(s3, trained)
    store.refresh()
    small = Api(make_adapter(create_app(serving_config(MAX_BODY_BYTES="20000"), store)))
    resp = small.post("/predict", body)
    assert resp.status == 413 and "20000 bytes" in resp.json()["detail"]


def test_batch_errors_name_the_item(api: Api, body: dict[str, Any]) -> None:
    bad = _set(body, 3, "time", "2013-01-01T00:00")
    resp = api.post("/predict/batch", {"items": [body, bad]})
    assert resp.status == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "items", 1, "observations", 3, "time"]
    assert api.post("/predict/batch", {"items": []}).status == 422
    too_many = api.post("/predict/batch", {"items": [body] * 33})
    assert too_many.status == 422 and "32" in details(too_many)


def test_unknown_route_and_method(api: Api) -> None:
    assert api.get("/nope").status == 404
    assert api.get("/predict").status == 405


# ---------------------------------------------------------------- the columns form


def columns_of(body: dict[str, Any]) -> dict[str, Any]:
    rows = body["observations"]
    return {**body, "observations": {k: [r[k] for r in rows] for k in ("time", *VARIABLES)}}


def test_columns_and_rows_give_the_same_forecast(api: Api, body: dict[str, Any]) -> None:
    by_rows, by_columns = api.post("/predict", body), api.post("/predict", columns_of(body))
    assert by_rows.status == by_columns.status == 200, by_columns.text
    assert by_rows.json() == by_columns.json()
    # A batch may mix the two forms.
    batch = api.post("/predict/batch", {"items": [columns_of(body), body]})
    assert batch.status == 200 and batch.json()["forecasts"] == [by_rows.json()] * 2


def _set_column(body: dict[str, Any], name: str, i: int, value: Any) -> dict[str, Any]:
    out = columns_of(body)
    column = list(out["observations"][name])
    column[i] = value
    out["observations"] = {**out["observations"], name: column}
    return out


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    out = columns_of(body)
    out["observations"] = {k: v for k, v in out["observations"].items() if k != name}
    return out


def _short(body: dict[str, Any], name: str) -> dict[str, Any]:
    out = columns_of(body)
    out["observations"] = {**out["observations"], name: out["observations"][name][1:]}
    return out


BAD_COLUMNS: list[tuple[str, Any, list[Any] | None, str]] = [
    ("missing column", lambda b: _without(b, "pressure_msl"), ["body", "observations", "pressure_msl"], "required"),
    ("short column", lambda b: _short(b, "dew_point_2m"), ["body", "observations", "dew_point_2m"], "169"),
    ("short time", lambda b: _short(b, "time"), ["body", "observations", "time"], "169"),
    ("extra column", lambda b: {**b, "observations": {**columns_of(b)["observations"], "snow": [0.0] * 169}},
     ["body", "observations", "snow"], "snow"),
    ("string value", lambda b: _set_column(b, "pressure_msl", 4, "1013"), ["body", "observations", "pressure_msl", 4],
     "number"),
    ("out of range", lambda b: _set_column(b, "relative_humidity_2m", 9, 150.0),
     ["body", "observations", "relative_humidity_2m", 9], "100"),
    ("below range", lambda b: _set_column(b, "pressure_msl", 0, 10.0), ["body", "observations", "pressure_msl", 0],
     "greater than or equal to 850"),
    ("time with seconds", lambda b: _set_column(b, "time", 7, "2013-10-01T00:00:00"),
     ["body", "observations", "time", 7], "pattern"),
    ("non-ASCII digits", lambda b: _set_column(b, "time", 3, "٢٠١٣-10-01T00:00"), ["body", "observations", "time", 3],
     "not a valid date"),
    ("badly formatted time", lambda b: _set_column(b, "time", 2, "2013-10-01 00:00"),
     ["body", "observations", "time", 2], "pattern"),
    ("impossible date", lambda b: _set_column(b, "time", 0, "2013-02-30T00:00"), ["body", "observations", "time", 0],
     "not a valid date"),
    ("a missing hour", lambda b: _set_column(b, "time", 50, b["observations"][51]["time"]),
     ["body", "observations", "time", 50], "consecutive hours"),
    ("null last target", lambda b: _set_column(b, TARGET, -1, None), ["body", "observations", TARGET, 168],
     "predicted change"),
    ("neither form", lambda b: {**b, "observations": "JFK"}, ["body", "observations"], "an object of columns"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "change", "loc", "named"), BAD_COLUMNS, ids=[c[0] for c in BAD_COLUMNS])
def test_bad_columns_are_a_422_at_their_place(
    api: Api, body: dict[str, Any], case: str, change: Any, loc: list[Any], named: str
) -> None:
    resp = api.post("/predict", change(body))
    assert resp.status == 422, resp.text
    assert loc in [e["loc"] for e in resp.json()["detail"]], resp.text
    assert named in details(resp)


def test_a_batch_of_columns_gives_the_single_forecasts(api: Api, trained: Trained) -> None:
    # GIVEN three columns-form items (checked and converted together) WHEN posted as a batch
    items = [columns_of({"location": loc, "observations": request_rows(trained.obs, end)})
             for loc, end in (("JFK", len(trained.obs)), ("LGA", 400), ("EWR", 500))]  # fmt: skip
    resp = api.post("/predict/batch", {"items": items})
    # THEN each forecast is the one a single request gets
    assert resp.status == 200, resp.text
    assert resp.json()["forecasts"] == [api.post("/predict", item).json() for item in items]


@pytest.mark.parametrize(("case", "change", "loc", "named"), BAD_COLUMNS, ids=[c[0] for c in BAD_COLUMNS])
def test_a_bad_item_among_columns_is_named_as_alone(
    api: Api, body: dict[str, Any], case: str, change: Any, loc: list[Any], named: str
) -> None:
    # GIVEN a batch of good columns-form items and one bad WHEN posted THEN the 422 names the bad item's place
    resp = api.post("/predict/batch", {"items": [columns_of(body), change(body), columns_of(body)]})
    assert resp.status == 422, resp.text
    at_item = ["body", "items", 1, *loc[1:]]
    assert at_item in [e["loc"] for e in resp.json()["detail"]], resp.text
    assert named in details(resp)


# ---------------------------------------------------------------- event sources and the stage prefix


@pytest.mark.parametrize("source", ["v1", "v2", "url"])
def test_every_event_source_is_served(api: Api, body: dict[str, Any], source: str) -> None:
    """GIVEN the reference REST (v1), HTTP API (v2) and Function URL events with a real route WHEN called
    THEN each gets its answer, in the response shape its source expects."""
    health = api.get("/health", source=source)
    assert health.status == 200 and health.json()["model_loaded"] is True
    resp = api.post("/predict", body, source=source)
    assert resp.status == 200 and resp.json()["model_version"] == "1"
    assert resp.headers["content-type"] == "application/json"
    raw = api.adapter(api.event("GET", "/health", None, source, None), None)
    assert ("multiValueHeaders" in raw) == (source == "v1")


@pytest.mark.parametrize("source", ["v1", "v2"])
def test_openapi_and_docs_behind_a_stage_prefix(api: Api, body: dict[str, Any], source: str) -> None:
    spec = api.get("/openapi.json", source=source, stage="prod").json()
    assert spec["servers"] == [{"url": "/prod"}]
    docs = api.get("/docs", source=source, stage="prod")
    assert docs.status == 200 and "'/prod/openapi.json'" in docs.text
    assert api.post("/predict", body, source=source, stage="prod").status == 200
    # The $default stage has no prefix, and a later request does not inherit the earlier one's.
    assert "servers" not in api.get("/openapi.json", source=source).json()
    assert "'/openapi.json'" in api.get("/docs", source=source).text


def test_openapi_states_the_number_of_observations_and_the_locations(api: Api) -> None:
    spec = api.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    rows, columns = schemas["PredictRequest"]["properties"]["observations"]["oneOf"]
    assert rows["minItems"] == rows["maxItems"] == HISTORY_HOURS
    assert columns == {"$ref": "#/components/schemas/ObservationColumns"}
    by_column = schemas["ObservationColumns"]
    assert set(by_column["required"]) == set(by_column["properties"]) == {"time", *VARIABLES}
    assert by_column["additionalProperties"] is False
    assert all(c["minItems"] == c["maxItems"] == HISTORY_HOURS for c in by_column["properties"].values())
    assert schemas["PredictRequest"]["properties"]["location"]["enum"] == ["JFK", "LGA", "EWR"]
    assert schemas["PredictRequest"]["additionalProperties"] is False
    assert set(spec["paths"]) == {"/health", "/model", "/predict", "/predict/batch", "/forecast/{location}"}
    assert {"400", "413", "415", "422", "503"} <= set(spec["paths"]["/predict"]["post"]["responses"])
    body = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PredictRequest"}
    assert "Observation" in schemas and "BatchRequest" in schemas
    ok = spec["paths"]["/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Forecast"}


# ---------------------------------------------------------------- latest data


def put_dataset(s3: Any, obs: Observations) -> str:
    settings = load_settings({"DATA_BUCKET": DATA_BUCKET})
    npz, manifest, profile = build_version(None, obs, settings, None, "raw/test.json", "run-1")
    write_version(DATA_BUCKET, obs.location, npz, manifest, profile, client=s3)
    point_latest(DATA_BUCKET, obs.location, {"version": manifest["version"]}, "", client=s3)
    return str(manifest["version"])


def test_forecast_from_the_latest_dataset(api: Api, s3: Any, trained: Trained) -> None:
    obs = synthetic_obs(n=300, seed=3, location="LGA")
    obs.values[TARGET][-2:] = np.nan  # the latest hours lack the target: forecast from the last known one
    put_dataset(s3, obs)
    resp = api.get("/forecast/LGA")
    assert resp.status == 200, resp.text
    out = resp.json()
    assert out["source"] == "dataset" and out["location"] == "LGA"
    assert np.datetime64(out["issued_at"], "h") == obs.time[-3]
    direct = api.post("/predict", {"location": "LGA", "observations": request_rows(obs, len(obs) - 2)}).json()
    assert out["value"] == pytest.approx(direct["value"]) and out["target_time"] == direct["target_time"]


def test_forecast_falls_back_to_the_batch_forecast(api: Api, s3: Any) -> None:
    assert api.get("/forecast/EWR").status == 404
    for issued, value in (("2013-10-18T00:00", 1.0), ("2013-10-19T00:00", 2.5)):
        # The shape rps_core.forecasts writes: issued at "now", from the last observation at base_time.
        doc = {
            "location": "EWR",
            "issued_at": issued,
            "base_time": issued[:11] + "01:00",
            "target_time": issued[:11] + "07:00",
            "value": value,
            "model_version": "1",
        }
        s3.put_object(
            Bucket=DATA_BUCKET, Key=f"forecasts/location=EWR/issued={issued}.json", Body=json.dumps(doc).encode()
        )
    out = api.get("/forecast/EWR").json()
    assert out["source"] == "batch" and out["value"] == 2.5 and out["issued_at"] == "2013-10-19T01:00"
    assert out["target_time"] == "2013-10-19T07:00" and out["ood_ratio"] is None


def test_forecast_of_an_unknown_location_is_a_404(api: Api) -> None:
    resp = api.get("/forecast/XYZ")
    assert resp.status == 404 and "JFK" in resp.json()["detail"]


# ---------------------------------------------------------------- metrics


def emf_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_every_request_emits_its_metrics(api: Api, body: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    assert api.post("/predict", body).status == 200
    assert api.post("/predict", {"location": "XYZ"}).status == 422
    assert api.post("/predict/batch", {"items": [body, body]}).status == 200
    ok, bad, batch = emf_lines(capsys.readouterr().out)
    spec = ok["_aws"]["CloudWatchMetrics"][0]
    assert spec["Namespace"] == "RPS-test" and spec["Dimensions"] == [["model_version", "service"], ["service"]]
    assert {m["Name"] for m in spec["Metrics"]} >= {"Requests", "Latency", "Status2xx", "Prediction", "OodRatio"}
    assert ok["model_version"] == "1" and ok["service"] == "serving"
    # Powertools writes each metric's values as a list (one value here, one per forecast for Prediction).
    assert (ok["Requests"], ok["Status2xx"], ok["Status4xx"], ok["Status5xx"]) == ([1], [1], [0], [0])
    assert ok["Latency"][0] > 0 and 0 <= ok["OodRatio"][0] <= 1
    assert ok["Prediction"] == [pytest.approx(api.post("/predict", body).json()["value"])]
    assert (bad["Status4xx"], bad["Status2xx"]) == ([1], [0]) and "Prediction" not in bad
    assert len(batch["Prediction"]) == 2 and len(batch["OodRatio"]) == 2


def test_503_and_413_are_counted(s3: Any, body: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    store = ModelStore(MODEL_BUCKET, check_seconds=3600, client=s3)
    api = Api(make_adapter(create_app(serving_config(MAX_BODY_BYTES="1000"), store)))
    capsys.readouterr()
    assert api.get("/model").status == 503
    assert api.post("/predict", body).status == 413
    unavailable, too_large = emf_lines(capsys.readouterr().out)
    assert unavailable["Status5xx"] == [1] and unavailable["model_version"] == "none"
    assert too_large["Status4xx"] == [1]
