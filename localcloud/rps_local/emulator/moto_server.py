"""moto's server in this process, with the local cloud's hooks installed: the cloud's AWS endpoint."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from rps_local.emulator.errors import LocalCloudError
from rps_local.emulator.network import s3_path_style_from_containers

__all__ = ["MotoServer"]


class MotoServer:
    """``ThreadedMotoServer`` on ``host:port`` whose Lambda invocations go to ``invoker``."""

    def __init__(self, host: str, port: int, invoker: Any) -> None:
        self.host, self.port, self.invoker = host, port, invoker
        self._server: Any = None

    def start(self) -> MotoServer:
        # moto is imported here, not at the top: MLflow, the slowest part, starts before this import
        from moto.server import ThreadedMotoServer

        from rps_local.emulator import moto_hooks

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call otherwise
        # moto's CloudFormation skips what it cannot create (the HTTP API, which the local one serves; bucket
        # policies, which moto does not enforce), and its interpreter logs every caught task error
        logging.getLogger("moto").addFilter(lambda record: not record.getMessage().startswith("No Moto CloudF"))
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
        problems = moto_hooks.check_internals()
        if problems:
            raise LocalCloudError("moto's internals differ from those the local cloud hooks: " + "; ".join(problems))
        moto_hooks.install(self.invoker)
        moto_hooks.enable_stepfunctions_execution(self.port)
        s3_path_style_from_containers(self.port)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        from rps_local.emulator import moto_hooks

        self._server.stop()
        self._server = None
        moto_hooks.uninstall()
