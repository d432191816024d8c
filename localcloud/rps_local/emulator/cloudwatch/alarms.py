"""Alarm states computed locally from template.yaml's ``AWS::CloudWatch::Alarm`` definitions.

moto stores metrics but neither creates alarms from CloudFormation nor evaluates any, so this module does
what CloudWatch does, from the same definitions: for each alarm it fetches the last ``EvaluationPeriods``
periods of its metric statistic (GetMetricData, exact dimensions; or a Metrics Insights query, see
``alarm_queries``) and applies "M out of N" with the alarm's ``TreatMissingData``. Intrinsics are
resolved from the template's Parameters (defaults, or the overrides of the deployment), the stack name
and the physical ids of the deployed resources.

Percentiles: moto cannot compute them (GetMetricData fails on ``pNN``). Off AWS the percentile is
estimated from one-second buckets (their count, minimum, maximum and mean), which is exact while a second
holds at most two samples, as in local runs; against AWS CloudWatch computes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from rps_local.emulator.cloudformation.template import load_sam_template
from rps_local.emulator.cloudwatch.alarm_queries import InsightsQuery, parse_query, query_periods
from rps_local.emulator.errors import TemplateError

__all__ = [
    "AlarmDefinition",
    "AlarmState",
    "UnresolvedReferenceError",
    "evaluate",
    "evaluate_alarms",
    "load_alarm_definitions",
]

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
COMPARISONS = {
    "GreaterThanThreshold": (">", lambda v, t: v > t),
    "GreaterThanOrEqualToThreshold": (">=", lambda v, t: v >= t),
    "LessThanThreshold": ("<", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("<=", lambda v, t: v <= t),
}
# The properties that decide an alarm's state (actions and tags are not resolved: nothing local uses them).
EVALUATED = frozenset(
    {
        "AlarmName",
        "AlarmDescription",
        "Namespace",
        "MetricName",
        "Dimensions",
        "Statistic",
        "ExtendedStatistic",
        "Period",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
        "Metrics",
    }
)
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?)$")
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass(frozen=True)
class AlarmDefinition:
    logical_id: str
    name: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str  # Average, Sum, ... or an extended statistic such as p99
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str = "missing"
    description: str = ""
    query: InsightsQuery | None = None  # a Metrics Insights alarm: the query replaces metric and statistic

    @property
    def metric_label(self) -> str:
        if self.query is not None:
            return self.query.label
        dims = ",".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace}/{self.metric_name}[{dims}] {self.statistic}"


@dataclass(frozen=True)
class AlarmState:
    """One alarm's computed state; ``values`` are the evaluated periods' statistics, oldest first."""

    name: str
    state: str
    reason: str
    definition: AlarmDefinition | None  # None: the alarm could not be resolved (see ``reason``)
    values: tuple[float | None, ...] = field(default_factory=tuple)

    @property
    def logical_id(self) -> str:
        return self.definition.logical_id if self.definition else self.name

    def to_dict(self) -> dict[str, Any]:
        d = self.definition
        return {
            "name": self.name,
            "state": self.state,
            "reason": self.reason,
            "metric": d.metric_label if d else None,
            "threshold": d.threshold if d else None,
            "comparison": d.comparison if d else None,
            "values": list(self.values),
        }


# ---------------------------------------------------------------- intrinsics


class UnresolvedReferenceError(TemplateError):
    """An alarm refers to a resource whose physical id is unknown (e.g. the stack is not deployed)."""


@dataclass(frozen=True)
class _Context:
    parameters: Mapping[str, Any]
    resources: Mapping[str, str]
    pseudo: Mapping[str, str]
    declared: frozenset[str]  # the template's resource logical ids
    conditions: Mapping[str, Any] = field(default_factory=dict)  # the template's Conditions section

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"no condition {name!r} in the template's Conditions")
        return _truth(self.conditions[name], self)

    def _unresolved(self, name: str, text: str) -> TemplateError:
        if name in self.declared:  # a real resource whose physical id is unknown (not deployed yet)
            return UnresolvedReferenceError(f"cannot resolve {text}: no physical id was given for {name}")
        return TemplateError(f"cannot resolve {text}: {name} is neither a parameter nor a resource")

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name]
        raise self._unresolved(name, f"!Ref {name}")

    def get_att(self, name: str, attribute: str) -> Any:
        key = f"{name}.{attribute}"
        if key in self.resources:
            return self.resources[key]
        raise self._unresolved(name, f"!GetAtt {key}")


def _resolve(value: Any, ctx: _Context) -> Any:
    if isinstance(value, list):
        return [_resolve(v, ctx) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return ctx.ref(arg)
        if key == "Fn::GetAtt":
            name, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return ctx.get_att(name, attribute)
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], _resolve(arg[1], ctx))
            return _SUB_VAR.sub(lambda m: str(_sub_var(m.group(1), variables, ctx)), text)
        if key == "Fn::Join":
            separator, items = arg
            return separator.join(str(v) for v in _resolve(items, ctx))
        if key == "Fn::If":
            name, when_true, when_false = arg
            return _resolve(when_true if ctx.condition(name) else when_false, ctx)
    return {k: _resolve(v, ctx) for k, v in value.items()}


def _truth(expression: Any, ctx: _Context) -> bool:
    """A condition's value: Fn::Equals / Not / And / Or, or another condition by name."""
    ((key, arg),) = expression.items()
    if key == "Fn::Equals":
        left, right = (_resolve(v, ctx) for v in arg)
        return str(left) == str(right)
    if key == "Fn::Not":
        return not _truth(arg[0], ctx)
    if key in ("Fn::And", "Fn::Or"):
        values = [_truth(v, ctx) for v in arg]
        return all(values) if key == "Fn::And" else any(values)
    if key == "Condition":
        return ctx.condition(arg)
    raise TemplateError(f"unsupported condition function {key}")


