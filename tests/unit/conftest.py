"""Fixtures shared by the unit tests (no servers: moto's ``mock_aws`` runs in the test process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.support import mocked_aws


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Any]:
    """An S3 client on moto with the test module's ``BUCKET`` created, and dummy credentials."""
    with mocked_aws(monkeypatch):
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=request.module.BUCKET)
        yield client
