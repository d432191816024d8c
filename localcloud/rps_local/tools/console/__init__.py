"""The local console: a read-only web page of the running local cloud (executions and their state graphs,
models, forecasts, data quality, metrics and alarms, drift), served by the cloud on its own port.

``source`` reads the cloud (boto3, MLflow's REST API, template.yaml); ``data`` turns what it reads into
each page's view model; ``views`` render HTML with inline SVG; ``server`` serves them. Nothing is fetched
from outside: no CDN, no font, no script but the page's own. ``start_console`` is the cloud's addon
(``LocalCloud(addons={"console": start_console})``: ``console_url`` in the endpoints).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rps_local.tools.console.server import ConsoleServer
from rps_local.tools.console.source import ConsoleSource

if TYPE_CHECKING:
    from rps_local.emulator.cloud import LocalCloud

__all__ = ["ConsoleServer", "ConsoleSource", "start_console"]


def start_console(cloud: LocalCloud) -> ConsoleServer:
    """The console of a cloud that is starting: its source is made on the first request, once every
    endpoint is known; it warms itself so that the first page does not wait."""

    def source() -> ConsoleSource:
        return ConsoleSource(cloud.endpoints, cloud.template_path, cloud.parameter_overrides)

    console = ConsoleServer(source, cloud.host).start()
    console.warm()
    return console
