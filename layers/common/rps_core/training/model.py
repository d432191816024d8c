"""The estimator: gradient boosting on the pooled features, predicting the change y(t+h) - y(t).

Absolute-error loss fits the median change, which is what MAE rewards and is robust to the odd bad reading.
The hyperparameters are generic (no tuning to any station); ``random_state`` makes a run reproducible.

The model is the mean of ``ensemble_size`` such boosters that differ only in their seed (each split sees a
random quarter of the features): on the embedded year one booster's test MAE moves by up to 0.03 °C from
seed to seed, the mean of four is better than most single seeds and moves half as much (docs/model.md).

Fitting runs with one thread per CPU the process has and others left idle, predicting with one per CPU
it has (``rps_core.cpus``): OpenMP threads that outnumber the free cores wait for each other at every
tree level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rps_core.cpus import fit_threads, thread_limits

PARAMS: dict[str, Any] = {
    "loss": "absolute_error",
    "learning_rate": 0.05,
    "max_iter": 400,
    "max_leaf_nodes": 31,
    # None: 1% of the training rows, between 20 and 200. The pooled year overfits with small leaves
    # (training MAE about half the test MAE); a tiny dataset still gets leaves.
    "min_samples_leaf": None,
    "l2_regularization": 1.0,
    "max_features": 0.25,
    # A fixed number of rounds: early stopping would hold out a random (not time-ordered) validation split.
    "early_stopping": False,
    "random_state": 0,  # member i uses random_state + i
    "ensemble_size": 4,
}


def resolve(n_rows: int, **overrides: Any) -> dict[str, Any]:
    """The estimator's parameters for ``n_rows`` training rows."""
    params = {**PARAMS, **overrides}
    if params.get("min_samples_leaf") is None:
        params["min_samples_leaf"] = int(min(200, max(20, n_rows // 100)))
    return params


def make_model(n_rows: int, **overrides: Any) -> Any:
    # lazy: only the train function ships sklearn
    from sklearn.ensemble import HistGradientBoostingRegressor, VotingRegressor

    params = resolve(n_rows, **overrides)
    size, seed = int(params.pop("ensemble_size")), params.pop("random_state")
    if size < 1:
        raise ValueError(f"ensemble_size {size} must be at least 1")
    members = [
        (f"seed{i}", HistGradientBoostingRegressor(**params, random_state=None if seed is None else seed + i))
        for i in range(size)
    ]
    return VotingRegressor(members)


def fit(x: np.ndarray, delta: np.ndarray, **overrides: Any) -> Any:
    model = make_model(len(x), **overrides)  # imports scikit-learn (and its OpenMP) before the limits
    with thread_limits(fit_threads()):
        return model.fit(x, delta)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    with thread_limits():
        return np.asarray(model.predict(x), dtype=np.float64)
