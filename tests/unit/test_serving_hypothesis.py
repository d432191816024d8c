"""Property-based fuzzing of the prediction routes, in process (the Lambda handler path, no server):
hypothesis builds valid bodies (real observation windows, shifted in time, with values anywhere in the
physical ranges and nulls in the feature columns) and invalid ones (any JSON, mutated valid bodies, raw
bytes). The API never answers 5xx; a valid body is a 200 with a finite forecast; an invalid one a 4xx.

Complements test_serving_schemathesis (which generates from the OpenAPI document, so it rarely builds a
body with 168 consecutive hours) and the fixed bad-input cases of test_serving_api."""

# The fixtures come from test_serving_model; pytest passes them back as arguments of the same names.
# ruff: noqa: F811

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rps_core.features import HISTORY_HOURS
from rps_core.quality import PHYSICAL_RANGES
from rps_core.schema import VARIABLES

from tests.unit.test_serving_model import (  # noqa: F401 - fixtures
    TARGET,
    Api,
    Trained,
    api,
    request_rows,
    s3,
    store,
    trained,
)

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
LOCATIONS = ("JFK", "LGA", "EWR")
FEATURES = [v for v in VARIABLES if v != TARGET]


def _value(name: str) -> st.SearchStrategy[float]:
    bound = PHYSICAL_RANGES[name]
    return st.floats(bound.low, bound.high, allow_nan=False, allow_infinity=False)


@st.composite
def valid_bodies(draw: st.DrawFn, trained: Trained) -> dict[str, Any]:
    """A real window of observations, moved in time by whole hours, with some values replaced by any value
    in their physical range and some feature values (never the last target) by null."""
    end = draw(st.integers(HISTORY_HOURS, len(trained.obs)))
    rows = [dict(r) for r in request_rows(trained.obs, end)]
    shift = timedelta(hours=draw(st.integers(-24 * 365 * 10, 24 * 365 * 10)))
    for row in rows:
        row["time"] = (datetime.fromisoformat(row["time"]) + shift).strftime("%Y-%m-%dT%H:%M")
    for _ in range(draw(st.integers(0, 20))):
        i = draw(st.integers(0, HISTORY_HOURS - 1))
        name = draw(st.sampled_from(VARIABLES))
        rows[i][name] = draw(_value(name))
    for _ in range(draw(st.integers(0, 20))):
        rows[draw(st.integers(0, HISTORY_HOURS - 1))][draw(st.sampled_from(FEATURES))] = None
    if rows[-1][TARGET] is None:
        rows[-1][TARGET] = draw(_value(TARGET))
    return {"location": draw(st.sampled_from(LOCATIONS)), "observations": rows}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
ODD_VALUES = st.sampled_from(
    [None, "", "12.5", True, [], {}, -1e308, 1e308, 1e400, "2013-02-30T00:00", "NaN", 10**30, -(10**30)]
)


@st.composite
def mutated_bodies(draw: st.DrawFn, trained: Trained) -> dict[str, Any]:
    """A valid body with one thing broken: a field removed, replaced by an odd value, or added; rows
    dropped, duplicated or reordered; the location wrong."""
    body = draw(valid_bodies(trained))
    rows = body["observations"]
    i = draw(st.integers(0, len(rows) - 1))
    field = draw(st.sampled_from(["time", *VARIABLES]))
    kind = draw(st.sampled_from(["drop", "odd", "extra", "drop_row", "dup_row", "swap", "location", "top"]))
    if kind == "drop":
        del rows[i][field]
    elif kind == "odd":
        rows[i][field] = draw(ODD_VALUES.filter(lambda v: v is not None or field in ("time", TARGET)))
        if field == TARGET and rows[i][field] is None and i != len(rows) - 1:
            rows[-1][TARGET] = None  # null in the last target is what is invalid
    elif kind == "extra":
        rows[i][draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in rows[i]))] = draw(JSON)
    elif kind == "drop_row":
        del rows[i]
    elif kind == "dup_row":
        rows.insert(i, dict(rows[i]))
    elif kind == "swap":
        j = draw(st.integers(0, len(rows) - 1).filter(lambda j: j != i))
        rows[i], rows[j] = rows[j], rows[i]
    elif kind == "location":
        body["location"] = draw(st.text(max_size=8).filter(lambda s: s not in LOCATIONS))
    else:
        body[draw(st.sampled_from(["horizon", "model", "extra"]))] = draw(JSON)
    return body


def as_columns(body: dict[str, Any]) -> dict[str, Any]:
    """The columns form of a rows-form body."""
    rows = body["observations"]
    return {**body, "observations": {k: [r[k] for r in rows] for k in ("time", *VARIABLES)}}


@st.composite
def mutated_columns(draw: st.DrawFn, trained: Trained) -> dict[str, Any]:
    """A valid columns-form body with one thing broken: a column removed, shortened, lengthened, turned into
    something else or given an odd value; two times swapped; an unknown column added."""
    body = as_columns(draw(valid_bodies(trained)))
    columns = body["observations"]
    name = draw(st.sampled_from(["time", *VARIABLES]))
    i = draw(st.integers(0, HISTORY_HOURS - 1))
    kind = draw(st.sampled_from(["drop", "short", "long", "replace", "odd", "swap", "extra"]))
    if kind == "drop":
        del columns[name]
    elif kind == "short":
        columns[name] = columns[name][: draw(st.integers(0, HISTORY_HOURS - 1))]
    elif kind == "long":
        columns[name] = columns[name] + columns[name][: draw(st.integers(1, 5))]
    elif kind == "replace":
        columns[name] = draw(JSON.filter(lambda v: not isinstance(v, list)))
    elif kind == "odd":
        columns[name][i] = draw(ODD_VALUES.filter(lambda v: v is not None or name in ("time", TARGET)))
        if name == TARGET and columns[name][i] is None:
            columns[TARGET][-1] = None  # null in the last target is what is invalid
    elif kind == "swap":
        j = draw(st.integers(0, HISTORY_HOURS - 1).filter(lambda j: j != i))
        columns["time"][i], columns["time"][j] = columns["time"][j], columns["time"][i]
    else:
        columns[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in columns))] = draw(JSON)
    return body


