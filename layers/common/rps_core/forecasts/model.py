"""The served model: an ONNX file run by onnxruntime with numpy inputs (no scikit-learn, no mlflow).

``OnnxModel`` is the one ONNX session setup (the bare regressor: feature rows in, one value per row out);
``load_model`` makes a ``LoadedModel`` of a champion pointer and its ONNX file: the session, where its
features are among ``build_features``' columns, their training reference ranges and the compiled one-row
features (``RowFeatures``). Serving and the Forecast step both predict through it.

A ``LoadedModel`` is immutable once built; serving's store swaps whole instances, so a request that holds
one keeps a consistent model, features and reference even while a newer champion is being loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from rps_core.errors import ModelError
from rps_core.features import HISTORY_HOURS, RowFeatures, feature_columns
from rps_core.forecasts.intervals import Intervals, load_intervals
from rps_core.registry.pointer import validate


class OnnxModel:
    """A float32 ONNX regressor: ``predict(x [n, f]) -> float64 [n]``."""

    def __init__(self, onnx_bytes: bytes) -> None:
        import onnxruntime as ort  # lazy: only serving, forecasts and the parity checks need it

        options = ort.SessionOptions()
        # One prediction at a time per Lambda environment, of one row or one batch: a thread pool only adds
        # wake-up latency.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session: Any = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for a corrupt file
            raise ModelError(f"the ONNX model cannot be loaded: {exc}") from exc
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ModelError(f"the ONNX model has {len(inputs)} inputs; expected one feature matrix")
        self.input_name: str = inputs[0].name
        width = inputs[0].shape[-1] if inputs[0].shape else None
        self.width: int | None = width if isinstance(width, int) else None  # None: any number of features

    def predict(self, x: np.ndarray) -> np.ndarray:
        """One value per row of ``x``, as float64."""
        if x.dtype != np.float32 or not x.flags.c_contiguous:
            x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 2 or (self.width is not None and x.shape[1] != self.width):
            raise ModelError(f"the model expects [n, {self.width}] features, got {list(x.shape)}")
        out = self.session.run(None, {self.input_name: x})[0]
        return np.asarray(out, dtype=np.float64).reshape(-1)


@dataclass(frozen=True)
class LoadedModel:
    pointer: dict[str, Any]
    etag: str
    onnx: OnnxModel
    features: tuple[str, ...]
    # Where the model's features are in ``build_features``' columns (its own order; usually all of them).
    columns: np.ndarray
    # Training reference range per feature, aligned with ``features``; NaN where the pointer has none.
    ref_min: np.ndarray
    ref_max: np.ndarray
    # The one-row features of the target, compiled once per model (not per request).
    row_features: RowFeatures
    # The model reads every column of build_features in its order (the usual champion): no column copy.
    in_order: bool
    # The calibrated prediction intervals of the model's horizon (None: a model trained without them).
    intervals: Intervals | None = None

    @property
    def version(self) -> str:
        return str(self.pointer["model_version"])

    @property
    def target(self) -> str:
        return str(self.pointer["target"])

    @property
    def horizon_hours(self) -> int:
        return int(self.pointer["horizon_hours"])

    def model_input(self, rows: np.ndarray) -> np.ndarray:
        """The model's columns of ``build_features`` rows, as float32 [n, f]."""
        if self.in_order:
            return rows
        return np.ascontiguousarray(rows[:, self.columns], dtype=np.float32)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The predicted change of the target, one value per row of ``x`` (``model_input`` rows)."""
        return self.onnx.predict(x)

    def ood_ratio(self, x: np.ndarray) -> np.ndarray:
        """Per row of ``x`` (``model_input`` rows): the share of features, with a value and a reference,
        outside the training range."""
        known = ~np.isnan(x) & ~np.isnan(self.ref_min)
        outside = known & ((x < self.ref_min) | (x > self.ref_max))
        counts = known.sum(axis=1)
        return np.where(counts > 0, outside.sum(axis=1) / np.maximum(counts, 1), 0.0)


def check_pointer(pointer: Any) -> tuple[dict[str, Any], np.ndarray]:
    """The pointer (as the registry validates it) and its features' columns, if this code builds them.

    A pointer's features are found by name among ``feature_names(target)``: a model trained before
    columns were added is still served.
    """
    pointer = validate(pointer)
    try:
        columns = feature_columns(str(pointer["target"]), pointer["features"])
    except ModelError as exc:
        raise ModelError(f"champion pointer: {exc}") from None
    if int(pointer["history_hours"]) > HISTORY_HOURS:
        raise ModelError(f"champion pointer: history_hours {pointer['history_hours']} > {HISTORY_HOURS} here")
    return pointer, np.array(columns, dtype=np.intp)


def _reference(pointer: dict[str, Any], features: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    ref = pointer.get("reference") or {}
    lo, hi = np.full(len(features), np.nan), np.full(len(features), np.nan)
    for j, name in enumerate(features):
        stats = ref.get(name) or {}
        a, b = stats.get("min"), stats.get("max")
        if isinstance(a, int | float) and isinstance(b, int | float) and math.isfinite(a) and math.isfinite(b):
            lo[j], hi[j] = a, b
    return lo, hi


def load_model(pointer: Any, onnx_bytes: bytes, etag: str = "") -> LoadedModel:
    """Build and smoke-test a model; raises ModelError when it cannot serve this pointer."""
    pointer, columns = check_pointer(pointer)
    features = tuple(pointer["features"])
    onnx = OnnxModel(onnx_bytes)
    if onnx.width is not None and onnx.width != len(features):
        raise ModelError(f"the ONNX model takes {onnx.width} features; the pointer lists {len(features)}")
    ref_min, ref_max = _reference(pointer, features)
    rows = RowFeatures(str(pointer["target"]))
    in_order = columns.size == rows.width and bool((columns == np.arange(rows.width)).all())
    intervals = load_intervals(pointer.get("intervals"), int(pointer["horizon_hours"]), features)
    model = LoadedModel(pointer, etag, onnx, features, columns, ref_min, ref_max, rows, in_order, intervals)
    # Run once before serving: a broken graph fails here, not in a request, and the first request is warm.
    out = model.predict(np.zeros((1, len(features)), dtype=np.float32))
    if out.shape != (1,):
        raise ModelError(f"the ONNX model returns shape {out.shape} for one row; expected one value")
    return model