def _sub_var(name: str, variables: Mapping[str, Any], ctx: _Context) -> Any:
    if name in variables:
        return variables[name]
    if "." in name and not name.startswith("AWS::"):
        return ctx.get_att(*name.split(".", 1))
    return ctx.ref(name)


# ---------------------------------------------------------------- definitions


def _alarm_definitions(
    path: Path,
    parameters: Mapping[str, str] | None,
    resources: Mapping[str, str] | None,
    stack_name: str,
    region: str,
    account_id: str,
) -> list[tuple[str, AlarmDefinition | UnresolvedReferenceError]]:
    """Each alarm's definition, or the reference that kept it from resolving; other errors raise."""
    template = load_sam_template(path)
    declared = template.get("Parameters") or {}
    values = {name: (spec or {}).get("Default") for name, spec in declared.items()}
    values.update(parameters or {})
    pseudo = {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    ctx = _Context(
        values, dict(resources or {}), pseudo, frozenset(template["Resources"]), template.get("Conditions") or {}
    )
    out: list[tuple[str, AlarmDefinition | UnresolvedReferenceError]] = []
    for logical_id, resource in template["Resources"].items():
        if not (isinstance(resource, dict) and resource.get("Type") == "AWS::CloudWatch::Alarm"):
            continue
        props = {k: v for k, v in (resource.get("Properties") or {}).items() if k in EVALUATED}
        try:
            out.append((logical_id, _definition(logical_id, _resolve(props, ctx))))
        except UnresolvedReferenceError as exc:
            out.append((logical_id, UnresolvedReferenceError(f"{path}: alarm {logical_id}: {exc}")))
        except TemplateError as exc:
            raise TemplateError(f"{path}: alarm {logical_id}: {exc}") from exc
    return out


def load_alarm_definitions(
    template_path: str | Path,
    parameters: Mapping[str, str] | None = None,
    resources: Mapping[str, str] | None = None,
    stack_name: str = "rps",
    region: str = "us-east-1",
    account_id: str = "123456789012",
) -> list[AlarmDefinition]:
    """The template's alarms with intrinsics resolved; raises TemplateError naming the alarm.

    ``parameters`` override the Parameters' defaults; ``resources`` maps logical ids (and
    ``Logical.Attribute``) to deployed values, e.g. ``{"PipelineStateMachine": "arn:..."}``.
    """
    found = _alarm_definitions(Path(template_path), parameters, resources, stack_name, region, account_id)
    for _, item in found:
        if isinstance(item, UnresolvedReferenceError):
            raise item
    return [item for _, item in found if isinstance(item, AlarmDefinition)]


def _insights_definition(logical_id: str, props: Mapping[str, Any]) -> AlarmDefinition:
    """An alarm whose ``Metrics`` hold one Metrics Insights query (other metric math is not evaluated)."""
    metrics = props["Metrics"]
    returned = [m for m in metrics if m.get("ReturnData", True)] if isinstance(metrics, list) else []
    if (
        len(metrics) != 1
        or len(returned) != 1
        or not str(returned[0].get("Expression", "")).lstrip().upper().startswith("SELECT")
    ):
        raise TemplateError("only a single Metrics Insights query (SELECT ...) is evaluated locally in Metrics")
    try:
        query = parse_query(returned[0]["Expression"])
    except ValueError as exc:
        raise TemplateError(str(exc)) from exc
    if "Period" not in returned[0]:
        raise TemplateError("a Metrics Insights query needs a Period")
    single = {
        **props,
        "Namespace": query.namespace,
        "MetricName": query.metric_name,
        "Period": returned[0]["Period"],
        "Statistic": query.function,
    }
    single.pop("Metrics")
    return replace(_definition(logical_id, single), query=query)


def _definition(logical_id: str, props: Mapping[str, Any]) -> AlarmDefinition:
    if "Metrics" in props:
        return _insights_definition(logical_id, props)
    missing = [
        k
        for k in ("MetricName", "Namespace", "Period", "EvaluationPeriods", "Threshold", "ComparisonOperator")
        if k not in props
    ]
    statistic = props.get("Statistic") or props.get("ExtendedStatistic")
    if missing or not statistic:
        raise TemplateError(f"missing {', '.join(missing) or 'Statistic or ExtendedStatistic'}")
    if props["ComparisonOperator"] not in COMPARISONS:
        raise TemplateError(f"ComparisonOperator {props['ComparisonOperator']!r} is not evaluated locally")
    try:
        evaluation_periods = int(props["EvaluationPeriods"])
        return AlarmDefinition(
            logical_id=logical_id,
            name=str(props.get("AlarmName") or logical_id),
            namespace=str(props["Namespace"]),
            metric_name=str(props["MetricName"]),
            dimensions=tuple((str(d["Name"]), str(d["Value"])) for d in props.get("Dimensions") or []),
            statistic=str(statistic),
            period=int(props["Period"]),
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=int(props.get("DatapointsToAlarm") or evaluation_periods),
            threshold=float(props["Threshold"]),
            comparison=str(props["ComparisonOperator"]),
            treat_missing_data=str(props.get("TreatMissingData") or "missing"),
            description=str(props.get("AlarmDescription") or ""),
        )
    except (TypeError, ValueError, KeyError) as exc:
        raise TemplateError(f"a property is not of the expected type ({exc})") from exc


# ---------------------------------------------------------------- metrics


def _query(definition: AlarmDefinition, stat: str, period: int, qid: str) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": definition.namespace,
                "MetricName": definition.metric_name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in definition.dimensions],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def _series(client: Any, queries: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, dict]:
    """{query id: {period start (epoch s): value}} over all result pages."""
    out: dict[str, dict[int, float]] = {q["Id"]: {} for q in queries}
    kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
    while True:
        resp = client.get_metric_data(**kwargs)
        for result in resp.get("MetricDataResults", []):
            for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                out[result["Id"]][int(ts.timestamp())] = float(value)
        if not resp.get("NextToken"):
            return out
        kwargs["NextToken"] = resp["NextToken"]