def _finite_forecast(resp: Any, location: str) -> None:
    assert resp.status == 200, resp.text
    out = resp.json()
    assert out["location"] == location and math.isfinite(out["value"])
    assert out["ood_ratio"] is None or 0.0 <= out["ood_ratio"] <= 1.0


@FUZZ
@given(data=st.data())
def test_valid_bodies_get_a_finite_forecast(api: Api, trained: Trained, data: st.DataObject) -> None:
    # GIVEN a valid body (real window, any hour, values anywhere in their physical ranges, feature nulls)
    body = data.draw(valid_bodies(trained))
    # WHEN it is posted THEN the answer is a 200 with a finite forecast 6 h after the last observation
    resp = api.post("/predict", body)
    _finite_forecast(resp, body["location"])
    last = datetime.fromisoformat(body["observations"][-1]["time"])
    assert resp.json()["target_time"] == (last + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")


@FUZZ
@given(data=st.data())
def test_a_valid_batch_gets_one_finite_forecast_per_item(api: Api, trained: Trained, data: st.DataObject) -> None:
    # GIVEN up to 4 valid bodies WHEN posted as a batch THEN each gets a finite forecast, in order
    items = data.draw(st.lists(valid_bodies(trained), min_size=1, max_size=4))
    resp = api.post("/predict/batch", {"items": items})
    assert resp.status == 200, resp.text
    forecasts = resp.json()["forecasts"]
    assert [f["location"] for f in forecasts] == [i["location"] for i in items]
    assert all(math.isfinite(f["value"]) for f in forecasts)


def _no_server_error_alone_or_in_a_batch(api: Api, body: dict) -> None:
    single = api.post("/predict", body)
    batch = api.post("/predict/batch", {"items": [body]})
    assert single.status < 500 and batch.status < 500, (single.text, batch.text)
    # both accepted (a mutation that kept the body valid) or both refused with a reason
    assert (single.status == 200) == (batch.status == 200), (single.text, batch.text)
    if single.status != 200:
        assert 400 <= single.status < 500 and single.json()["detail"]
    else:
        _finite_forecast(single, body["location"])


@FUZZ
@given(data=st.data())
def test_a_broken_body_is_a_4xx_never_a_5xx(api: Api, trained: Trained, data: st.DataObject) -> None:
    # GIVEN a valid body with one thing broken
    body = data.draw(mutated_bodies(trained))
    # WHEN it is posted alone and in a batch THEN neither answer is a server error, and the two agree
    _no_server_error_alone_or_in_a_batch(api, body)


@FUZZ
@given(data=st.data())
def test_valid_columns_get_the_forecast_of_the_rows(api: Api, trained: Trained, data: st.DataObject) -> None:
    # GIVEN a valid body WHEN posted in the columns form THEN the same answer as in the rows form
    body = data.draw(valid_bodies(trained))
    by_rows, by_columns = api.post("/predict", body), api.post("/predict", as_columns(body))
    _finite_forecast(by_columns, body["location"])
    assert by_columns.json() == by_rows.json()


@FUZZ
@given(data=st.data())
def test_broken_columns_are_a_4xx_never_a_5xx(api: Api, trained: Trained, data: st.DataObject) -> None:
    # GIVEN a valid columns-form body with one thing broken
    body = data.draw(mutated_columns(trained))
    # WHEN it is posted alone and in a batch THEN neither answer is a server error, and the two agree
    _no_server_error_alone_or_in_a_batch(api, body)


@FUZZ
@given(value=JSON)
def test_any_json_is_never_a_5xx(api: Api, value: Any) -> None:
    # GIVEN any JSON value as the body WHEN posted to both prediction routes THEN a 4xx, never a 5xx
    for route in ("/predict", "/predict/batch"):
        resp = api.post(route, value) if value is not None else api.call("POST", route, body="null")
        assert 400 <= resp.status < 500, (route, resp.status, resp.text)


@FUZZ
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_are_never_a_5xx(api: Api, raw: bytes) -> None:
    # GIVEN any bytes as the body WHEN posted THEN a 4xx, never a 5xx
    text = raw.decode("utf-8", "replace")
    for route in ("/predict", "/predict/batch"):
        resp = api.call("POST", route, body=text)
        assert 400 <= resp.status < 500, (route, resp.status, resp.text)


def test_the_generated_bodies_are_json_the_api_reads(api: Api, trained: Trained) -> None:
    # GIVEN the unmodified window the strategies start from WHEN posted as text THEN a 200 (the strategies'
    # base is valid, so "never 5xx" above is not passing on bodies that were all refused early)
    body = {"location": "JFK", "observations": request_rows(trained.obs)}
    _finite_forecast(api.call("POST", "/predict", body=json.dumps(body)), "JFK")
