"""Export the fitted estimator to ONNX (float32), which serving and batch forecasts run with onnxruntime only."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from rps_core.errors import ModelError

PARITY_TOLERANCE = 1e-4
PARITY_ROWS = 256
INPUT_NAME = "features"


def _float32_thresholds(model: Any) -> Any:
    """A copy of the fitted model whose split thresholds are float32 values, rounded down.

    scikit-learn compares float64 thresholds (midpoints between bins); ONNX stores float32 ones rounded to
    nearest, which flips ``x <= t`` for a float32 input that lies between the two (seen: 0.15 °C apart).
    For float32 x, ``x <= t`` holds exactly when ``x <= largest float32 <= t``, so this copy predicts the same
    as the original on float32 inputs, and converts without rounding.
    """
    exported = copy.deepcopy(model)
    boosters = getattr(exported, "estimators_", [exported])  # the members of an ensemble, or one booster
    predictors = [predictor for booster in boosters for stage in booster._predictors for predictor in stage]
    for predictor in predictors:
        nodes = predictor.nodes
        t64 = nodes["num_threshold"].astype(np.float64)
        t32 = t64.astype(np.float32)
        too_big = t32.astype(np.float64) > t64
        t32[too_big] = np.nextafter(t32[too_big], np.float32(-np.inf))
        nodes["num_threshold"] = t32.astype(np.float64)
    return exported


def to_onnx(model: Any, n_features: int) -> bytes:
    from skl2onnx import convert_sklearn  # lazy: conversion happens in the train function only
    from skl2onnx.common.data_types import FloatTensorType

    onx = convert_sklearn(_float32_thresholds(model), initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))])
    return onx.SerializeToString()


def onnx_predict(onnx_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Run the ONNX model with onnx's reference evaluator (numpy): the train function ships onnx for the
    conversion but not onnxruntime, which would take scikit-learn's stack past Lambda's 250 MiB."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(onnx.load_from_string(onnx_bytes))
    outputs: Any = evaluator.run(None, {INPUT_NAME: np.ascontiguousarray(x, dtype=np.float32)})
    out = outputs[0]
    return np.asarray(out, dtype=np.float64).reshape(-1)


def parity_rows(x: np.ndarray, n: int = PARITY_ROWS) -> np.ndarray:
    """Up to ``n`` rows to check: half with missing values (their routing is where exports go wrong), the
    rest spread over the data."""
    gaps = np.flatnonzero(np.isnan(x).any(axis=1))[: n // 2]
    spread = np.linspace(0, len(x) - 1, num=min(len(x), n - len(gaps)), dtype=int) if len(x) else gaps
    return x[np.union1d(gaps, spread)]


def check_parity(model: Any, onnx_bytes: bytes, x: np.ndarray, tolerance: float = PARITY_TOLERANCE) -> float:
    """The largest |sklearn - onnxruntime| difference on ``x``; ModelError when it exceeds ``tolerance``."""
    x32 = np.asarray(x, dtype=np.float32)
    diff = float(np.max(np.abs(model.predict(x32) - onnx_predict(onnx_bytes, x32)))) if len(x32) else 0.0
    if not diff <= tolerance:
        raise ModelError(f"the ONNX export differs from scikit-learn by {diff:.2e} (> {tolerance:.0e})")
    return diff
