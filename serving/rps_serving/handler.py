"""The Lambda entry point: ``rps_serving.handler.lambda_handler`` (template.yaml, ServingFunction).

Everything is built at import, during Lambda's init phase: settings, the S3 client, the app, and the
champion model, so the first request is already warm. Without a champion the function still starts and
answers 503 until one is promoted. Logs are Powertools Logger's JSON lines with the request's correlation id
(``rps_serving.logs``).
"""

from __future__ import annotations

from typing import Any

from rps_serving.app import create_app
from rps_serving.config import POINTER_KEY, load_config
from rps_serving.gateway import make_adapter
from rps_serving.logs import log_request, logger, set_correlation_id
from rps_serving.store import ModelStore

config = load_config()
store = ModelStore(config.settings.model_bucket, POINTER_KEY, config.check_seconds)
store.refresh()
app = create_app(config, store)
_adapter = make_adapter(app, config.base_path)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    set_correlation_id(event)
    response = _adapter(event, context)
    log_request(event, response)
    return response
