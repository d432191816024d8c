"""Addresses and ports of the local cloud: where it may listen, which ports are free, how containers reach it."""

from __future__ import annotations

import os
import socket

from rps_local.emulator.errors import HostAddressError, PortInUseError

__all__ = [
    "CONTAINER_HOST_NAMES",
    "LOCALSTACK_PORT",
    "check_host",
    "check_port",
    "free_port",
    "port_is_free",
    "s3_path_style_from_containers",
]

LOCALSTACK_PORT = 4566  # where LocalStack's clients (localstack_client, awslocal, samlocal) look by default
# The names a container reaches its host by (podman's, Docker's): `rps env-vars --endpoint-host NAME`
CONTAINER_HOST_NAMES = ("host.containers.internal", "host.docker.internal")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def check_host(host: str) -> None:
    """``HostAddressError`` unless this machine can listen on ``host`` (``rps up --host``), before any port."""
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostAddressError(
            f"--host {host}: not an address, nor a name this machine resolves ({exc}): use 127.0.0.1 (this "
            "machine only), 0.0.0.0 (every interface: containers reach it) or one of this machine's addresses"
        ) from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address[0], 0))
        except OSError as exc:
            raise HostAddressError(
                f"--host {host}: this machine cannot listen there ({exc.strerror}): no network interface has "
                f"{address[0]}; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface: containers reach "
                "it) or one of this machine's addresses"
            ) from None


def port_is_free(host: str, port: int) -> bool:
    try:
        check_port(host, port, "probe")
    except PortInUseError:
        return False
    return True


def check_port(host: str, port: int, what: str) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug's server binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUseError(
                f"{host}:{port}: cannot serve the {what} there: {exc.strerror}"
                " (use another --port, or 0 for a free one)"
            ) from None


def s3_path_style_from_containers(port: int) -> None:
    """Make moto read S3 requests addressed to ``http://host.containers.internal:PORT`` path-style.

    moto takes the first label of an S3 request's host for a bucket name (virtual-hosted style) unless the
    host is localhost, an IP, host.docker.internal or one of ``MOTO_S3_CUSTOM_ENDPOINTS``: from a podman
    container (``sam local invoke``), every bucket would be "host" (NoSuchBucket).
    """
    endpoints = [e for e in os.environ.get("MOTO_S3_CUSTOM_ENDPOINTS", "").split(",") if e]
    for name in CONTAINER_HOST_NAMES:
        if f"http://{name}:{port}" not in endpoints:
            endpoints.append(f"http://{name}:{port}")
    os.environ["MOTO_S3_CUSTOM_ENDPOINTS"] = ",".join(endpoints)  # read by moto at each request
