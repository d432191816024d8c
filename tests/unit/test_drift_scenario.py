"""The demo's drift scenario, in-process: the project's handlers on moto stand in for the local cloud's
functions (same events, same code), with the embedded 2013 data replayed from a winter champion."""

import numpy as np
import pytest
from rps_core import storage
from rps_core.datasets.store import load_latest
from rps_core.features import build_features, feature_names
from rps_core.training.reference import reference_stats
from rps_local.emulator.client import InvokeResult
from rps_local.emulator.errors import LocalCloudError
from rps_local.tools.drift_scenario import default_season_end, run_drift_scenario

from tests.support import LambdaContext, load_handler, mocked_pipeline_aws

DATA, MODELS = "rps-data", "rps-models"
FUNCTIONS = {
    "PlanFunction": "plan",
    "IngestFunction": "ingest",
    "QualityGateFunction": "quality_gate",
    "TransformFunction": "transform",
    "DriftFunction": "drift",
}


class InProcessCloud:
    """The slice of ``CloudClient`` the scenario uses, calling the handlers directly."""

    def __init__(self, s3, sfn, state_machine_arn: str) -> None:
        self.s3, self.sfn, self.arn = s3, sfn, state_machine_arn
        self.handlers = {}
        for logical_id, step in FUNCTIONS.items():
            self.handlers[logical_id] = load_handler(step)

    def invoke(self, logical_id: str, event):
        try:
            return InvokeResult(self.handlers[logical_id].lambda_handler(event, LambdaContext(logical_id)), None, "")
        except Exception as exc:  # as Lambda reports a handler's exception
            return InvokeResult({"errorType": type(exc).__name__, "errorMessage": str(exc)}, "Unhandled", "")

    def physical_id(self, logical_id: str) -> str:
        return {"DataBucket": DATA, "ModelBucket": MODELS}[logical_id]

    def client(self, service: str):
        return {"s3": self.s3, "stepfunctions": self.sfn}[service]


@pytest.fixture
def cloud(monkeypatch):
    env = {
        "DATA_BUCKET": DATA,
        "MODEL_BUCKET": MODELS,
        "SOURCE": "replay",
        "REPLAY_START": "2013-03-01T00:00",
        "POWERTOOLS_METRICS_NAMESPACE": "RPS",
    }
    with mocked_pipeline_aws(monkeypatch, env) as (s3, sfn, arn):
        yield InProcessCloud(s3, sfn, arn)


def backfill_with_a_winter_champion(cloud: InProcessCloud) -> None:
    """The first run's data steps, and a champion whose reference is its training rows (first 80%)."""
    plan = cloud.invoke("PlanFunction", {}).payload
    rows = []
    for item in storage.get_json(DATA, plan["items_key"], client=cloud.s3):  # the Map's items
        location = item["location"]
        gated = cloud.invoke("QualityGateFunction", cloud.invoke("IngestFunction", item).payload).payload
        cloud.invoke("TransformFunction", gated)
        x = build_features(load_latest(DATA, location, cloud.s3)[1], "temperature_2m")
        rows.append(x[: int(len(x) * 0.8)])
    reference = reference_stats(np.concatenate(rows), feature_names("temperature_2m"))
    pointer = {"model_version": "1", "target": "temperature_2m", "dataset_version": "x", "reference": reference}
    storage.put_json(MODELS, "champion/pointer.json", pointer, client=cloud.s3)


def test_summer_after_a_winter_champion_starts_one_retraining(cloud):
    backfill_with_a_winter_champion(cloud)
    lines: list[str] = []
    scenario = run_drift_scenario(cloud, "2013-06-29T00:00", wait=False, echo=lines.append)
    assert scenario.baseline["retrain"] is False and scenario.baseline["window_end"] == "2013-03-01T00:00"
    assert scenario.drifted["drift"]["share"] > 0.3, lines
    assert scenario.retraining_started and scenario.repeat["trigger"]["status"] == "already started"
    executions = cloud.sfn.list_executions(stateMachineArn=cloud.arn)["executions"]
    assert [e["name"] for e in executions] == ["drift-20130629T0000"]
    assert any(line.startswith("drift after:  window 2013-05-30T00:00 .. 2013-06-29T00:00") for line in lines)


def test_the_scenario_replays_forward_from_the_clock(cloud):
    backfill_with_a_winter_champion(cloud)
    with pytest.raises(LocalCloudError, match="the clock is at 2013-03-01T00:00 already"):
        run_drift_scenario(cloud, "2013-02-01T00:00", wait=False, echo=lambda _: None)
    assert default_season_end("2013-03-01T00:00") == "2013-06-29T00:00"
    assert default_season_end("2013-10-19T00:00") == "2013-12-30T23:00"  # the embedded data ends there


def test_no_champion_yet_is_explained(cloud):
    storage.put_json(DATA, "clock/state.json", {"now": "2013-03-01T00:00"}, client=cloud.s3)
    with pytest.raises(LocalCloudError, match="no champion; run the pipeline"):
        run_drift_scenario(cloud, wait=False, echo=lambda _: None)
