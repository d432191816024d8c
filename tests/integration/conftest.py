"""The local cloud as pytest fixtures: each starts ``rps up`` in its own process on free ports, in a
temporary state directory (the cloud keeps moto's state away from ``mock_aws`` tests).

- ``toy_cloud``: tests/integration/fixtures/toy (toy handlers, a layer, a small state machine), no MLflow;
- ``rps_cloud``: the project's template.yaml with a small model (``budgets.SMALL_MODEL``), with the MLflow
  server, once per session.

Both are ``rps_local.emulator.process.CloudProcess`` whose clients are made by LocalStack's own Python client
(``localstack_client``, pointed at the cloud's free port), as a LocalStack user's code would make them:
``.endpoints`` (the endpoints.json keys), ``.client`` (a ``CloudClient``: ``invoke(logical_id, event)``,
``start_execution``, ``wait_execution``, ``client("s3")``...), ``.rps(*args)`` (run the CLI against it).
Modules that use them set ``pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]`` so
that one xdist worker owns the clouds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rps_local.emulator.process import CloudProcess

from tests.integration.budgets import SMALL_MODEL, limit_s

PROJECT_DIR = Path(__file__).resolve().parents[2]
TOY_DIR = Path(__file__).resolve().parent / "fixtures" / "toy"


@pytest.fixture(scope="module")  # one module uses it: its memory is freed before the rest runs
def toy_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    cloud = CloudProcess(TOY_DIR, tmp_path_factory.mktemp("toy-cloud"), "--no-mlflow", via_localstack_client=True)
    with cloud.start(timeout_s=limit_s("cloud_start")):
        yield cloud


@pytest.fixture(scope="session")
def rps_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    # One station of three may be rejected while a run goes on (test_quarantine_tolerance)
    overrides = ("--parameter-overrides", *SMALL_MODEL, "ToleratedFailurePercentage=34")
    cloud = CloudProcess(PROJECT_DIR, tmp_path_factory.mktemp("rps-cloud"), *overrides, via_localstack_client=True)
    with cloud.start(timeout_s=limit_s("cloud_start")):
        yield cloud
