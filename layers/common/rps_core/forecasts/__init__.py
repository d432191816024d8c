"""Forecasts: the champion's prediction per location at "now", run with onnxruntime (no scikit-learn, no mlflow).

``OnnxModel`` wraps an ONNX file; ``forecast_from_observations`` builds the features of the last
``HISTORY_HOURS`` observations and predicts y(t + h) = y(t) + the predicted change; ``run_forecast`` is the
Forecast step, writing ``forecasts/location={L}/issued={now}.json`` to the data bucket for the monitor.
"""

from rps_core.forecasts.runtime import OnnxModel
from rps_core.forecasts.service import Forecast, forecast_from_observations, forecast_key, run_forecast

__all__ = ["Forecast", "OnnxModel", "forecast_from_observations", "forecast_key", "run_forecast"]