def on_aws(client: Any) -> bool:
    """Whether ``client`` talks to AWS itself (which computes percentiles) rather than a local cloud."""
    host = urlparse(str(getattr(client.meta, "endpoint_url", "") or "")).hostname or ""
    return host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")


def _by_period(series: Mapping[int, float], first: int, period: int, count: int) -> list[float | None]:
    """Place datapoints (keyed by their period start) in the ``count`` periods from ``first``."""
    out: list[float | None] = [None] * count
    for t, value in series.items():
        i = (t - first) // period
        if 0 <= i < count:
            out[i] = value
    return out


def _period_values(client: Any, d: AlarmDefinition, now: datetime, estimate: bool) -> list[float | None]:
    """The statistic of the last ``evaluation_periods`` periods up to ``now``, oldest first.

    Periods are aligned to multiples of the period, as CloudWatch aligns them; the newest is the one
    that holds ``now`` (possibly still filling, which is what a look at the current state wants).
    """
    end = (int(now.timestamp()) // d.period + 1) * d.period
    first = end - d.period * d.evaluation_periods
    start_time, end_time = datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(end, UTC)
    if d.query is not None:
        series = query_periods(client, d.query, d.period, start_time, end_time)
    elif (q := percentile_of(d.statistic)) is not None and estimate:
        return _estimated_percentiles(client, d, first, end, q)
    else:
        series = _series(client, [_query(d, d.statistic, d.period, "m")], start_time, end_time)["m"]
    return _by_period(series, first, d.period, d.evaluation_periods)


def percentile_of(statistic: str) -> float | None:
    """The percentile of a ``pNN`` statistic (``p99`` -> 99.0); None for any other statistic."""
    match = _PERCENTILE.match(statistic)
    return None if match is None else float(match.group(1))


def _estimated_percentiles(client: Any, d: AlarmDefinition, first: int, end: int, q: float) -> list[float | None]:
    stats = ("SampleCount", "Minimum", "Maximum", "Average")
    queries = [_query(d, s, 1, s.lower()) for s in stats]
    series = _series(client, queries, datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(end, UTC))
    counts, mins, maxs, means = (series[s.lower()] for s in stats)
    samples: list[list[float]] = [[] for _ in range(d.evaluation_periods)]
    for t, c in counts.items():
        i = (t - first) // d.period
        if 0 <= i < d.evaluation_periods and c > 0:
            samples[i].extend(_bucket_samples(int(c), mins[t], maxs[t], means[t]))
    return [float(np.percentile(s, q)) if s else None for s in samples]


def _bucket_samples(count: int, low: float, high: float, mean: float) -> list[float]:
    """Samples with the bucket's count, minimum, maximum and mean (the rest placed at their mean)."""
    if count == 1:
        return [mean]
    if count == 2:
        return [low, high]
    rest = (mean * count - low - high) / (count - 2)
    return [low, high] + [rest] * (count - 2)


# ---------------------------------------------------------------- evaluation


def evaluate(definition: AlarmDefinition, values: list[float | None]) -> AlarmState:
    """CloudWatch's "M out of N" over the periods' ``values`` (None = no data), with TreatMissingData."""
    d = definition
    symbol, crosses = COMPARISONS[d.comparison]
    missing = sum(v is None for v in values)
    breaching = sum(v is not None and crosses(v, d.threshold) for v in values)
    if d.treat_missing_data == "breaching":
        breaching += missing
    shown = ", ".join("-" if v is None else f"{v:.4g}" for v in values)
    where = f"[{shown}] over the last {len(values)} periods of {d.period} s"
    if missing == len(values) and d.treat_missing_data in ("missing", "ignore"):
        return AlarmState(d.name, INSUFFICIENT_DATA, f"no datapoints {where}", d, tuple(values))
    state = ALARM if breaching >= d.datapoints_to_alarm else OK
    reason = (
        f"{breaching} of {len(values)} datapoints {where} {symbol} {d.threshold:g} (alarm at {d.datapoints_to_alarm})"
    )
    return AlarmState(d.name, state, reason, d, tuple(values))


def evaluate_alarms(
    template_path: str | Path,
    cloudwatch_client: Any,
    now: datetime | None = None,
    *,
    parameters: Mapping[str, str] | None = None,
    resources: Mapping[str, str] | None = None,
    stack_name: str = "rps",
    estimate_percentiles: bool | None = None,
) -> list[AlarmState]:
    """Each alarm of the template with its state computed from the metrics ``cloudwatch_client`` holds.

    An alarm that names a resource missing from ``resources`` (not deployed yet) is INSUFFICIENT_DATA with
    the reason. ``estimate_percentiles`` (default: when the client does not talk to AWS) computes pNN here.
    """
    found = _alarm_definitions(Path(template_path), parameters, resources, stack_name, "us-east-1", "123456789012")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    estimate = not on_aws(cloudwatch_client) if estimate_percentiles is None else estimate_percentiles
    states = []
    for logical_id, item in found:
        if isinstance(item, UnresolvedReferenceError):
            states.append(AlarmState(logical_id, INSUFFICIENT_DATA, str(item).split(": ", 2)[-1], None))
        else:
            states.append(evaluate(item, _period_values(cloudwatch_client, item, now, estimate)))
    return states
