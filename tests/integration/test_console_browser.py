"""The local console in a real headless browser (Debian's ``chromium``, driven from its command line: no driver
to download): after a pipeline run, a run failed by planted bad data, a few predictions and a drift check on
the local cloud, each page is loaded, its DOM (after scripts ran) checked, a screenshot written to
docs/console/ (the README shows them), and every request a page made is read from Chromium's network log.

``make test`` installs chromium (``make browser``); without it locally this module is skipped, saying so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from rps_local.tools.console.data.executions import state_names

from tests.integration.budgets import limit_s

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

PROJECT = Path(__file__).resolve().parents[2]
SHOTS = PROJECT / "docs" / "console"
CHROMIUM = shutil.which("chromium") or shutil.which("google-chrome")  # Debian's; GitHub's Ubuntu runners' Chrome
HTML = b"<html>502 Bad Gateway</html>"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass
class Loaded:
    dom: str
    requests: list[tuple[str, str]]  # (url, the top frame's site) of every request the browser made


def _chromium(url: str, work: Path, name: str, *action: str) -> tuple[list[tuple[str, str]], str]:
    """Run headless chromium on ``url`` with ``action`` (--dump-dom or --screenshot): its requests and output."""
    netlog = work / f"{name}.netlog.json"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # root in CI
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={work / 'profile'}",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--log-net-log={netlog}",
        "--virtual-time-budget=3000",  # scripts run (the live page's first poll) before the DOM is taken
        *action,
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return _requests(netlog), done.stdout


def _requests(netlog: Path) -> list[tuple[str, str]]:
    """Each URL request of the log with the site of the page it belongs to (its network isolation key).
    The browser's own background traffic (update checks, sign-in) has a key of its own ("null" or google.com)."""
    log = json.loads(netlog.read_text())
    kinds = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    out = []
    for event in log["events"]:
        params = event.get("params") or {}
        if kinds.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params:
            out.append((params["url"], str(params.get("network_isolation_key", "")).split(" ")[0]))
    return out


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed here (apt-get install chromium; `make test` installs it)")
    return tmp_path_factory.mktemp("chromium")


