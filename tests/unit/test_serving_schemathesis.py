"""Schemathesis against the app's own OpenAPI document: generated requests, valid and invalid, to every
operation, with a champion model loaded; the API must never answer with a server error.

The schema is loaded when the module is imported (schemathesis' lazy ``from_fixture`` does not work with
pytest 9), so the app is built then, with an S3 client that forwards to the test's moto client.
"""

# The fixtures come from test_serving_model; pytest passes them back as arguments of the same names.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rps_serving.app import create_app
from rps_serving.latest import LatestData
from rps_serving.store import ModelStore
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.unit.test_serving_model import (  # noqa: F401 - fixtures
    DATA_BUCKET,
    MODEL_BUCKET,
    Trained,
    publish,
    s3,
    serving_config,
    trained,
)


class _TestS3:
    """Forwards to the current test's moto client."""

    client: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(type(self).client, name)


STORE = ModelStore(MODEL_BUCKET, check_seconds=3600, client=_TestS3())
APP = create_app(serving_config(), STORE, LatestData(DATA_BUCKET, client=_TestS3()))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture
def champion(s3: Any, trained: Trained) -> None:
    _TestS3.client = s3
    publish(s3, trained)
    assert STORE.refresh() or STORE.current is not None


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_get_a_server_error(case: Any, champion: None) -> None:
    """Every default check (no 5xx, documented status codes and content types, responses matching their
    schemas, invalid data rejected) but one: schema-valid data may still be refused, because JSON Schema
    cannot say that the observations' times are real dates on consecutive hours (a 422 naming it)."""
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
