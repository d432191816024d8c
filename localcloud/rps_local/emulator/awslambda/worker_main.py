"""The inside of a worker process: a Lambda execution environment for one function.

Started as ``python -u -m rps_local.emulator.awslambda.worker_main IN_FD OUT_FD NONCE`` with the function's environment.
It imports the handler (the init phase), then answers invoke requests one at a time over a
``multiprocessing.connection`` pipe, a channel that the handler's own output cannot corrupt. After each
invocation it writes ``NONCE`` to fd 1 so the parent knows where this invocation's output ends.
Only the standard library is imported here, before the handler: the handler's imports are its cold start.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

_REQUEST_ID = {"value": ""}
_CPU_SHARE = "RPS_CPU_SHARE"  # rps_local.emulator.awslambda.runtime.CPU_SHARE_VARIABLE (only the standard library here)


class LambdaContext:
    """The attributes and method of the context object that the Python runtime passes to a handler."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_arn: str) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _REQUEST_ID["value"]
        return True


def _configure_logging() -> None:
    # The Python runtime's root handler: "[LEVEL]\tTIME\tREQUEST_ID\tmessage" on stdout
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _error(exc: BaseException, error_type: str | None = None, message: str | None = None) -> dict[str, Any]:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next  # the handler's frames only, as Lambda reports them
    return {
        "errorType": error_type or type(exc).__name__,
        "errorMessage": message if message is not None else str(exc),
        "stackTrace": [frame.rstrip() for frame in traceback.format_tb(tb)],
    }


def _load_handler(spec: str) -> tuple[Any, dict[str, Any] | None]:
    module_name, _, function_name = spec.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return None, _error(exc, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}")
    except Exception as exc:
        return None, _error(exc)  # an exception raised while importing: Lambda reports it as such
    handler = getattr(module, function_name, None)
    if not callable(handler):
        return None, {
            "errorType": "Runtime.HandlerNotFound",
            "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
            "stackTrace": [],
        }
    return handler, None


def _peak_rss_mb() -> int:
    # VmHWM starts afresh at exec; ru_maxrss on Linux keeps the forking parent's peak
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes, but bytes on macOS
    return peak // (1024 * 1024) if sys.platform == "darwin" else peak // 1024


def _end_of_output(nonce: bytes) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, nonce)


def _invoke(handler: Any, request: dict[str, Any]) -> tuple[str, bool]:
    _REQUEST_ID["value"] = request["request_id"]
    if request.get("cpus"):
        os.environ[_CPU_SHARE] = str(request["cpus"])  # this invocation's share of the machine
    context = LambdaContext(request["request_id"], request["deadline_ms"], request["arn"])
    try:
        result = handler(json.loads(request["event"]), context)
    except Exception as exc:
        error = _error(exc)
        trace = "\n".join(error["stackTrace"])
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}\nTraceback (most recent call last):\n{trace}")
        return json.dumps(error), True
    try:
        return json.dumps(result), False
    except (TypeError, ValueError) as exc:
        return json.dumps(_error(exc, "Runtime.MarshalError", f"Unable to marshal response: {exc}")), True


def main(argv: list[str]) -> int:
    requests = Connection(int(argv[1]), writable=False)
    replies = Connection(int(argv[2]), readable=False)
    nonce = argv[3].encode()
    code_paths = [p for p in os.environ.get("RPS_CODE_PATHS", "").split(os.pathsep) if p]
    # Lambda's order: the function's code, then each layer; our own directory is not on the path
    sys.path[:] = code_paths + [p for p in sys.path if p not in ("", os.getcwd())]
    _configure_logging()
    started = time.perf_counter()
    handler, init_error = _load_handler(os.environ["_HANDLER"])
    init_ms = (time.perf_counter() - started) * 1000
    _end_of_output(nonce)
    replies.send_bytes(json.dumps({"type": "ready", "init_ms": init_ms, "error": init_error}).encode())
    while True:
        try:
            request = json.loads(requests.recv_bytes())
        except EOFError:
            return 0
        if init_error is not None:
            payload, errored = json.dumps(init_error), True
        else:
            payload, errored = _invoke(handler, request)
        _end_of_output(nonce)
        max_rss_mb = _peak_rss_mb()
        replies.send_bytes(
            json.dumps({"type": "result", "payload": payload, "errored": errored, "max_rss_mb": max_rss_mb}).encode()
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
