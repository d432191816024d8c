"""Forecasts: the champion's prediction from a location's last observations, run with onnxruntime (no
scikit-learn, no mlflow). One path for serving's requests and the Forecast step's batch:

- ``load_model(pointer, onnx_bytes)``: a ``LoadedModel`` (the ONNX session of ``OnnxModel``, the pointer's
  feature columns and reference ranges, the compiled one-row features);
- ``ForecastInput``: the last ``HISTORY_HOURS`` observations of one location (``ForecastInput.of(obs)``, or
  ``forecast_input(obs, target, issued_at)``: ending at the newest target value at or before ``issued_at``);
- ``predict(model, inputs)``: one ``Forecast`` per input, y(t + h) = y(t) + the predicted change, from one
  feature pass (``RowFeatures``: the training features bit for bit) and one ONNX call;
- ``run_forecast``: the Forecast step, writing ``forecasts/location={L}/issued={now}.json`` to the data bucket
  for the monitor.
"""

from rps_core.contract import forecast_key
from rps_core.forecasts.model import LoadedModel, OnnxModel, load_model
from rps_core.forecasts.predict import Forecast, ForecastInput, forecast_input, predict
from rps_core.forecasts.service import run_forecast

__all__ = [
    "Forecast",
    "ForecastInput",
    "LoadedModel",
    "OnnxModel",
    "forecast_input",
    "forecast_key",
    "load_model",
    "predict",
    "run_forecast",
]
