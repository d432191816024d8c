"""Forecasts: the champion's prediction per location at "now", run with onnxruntime (no scikit-learn, no mlflow).

``OnnxModel`` wraps an ONNX file; ``forecast_location`` builds the features of the last ``HISTORY_HOURS``
observations and predicts y(now + h) = y(now) + predicted change; ``write_forecasts`` stores them in the
data bucket under ``forecasts/location={L}/issued={now}.json`` for the realized-error monitor.
"""

from rps_core.forecasts.runtime import OnnxModel

__all__ = ["OnnxModel"]
