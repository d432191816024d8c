"""The estimator: gradient boosting on the pooled features, predicting the change y(t+h) - y(t).

Absolute-error loss fits the median change, which is what MAE rewards and is robust to the odd bad reading.
The hyperparameters are generic (no tuning to any station); ``random_state`` makes a run reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PARAMS: dict[str, Any] = {
    "loss": "absolute_error",
    "learning_rate": 0.05,
    "max_iter": 400,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "max_features": 0.5,
    # A fixed number of rounds: early stopping would hold out a random (not time-ordered) validation split.
    "early_stopping": False,
    "random_state": 0,
}


def make_model(**overrides: Any) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor  # lazy: only the train function ships sklearn

    return HistGradientBoostingRegressor(**{**PARAMS, **overrides})


def fit(x: np.ndarray, delta: np.ndarray, **overrides: Any) -> Any:
    return make_model(**overrides).fit(x, delta)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x), dtype=np.float64)
