"""Each page: read through the source, build the view model, render. The server only routes to these."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html import escape
from typing import Any

from rps_core.map_results import read_map_results

from rps_local.tools.console.data import drift as drift_data
from rps_local.tools.console.data import forecasts as forecast_data
from rps_local.tools.console.data import metrics as metric_data
from rps_local.tools.console.data import models as model_data
from rps_local.tools.console.data import quality as quality_data
from rps_local.tools.console.data.executions import ExecutionDetail, execution_detail, execution_row
from rps_local.tools.console.source import ConsoleSource
from rps_local.tools.console.views import drift as drift_view
from rps_local.tools.console.views import executions as execution_view
from rps_local.tools.console.views import forecasts as forecast_view
from rps_local.tools.console.views import metrics as metric_view
from rps_local.tools.console.views import models as model_view
from rps_local.tools.console.views import quality as quality_view
from rps_local.tools.console.views.layout import page

__all__ = ["EXECUTIONS", "execution", "execution_json", "executions", "executions_json"]

EXECUTIONS = 50  # the list's length: the newest runs, whatever the history holds


def _rows(source: ConsoleSource) -> list[Any]:
    items = source.executions(EXECUTIONS)
    # the inputs (thus the triggers) of executions not seen before, side by side: a cold page of 50 otherwise
    # waits for 50 DescribeExecution calls one after the other
    with ThreadPoolExecutor(8) as pool:
        described = list(pool.map(lambda item: source.describe(item["executionArn"]), items))
    return [execution_row(item, found) for item, found in zip(items, described, strict=True)]


def executions(source: ConsoleSource) -> str:
    return execution_view.executions_page(_rows(source), limit=EXECUTIONS)


def executions_json(source: ConsoleSource) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {"name": r.name, "status": r.status, "start": r.start, "duration_s": r.duration_s(now), "trigger": r.trigger}
        for r in _rows(source)
    ]


def _detail(source: ConsoleSource, name: str) -> ExecutionDetail | None:
    machine = source.state_machine_arn()
    if machine is None:
        return None
    arn = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
    try:
        described = source.describe(arn)
    except source.aws("stepfunctions").exceptions.ExecutionDoesNotExist:
        return None
    history = source.history(arn, ended=described["status"] != "RUNNING")
    # the definition the execution ran (moto keeps the machine's current one; after a redeploy they may differ)
    s3 = source.aws("s3")
    return execution_detail(
        described, source.definition(machine), history, lambda bucket, key: read_map_results(bucket, key, s3)
    )


def execution(source: ConsoleSource, name: str) -> str | None:
    detail = _detail(source, name)
    return None if detail is None else execution_view.execution_page(detail)


def execution_json(source: ConsoleSource, name: str) -> dict[str, Any] | None:
    detail = _detail(source, name)
    if detail is None:
        return None
    return {"status": detail.row.status, "html": execution_view.execution_live(detail)}


def models(source: ConsoleSource) -> str:
    return model_view.models_page(model_data.load_models(source))


def forecasts(source: ConsoleSource) -> str:
    return forecast_view.forecasts_page(forecast_data.load_forecasts(source))


def quality(source: ConsoleSource) -> str:
    return quality_view.quality_page(quality_data.load_quality(source))


def metrics(source: ConsoleSource, period: str) -> str:
    return metric_view.metrics_page(metric_data.load_metrics(source, period))


def drift(source: ConsoleSource) -> str:
    return drift_view.drift_page(drift_data.load_drift(source))


def not_found(path: str) -> str:
    return page("Not found", "", f"<p>No page {escape(path)}. <a href='/'>Executions</a></p>")


def failed(path: str, exc: Exception) -> str:
    return page("Error", "", f'<p class="error">{escape(path)}: {escape(type(exc).__name__)}: {escape(str(exc))}</p>')
