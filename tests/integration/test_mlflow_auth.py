"""MLflow with authentication: the tracking server with its basic-auth app (the full mlflow of
.venv-mlflow), and Register's credentials read from a Secrets Manager secret (moto). Without credentials,
or with wrong ones, the run is refused with a named error; with them it is tracked and registered."""

from __future__ import annotations

import json
import os
import secrets as secrets_module
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from rps_core.errors import ConfigurationError, TrackingAuthError
from rps_core.registry.credentials import use_tracking_credentials
from rps_core.registry.tracking import start_run
from rps_local.emulator.network import free_port

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

PROJECT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-admin-password-1"  # the test server's own, made for this test
VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
CANDIDATE = {
    "model_id": "m1",
    "target": "temperature_2m",
    "horizon_hours": 6,
    "history_hours": 169,
    "features": ["temperature_2m"],
    "dataset_version": "abc",
    "metrics": {"mae": 1.4, "per_location": {}},
}


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("mlflow-auth")
    ini = work / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{work / 'auth.db'}\nadmin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(ini),
        "MLFLOW_AUTH_ADMIN_PASSWORD": PASSWORD,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets_module.token_hex(16),  # the auth app's CSRF key
    }
    command = [
        str(PROJECT / ".venv-mlflow" / "bin" / "mlflow"), "server", "--app-name", "basic-auth",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}", "--artifacts-destination", str(work / "artifacts"),
    ]  # fmt: skip
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{uri}/health", timeout=2).close()
            break
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((work / "server.log").read_text()[-3000:]) from None
            time.sleep(0.5)
    yield uri
    server.terminate()
    server.wait(timeout=20)
    log.close()


@pytest.fixture
def secrets(monkeypatch) -> Iterator:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")
    for name in VARIABLES:  # use_tracking_credentials set them for this process
        os.environ.pop(name, None)


def test_without_credentials_the_server_refuses_with_a_named_error(auth_server, secrets):
    with pytest.raises(TrackingAuthError, match="refused the request"):
        start_run(auth_server, CANDIDATE, {"model.onnx": b"onnx"})


def test_credentials_from_the_secret_let_register_track(auth_server, secrets):
    secrets.create_secret(Name="rps/mlflow", SecretString=json.dumps({"username": "admin", "password": PASSWORD}))
    use_tracking_credentials("rps/mlflow")
    run = start_run(auth_server, CANDIDATE, {"model.onnx": b"onnx"})
    assert run.register() == "1"


def test_wrong_or_malformed_credentials_are_named_errors(auth_server, secrets):
    secrets.create_secret(Name="rps/wrong", SecretString=json.dumps({"username": "admin", "password": "nope"}))
    use_tracking_credentials("rps/wrong")
    with pytest.raises(TrackingAuthError):
        start_run(auth_server, CANDIDATE, {"model.onnx": b"onnx"})
    secrets.create_secret(Name="rps/odd", SecretString=json.dumps({"user": "admin"}))
    with pytest.raises(ConfigurationError, match=r"must be JSON with 'username' and 'password'.*\['user'\]"):
        use_tracking_credentials("rps/odd")
    with pytest.raises(ConfigurationError, match="cannot read secret 'rps/missing'"):
        use_tracking_credentials("rps/missing")
