"""Features: one numpy implementation shared by training, batch forecasts and serving.

``build_features(obs, target)`` turns a location's hourly observations (a complete hourly grid, NaN for
gaps) into a float32 matrix whose row t uses only observations at or before t; ``feature_names(target)``
names its columns; ``HISTORY_HOURS`` is how many observations one prediction needs (the longest lag + 1);
``build_target(obs, target, horizon)`` is what the model learns: the change y(t+h) - y(t) and y(t);
``RowFeatures(target)`` computes the last row of windows of HISTORY_HOURS, bit for bit as
``build_features`` does, from index arrays compiled once (the forecasts' path, serving's and the Forecast
step's: tens of microseconds).

No pandas here: the serving function ships numpy and onnxruntime only.
"""

from rps_core.features.build import HISTORY_HOURS, build_features, build_target, feature_columns, feature_names
from rps_core.features.row import RowFeatures

__all__ = ["HISTORY_HOURS", "RowFeatures", "build_features", "build_target", "feature_columns", "feature_names"]
