"""rps_serving: the prediction API, a FastAPI app behind API Gateway through its Mangum handler.

- ``handler.lambda_handler``: the Lambda entry point (API Gateway REST v1, HTTP API v2, Function URLs);
- ``app.create_app(config, store)``: the FastAPI app, also runnable with uvicorn;
- ``store.ModelStore``: the champion model from ``champion/pointer.json``, reloaded when the pointer
  changes, as a ``rps_core.forecasts.LoadedModel`` (an ONNX model with its pointer: onnxruntime and numpy
  only, no mlflow and no scikit-learn, for a small package and a fast cold start); requests are forecast by
  ``rps_core.forecasts.predict``, the Forecast step's path.
"""

__all__: list[str] = []
