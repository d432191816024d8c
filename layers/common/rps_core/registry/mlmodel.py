"""The ``MLmodel`` file that makes a registered version a real MLflow model: the ``onnx`` flavour and the
``python_function`` flavour through MLflow's own ONNX loader (``mlflow.onnx``), a signature naming the
feature columns, and an input example of real feature rows.

So ``mlflow.pyfunc.load_model("models:/rps-temperature_2m-6h@champion").predict(frame)`` works for an MLflow
user (with mlflow and onnxruntime installed): ``frame`` holds the features of ``rps_core.features`` by name,
and the prediction is the change of the target over the horizon, as serving computes it before adding
the last observed value. Written with mlflow-skinny's model metadata classes: the Register function
imports neither scikit-learn nor full mlflow, nor onnx.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rps_core.registry.pointer import ONNX_FILE

MLMODEL_FILE = "MLmodel"
ARTIFACT_PATH = "model"


def mlmodel_files(candidate: dict[str, Any]) -> dict[str, bytes]:
    """``MLmodel`` and its input-example files for the candidate's ``model.onnx`` (name -> bytes)."""
    import pandas as pd
    from mlflow import pyfunc
    from mlflow.models import Model, ModelSignature
    from mlflow.models.utils import _save_example  # what mlflow's own save_model calls for the example
    from mlflow.types.schema import ColSpec, Schema

    features = [str(name) for name in candidate["features"]]
    model = Model(artifact_path=ARTIFACT_PATH)
    model.signature = ModelSignature(
        inputs=Schema([ColSpec("float", name) for name in features]),
        outputs=Schema([ColSpec("float", "variable")]),  # skl2onnx's output: the predicted change
    )
    model.metadata = {
        "target": str(candidate["target"]),
        "horizon_hours": int(candidate["horizon_hours"]),
        "prediction": "the change of the target over horizon_hours from the last observed value",
        "features": "rps_core.features.build_features (float32, NaN where missing)",
        "dataset_version": str(candidate["dataset_version"]),
        "rps_model_id": str(candidate["model_id"]),
        # The 80%/95% intervals' calibration by horizon (rps_core.forecasts.intervals): value ± q * scale.
        "intervals": candidate.get("intervals"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        rows = candidate.get("input_example") or []
        if rows:
            frame = pd.DataFrame(rows, columns=features, dtype="float32")
            _save_example(model, frame, tmp)
        pyfunc.add_to_model(model, loader_module="mlflow.onnx", data=ONNX_FILE)
        model.add_flavor(
            "onnx",
            onnx_version=str(candidate.get("onnx_version") or ""),
            data=ONNX_FILE,
            providers=["CPUExecutionProvider"],
            code=None,
        )
        model.save(str(Path(tmp) / MLMODEL_FILE))
        return {path.name: path.read_bytes() for path in Path(tmp).iterdir()}
