"""The champion model of this process, kept in step with ``champion/pointer.json``.

The pointer's ETag is checked at most every ``check_seconds``. A changed pointer is loaded completely
(download, session, smoke test) before one reference assignment swaps it in; requests that started with
the old model finish with it. A failed load keeps the current model and is retried at the next check.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rps_core import storage
from rps_core.contract import CHAMPION_KEY
from rps_core.errors import ModelError
from rps_core.forecasts import LoadedModel, load_model
from rps_core.registry.pointer import parse_s3_uri, validate

logger = logging.getLogger(__name__)
_NOT_FOUND = ("404", "NoSuchKey", "NotFound")
# Without a model every request is a 503: look for the first champion more often than for a new one.
NO_MODEL_CHECK_SECONDS = 1.0


def model_location(pointer: dict[str, Any], bucket: str) -> tuple[str, str]:
    """Where the pointer's ONNX file is: ``model_uri`` (s3://bucket/key, validated by the registry)."""
    if not isinstance(pointer, dict):
        raise ModelError("champion pointer: expected a JSON object")
    return parse_s3_uri(str(validate(pointer)["model_uri"]))


class ModelStore:
    def __init__(
        self,
        bucket: str,
        key: str = CHAMPION_KEY,
        check_seconds: float = 30.0,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bucket, self.key, self.check_seconds = bucket, key, check_seconds
        self._client = client
        self._clock = clock
        self._current: LoadedModel | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()
        self.status = f"no champion model yet: s3://{bucket}/{key} has not been read"

    @property
    def client(self) -> Any:
        return self._client or storage.s3_client()

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    def due(self) -> bool:
        return self._clock() >= self._next_check

    def refresh(self) -> bool:
        """Check the pointer now; load and swap in a changed champion. True when the model changed.

        Never raises for S3 or model errors: they are logged and kept in ``status`` for the 503 message.
        Concurrent callers do not wait: while one checks, the others keep serving the current model.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            return self._check()
        finally:
            interval = self.check_seconds if self._current else min(self.check_seconds, NO_MODEL_CHECK_SECONDS)
            self._next_check = self._clock() + interval
            self._lock.release()

    def _check(self) -> bool:
        current = self._current
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key)
            if current and head.get("ETag") == current.etag:
                return False
            resp = self.client.get_object(Bucket=self.bucket, Key=self.key)
            pointer = json.loads(resp["Body"].read())
            etag = str(resp.get("ETag", ""))
            model_bucket, model_key = model_location(pointer, self.bucket)
            body = self.client.get_object(Bucket=model_bucket, Key=model_key)["Body"].read()
            model = load_model(pointer, body, etag)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND and current is None:
                self.status = f"no champion model yet: s3://{self.bucket}/{self.key} does not exist"
            else:
                self._fail(f"reading the champion from S3 failed: {exc}")
            return False
        except (BotoCoreError, ModelError, ValueError, KeyError, TypeError) as exc:
            self._fail(f"the champion model could not be loaded: {exc}")
            return False
        self._current = model  # the swap: one reference assignment
        self.status = f"serving model version {model.version}"
        logger.info("loaded champion model", extra={"model_version": model.version, "etag": model.etag})
        return True

    def _fail(self, message: str) -> None:
        logger.error(message)
        self.status = message if self._current is None else f"{message} (still serving {self._current.version})"
