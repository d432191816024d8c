"""Local alarm evaluation: template.yaml's alarm definitions, CloudWatch's M-out-of-N rule, and the
states computed over moto's metrics (percentiles and Metrics Insights queries included)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from rps_local.emulator.cloudwatch.alarm_queries import parse_query
from rps_local.emulator.cloudwatch.alarms import AlarmDefinition, evaluate, evaluate_alarms, load_alarm_definitions
from rps_local.emulator.errors import TemplateError

from tests.support import mocked_aws

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
SM_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:rps-pipeline"
RESOURCES = {"PipelineStateMachine": SM_ARN}
NOW = datetime(2026, 11, 27, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
def cloudwatch(monkeypatch):
    with mocked_aws(monkeypatch):
        yield boto3.client("cloudwatch", region_name="us-east-1")


def put(cw, name: str, value: float, when: datetime, **dims: str) -> None:
    cw.put_metric_data(
        Namespace="RPS",
        MetricData=[
            {
                "MetricName": name,
                "Value": value,
                "Timestamp": when,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            }
        ],
    )


def states(cw, **kwargs) -> dict[str, str]:
    found = evaluate_alarms(TEMPLATE, cw, NOW, resources=RESOURCES, estimate_percentiles=True, **kwargs)
    return {s.logical_id: s.state for s in found}


def test_the_template_declares_the_seven_alarms():
    alarms = {d.logical_id: d for d in load_alarm_definitions(TEMPLATE, resources=RESOURCES, stack_name="demo")}
    assert set(alarms) == {
        "ServingLatencyP99Alarm",
        "ServingOodRatioAlarm",
        "DriftShareAlarm",
        "RealizedMaeAlarm",
        "RealizedCoverageAlarm",
        "PipelineFailuresAlarm",
        "QualityGateFailuresAlarm",
    }
    latency = alarms["ServingLatencyP99Alarm"]
    assert (latency.name, latency.metric_name, latency.statistic, latency.threshold) == (
        "demo-serving-latency-p99",
        "Latency",
        "p99",
        500.0,
    )
    assert latency.dimensions == (("service", "serving"),)
    assert alarms["PipelineFailuresAlarm"].dimensions == (("StateMachineArn", SM_ARN),)
    assert alarms["DriftShareAlarm"].threshold == 0.2  # the DriftShareThreshold parameter's default
    assert alarms["QualityGateFailuresAlarm"].query.where == (("service", "quality_gate"),)
    coverage = alarms["RealizedCoverageAlarm"]
    assert (coverage.metric_name, coverage.threshold, coverage.dimensions) == (
        "PooledRealizedCoverage80",
        0.7,
        (("service", "drift"),),
    )


def test_parameter_overrides_set_thresholds():
    alarms = load_alarm_definitions(TEMPLATE, {"RealizedMaeThreshold": "1.5"}, RESOURCES)
    assert next(a for a in alarms if a.logical_id == "RealizedMaeAlarm").threshold == 1.5


def test_an_unresolvable_reference_names_the_alarm(tmp_path):
    with pytest.raises(
        TemplateError, match=r"PipelineFailuresAlarm.*no physical id was given for PipelineStateMachine"
    ):
        load_alarm_definitions(TEMPLATE)
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("Threshold: 500", "Threshold: !Ref Nowhere"))
    with pytest.raises(TemplateError, match="ServingLatencyP99Alarm: cannot resolve !Ref Nowhere: Nowhere is neither"):
        evaluate_alarms(broken, None, NOW, resources=RESOURCES)


def test_an_alarm_on_an_undeployed_resource_has_insufficient_data(cloudwatch):
    found = {s.logical_id: s for s in evaluate_alarms(TEMPLATE, cloudwatch, NOW, estimate_percentiles=True)}
    assert found["PipelineFailuresAlarm"].state == "INSUFFICIENT_DATA"
    assert "PipelineStateMachine" in found["PipelineFailuresAlarm"].reason
    assert found["PipelineFailuresAlarm"].to_dict()["metric"] is None
    assert found["ServingLatencyP99Alarm"].state == "OK"


def alarm(**kwargs) -> AlarmDefinition:
    base = dict(
        logical_id="A",
        name="a",
        namespace="RPS",
        metric_name="M",
        dimensions=(),
        statistic="Average",
        period=60,
        evaluation_periods=5,
        datapoints_to_alarm=3,
        threshold=10.0,
        comparison="GreaterThanThreshold",
    )
    return AlarmDefinition(**{**base, **kwargs})


@pytest.mark.parametrize(
    "values, treat, expected",
    [
        ([11, 12, 13, 1, 1], "missing", "ALARM"),
        ([11, 12, 1, 1, 1], "missing", "OK"),
        ([None] * 5, "missing", "INSUFFICIENT_DATA"),
        ([None] * 5, "notBreaching", "OK"),
        ([None, None, None, 11, 1], "breaching", "ALARM"),
        ([10, 10, 10, 10, 10], "missing", "OK"),  # equal is not greater
    ],
)
def test_m_out_of_n(values, treat, expected):
    state = evaluate(alarm(treat_missing_data=treat), values)
    assert state.state == expected, state.reason


def test_latency_p99_over_moto_metrics(cloudwatch):
    # GIVEN slow requests in three of the last five minutes, and a faster one in a fourth
    for minutes in (1, 2, 3):
        put(cloudwatch, "Latency", 800.0, NOW - timedelta(minutes=minutes), service="serving")
    put(cloudwatch, "Latency", 40.0, NOW - timedelta(minutes=4), service="serving")
    # A series with another dimension set is another metric (CloudWatch matches dimensions exactly).
    put(cloudwatch, "Latency", 9000.0, NOW, service="serving", model_version="7")
    found = evaluate_alarms(TEMPLATE, cloudwatch, NOW, resources=RESOURCES, estimate_percentiles=True)
    found = {s.logical_id: s for s in found}
    latency = found["ServingLatencyP99Alarm"]
    assert latency.state == "ALARM", latency.reason
    assert latency.values == (40.0, 800.0, 800.0, 800.0, None)
    assert found["PipelineFailuresAlarm"].state == "OK"  # no data, treated as not breaching


def test_two_slow_minutes_are_not_enough(cloudwatch):
    for minutes in (1, 2):
        put(cloudwatch, "Latency", 800.0, NOW - timedelta(minutes=minutes), service="serving")
    assert states(cloudwatch)["ServingLatencyP99Alarm"] == "OK"


def test_an_ood_spike_across_model_versions_raises_the_alarm(cloudwatch):
    # 5-minute periods aligned to the clock: NOW (12:00:30) is in 12:00-12:05, before it 11:55 and 11:50.
    put(cloudwatch, "OodRatio", 0.6, NOW - timedelta(minutes=6), service="serving", model_version="3")
    put(cloudwatch, "OodRatio", 0.0, NOW - timedelta(minutes=6), service="serving", model_version="4")
    assert states(cloudwatch)["ServingOodRatioAlarm"] == "OK"  # one period, averaging 0.3 over both versions
    put(cloudwatch, "OodRatio", 0.5, NOW, service="serving", model_version="4")
    assert states(cloudwatch)["ServingOodRatioAlarm"] == "ALARM"


def test_quality_failures_of_any_location_raise_the_alarm(cloudwatch):
    put(cloudwatch, "QualityFailed", 0.0, NOW, service="quality_gate", location="JFK")
    put(cloudwatch, "QualityFailed", 1.0, NOW - timedelta(minutes=5), service="quality_gate", location="LGA")
    put(cloudwatch, "QualityFailed", 5.0, NOW, service="other", location="EWR")  # not the gate's metric
    # LGA's failure was in the previous hour: periods align to the clock, as CloudWatch's do.
    assert states(cloudwatch)["QualityGateFailuresAlarm"] == "OK"
    put(cloudwatch, "QualityFailed", 1.0, NOW - timedelta(seconds=20), service="quality_gate", location="EWR")
    assert states(cloudwatch)["QualityGateFailuresAlarm"] == "ALARM"


def test_without_per_location_metrics_the_alarm_reads_the_per_step_series(cloudwatch):
    per_step = {"MetricsByLocation": "false"}
    put(cloudwatch, "QualityFailed", 1.0, NOW - timedelta(seconds=20), service="quality_gate", location="EWR")
    assert states(cloudwatch, parameters=per_step)["QualityGateFailuresAlarm"] == "OK"  # not that schema
    put(cloudwatch, "QualityFailed", 1.0, NOW - timedelta(seconds=20), service="quality_gate")
    assert states(cloudwatch, parameters=per_step)["QualityGateFailuresAlarm"] == "ALARM"


def test_drift_and_realized_error_alarms_follow_the_parameters(cloudwatch):
    put(cloudwatch, "DriftedFeatureShare", 0.25, NOW - timedelta(hours=1), service="drift")
    put(cloudwatch, "MaxRealizedMAE", 2.0, NOW - timedelta(hours=1), service="drift")
    assert states(cloudwatch)["DriftShareAlarm"] == "ALARM"
    assert states(cloudwatch)["RealizedMaeAlarm"] == "OK"
    relaxed = states(cloudwatch, parameters={"DriftShareThreshold": "0.3", "RealizedMaeThreshold": "1.0"})
    assert relaxed["DriftShareAlarm"] == "OK" and relaxed["RealizedMaeAlarm"] == "ALARM"


def test_insights_queries_parse_and_reject_what_is_not_supported():
    q = parse_query("""SELECT AVG(OodRatio) FROM SCHEMA("RPS", model_version, service) WHERE service = 'serving'""")
    assert (q.function, q.namespace, q.schema) == ("AVG", "RPS", ("model_version", "service"))
    assert q.matches({"model_version": "3", "service": "serving"})
    assert not q.matches({"service": "serving"})
    with pytest.raises(ValueError, match="not a supported"):
        parse_query("SELECT AVG(x) FROM SCHEMA(RPS) GROUP BY y")
