"""Serving: warm latency through the whole handler, cold start, memory of a warm worker, package size.

The model is the product's (``rps_core.training``: 4 boosters, the real features, the ONNX export) trained
on the embedded JFK data, published with a champion pointer to a moto S3 server that this process runs
(fresh processes fetch it over HTTP, as a Lambda environment fetches it from S3).

- warm: HTTP API v2 events → lambda_handler (Mangum → FastAPI → validation → features → ONNX → metrics),
  bodies in the columns form (and the rows form), against ``GET /health`` through the same handler in the
  same process (the web stack alone: the ratio of the two p50s); ``/predict/batch`` of 32 items; the parts:
  reading a body into a window, its features (``RowFeatures``), the bare ``InferenceSession.run``;
- peer: the same estimator as MLflow users serve it (``mlflow.pyfunc.load_model`` of the ``mlflow.sklearn``
  model, in-process, warm), predicting the same feature rows one at a time, in a fresh process;
- cold: a fresh process importing ``rps_serving.handler`` (settings, app, S3 client, model load) and
  answering one request, vs a fresh process running ``mlflow.pyfunc.load_model`` + one predict of the
  same estimator saved by ``mlflow.sklearn`` (mlflow-skinny);
- memory: a fresh process answering 10,000 requests: peak RSS, and RSS growth from request 1,000 on;
- size: installed sizes of the serving function's packages and its layer's (no __pycache__, tests or
  dist-info), each once as serving/Makefile builds it; and ``.aws-sam/build`` when ``make sizes`` made it.

    .venv/bin/python -m bench.bench_serving
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL_BUCKET, DATA_BUCKET = "rps-bench-models", "rps-bench-data"
# Smaller counts for a quick check on a busy machine: RPS_BENCH_SERVING_REQUESTS=300 and so on.
WARM_REQUESTS = int(os.environ.get("RPS_BENCH_SERVING_REQUESTS", "3000"))
COLD_RUNS = int(os.environ.get("RPS_BENCH_SERVING_COLD_RUNS", "5"))
MEMORY_REQUESTS = int(os.environ.get("RPS_BENCH_SERVING_MEMORY_REQUESTS", "10000"))
BATCH = 32
TARGET, HORIZON = "temperature_2m", 6
MIB = 2**20
# The attributes of the context Lambda passes that Powertools' Logger reads (serving logs them in every line),
# defined first in each script below.
CONTEXT = """
import types
context = types.SimpleNamespace(function_name="bench", memory_limit_in_mb=512, aws_request_id="bench",
                                invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:bench")
"""


# ---------------------------------------------------------------- model and requests


def _observations() -> Any:
    from rps_core.datasets import clean_window, to_hourly_grid
    from rps_core.schema import observations_from_payload
    from rps_core.sources import load_embedded

    obs = observations_from_payload(load_embedded()[0], "JFK")
    return to_hourly_grid(clean_window(obs)[0])


def _train(obs: Any, out: Path) -> dict[str, Any]:
    """The production training code (the Train step's model and ONNX export) on the first 80% by time;
    returns the pointer (and saves the mlflow model)."""
    from rps_core.features import HISTORY_HOURS
    from rps_core.training import train_and_evaluate

    result = train_and_evaluate([obs], TARGET, HORIZON)
    (out / "model.onnx").write_bytes(result.onnx)
    _save_mlflow(result.model, out / "mlflow_model")
    return {
        "model_version": "1", "model_id": "bench", "run_id": "bench",
        "model_uri": f"s3://{MODEL_BUCKET}/models/bench/model.onnx",
        "sklearn_uri": f"s3://{MODEL_BUCKET}/models/bench/model.joblib",
        "target": TARGET, "horizon_hours": HORIZON, "history_hours": HISTORY_HOURS, "features": result.features,
        "reference": result.reference, "metrics": {}, "dataset_version": "bench",
        "trained_at": "2013-10-19T00:00", "promoted_at": "2013-10-19T00:00",
    }  # fmt: skip


def _save_mlflow(est: Any, path: Path) -> None:
    try:
        import mlflow.sklearn

        # cloudpickle: mlflow-skinny has no skops, the default serialization of mlflow 3.
        mlflow.sklearn.save_model(est, str(path), serialization_format="cloudpickle", pip_requirements=[])
    except Exception as exc:
        (path.parent / "mlflow_error.txt").write_text(f"{type(exc).__name__}: {exc}")


def _request_bodies(obs: Any, count: int) -> list[dict[str, Any]]:
    """``count`` /predict bodies from the last 20% of the data, each ending at a known target value."""
    from rps_core.features import HISTORY_HOURS
    from rps_serving.inputs import observation_rows

    target = obs.values[TARGET]
    ends = [e for e in range(int(len(obs) * 0.8), len(obs)) if not np.isnan(target[e - 1])][:count]
    return [{"location": "JFK", "observations": observation_rows(obs.slice(e - HISTORY_HOURS, e))} for e in ends]


def v2_event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    event = json.loads((ROOT / "events" / "reference" / "apiGatewayProxyV2Event.json").read_text())
    event.update(rawPath=path, rawQueryString="", body=None if body is None else json.dumps(body))
    event.pop("queryStringParameters", None)
    event["headers"]["content-type"] = "application/json"
    event["requestContext"]["http"].update(method=method, path=path)
    return event


# ---------------------------------------------------------------- environment


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _s3_server(model_dir: Path, pointer: dict[str, Any]) -> Iterator[dict[str, str]]:
    """A moto S3 server holding the model and its pointer; yields the environment of the function."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "MODEL_BUCKET": MODEL_BUCKET, "DATA_BUCKET": DATA_BUCKET, "TARGET": TARGET,
        "POWERTOOLS_METRICS_NAMESPACE": "RPS-bench", "POWERTOOLS_SERVICE_NAME": "serving",
        "MODEL_CHECK_SECONDS": "30",
    }  # fmt: skip
    try:
        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")  # fmt: skip
        for bucket in (MODEL_BUCKET, DATA_BUCKET):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=MODEL_BUCKET, Key="models/bench/model.onnx", Body=(model_dir / "model.onnx").read_bytes())
        s3.put_object(Bucket=MODEL_BUCKET, Key="champion/pointer.json", Body=json.dumps(pointer).encode())
        yield env
    finally:
        server.stop()