def _next_window_end(client: Any) -> str:
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    clock = json.loads(s3.get_object(Bucket=bucket, Key="clock/state.json")["Body"].read())
    return (datetime.fromisoformat(clock["now"]) + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(scope="module")
def runs(rps_cloud, work) -> Iterator[dict[str, str]]:
    """A run that succeeds, one that fails in Train (two stations' windows planted bad), a few predictions and a
    drift check: the names of the two runs."""
    client = rps_cloud.client
    ok = client.start_execution({}, name=f"it-console-ok-{datetime.now():%H%M%S}")
    done = client.wait_execution(ok, limit_s("backfill"))
    assert done["status"] == "SUCCEEDED", done
    end = _next_window_end(client)
    s3, bucket = client.client("s3"), client.physical_id("DataBucket")
    for location in ("EWR", "LGA"):
        s3.put_object(Bucket=bucket, Key=f"raw/location={location}/end={end}.json", Body=HTML)
    bad = client.start_execution({}, name=f"it-console-bad-{end[:10]}")
    assert client.wait_execution(bad, limit_s("daily_run"))["status"] == "FAILED"
    api = rps_cloud.endpoints["http_api_url"]
    for _ in range(5):  # serving's latency and request metrics for the dashboard
        urllib.request.urlopen(f"{api}/forecast/JFK", timeout=30).read()
    checked = client.invoke("DriftFunction", {}).payload
    started = ((checked or {}).get("trigger") or {}).get("execution_arn") if isinstance(checked, dict) else None
    if started and ((checked.get("trigger") or {}).get("status") == "started"):
        client.wait_execution(started, limit_s("daily_run"))  # a drift-triggered run: let it end before the pages
    yield {"ok": ok.rsplit(":", 1)[-1], "bad": bad.rsplit(":", 1)[-1]}


@pytest.fixture(scope="module")
def load(rps_cloud, work, runs) -> Iterator[Any]:
    """``load(path, shot, height)``: the page's DOM and requests; its screenshot in docs/console/SHOT.png."""
    base = rps_cloud.endpoints["console_url"]
    assert base, "endpoints.json has no console_url"
    seen: dict[str, Loaded] = {}

    def page(path: str, shot: str, height: int = 1000) -> Loaded:
        if path not in seen:
            requests, dom = _chromium(base + path, work, f"{shot}-dom", "--dump-dom")
            SHOTS.mkdir(parents=True, exist_ok=True)
            size = f"--window-size=1280,{height}"
            more, _ = _chromium(base + path, work, f"{shot}-png", size, f"--screenshot={SHOTS / shot}.png")
            seen[path] = Loaded(dom, requests + more)
        return seen[path]

    page.seen = seen  # type: ignore[attr-defined]
    yield page


def test_the_execution_is_listed_as_succeeded(load, runs):
    dom = load("/", "executions", 420).dom
    status = {name: state for state, name in re.findall(r'data-status="(\w+)"><td><a href="/executions/([^"]+)"', dom)}
    assert status.get(runs["ok"]) == "SUCCEEDED" and status.get(runs["bad"]) == "FAILED", status


def test_the_live_part_of_an_execution_page_is_served_as_json(rps_cloud, runs):
    url = f"{rps_cloud.endpoints['console_url']}/api/executions/{runs['ok']}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        live = json.loads(answer.read())
    assert live["status"] == "SUCCEEDED" and 'id="state-Train"' in live["html"]


def test_the_graph_shows_every_state(load, runs):
    dom = load(f"/executions/{runs['ok']}", "execution", 1150).dom
    definition = json.loads((PROJECT / "statemachine" / "pipeline.asl.json").read_text())
    for name in state_names(definition):
        assert f'id="state-{name}"' in dom, name
    for name in ("Plan", "Train", "Register", "Forecast", "Summary"):
        assert re.search(rf'id="state-{re.escape(name)}" data-status="SUCCEEDED"', dom), name
    assert "3 succeeded / 0 quarantined / 0 failed" in dom


def test_a_failed_execution_shows_the_failing_state_and_cause(load, runs):
    dom = load(f"/executions/{runs['bad']}", "execution-failed", 1150).dom
    assert 'id="state-Train" data-status="FAILED"' in dom
    failure = re.search(r'<div class="error" id="failure">(.*?)</div>', dom, re.S)
    assert failure and "Failed in Train" in failure.group(1) and "DataQualityError" in failure.group(1)
    assert "2 of 3 locations quarantined" in failure.group(1)
    assert "1 succeeded / 2 quarantined / 0 failed" in dom


def test_the_model_page_shows_the_champion_version(load, rps_cloud):
    client = rps_cloud.client
    pointer = client.client("s3").get_object(Bucket=client.physical_id("ModelBucket"), Key="champion/pointer.json")
    version = json.loads(pointer["Body"].read())["model_version"]
    dom = load("/models", "models", 900).dom
    shown = re.search(r'<span class="version">([^<]*)</span>', dom)
    assert shown and shown.group(1) == str(version)


def test_the_forecast_chart_has_points(load):
    dom = load("/forecasts", "forecasts", 1000).dom
    cards = re.findall(r'<div class="card forecast" data-location="(\w+)">(.*?)</svg>', dom, re.S)
    assert cards and all(body.count('class="pt"') > 0 for _, body in cards), [name for name, _ in cards]


def test_the_other_pages_render(load):
    assert "<h2>Alarms</h2>" in load("/metrics", "metrics", 1250).dom
    assert "Latest gate reports" in load("/quality", "quality", 1000).dom
    assert "Drifted feature share" in load("/drift", "drift", 900).dom


def test_no_page_makes_a_request_outside_the_local_cloud(load, rps_cloud):
    # every page, loaded by the tests above or here
    for path, shot in (("/", "executions"), ("/models", "models"), ("/forecasts", "forecasts")):
        load(path, shot)
    console = urlsplit(rps_cloud.endpoints["console_url"])
    page_site = f"{console.scheme}://{console.hostname}"
    from_pages = [url for loaded in load.seen.values() for url, site in loaded.requests if site == page_site]
    assert any(url.startswith(rps_cloud.endpoints["console_url"]) for url in from_pages)
    outside = sorted({url for url in from_pages if urlsplit(url).hostname not in LOCAL_HOSTS})
    assert not outside, outside
