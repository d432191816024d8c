"""The live Open-Meteo client: ``GET /v1/forecast`` with retries and backoff on 429, 5xx and timeouts
(urllib3's Retry), and a fast failure on 400 with the API's ``reason``.

The answer is returned as received (the raw bytes are what Ingest stores); a 2xx body that is not valid
JSON is not rejected here but by the quality gate's schema check, so the evidence lands in quarantine.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.util.retry import Retry

from rps_core.config import Location
from rps_core.errors import SourceError, TransientSourceError
from rps_core.schema import VARIABLES
from rps_core.sources.base import HOUR, RawPayload, Window

RETRY_STATUSES = (429, 500, 502, 503, 504)
# The forecast API keeps 92 days of past hours: the first (backfill) run asks for all of them.
BACKFILL_DAYS = 92


def _snippet(body: bytes, limit: int = 200) -> str:
    return body[:limit].decode("utf-8", "replace").replace("\n", " ").strip()


class OpenMeteoSource:
    """Hourly observations from the Open-Meteo forecast API (or anything that speaks it)."""

    name = "open-meteo"

    def __init__(
        self,
        base_url: str = "https://api.open-meteo.com",
        retries: int = 4,
        backoff_factor: float = 0.5,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff_factor,
            backoff_max=30.0,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,  # the last 429/5xx answer comes back, so its body can be reported
        )
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.pool = pool or urllib3.PoolManager()

    def params(self, location: Location, window: Window) -> dict[str, Any]:
        params: dict[str, Any] = {
            "latitude": location.latitude,
            "longitude": location.longitude,
            "hourly": ",".join(VARIABLES),
            "timezone": "GMT",
        }
        if window.start is None:
            params |= {"past_days": BACKFILL_DAYS, "forecast_days": 1}
        else:
            # Dates are inclusive and whole days: the window's hours are inside, extra hours are dropped later.
            params |= {
                "start_date": (window.start + HOUR).date().isoformat(),
                "end_date": window.end.date().isoformat(),
            }
        return params

    def url(self, location: Location, window: Window) -> str:
        return f"{self.base_url}/v1/forecast?{urlencode(self.params(location, window))}"

    def fetch(self, location: Location, window: Window) -> RawPayload:
        url = self.url(location, window)
        try:
            response = self.pool.request("GET", url, retries=self.retry, timeout=self.timeout, preload_content=True)
        except urllib3.exceptions.HTTPError as exc:  # MaxRetryError after timeouts or refused connections
            raise TransientSourceError(f"Open-Meteo unreachable after retries: {exc}") from exc
        status, body = response.status, response.data
        if status in RETRY_STATUSES:
            raise TransientSourceError(f"Open-Meteo answered HTTP {status} after retries: {_snippet(body)}")
        if status == 400:
            raise SourceError(f"Open-Meteo rejected the request (HTTP 400): {self._reason(body)}")
        if not 200 <= status < 300:
            raise SourceError(f"Open-Meteo answered HTTP {status}: {_snippet(body)}")
        return RawPayload(body, self.name, response.headers.get("Content-Type", "application/json"), url)

    @staticmethod
    def _reason(body: bytes) -> str:
        try:
            value = json.loads(body)
        except ValueError:
            return _snippet(body)
        if isinstance(value, dict) and isinstance(value.get("reason"), str):
            return value["reason"]
        return _snippet(body)
