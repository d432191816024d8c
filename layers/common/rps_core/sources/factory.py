"""Pick the source named by the settings (``SOURCE``)."""

from __future__ import annotations

from rps_core.config import Settings, require
from rps_core.sources.base import Source
from rps_core.sources.open_meteo import OpenMeteoSource
from rps_core.sources.replay import FileSource, ReplaySource


def source_from_settings(settings: Settings) -> Source:
    if settings.source == "open-meteo":
        return OpenMeteoSource(settings.open_meteo_url)
    if settings.source == "file":
        return FileSource(require(settings.source_file, "SOURCE_FILE"))
    return ReplaySource()
