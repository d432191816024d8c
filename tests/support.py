"""What the tests share: the project root, sample events from ``events/`` (never pasted inline), a step's
handler module loaded from its ``functions/<step>/app.py`` as Lambda loads it, a Lambda context, and SAM
CLI's own parser of ``--parameter-overrides``."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOOLS_PYTHON = ROOT / ".venv-tools" / "bin" / "python"


def sam_parse(overrides: list[str]) -> dict[str, str]:
    """``--parameter-overrides`` words as SAM CLI's own parser (``.venv-tools``) turns them into parameters."""
    assert TOOLS_PYTHON.exists(), ".venv-tools is missing: run `make tools-venv` (make test does)"
    code = (
        "import json, sys\n"
        "from samcli.cli.types import CfnParameterOverridesType\n"
        "print(json.dumps(CfnParameterOverridesType().convert(json.load(sys.stdin), None, None)))\n"
    )
    out = subprocess.run(
        [str(TOOLS_PYTHON), "-c", code], input=json.dumps(overrides), capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def load_event(name: str) -> Any:
    """The sample event ``events/<name>`` (the same files ``rps invoke --event`` and the workflows use)."""
    return json.loads((ROOT / "events" / name).read_text())


def load_handler(step: str) -> ModuleType:
    """``functions/<step>/app.py`` as a fresh module (its Logger/Metrics start cold, as in a new environment)."""
    spec = importlib.util.spec_from_file_location(f"{step}_app", ROOT / "functions" / step / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    function_name: str = "test"
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    aws_request_id: str = "req-1"
    log_stream_name: str = "stream"
    remaining_ms: int = 60_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


# What moto needs from the environment: a region and credentials that are never real ones.
MOTO_ENV = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def set_moto_env(monkeypatch: Any, env: dict[str, str] | None = None) -> None:
    """Dummy credentials and ``env`` set, and no ``AWS_ENDPOINT_URL`` (a running local cloud's would take
    the requests away from moto)."""
    for key, value in {**MOTO_ENV, **(env or {})}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@contextmanager
def mocked_aws(monkeypatch: Any, env: dict[str, str] | None = None) -> Iterator[None]:
    """moto in-process (``mock_aws``) with ``set_moto_env``; rps_core's process-wide S3 client is made anew
    inside and dropped after."""
    from moto import mock_aws
    from rps_core import storage

    set_moto_env(monkeypatch, env)
    storage.s3_client.cache_clear()
    with mock_aws():
        yield
    storage.s3_client.cache_clear()


@contextmanager
def mocked_pipeline_aws(monkeypatch: Any, env: dict[str, str]) -> Iterator[tuple[Any, Any, str]]:
    """moto (in-process) with ``env`` set, its ``DATA_BUCKET`` and ``MODEL_BUCKET`` created and a stand-in
    pipeline state machine whose ARN is ``STATE_MACHINE_ARN``: what the drift monitor talks to.
    Yields ``(s3 client, stepfunctions client, state machine ARN)``."""
    import boto3

    with mocked_aws(monkeypatch, env):
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in (env["DATA_BUCKET"], env["MODEL_BUCKET"]):
            s3.create_bucket(Bucket=bucket)
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(
            name="rps-pipeline",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/rps",
        )["stateMachineArn"]
        monkeypatch.setenv("STATE_MACHINE_ARN", arn)
        yield s3, sfn, arn
