"""The dashboards (CloudWatch in template.yaml, Grafana JSON) are valid and chart the metrics the code
emits, under the names and dimensions the code uses."""

import json
import re
from pathlib import Path

import pytest
from rps_local.emulator.cloudformation.template import load_sam_template

ROOT = Path(__file__).resolve().parents[2]
# Where each RPS metric is emitted; a rename there must show up here.
EMITTERS = {
    "serving/rps_serving/metrics.py": {"Latency", "Requests", "Status4xx", "Status5xx", "OodRatio", "Prediction"},
    "layers/common/rps_core/quality/report.py": {"QualityFailed", "QualityPassed"},
    "layers/common/rps_core/drift/metrics.py": {
        "DriftRuns",
        "DriftedFeatureShare",
        "MaxFeaturePSI",
        "FeaturePSI",
        "RealizedMAE",
        "MaxRealizedMAE",
        "RetrainTriggered",
        "RealizedCoverage80",
        "RealizedCoverage95",
        "PooledRealizedCoverage80",
    },
}
STATES_METRICS = {"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"}


def rps_metrics_named(text: str) -> set[str]:
    """Metric names in dashboard text: ["RPS", "Name", ...], "metricName": "Name", MetricName="Name"."""
    names = set(re.findall(r'\["RPS", "(\w+)"', text))
    names |= set(re.findall(r'"metricName": "(\w+)"', text))
    names |= set(re.findall(r'MetricName=\\"(\w+)\\"', text))
    names |= set(re.findall(r'\["\.", "(\w+)"', text))  # CloudWatch's "same as above" shorthand
    return names


@pytest.mark.parametrize(("path", "names"), EMITTERS.items())
def test_the_emitters_still_emit_these_names(path, names):
    source = (ROOT / path).read_text()
    missing = {n for n in names if f'"{n}"' not in source}
    assert not missing, f"{path} no longer emits {missing}"


def cloudwatch_dashboard_body() -> str:
    template = load_sam_template(ROOT / "template.yaml")
    body = template["Resources"]["MonitoringDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    # Fill ${...} as CloudFormation would: numbers for the threshold parameters, strings elsewhere.
    values = {"DriftShareThreshold": "0.2", "RealizedMaeThreshold": "3.0"}
    return re.sub(r"\$\{([^}]+)\}", lambda m: values.get(m.group(1), f"ARN-OF-{m.group(1)}"), body)


def test_the_cloudwatch_dashboard_is_json_over_emitted_metrics():
    body = cloudwatch_dashboard_body()
    widgets = json.loads(body)["widgets"]
    alarm_widget = next(w for w in widgets if w["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == 7
    emitted = set().union(*EMITTERS.values())
    named = rps_metrics_named(body) - STATES_METRICS
    assert named and named <= emitted, named - emitted


def test_the_grafana_dashboard_uses_the_cloudwatch_data_source_and_emitted_metrics():
    text = (ROOT / "dashboards" / "grafana.json").read_text()
    dashboard = json.loads(text)
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels and all(p["datasource"]["type"] == "cloudwatch" for p in panels)
    targets = [t for p in panels for t in p["targets"]]
    assert all(t["datasource"]["uid"] == "${datasource}" and t["region"] == "$region" for t in targets)
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "region", "state_machine_arn"} <= variables
    named = rps_metrics_named(text) - STATES_METRICS
    emitted = set().union(*EMITTERS.values())
    assert named <= emitted, named - emitted
    assert {"Latency", "OodRatio", "DriftedFeatureShare", "RealizedMAE", "FeaturePSI", "QualityFailed"} <= named
