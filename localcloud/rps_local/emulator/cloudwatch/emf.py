"""CloudWatch Embedded Metric Format: EMF log lines → PutMetricData, as CloudWatch Logs does on AWS.

moto stores log events but extracts no metrics from them, so the local cloud passes each function's
output through ``publish_emf_lines``. A line is EMF when it is a JSON object whose ``_aws`` member holds
``CloudWatchMetrics``; other lines are ordinary logs. A malformed EMF line is skipped with a warning,
as CloudWatch drops it, and never stops the caller.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["MAX_DIMENSIONS", "MAX_VALUES", "EmfError", "metric_data_of", "publish_emf_lines"]

logger = logging.getLogger(__name__)

MAX_DIMENSIONS = 30  # per dimension set, CloudWatch's limit
MAX_VALUES = 100  # values of one metric in one EMF record
_BATCH = 500  # MetricData entries per PutMetricData (AWS allows 1000 and 1 MB)
UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)


class EmfError(ValueError):
    """An EMF record that CloudWatch would reject."""


def publish_emf_lines(text: str, cloudwatch_client: Any, *, source: str = "log") -> int:
    """Publish the metrics of every EMF line in ``text``; returns how many values were stored.

    ``source`` (e.g. the log group) only labels the warnings about lines that are skipped.
    """
    by_namespace: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number, record in _emf_records(text, source):
        try:
            for namespace, datum in metric_data_of(record):
                by_namespace[namespace].append(datum)
        except EmfError as exc:
            logger.warning("%s line %d: EMF record skipped: %s", source, number, exc)
    published = 0
    for namespace, data in by_namespace.items():
        for start in range(0, len(data), _BATCH):
            batch = data[start : start + _BATCH]
            try:
                cloudwatch_client.put_metric_data(Namespace=namespace, MetricData=batch)
            except Exception as exc:  # botocore's errors and a cloud that went away: never the caller's crash
                logger.warning(
                    "%s: PutMetricData to %s failed, %d metrics lost: %s", source, namespace, len(batch), exc
                )
                continue
            published += sum(len(d.get("Values", [0])) for d in batch)
    return published


def _emf_records(text: str, source: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line.startswith("{") or '"_aws"' not in line:
            continue  # an ordinary log line (cheap test before parsing JSON)
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            logger.warning("%s line %d: EMF record skipped: not valid JSON (%s)", source, number, exc)
            continue
        aws = record.get("_aws") if isinstance(record, dict) else None
        if isinstance(aws, dict) and "CloudWatchMetrics" in aws:
            yield number, record


def metric_data_of(record: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(namespace, PutMetricData entry) for each metric and dimension set of one EMF record.

    Everything is checked before anything is yielded, so a bad record publishes nothing.
    """
    aws = record.get("_aws")
    if not isinstance(aws, Mapping):
        raise EmfError("an EMF record needs an _aws object")
    timestamp = _timestamp(aws.get("Timestamp"))
    directives = aws["CloudWatchMetrics"]
    if not isinstance(directives, list) or not directives:
        raise EmfError("_aws.CloudWatchMetrics must be a non-empty list")
    entries = []
    for directive in directives:
        if not isinstance(directive, Mapping):
            raise EmfError("each CloudWatchMetrics item must be an object")
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255:
            raise EmfError(f"Namespace must be a string of 1-255 characters, got {namespace!r}")
        dimension_sets = [_dimensions(record, names) for names in _dimension_names(directive.get("Dimensions"))]
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list):
            raise EmfError(f"{namespace}: Metrics must be a list")
        for metric in metrics:
            datum = _datum(record, metric, timestamp)
            entries.extend((namespace, {**datum, "Dimensions": dims}) for dims in dimension_sets)
    yield from entries


def _timestamp(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EmfError(f"_aws.Timestamp must be epoch milliseconds, got {value!r}")
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise EmfError(f"_aws.Timestamp {value!r} is out of range") from exc


def _dimension_names(value: Any) -> list[list[str]]:
    if value is None or value == []:
        return [[]]  # no dimension set: the metrics are published without dimensions
    if not isinstance(value, list) or not all(isinstance(s, list) for s in value):
        raise EmfError("Dimensions must be a list of lists of names")
    return value


def _dimensions(record: Mapping[str, Any], names: list[Any]) -> list[dict[str, str]]:
    if len(names) > MAX_DIMENSIONS:
        raise EmfError(f"a dimension set has {len(names)} dimensions (at most {MAX_DIMENSIONS})")
    dimensions = []
    for name in names:
        value = record.get(name) if isinstance(name, str) else None
        if not isinstance(value, str) or not value:
            raise EmfError(f"dimension {name!r} needs a non-empty string value in the record, got {value!r}")
        dimensions.append({"Name": name, "Value": value})
    return dimensions


def _datum(record: Mapping[str, Any], metric: Any, timestamp: datetime) -> dict[str, Any]:
    if not isinstance(metric, Mapping) or not isinstance(metric.get("Name"), str) or not metric["Name"]:
        raise EmfError(f"a metric definition needs a Name, got {metric!r}")
    name = metric["Name"]
    unit = metric.get("Unit", "None")
    if unit not in UNITS:
        raise EmfError(f"metric {name}: unknown Unit {unit!r}")
    resolution = metric.get("StorageResolution", 60)
    if resolution not in (1, 60) or isinstance(resolution, bool):
        raise EmfError(f"metric {name}: StorageResolution must be 1 or 60, got {resolution!r}")
    values = record.get(name)
    values = values if isinstance(values, list) else [values]
    if not values or len(values) > MAX_VALUES:
        raise EmfError(f"metric {name}: needs 1-{MAX_VALUES} values, got {len(values)}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise EmfError(f"metric {name}: value {value!r} is not a finite number")
    datum: dict[str, Any] = {"MetricName": name, "Timestamp": timestamp, "Unit": unit, "StorageResolution": resolution}
    if len(values) == 1:
        datum["Value"] = float(values[0])
    else:
        datum["Values"] = [float(v) for v in values]
    return datum
