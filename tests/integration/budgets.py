"""How long the integration tests wait for the local cloud, derived from measured durations.

The tests wait on state (an execution's status, an object in S3), never on a fixed sleep; these are
only the limits past which a wait fails, with the state still running named (``CloudClient.wait_execution``,
``rps run --timeout``). Each limit is a measured duration times ``SLACK``: measured on this project's
machine (2 vCPUs) during ``make test`` (two pytest workers) with the small model below; ``make test`` with
one core kept busy by another process took up to 2.5 times as long. ``SLACK`` = 10 passes a slower or
busier machine, and a hung step still fails in minutes, not at CI's 90-minute limit.

``SMALL_MODEL``: the template parameters for a one-booster model of 100 rounds, for the clouds whose
subject is the pipeline, the registry or monitoring, not the model's quality (the 4-booster default is
measured by ``rps evaluate`` and the unit tests of rps_core.training).
"""

from __future__ import annotations

SLACK = 10

# Seconds, the slowest of three `make test` runs (see the module docstring).
MEASURED_S = {
    "cloud_start": 12.0,  # rps up: moto, deploy of template.yaml, MLflow
    "backfill": 25.0,  # the first run: Plan backfills Jan-Oct 2013 for 3 stations, Train, Register, Forecast
    "daily_run": 12.0,  # a later run: one day per station, Train on all history
    "toy_run": 3.0,  # the toy state machine of tests/integration/fixtures/toy
    "source_run": 15.0,  # one station from the fake Open-Meteo, retries included
}

SMALL_MODEL = ("EnsembleSize=1", "BoostingRounds=100")


def limit_s(what: str) -> float:
    """The time limit of a wait for ``what`` (a key of ``MEASURED_S``)."""
    return MEASURED_S[what] * SLACK