def _run_python(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints one JSON line last (metrics lines go before it)."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], env={**os.environ, **env}, cwd=ROOT,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"bench subprocess failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- measurements


def _percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.array(samples) * 1000.0
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


WARM = (
    CONTEXT
    + """
import contextlib, json, os, sys, time
import numpy as np
from rps_core.config import load_settings
from rps_serving import handler
from rps_serving.inputs import to_window
JFK = load_settings().location("JFK")
events, count, batch = json.load(open(sys.argv[1])), int(sys.argv[2]), json.load(open(sys.argv[3]))
warmup = max(50, count // 10)
model = handler.store.current
bodies = [json.loads(e["body"]) for e in events]
windows = [to_window(JFK, b["observations"], model.target) for b in bodies]
def rows_of(w):
    return model.row_features.rows(w.values[None], np.array([w.last_hour.astype(np.int64)]),
                                   np.array([w.latitude]), np.array([w.longitude]))
def cold_sun(w):  # a place and day not seen before: the calendar and sun columns computed
    model.row_features._hours._days.clear()
    return rows_of(w)
rows = [model.model_input(rows_of(w)) for w in windows]
np.save(sys.argv[4], np.concatenate(rows))
def with_path(e, method, path, body):
    ctx = dict(e["requestContext"], http=dict(e["requestContext"]["http"], method=method, path=path))
    return dict(e, rawPath=path, body=body, requestContext=ctx)
health = with_path(events[0], "GET", "/health", None)
def rows_form(e):
    cols = json.loads(e["body"])["observations"]
    rows = [{k: cols[k][i] for k in cols} for i in range(len(cols["time"]))]
    return dict(e, body=json.dumps({"location": "JFK", "observations": rows}))
by_rows = [rows_form(e) for e in events[:20]]
batches = [with_path(events[0], "POST", "/predict/batch", json.dumps(b)) for b in batch]
def timed(call, items, n=count):
    wall, cpu = [], []
    for i in range(max(5, n // 10) + n):
        item = items[i % len(items)]
        t0, c0 = time.perf_counter(), time.thread_time()
        call(item)
        if i >= max(5, n // 10):
            wall.append((time.perf_counter() - t0) * 1000.0)
            cpu.append((time.thread_time() - c0) * 1000.0)
    return [float(np.percentile(wall, q)) for q in (50, 99)] + [float(np.percentile(cpu, q)) for q in (50, 99)]
def ok(e):
    out = handler.lambda_handler(e, context)
    assert out["statusCode"] == 200, out
with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
    ok(events[0]); ok(batches[0]); ok(by_rows[0])
    result = {}
    # Interleaved rounds: /predict and /health see the same moments of a busy machine.
    for _ in range(4):
        for key, call, items, n in (
            ("full", ok, events, count // 4), ("health", ok, [health], count // 4), ("rows", ok, by_rows, count // 8),
            ("batch", ok, batches, max(20, count // 40)),
        ):
            result.setdefault(key, []).append(timed(call, items, n))
    result = {k: np.median(np.array(v), axis=0).tolist() for k, v in result.items()}
    result["window"] = timed(lambda b: to_window(JFK, b["observations"], model.target), bodies)
    result["features"] = timed(rows_of, windows)
    result["features_cold_sun"] = timed(cold_sun, windows, count // 4)
    result["bare"] = timed(lambda x: model.onnx.session.run(None, {model.onnx.input_name: x}), rows)
print(json.dumps(result))
"""
)


PEER = """
import json, sys, time
import numpy as np
import mlflow.pyfunc
model = mlflow.pyfunc.load_model(sys.argv[1])
rows, count = np.load(sys.argv[2]), int(sys.argv[3])
for i in range(max(5, count // 10)):
    model.predict(rows[i % len(rows)][None])
wall = []
for i in range(count):
    t0 = time.perf_counter()
    model.predict(rows[i % len(rows)][None])
    wall.append((time.perf_counter() - t0) * 1000.0)
print(json.dumps([float(np.percentile(wall, q)) for q in (50, 99)]))
"""


def _warm(env: dict[str, str], work: Path, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """In a fresh process: no moto server thread there to take the GIL while onnxruntime releases it."""
    events = [v2_event("POST", "/predict", _columns(b)) for b in bodies]
    (work / "warm.json").write_text(json.dumps(events))
    batches = [
        {"items": [_columns(b) for b in bodies[i : i + BATCH]]} for i in range(0, len(bodies) - BATCH + 1, BATCH)
    ]
    (work / "batches.json").write_text(json.dumps(batches))
    rows_file = work / "rows.npy"
    out = _run_python(
        WARM, env, str(work / "warm.json"), str(WARM_REQUESTS), str(work / "batches.json"), str(rows_file)
    )
    load = os.getloadavg()[0]
    note = f"load average {load:.1f} on {os.cpu_count()} CPUs; cpu = own CPU time"

    def row(label: str, key: str, goal: str = "", met: bool | None = None, extra: str = "") -> dict[str, Any]:
        p50, p99, cpu, cpu99 = out[key]
        return {"case": label, "p50_ms": p50, "p99_ms": p99, "cpu_p50_ms": cpu, "cpu_p99_ms": cpu99,
                "goal": goal, "met": met, "note": extra}  # fmt: skip

    full, health = out["full"], out["health"]
    ratio = full[0] / health[0]
    rows = [
        row("warm /predict, full handler (v2 event, columns body)", "full", "p50 <= 0.5 ms, p99 <= 1.0 ms",
            full[0] <= 0.5 and full[1] <= 1.0, note),
        row("warm GET /health, full handler (the stack alone), same run", "health"),
        {"case": "ratio: /predict p50 / /health p50 (same run)", "ratio": ratio, "goal": "<= 3.5",
         "met": ratio <= 3.5},
        row("warm /predict, rows body (the other form)", "rows"),
        row(f"warm /predict/batch of {BATCH} items, full handler", "batch", "p50 <= 5 ms", out["batch"][0] <= 5,
            "one feature pass and one ONNX call for the batch"),
        row("features of one request (RowFeatures, sun memoised per day)", "features", "<= 0.1 ms",
            out["features"][0] <= 0.1),
        row("features of one request, sun and calendar computed (a new day or place)", "features_cold_sun"),
        row("reading a request's observations into a window", "window"),
        row("bare ONNX predict, same rows", "bare"),
    ]  # fmt: skip
    return rows + _peer(work, rows_file, full[0])


def _peer(work: Path, rows_file: Path, ours_p50: float) -> list[dict[str, Any]]:
    """The estimator through mlflow.pyfunc, warm and in-process, on the same feature rows (no features,
    no web stack: what an MLflow user's model server calls per request)."""
    error = work / "mlflow_error.txt"
    if error.exists():
        return [{"case": "peer: mlflow.pyfunc warm predict", "note": f"not measured: {error.read_text()}"}]
    args = (str(work / "mlflow_model"), str(rows_file), str(WARM_REQUESTS))
    p50, p99 = _run_python(PEER, {}, *args)
    # scikit-learn's OpenMP threads by default; one thread is what a tuned single-row server would set.
    one50, one99 = _run_python(PEER, {"OMP_NUM_THREADS": "1"}, *args)
    return [
        {"case": "peer: mlflow.pyfunc (sklearn estimator) warm predict, one row, in-process", "p50_ms": p50,
         "p99_ms": p99, "note": "the same rows; no features, no web stack; OpenMP threads as installed"},
        {"case": "peer: the same with OMP_NUM_THREADS=1", "p50_ms": one50, "p99_ms": one99},
        {"case": "ratio: our full /predict p50 / the peer's predict p50 (default; OMP_NUM_THREADS=1)",
         "ratio": ours_p50 / p50, "note": f"{ours_p50 / one50:.3f} against the one-thread peer"},
    ]  # fmt: skip


def _columns(body: dict[str, Any]) -> dict[str, Any]:
    """A rows-form body in the columns form (the product's shape: Open-Meteo's ``hourly``)."""
    rows = body["observations"]
    return {**body, "observations": {k: [r[k] for r in rows] for k in rows[0]}}


COLD_SERVING = (
    CONTEXT
    + """
import json, resource, sys, time
t0 = time.perf_counter()
from rps_serving import handler
loaded = time.perf_counter()
event = json.load(open(sys.argv[1]))
status = handler.lambda_handler(event, context)["statusCode"]
t1 = time.perf_counter()
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"init_s": loaded - t0, "total_s": t1 - t0, "status": status, "cpu_s": use.ru_utime + use.ru_stime,
                  "model": handler.store.current is not None}))
"""
)

COLD_MLFLOW = """
import json, resource, sys, time
import numpy as np
t0 = time.perf_counter()
import mlflow.pyfunc
model = mlflow.pyfunc.load_model(sys.argv[1])
model.predict(np.load(sys.argv[2]))
t1 = time.perf_counter()
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"total_s": t1 - t0, "cpu_s": use.ru_utime + use.ru_stime}))
"""


def _cold(env: dict[str, str], work: Path, body: dict[str, Any], row: np.ndarray) -> list[dict[str, Any]]:
    (work / "event.json").write_text(json.dumps(v2_event("POST", "/predict", _columns(body))))
    np.save(work / "row.npy", row)
    serving = [_run_python(COLD_SERVING, env, str(work / "event.json")) for _ in range(COLD_RUNS)]
    if not all(r["model"] and r["status"] == 200 for r in serving):
        raise RuntimeError(f"bench: cold start did not serve: {serving}")
    total = statistics.median(r["total_s"] for r in serving)
    cpu = statistics.median(r["cpu_s"] for r in serving)
    out = [
        {"case": f"cold start, imports + model from S3 + 1st request (median of {COLD_RUNS})", "seconds": total,
         "cpu_s": cpu, "goal": "<= 0.5 s", "met": total <= 0.5,
         "note": f"of which imports + model load {statistics.median(r['init_s'] for r in serving):.2f} s; "
                 "cpu_s includes the interpreter's start"},
    ]  # fmt: skip
    error = work / "mlflow_error.txt"
    if error.exists():
        out.append({"case": "cold start via mlflow.pyfunc", "seconds": None, "goal": "", "met": None,
                    "note": f"not measured: {error.read_text()}"})  # fmt: skip
    else:
        runs = [_run_python(COLD_MLFLOW, {}, str(work / "mlflow_model"), str(work / "row.npy"))
                for _ in range(COLD_RUNS)]  # fmt: skip
        out.append({"case": f"cold start via mlflow.pyfunc load + predict (median of {COLD_RUNS})",
                    "seconds": statistics.median(r["total_s"] for r in runs),
                    "cpu_s": statistics.median(r["cpu_s"] for r in runs), "goal": "", "met": None,
                    "note": "mlflow-skinny, the same estimator from a local dir (no S3), no web stack"})  # fmt: skip
    return out


MEMORY = (
    CONTEXT
    + """
import contextlib, json, os, sys
from rps_serving import handler
events = json.load(open(sys.argv[1]))
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
rss = {}
with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
    for i in range(1, int(sys.argv[2]) + 1):
        assert handler.lambda_handler(events[i % len(events)], context)["statusCode"] == 200
        if i in (int(sys.argv[3]), int(sys.argv[2]) // 2, int(sys.argv[2])):
            rss[i] = status("VmRSS:")
print(json.dumps({"rss": rss, "peak": status("VmHWM:")}))
"""
)


def _memory(env: dict[str, str], work: Path, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    (work / "events.json").write_text(json.dumps([v2_event("POST", "/predict", _columns(b)) for b in bodies]))
    # Twice the goal's count: the second half shows whether growth goes on or was a one-time step.
    first = min(1000, MEMORY_REQUESTS // 4)
    out = _run_python(MEMORY, env, str(work / "events.json"), str(2 * MEMORY_REQUESTS), str(first))
    rss = {int(k): v / 1e6 for k, v in out["rss"].items()}
    peak = out["peak"] / 1e6
    growth = rss[MEMORY_REQUESTS] - rss[first]
    later = rss[2 * MEMORY_REQUESTS] - rss[MEMORY_REQUESTS]
    return [
        {"case": f"peak RSS of a warm worker after {2 * MEMORY_REQUESTS:,} requests", "MB": peak,
         "goal": "< 300 MB (MemorySize 512)", "met": peak < 300},
        {"case": f"RSS growth from request {first:,} to {MEMORY_REQUESTS:,}", "MB": growth,
         "goal": "flat (< 1 MB)", "met": growth < 1,
         "note": f"then {later:+.2f} MB from {MEMORY_REQUESTS:,} to {2 * MEMORY_REQUESTS:,}"},
    ]  # fmt: skip


def _requirements(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [re.split(r"[<>=!~;\[ ]", line)[0] for line in lines if line]


def _closure(names: list[str]) -> dict[str, Any]:
    from packaging.requirements import Requirement

    seen: dict[str, Any] = {}
    stack = list(names)
    while stack:
        name = stack.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen[key] = dist = distribution(name)
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(req.name)
    return seen


def _slim_size(files: Any) -> int:
    total = 0
    for f in files or []:
        p = str(f)
        if "__pycache__" in p or ".dist-info/" in p or "/tests/" in p or p.endswith(".pyc"):
            continue
        with contextlib.suppress(FileNotFoundError):
            total += f.locate().stat().st_size
    return total


def _tree_size(root: Path, bytecode: bool = False) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and (bytecode or "__pycache__" not in p.parts))


def _size() -> list[dict[str, Any]]:
    function = _closure(_requirements(ROOT / "serving" / "requirements.txt"))
    layer = _closure(_requirements(ROOT / "layers" / "common" / "requirements.txt"))
    # serving/Makefile removes from the function what the layer ships (numpy): each package counts once.
    sizes = {k: _slim_size(d.files) for k, d in {**function, **layer}.items()}
    code = _tree_size(ROOT / "serving" / "rps_serving") + _tree_size(ROOT / "layers" / "common" / "rps_core")
    once = (sum(sizes.values()) + code) / MIB
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:4]
    note = ", ".join(f"{k} {v / MIB:.0f}" for k, v in top) + f", code {code / MIB:.1f} MiB; no .pyc"
    rows = [
        {"case": "package: serving function + its layer (installed sizes, before the Makefiles' trimming)",
         "MiB": once, "note": note},
    ]  # fmt: skip
    rows += _built_size()
    built = ROOT / ".aws-sam" / "build"
    if (built / "ServingFunction").is_dir() and (built / "CoreLayer").is_dir():  # after `make sizes`
        total = (_tree_size(built / "ServingFunction", True) + _tree_size(built / "CoreLayer", True)) / MIB
        rows.append({"case": "package as sam build made it (.aws-sam/build)", "MiB": total,
                     "goal": "< 100 MiB", "met": total < 100, "note": "as deployed, .pyc included"})  # fmt: skip
    return rows


def _built_size() -> list[dict[str, Any]]:
    """serving/Makefile and layers/common/Makefile run as sam build runs them (pip from the configured
    index), into a temporary build directory, then tools/dedupe_build.py as `make sizes` runs it (the SDK
    Lambda's runtime ships, and the function's copies of the layer's packages, removed): the package as
    deployed, with its largest parts."""
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp)
        sources = {"ServingFunction": ROOT / "serving", "CoreLayer": ROOT / "layers" / "common"}
        for target, source in sources.items():
            (build / target).mkdir()
            proc = subprocess.run(
                ["make", "-s", f"build-{target}", f"ARTIFACTS_DIR={build / target}", f"PYTHON={sys.executable}"],
                cwd=source, capture_output=True, text=True, timeout=900, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                return [{"case": "package as the Makefiles build it", "note": f"not measured: {proc.stderr[-200:]}"}]
        template = {
            "Transform": "AWS::Serverless-2016-10-31",
            "Resources": {
                "CoreLayer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "CoreLayer"}},
                "ServingFunction": {"Type": "AWS::Serverless::Function",
                                    "Properties": {"CodeUri": "ServingFunction", "Layers": [{"Ref": "CoreLayer"}]}},
            },
        }  # fmt: skip
        (build / "template.yaml").write_text(json.dumps(template))  # JSON is YAML
        subprocess.run([sys.executable, str(ROOT / "tools" / "dedupe_build.py"), str(build)], check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        function, layer = _tree_size(build / "ServingFunction", True), _tree_size(build / "CoreLayer", True)
        parts = {p.name: _tree_size(p, True) for d in (build / "ServingFunction", build / "CoreLayer" / "python")
                 for p in d.iterdir() if p.is_dir() and not p.name.endswith(".dist-info")}  # fmt: skip
    top = sorted(parts.items(), key=lambda kv: -kv[1])[:6]
    total = (function + layer) / MIB
    note = f"function {function / MIB:.1f} + layer {layer / MIB:.1f}; " + ", ".join(
        f"{k} {v / MIB:.1f}" for k, v in top
    )
    return [{"case": "package as the Makefiles + dedupe build it (function + CoreLayer, .pyc included)",
             "MiB": total, "goal": "< 100 MiB (Lambda: 250)", "met": total < 100, "note": note}]  # fmt: skip


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        obs = _observations()
        pointer = _train(obs, work)
        bodies = _request_bodies(obs, 100)
        with _s3_server(work, pointer) as env:
            rows += _warm(env, work, bodies)
            from rps_core.config import load_settings
            from rps_core.features import build_features
            from rps_serving.inputs import to_observations

            jfk = load_settings().location("JFK")
            row = build_features(to_observations(jfk, bodies[0]["observations"], TARGET), TARGET, last=1)
            rows += _cold(env, work, bodies[0], row)
            rows += _memory(env, work, bodies)
    rows += _size()
    for r in rows:
        for k, v in list(r.items()):
            if isinstance(v, float):
                r[k] = round(v, 3)
    return [{"bench": "serving", **r} for r in rows]


if __name__ == "__main__":
    for r in run():
        print(json.dumps(r))
