"""Train on a history too short for the features: a named DatasetError, not scikit-learn's ValueError.

Found by the reliability cloud: with ``ReplayStart=2013-01-10`` (nine days of history) the Train step
failed with ``ValueError: window shape cannot be larger than input array shape``, because the weekly
features have no value in any training row and HistGradientBoosting cannot bin an all-missing column."""

from __future__ import annotations

import pytest
from rps_core.datasets import clean_window, to_hourly_grid
from rps_core.errors import DatasetError
from rps_core.features import HISTORY_HOURS
from rps_core.schema import Observations, observations_from_payload
from rps_core.sources import load_embedded
from rps_core.training.train import train_and_evaluate

TARGET, HORIZON = "temperature_2m", 6
# The production booster, one of it: these tests are about the history, not the ensemble (4x faster).
ONE_BOOSTER = {"ensemble_size": 1}


def _history(days: int) -> list[Observations]:
    """The embedded stations' first ``days`` days, cleaned to the hourly grid as Transform stores them."""
    out = []
    for name, payload in zip(("JFK", "LGA", "EWR"), load_embedded(), strict=True):
        obs = to_hourly_grid(clean_window(observations_from_payload(payload, name))[0])
        out.append(obs.slice(0, 24 * days))
    return out


def test_a_history_shorter_than_the_features_need_is_a_named_error() -> None:
    # GIVEN nine days per station (the weekly features need a week before a row, and the last 20% is test)
    history = _history(9)
    # WHEN the challenger is trained THEN a DatasetError says the history is too short, naming a feature
    with pytest.raises(DatasetError, match="too short") as failed:
        train_and_evaluate(history, TARGET, HORIZON, params=ONE_BOOSTER, export=False)
    assert f"up to {HISTORY_HOURS} hours" in str(failed.value)


def test_three_weeks_train() -> None:
    # GIVEN three weeks per station (the reliability cloud's history) WHEN trained THEN it fits and is measured
    result = train_and_evaluate(_history(21), TARGET, HORIZON, params=ONE_BOOSTER, export=False)
    assert result.split["train_rows"] > 0 and result.metrics["mae"] > 0


def test_a_variable_no_station_reports_is_learned_without() -> None:
    # GIVEN three weeks per station where no station ever reports pressure (no sensor)
    history = []
    for obs in _history(21):
        values = dict(obs.values)
        values["pressure_msl"] = values["pressure_msl"] * float("nan")
        history.append(obs.with_rows(obs.time, values))
    # WHEN the challenger is trained THEN it fits, keeps the full feature list, and beats persistence
    result = train_and_evaluate(history, TARGET, HORIZON, params=ONE_BOOSTER, export=False)
    assert "pressure_msl" in result.features
    assert result.metrics["mae"] < result.metrics["persistence_mae"]
    assert result.reference["pressure_msl"]["edges"] == []
