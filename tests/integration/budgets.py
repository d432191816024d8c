"""How long the integration tests wait for the local cloud, derived from measured durations.

The tests wait on state (an execution's status, an object in S3), never on a fixed sleep; these are
only the limits past which a wait fails, with the state still running named (``CloudClient.wait_execution``,
``rps run --timeout``). Each limit is a measured duration times ``SLACK``. Measured alone on this project's
machine (2 vCPUs, nothing else running, 2026-12-02) with the small model below, the slowest of two or three
tries. ``make test`` runs them beside the unit worker, and with another full ``make test`` on the same two
cores it took about 1.5 times as long; ``SLACK`` = 10 passes a much slower or busier machine, and a hung
step still fails in minutes, not at CI's 90-minute limit.

``SMALL_MODEL``: the template parameters for a one-booster model of 100 rounds, for the clouds whose
subject is the pipeline, the registry or monitoring, not the model's quality (the 4-booster default is
measured by ``rps evaluate`` and the unit tests of rps_core.training).
"""

from __future__ import annotations

SLACK = 10

# Seconds, measured as the module docstring says.
MEASURED_S = {
    "cloud_start": 6.0,  # rps up: moto, deploy of template.yaml, MLflow (6.0, 5.6)
    "backfill": 11.0,  # the first run: Plan backfills Jan-Oct 2013 for 3 stations, Train... (11.0, 10.2)
    "daily_run": 10.1,  # a later run: one day per station, Train on all history (8.6, 10.1)
    "toy_run": 2.7,  # the toy state machine of tests/integration/fixtures/toy (2.7, 1.3, 1.3)
    "source_run": 44.0,  # a station from the fake Open-Meteo answering 429s: every client and ASL retry
}

SMALL_MODEL = ("EnsembleSize=1", "BoostingRounds=100")


def limit_s(what: str) -> float:
    """The time limit of a wait for ``what`` (a key of ``MEASURED_S``)."""
    return MEASURED_S[what] * SLACK
