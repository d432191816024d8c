"""``make demo``: the whole system on this machine. It starts the local cloud (moto, template.yaml
deployed, MLflow), runs the pipeline on the embedded 2013 New York data as ``rps run`` does, calls the
prediction API (GET /health, GET /forecast/JFK, POST /predict), replays another season so that the drift
monitor sees drift and starts retraining (once), then shows the CloudWatch metrics and alarm states.
Each step says what failed and the demo goes on where it can; the exit code is non-zero if any failed.

The replay clock starts on 1 March 2013 (``--replay-start``): the first run backfills January-February, a
winter champion; the drift scenario then replays up to ``--season-end`` (late June), a season that
champion has never seen.

    .venv/bin/python -m rps_local.tools.demo [--project-dir DIR] [--replay-start T] [--season-end T] [--keep]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rps_local.emulator.errors import LocalCloudError

_failures: list[str] = []


def step(title: str, action: Callable[[], Any]) -> Any:
    print(f"\n== {title}", flush=True)
    started = time.perf_counter()
    try:
        result = action()
    except Exception as exc:  # the demo reports each failure clearly and carries on
        _failures.append(title)
        print(f"✗ {title} failed: {type(exc).__name__}: {exc}", flush=True)
        return None
    print(f"✓ {title} ({time.perf_counter() - started:.1f} s)", flush=True)
    return result


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the local API
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, raw.decode(errors="replace")


def show(label: str, status: int, body: Any, limit: int = 1200) -> None:
    text = json.dumps(body, indent=2) if not isinstance(body, str) else body
    print(f"{label} → HTTP {status}\n{text[:limit]}{'…' if len(text) > limit else ''}")
    if status >= 400:
        raise LocalCloudError(f"{label} answered HTTP {status}")


def predict_body(template_path: Path, location: str, now: str | None) -> dict[str, Any]:
    """The last hours of the embedded observations of ``location`` up to ``now``, as the API takes them."""
    from rps_core.features import HISTORY_HOURS
    from rps_core.schema import VARIABLES
    from rps_core.sources.replay import load_embedded

    from rps_local.emulator.cloudformation.template import load_sam_template

    locations = load_sam_template(template_path)["Parameters"]["Locations"]["Default"]
    latitude = {name: float(lat) for name, lat, _ in (item.split(":") for item in locations.split(","))}[location]
    payload = next(p for p in load_embedded() if abs(p["latitude"] - latitude) < 1e-3)
    hourly = payload["hourly"]
    end = hourly["time"].index(now) + 1 if now in hourly["time"] else len(hourly["time"])
    rows = [
        {"time": hourly["time"][i], **{v: hourly[v][i] for v in VARIABLES if v in hourly}}
        for i in range(max(0, end - HISTORY_HOURS), end)
    ]
    return {"location": location, "observations": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rps_local.tools.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    parser.add_argument("--keep", action="store_true", help="keep the cloud running after the demo (Ctrl-C stops)")
    parser.add_argument("--replay-start", default="2013-03-01T00:00", help="the replay clock's start (ReplayStart)")
    parser.add_argument("--season-end", default="2013-06-29T00:00", help="how far the drift scenario replays")
    parser.add_argument(
        "--daily-runs",
        type=int,
        default=8,
        help="daily pipeline runs after the first: a week of realized error and interval coverage, and past the "
        "coverage alarm's minimum of 20 forecasts pooled (a station's data misses an hour now and then)",
    )
    args = parser.parse_args(argv)

    from rps_local.emulator.cloud import LocalCloud
    from rps_local.emulator.stepfunctions.executions import follow_execution, short_cause
    from rps_local.tools.console import start_console
    from rps_local.tools.drift_scenario import run_drift_scenario

    cloud = LocalCloud(
        args.project_dir,
        schedules=False,
        parameter_overrides={"ReplayStart": args.replay_start},
        addons={"console": start_console},
    )
    try:
        endpoints = step("start the local cloud and deploy template.yaml", cloud.start)
        if endpoints is None:
            return 1
        print(f"ready in {cloud.started_s:.1f} s")
        for key in ("aws_endpoint_url", "http_api_url", "mlflow_tracking_uri"):
            print(f"  {key:20} {endpoints[key]}")
        assert cloud.client is not None

        def run_pipeline(show: bool = True) -> dict[str, Any]:
            arn = cloud.start_execution({})
            report = follow_execution(cloud.client, arn, print if show else lambda line: None)
            if report.status != "SUCCEEDED":
                raise LocalCloudError(
                    f"{report.status} in {report.failed_state}: {report.error}: {short_cause(report.cause)}"
                )
            if show:
                print(json.dumps(report.output, indent=2)[:2000])
            return report.output

        output = (
            step(
                "run the pipeline (Plan → Ingest/QualityGate/Transform per location → Train → Register → Forecast)",
                run_pipeline,
            )
            or {}
        )
        api = endpoints["http_api_url"]
        step("GET /health", lambda: show("GET /health", *http("GET", f"{api}/health")))
        step("GET /forecast/JFK", lambda: show("GET /forecast/JFK", *http("GET", f"{api}/forecast/JFK")))
        step(
            "POST /predict",
            lambda: show(
                "POST /predict",
                *http("POST", f"{api}/predict", predict_body(cloud.template_path, "JFK", output.get("now"))),
            ),
        )

        def daily_runs() -> None:
            # each run forecasts 6 h past its day; the next day's data observes that hour, so the drift check
            # below has realized errors and interval coverage to report
            for day in range(1, args.daily_runs + 1):
                out = run_pipeline(show=False)
                print(f"  day {day}: clock {out.get('now')}, {out.get('forecast_count')} forecasts")

        if args.daily_runs:
            step(f"the daily pipeline, {args.daily_runs} more days (forecasts that the next days observe)", daily_runs)

        def drift() -> None:
            scenario = run_drift_scenario(cloud.client, args.season_end)
            if not scenario.retraining_started:
                raise LocalCloudError("the drift monitor did not start retraining")

        step(f"drift: replay up to {args.season_end}, a season the champion has not seen", drift)

        def metrics() -> None:
            from rps_local.tools.cli.main import main as rps

            code = rps(
                [
                    "metrics",
                    "--since",
                    "1h",
                    "--state-dir",
                    str(cloud.state_dir),
                    "--template",
                    str(cloud.template_path),
                ]
            )
            if code:
                raise LocalCloudError(f"rps metrics exited with {code}")

        step("CloudWatch metrics (rps metrics)", metrics)
        print(f"\nmemory of the whole cloud: {cloud.memory_mb():.0f} MB resident")
        later = "" if args.keep else " (until the demo stops; keep it with --keep, or `make up` then `rps console`)"
        print(f"the console: {endpoints['console_url']}{later}")
        if args.keep:
            print("the cloud keeps running (Ctrl-C stops it); try: .venv/bin/rps status")
            while True:
                time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        cloud.stop()
    if _failures:
        print(f"\n{len(_failures)} step(s) failed: " + "; ".join(_failures), file=sys.stderr)
        return 1
    print("\nall steps succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
