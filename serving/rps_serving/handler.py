"""The Lambda entry point: ``rps_serving.handler.lambda_handler`` (template.yaml, ServingFunction).

Everything is built at import, during Lambda's init phase: settings, the S3 client, the app, and the
champion model, so the first request is already warm. Without a champion the function still starts and
answers 503 until one is promoted. Logs are Powertools Logger's JSON lines with the request's correlation id
(``rps_serving.logs``).
"""

from __future__ import annotations

from typing import Any

from rps_serving.app import create_app
from rps_serving.config import POINTER_KEY, ServingConfig, load_config
from rps_serving.gateway import make_adapter
from rps_serving.latest import LatestData
from rps_serving.logs import log_request, logger, set_correlation_id
from rps_serving.reloading import Adapter, LocationsReload
from rps_serving.store import ModelStore

config = load_config()
store = ModelStore(config.settings.model_bucket, POINTER_KEY, config.check_seconds)
store.refresh()
latest = LatestData(config.settings.data_bucket, config.check_seconds)  # kept when the app is rebuilt


def _build(current: ServingConfig) -> Adapter:
    return make_adapter(create_app(current, store, latest), current.base_path)


apps = LocationsReload(config, _build)  # with LocationsKey: rebuilt when the locations CSV changes


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    set_correlation_id(event)
    response = apps.adapter()(event, context)
    log_request(event, response)
    return response
