"""The local console: a read-only web page of the running local cloud (executions and their state graphs,
models, forecasts, data quality, metrics and alarms, drift), served by the cloud on its own port.

``source`` reads the cloud (boto3, MLflow's REST API, template.yaml); ``data`` turns what it reads into
each page's view model; ``views`` render HTML with inline SVG; ``server`` serves them. Nothing is fetched
from outside: no CDN, no font, no script but the page's own.
"""

from rps_local.console.server import ConsoleServer
from rps_local.console.source import ConsoleSource

__all__ = ["ConsoleServer", "ConsoleSource"]
