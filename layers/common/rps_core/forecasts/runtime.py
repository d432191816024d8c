"""The served model: an ONNX file run by onnxruntime with numpy inputs (no scikit-learn, no mlflow)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rps_core.errors import ModelError


class OnnxModel:
    """A float32 ONNX regressor: ``predict(x [n, f]) -> float64 [n]``."""

    def __init__(self, onnx_bytes: bytes) -> None:
        import onnxruntime as ort  # lazy: only serving, forecasts and the parity check need it

        options = ort.SessionOptions()
        # One thread: Lambda has few vCPUs and one-row predictions gain nothing from a thread pool.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session: Any = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad file
            raise ModelError(f"cannot load the ONNX model: {exc}") from exc
        inputs = self._session.get_inputs()
        self._input = inputs[0].name
        self.n_features = inputs[0].shape[1] if len(inputs[0].shape) == 2 else None

    def predict(self, x: np.ndarray) -> np.ndarray:
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        if x32.ndim != 2 or (isinstance(self.n_features, int) and x32.shape[1] != self.n_features):
            raise ModelError(f"the model expects [n, {self.n_features}] features, got {list(x32.shape)}")
        out = self._session.run(None, {self._input: x32})[0]
        return np.asarray(out, dtype=np.float64).reshape(-1)
