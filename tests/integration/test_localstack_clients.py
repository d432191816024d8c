"""LocalStack's clients work unchanged: ``rps up`` serves the AWS endpoint on LocalStack's port 4566 by
default, where ``localstack_client.session.Session()`` looks with no argument; when 4566 is taken it says
so and takes a free port, which ``LOCALSTACK_HOST`` (or ``AWS_ENDPOINT_URL``) points the same clients at."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from localstack_client.session import Session
from rps_local.emulator.network import LOCALSTACK_PORT, port_is_free
from rps_local.emulator.process import CloudProcess

from tests.integration.budgets import limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

TOY = Path(__file__).resolve().parent / "fixtures" / "toy"


def _reaches_the_stack(session: Session, cloud: CloudProcess) -> None:
    buckets = {b["Name"] for b in session.client("s3").list_buckets()["Buckets"]}
    assert cloud.client.physical_id("ToyBucket") in buckets
    machines = session.client("stepfunctions").list_state_machines()["stateMachines"]
    assert cloud.client.physical_id("ToyStateMachine") in {m["stateMachineArn"] for m in machines}


def test_by_default_the_cloud_is_where_localstacks_clients_look(tmp_path, monkeypatch):
    if not port_is_free("127.0.0.1", LOCALSTACK_PORT):
        pytest.skip(f"port {LOCALSTACK_PORT} is in use on this machine (the fallback is tested below)")
    for name in ("LOCALSTACK_HOST", "AWS_ENDPOINT_URL", "EDGE_PORT"):
        monkeypatch.delenv(name, raising=False)
    with CloudProcess(TOY, tmp_path, "--no-mlflow", "--no-schedules", port=None).start(limit_s("cloud_start")) as cloud:
        assert cloud.endpoints["aws_endpoint_url"] == f"http://localhost:{LOCALSTACK_PORT}"
        _reaches_the_stack(Session(), cloud)  # no argument, no environment: LocalStack's defaults


def test_when_4566_is_taken_it_says_so_and_localstack_host_points_the_clients_there(tmp_path, monkeypatch):
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past an earlier cloud's TIME_WAIT
        try:
            holder.bind(("127.0.0.1", LOCALSTACK_PORT))
            holder.listen()
        except OSError:
            pass  # taken already by something else: the same case
        with CloudProcess(TOY, tmp_path, "--no-mlflow", "--no-schedules", port=None).start(
            limit_s("cloud_start")
        ) as cloud:
            endpoint = cloud.endpoints["aws_endpoint_url"]
            assert not endpoint.endswith(f":{LOCALSTACK_PORT}")
            assert f"port {LOCALSTACK_PORT} is taken" in cloud.log_path.read_text()
            monkeypatch.setenv("LOCALSTACK_HOST", endpoint.removeprefix("http://"))
            _reaches_the_stack(Session(), cloud)
