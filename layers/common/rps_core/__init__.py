"""rps_core: the shared library of the real-time predictive system, deployed as a Lambda layer.

One subpackage per capability: ``sources`` (Open-Meteo, replay, files), ``quality`` (the gate),
``features`` (one feature implementation for training and serving), ``datasets`` (versioned data),
``training``, ``registry`` (champion pointer, MLflow), ``drift`` and ``forecasts``. Heavy optional
dependencies (scikit-learn, mlflow, onnxruntime) are imported lazily inside the modules that need them,
so each function ships only what it uses.
"""

from rps_core.errors import ConfigurationError, DataQualityError, RpsError

__all__ = ["ConfigurationError", "DataQualityError", "RpsError"]
