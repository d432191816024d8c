"""``.rps/endpoints.json``: where a running local cloud answers, for the CLI, the AWS CLI and scripts."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from rps_local.emulator.errors import NotRunningError

__all__ = ["DEFAULT_STATE_DIR", "control_request", "endpoints_path", "read_endpoints", "write_endpoints"]

DEFAULT_STATE_DIR = Path(".rps")


def endpoints_path(state_dir: Path | None = None) -> Path:
    return Path(state_dir or os.environ.get("RPS_STATE_DIR") or DEFAULT_STATE_DIR) / "endpoints.json"


def write_endpoints(state_dir: Path, endpoints: dict[str, Any]) -> Path:
    path = endpoints_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(endpoints, indent=2) + "\n")
    tmp.replace(path)
    return path


def read_endpoints(state_dir: Path | None = None) -> dict[str, Any]:
    """The endpoints of the running cloud; ``NotRunningError`` when none is written or it does not answer."""
    path = endpoints_path(state_dir)
    try:
        endpoints = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotRunningError(f"{path}: no local cloud is running here: start one with `rps up`") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise NotRunningError(f"{path}: unreadable ({exc}): restart the cloud with `rps up`") from exc
    if not isinstance(endpoints, dict) or not isinstance(endpoints.get("control_url"), str):
        raise NotRunningError(
            f"{path}: not written by this version of `rps up` (no control_url): restart the cloud with `rps up`"
        )
    try:
        control_request(endpoints, "GET", "/status", timeout=5)
    except NotRunningError:
        raise NotRunningError(
            f"{path}: the local cloud at {endpoints.get('aws_endpoint_url')} does not "
            "answer (stopped?): start one with `rps up`"
        ) from None
    return endpoints


def control_request(
    endpoints: dict[str, Any], method: str, path: str, body: Any = None, timeout: float = 600
) -> dict[str, Any]:
    """Call the cloud's control endpoint; an answer with ``error`` is returned as is, for the caller to show."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - our own loopback http URL
        endpoints["control_url"] + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own loopback URL
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read() or b"{}") or {"error": f"HTTP {exc.code}"}
    except (urllib.error.URLError, OSError) as exc:
        raise NotRunningError(f"the local cloud's control endpoint does not answer: {exc}") from exc
