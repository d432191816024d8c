"""``make sam-local``: the functions through the real SAM CLI, in containers, against the running local cloud.

    python tools/sam_local/check.py [--keep-build] [--skip-start-api]

Steps, each timed, the first failure ends the run with a message naming the step and what came back:

1. a container engine: ``SAM_LOCAL_ENGINE=docker`` uses the running Docker engine and the official image
   (GitHub's runners); ``podman`` (the default where ``docker info`` fails, as on these machines) installs
   podman, runc and debootstrap with apt-get when missing, builds the Lambda python3.12 base image offline
   once (``tools/sam_local/podman_image.sh``; cached: skipped when ``podman image exists``) and serves
   podman's Docker-compatible API on a socket of its own (``DOCKER_HOST``);
2. ``sam build`` of template.yaml into .aws-sam/sam-local (skipped when nothing it reads changed);
3. ``rps up --host 0.0.0.0`` on free ports in a state directory of its own, where containers reach it;
4. one pipeline execution (``rps run``), so that a champion model exists;
5. ``rps env-vars --endpoint-host host.containers.internal`` (podman) / ``host.docker.internal`` (Docker);
6. ``sam local invoke`` of every function: PlanFunction and IngestFunction with events/plan.json and
   events/ingest.json; QualityGateFunction and TransformFunction with the answers before them (as the Map's
   child execution chains them); TrainFunction, RegisterFunction and ForecastFunction with the inputs the
   state machine gave them in step 4 (``rps events``: its history, real dataset versions, model ids, Map
   results in S3);
   DriftFunction with events/drift.json; ServingFunction with events/serving_health.json and
   events/serving_predict.json. The answers' fields are checked, not just the exit code;
7. ``sam local start-api`` and real HTTP requests: ``GET /health`` and ``POST /predict`` (200, the
   champion's version, a finite forecast).

Everything it started (podman's API service, the cloud, start-api) is stopped on exit, on an error and on
SIGINT/SIGTERM too. Exit codes: 0 every check passed; 1 a check or a step failed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
EVENTS = PROJECT / "events"
SAM_DIR = PROJECT / ".aws-sam" / "sam-local"
BUILD_DIR = SAM_DIR / "build"
IMAGE = "public.ecr.aws/lambda/python:3.12-x86_64"
# The small model of the integration tests: the subject here is the SAM CLI, not the model's quality
OVERRIDES = ("EnsembleSize=1", "BoostingRounds=100")
ENDPOINT_HOST = {"podman": "host.containers.internal", "docker": "host.docker.internal"}


class CheckError(Exception):
    """A step or a check failed; the message says which and what came back."""


def log(message: str) -> None:
    print(f"sam-local: {message}", file=sys.stderr, flush=True)


def tail(text: str | bytes | None, lines: int = 40) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").rstrip().splitlines()[-lines:])


def run(step: str, command: list[str], *, timeout_s: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``command``; a non-zero exit or a timeout is a CheckError naming ``step`` with the output's tail."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False, **kwargs)
    except subprocess.TimeoutExpired as exc:
        raise CheckError(f"{step}: no answer within {timeout_s:.0f} s\n{tail(exc.stdout)}\n{tail(exc.stderr)}") from exc
    except FileNotFoundError as exc:
        raise CheckError(f"{step}: {exc}") from exc
    if done.returncode != 0:
        raise CheckError(f"{step}: exit {done.returncode}\n{tail(done.stdout)}\n{tail(done.stderr)}")
    return done


def expect(step: str, condition: bool, what: str, got: Any) -> None:
    if not condition:
        raise CheckError(f"{step}: expected {what}, got {json.dumps(got, default=str)[:2000]}")


def stop_process(process: subprocess.Popen[Any], name: str, first: int = signal.SIGTERM, wait_s: float = 20) -> None:
    """Signal the process group ``process`` leads, then kill it when it has not exited within ``wait_s``."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, first)
    try:
        process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop within {wait_s:.0f} s: killed")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# ---------------------------------------------------------------- the container engine


def docker_engine_runs() -> bool:
    if not shutil.which("docker"):
        return False
    with contextlib.suppress(subprocess.TimeoutExpired):
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False).returncode == 0
    return False


def choose_engine() -> str:
    engine = os.environ.get("SAM_LOCAL_ENGINE", "auto")
    if engine == "auto":
        return "docker" if docker_engine_runs() else "podman"
    if engine == "docker" and not docker_engine_runs():
        raise CheckError("SAM_LOCAL_ENGINE=docker, but `docker info` fails: no Docker engine runs here")
    if engine not in ENDPOINT_HOST:
        raise CheckError(f"SAM_LOCAL_ENGINE={engine!r}: expected docker, podman or auto")
    return engine


def lambda_python(sam: str) -> str:
    """The Python 3.12 to copy into the image: the tools environment's base interpreter (the Makefile's PYTHON)."""
    probe = "import sys; print(sys.base_prefix + '/bin/python3.12' if sys.version_info[:2] == (3, 12) else '')"
    for python in (os.environ.get("SAM_LOCAL_PYTHON"), str(Path(sam).parent / "python"), "python3.12"):
        if not python or not shutil.which(python):
            continue
        found = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False).stdout.strip()
        if found and Path(found).exists():
            return found
    raise CheckError("no Python 3.12 to copy into the Lambda image (set SAM_LOCAL_PYTHON)")


def sam_containers() -> set[str]:
    """The ids of the containers ``sam local`` started through podman (SAM labels them)."""
    listed = subprocess.run(["podman", "ps", "-aq", "--filter", "label=sam.cli.container.type"],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    return set(listed.stdout.split())


@contextlib.contextmanager
def podman_service(work: Path) -> Iterator[str]:
    """podman's Docker-compatible API on ``work/podman.sock`` until the block ends: the ``DOCKER_HOST``.

    On the way out, the containers SAM started in the block and left (an interrupted invoke) are removed.
    """
    socket_path = work / "podman.sock"
    before = sam_containers()
    with (work / "podman-service.log").open("w") as out:
        process = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{socket_path}"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise CheckError(f"podman system service exited with {process.returncode}:\n"
                                 f"{tail((work / 'podman-service.log').read_text())}")  # fmt: skip
            if socket_path.exists():
                with socket.socket(socket.AF_UNIX) as probe, contextlib.suppress(OSError):
                    probe.connect(str(socket_path))
                    break
            if time.monotonic() > deadline:
                raise CheckError("podman system service: no socket within 60 s")
            time.sleep(0.1)
        yield f"unix://{socket_path}"
    finally:
        left = sorted(sam_containers() - before)
        if left:
            log(f"removing {len(left)} container(s) sam local left: {' '.join(c[:12] for c in left)}")
            subprocess.run(["podman", "rm", "-f", *left], capture_output=True, timeout=120, check=False)
        stop_process(process, "podman system service")


# ---------------------------------------------------------------- the SAM CLI


def sam_env(sam: str, docker_host: str | None) -> dict[str, str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    env["PATH"] = f"{Path(sam).parent}:{env.get('PATH', '')}"  # the tools environment's python3.12 for sam build
    # The cloud accepts any credentials; SAM passes the caller's to the containers
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("AWS_REGION", env["AWS_DEFAULT_REGION"])
    env.pop("AWS_ENDPOINT_URL", None)  # the containers get it from --env-vars, SAM itself needs no endpoint
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    return env


def sam_binary() -> str:
    sam = os.environ.get("SAM") or str(PROJECT / ".venv-tools/bin/sam")
    if not Path(sam).exists() and not shutil.which(sam):
        raise CheckError(f"no SAM CLI at {sam} (make tools-venv installs it)")
    return sam


def invoke_args(engine: str, env_file: Path) -> list[str]:
    args = ["--template", str(BUILD_DIR / "template.yaml"), "--env-vars", str(env_file)]
    if engine == "podman":
        args.append("--skip-pull-image")  # no registry here: the image built by podman_image.sh
    else:  # Docker on Linux has no host.docker.internal of its own
        args += ["--add-host", "host.docker.internal:host-gateway"]
    return args


def invoke(sam: str, env: dict[str, str], extra: list[str], function: str, event: Path) -> Any:
    """``sam local invoke FUNCTION -e EVENT``: the handler's return value (SAM prints it as the last line).

    A function that runs past its template Timeout is invoked once more: a cold start (ServingFunction has
    10 s) can exceed it on a machine whose cores other jobs hold; a second timeout fails the check."""
    shown = event.relative_to(PROJECT) if event.is_relative_to(PROJECT) else event.name
    step = f"sam local invoke {function} -e {shown}"
    for attempt in (1, 2):
        done = run(step, [sam, "local", "invoke", function, "-e", str(event), *extra], timeout_s=600, env=env,
                   cwd=PROJECT)  # fmt: skip
        timed_out = re.search(r"timed out after \d+ seconds", done.stdout + done.stderr)
        if not timed_out or attempt == 2:
            break
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        log(f"  {function} {timed_out.group(0)} (load average {load:.1f} on {os.cpu_count()} CPUs): once more")
    report = re.search(r"REPORT RequestId: \S+\s+(.*)", done.stdout + done.stderr)
    if report:
        log(f"  {function}: {' '.join(report.group(1).split())}")
    lines = [line for line in done.stdout.strip().splitlines() if line.strip()]
    try:
        answer = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as exc:
        raise CheckError(f"{step}: no JSON answer on stdout:\n{tail(done.stdout)}\n{tail(done.stderr)}") from exc
    if isinstance(answer, dict) and "errorType" in answer:
        raise CheckError(f"{step}: the handler failed: {answer.get('errorType')}: {answer.get('errorMessage')}\n"
                         f"{tail(done.stderr)}")  # fmt: skip
    return answer


def http(method: str, url: str, body: bytes | None = None, timeout_s: float = 300) -> tuple[int, Any]:
    if not url.startswith("http://127.0.0.1:"):
        raise CheckError(f"{url}: only sam local start-api on 127.0.0.1 is asked")
    request = urllib.request.Request(url, data=body, method=method, headers={"content-type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except json.JSONDecodeError:
        return status, raw.decode(errors="replace")


def http_cold(method: str, url: str, body: bytes | None = None) -> tuple[int, Any]:
    """``http``, once more when start-api answers 502 (the function ran past its Timeout: a cold start on a
    busy machine, as ``invoke`` retries it); the warm container answers the second time."""
    status, answer = http(method, url, body)
    if status == 502:
        log(f"  {method} {url}: 502 {answer} (a cold start past the Timeout?): once more")
        status, answer = http(method, url, body)
    return status, answer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def start_api(sam: str, env: dict[str, str], extra: list[str], work: Path) -> Iterator[str]:
    port = free_port()
    log_path = work / "start-api.log"
    command = [sam, "local", "start-api", "--port", str(port), "--warm-containers", "LAZY", *extra]
    with log_path.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   cwd=PROJECT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise CheckError(f"sam local start-api exited with {process.returncode}:\n{tail(log_path.read_text())}")
            with socket.socket() as probe, contextlib.suppress(OSError):
                probe.connect(("127.0.0.1", port))
                break
            if time.monotonic() > deadline:
                raise CheckError(f"sam local start-api: not listening within 300 s:\n{tail(log_path.read_text())}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        # SIGINT is how SAM stops: it removes its warm containers on the way out
        stop_process(process, "sam local start-api", first=signal.SIGINT, wait_s=60)


def build_inputs_digest(sam: str) -> str:
    """A digest of what ``sam build`` reads: template.yaml, the functions', layers' and serving's files, the SAM CLI."""
    digest = hashlib.sha256(sam.encode())
    files = [PROJECT / "template.yaml"]
    for folder in ("functions", "layers", "serving"):
        files += sorted(p for p in (PROJECT / folder).rglob("*") if p.is_file())
    for path in files:
        if "__pycache__" in path.parts or ".mypy_cache" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(str(path.relative_to(PROJECT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def sam_build(sam: str, env: dict[str, str]) -> None:
    """``sam build`` into .aws-sam/sam-local, skipped when nothing it reads changed since the last success."""
    stamp = SAM_DIR / "inputs.sha256"
    digest = build_inputs_digest(sam)
    built = (BUILD_DIR / "template.yaml").exists() and stamp.exists() and stamp.read_text() == digest
    if built and not os.environ.get("SAM_LOCAL_REBUILD"):
        log(f"  unchanged since the last build: {BUILD_DIR.relative_to(PROJECT)} (SAM_LOCAL_REBUILD=1 rebuilds)")
        return
    stamp.unlink(missing_ok=True)
    run("sam build", [sam, "build", "--cached", "--build-dir", str(BUILD_DIR), "--cache-dir", str(SAM_DIR / "cache")],
        timeout_s=1800, env=env, cwd=PROJECT)  # fmt: skip
    stamp.write_text(digest)


# ---------------------------------------------------------------- the checks


def check_plan(answer: Any, locations: list[str], s3: Any, bucket: str) -> None:
    """The window, and the deployed locations: in the answer, or in the Map's items Plan wrote to S3."""
    step = "PlanFunction"
    expect(step, isinstance(answer, dict), "the plan as a JSON object", answer)
    for key in ("run_id", "now", "window_end"):
        expect(step, key in answer, f"a {key!r} field", answer)
    if "items_key" in answer:  # the Distributed Map's items, written by the function in the container
        items = json.loads(s3.get_object(Bucket=bucket, Key=answer["items_key"])["Body"].read())
        planned = [item.get("location") for item in items]
        where = f"s3://{bucket}/{answer['items_key']}"
    else:
        planned, where = list(answer.get("locations") or []), "the answer"
    expect(step, planned == locations, f"the deployed locations {locations} in {where}", planned)
    log(f"  PlanFunction: window {answer.get('window_start')} .. {answer['window_end']}, {planned} in {where}")


def check_ingest(answer: Any, event: dict[str, Any]) -> None:
    step = "IngestFunction"
    expect(step, isinstance(answer, dict), "the ingest result as a JSON object", answer)
    expect(step, answer.get("location") == event["location"], f"location {event['location']}", answer)
    rows = answer.get("rows")
    expect(step, isinstance(rows, int) and rows > 0, "rows > 0 (the window's hours)", answer)
    log(f"  IngestFunction: {rows} rows of {answer['location']} at {answer.get('raw_key')}")


# The steps after the Map, their state names, and what each answer must hold (a type, or the value itself)
PIPELINE_STEPS = (
    ("TrainFunction", "Train", {"model_id": str, "candidate_key": str, "dataset_version": str}),
    ("RegisterFunction", "Register", {"promoted": bool, "challenger": dict, "champion_key": str}),
    ("ForecastFunction", "Forecast", {"count": int, "model_version": str}),
)


def write_event(directory: Path, name: str, event: Any) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(event, indent=2))
    return path


def check_answer(function: str, answer: Any, fields: dict[str, Any]) -> None:
    """Each field of ``fields`` in ``answer``: of that type (a class), or that value."""
    expect(function, isinstance(answer, dict), "a JSON object", answer)
    for name, wanted in fields.items():
        value = answer.get(name)
        ok = isinstance(value, wanted) if isinstance(wanted, type) else value == wanted
        expect(function, ok, f"{name!r}: {getattr(wanted, '__name__', wanted)!r}", answer)
        if isinstance(wanted, type) and wanted is str:
            expect(function, bool(value), f"{name!r} not empty", answer)
    shown = ", ".join(f"{name}={str(answer[name])[:40]}" for name in fields)
    log(f"  {function}: {shown}")


def gateway_body(step: str, answer: Any, status: int = 200) -> Any:
    """The body of an API Gateway proxy answer, checked for ``status``."""
    expect(step, isinstance(answer, dict) and answer.get("statusCode") == status, f"statusCode {status}", answer)
    try:
        return json.loads(answer.get("body") or "null")
    except json.JSONDecodeError as exc:
        raise CheckError(f"{step}: the body is not JSON: {answer.get('body')!r:.500}") from exc


def check_health(step: str, status: int, body: Any) -> None:
    expect(step, status == 200, "200", {"status": status, "body": body})
    expect(step, isinstance(body, dict) and body.get("status") == "ok", '{"status": "ok", ...}', body)
    log(f"  {step}: 200 {body}")


def check_predict(step: str, status: int, body: Any, champion: str, location: str) -> None:
    expect(step, status == 200, "200", {"status": status, "body": body})
    expect(step, isinstance(body, dict), "a forecast object", body)
    value = body.get("value")
    expect(step, isinstance(value, int | float) and math.isfinite(value), "a finite value", body)
    expect(step, str(body.get("model_version")) == champion, f"the champion's model_version {champion}", body)
    expect(step, body.get("location") == location, f"location {location}", body)
    log(f"  {step}: 200 {location} {body.get('target_time')} {value:.2f} (model {body['model_version']})")


# ---------------------------------------------------------------- the run


class Timer:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self.started = time.perf_counter()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        log(f"{name} ...")
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.steps.append((name, seconds))
        log(f"{name}: {seconds:.1f} s")

    def summary(self) -> str:
        total = time.perf_counter() - self.started
        return f"{total:.0f} s (" + ", ".join(f"{name} {s:.0f} s" for name, s in self.steps) + ")"


def on_signal(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def check(args: argparse.Namespace, work: Path, stack: contextlib.ExitStack) -> str:
    timer = Timer()
    sam = sam_binary()
    with timer.step("engine"):
        engine = choose_engine()
        docker_host = None
        if engine == "podman":
            script = str(HERE / "podman_image.sh")
            run("installing podman (apt-get)", ["bash", script, "install"], timeout_s=900)
            log(f"  the Lambda image {IMAGE} (built once, then cached)")
            run("building the Lambda image", ["bash", script, "image", lambda_python(sam)], timeout_s=1800)
            docker_host = stack.enter_context(podman_service(work))
        log(f"  {engine}{' at ' + docker_host if docker_host else ''}")
    env = sam_env(sam, docker_host)
    with timer.step("sam build"):
        sam_build(sam, env)
    with timer.step("rps up --host 0.0.0.0"):
        from rps_local.emulator.process import CloudProcess  # the project's environment (.venv)

        # every interface: the containers reach the host through its bridge address (a sandbox, a CI runner)
        cloud = CloudProcess(PROJECT, work / "cloud", "--host", "0.0.0.0", "--parameter-overrides", *OVERRIDES)  # noqa: S104
        try:
            stack.enter_context(cloud.start(timeout_s=300))
        except Exception as exc:
            raise CheckError(f"rps up: {exc}") from exc
        log(f"  {cloud.endpoints['aws_endpoint_url']}")
    with timer.step("rps run (a champion)"):
        done = cloud.rps("run", "--timeout", "900", "--output", "json", timeout_s=960)
        if done.returncode != 0:
            raise CheckError(f"rps run: exit {done.returncode}\n{tail(done.stdout)}\n{tail(done.stderr)}")
        execution = json.loads(done.stdout)
        log(f"  {execution['status']} {execution['name']} in {execution['duration_s']:.1f} s")
        pointer = json.loads(cloud.client.client("s3").get_object(
            Bucket=cloud.client.physical_id("ModelBucket"), Key="champion/pointer.json")["Body"].read())  # fmt: skip
        champion = str(pointer["model_version"])
    env_file = work / "env.json"
    with timer.step("rps env-vars"):
        done = cloud.rps("env-vars", "--endpoint-host", ENDPOINT_HOST[engine], "--out", str(env_file))
        if done.returncode != 0:
            raise CheckError(f"rps env-vars: exit {done.returncode}\n{tail(done.stderr)}")
        done = cloud.rps("env-vars", "--check", str(env_file))  # what a user runs before reusing a file
        if done.returncode != 0:
            raise CheckError(f"rps env-vars --check: exit {done.returncode}\n{tail(done.stderr)}")
        plan_env = json.loads(env_file.read_text())["PlanFunction"]
        log(f"  AWS_ENDPOINT_URL={plan_env['AWS_ENDPOINT_URL']} DATA_BUCKET={plan_env['DATA_BUCKET']}")
    extra = invoke_args(engine, env_file)
    locations = [spec.split(":")[0] for spec in plan_env["LOCATIONS"].split(",") if spec]
    with timer.step("sam local invoke"):
        plan = invoke(sam, env, extra, "PlanFunction", EVENTS / "plan.json")
        check_plan(plan, locations, cloud.client.client("s3"), plan_env["DATA_BUCKET"])
        ingest_event = json.loads((EVENTS / "ingest.json").read_text())
        ingested = invoke(sam, env, extra, "IngestFunction", EVENTS / "ingest.json")
        check_ingest(ingested, ingest_event)
        # the rest of the pipeline, each step with what the state machine gave it: the Map's steps chained
        # from Ingest's answer (as a child execution passes them on), the others with `rps events`: their
        # inputs in the execution's history (real dataset versions, model ids, Map results in this cloud's S3)
        events = work / "events"
        done = cloud.rps("events", "--out", str(events), "--execution", execution["arn"], "--output", "json")
        if done.returncode != 0:
            raise CheckError(f"rps events: exit {done.returncode}\n{tail(done.stderr)}")
        written = json.loads(done.stdout)["files"]
        gated = invoke(sam, env, extra, "QualityGateFunction", write_event(events, "quality_gate", ingested))
        check_answer("QualityGateFunction", gated, {"quality_key": str, "passed": True})
        transformed = invoke(sam, env, extra, "TransformFunction", write_event(events, "transform", gated))
        check_answer("TransformFunction", transformed, {"dataset_version": str, "dataset_prefix": str})
        for function, state, fields in PIPELINE_STEPS:
            check_answer(function, invoke(sam, env, extra, function, Path(written[state])), fields)
        drift = invoke(sam, env, extra, "DriftFunction", EVENTS / "drift.json")
        check_answer("DriftFunction", drift, {"status": str, "window_end": str})
        health = invoke(sam, env, extra, "ServingFunction", EVENTS / "serving_health.json")
        check_health("ServingFunction GET /health (invoke)", 200, gateway_body("ServingFunction /health", health))
        predict_event = json.loads((EVENTS / "serving_predict.json").read_text())
        location = json.loads(predict_event["body"])["location"]
        answer = invoke(sam, env, extra, "ServingFunction", EVENTS / "serving_predict.json")
        body = gateway_body("ServingFunction /predict", answer)
        check_predict("ServingFunction POST /predict (invoke)", 200, body, champion, location)
    if not args.skip_start_api:
        with timer.step("sam local start-api"), start_api(sam, env, extra, work) as api:
            log(f"  {api}")
            check_health("GET /health (start-api)", *http_cold("GET", f"{api}/health"))
            status, body = http_cold("POST", f"{api}/predict", predict_event["body"].encode())
            check_predict("POST /predict (start-api)", status, body, champion, location)
    return timer.summary()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-start-api", action="store_true", help="only sam local invoke")
    parser.add_argument("--keep-logs", action="store_true", help="keep the work directory (logs, env.json)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, on_signal)
    work = Path(tempfile.mkdtemp(prefix="sam-local-"))
    try:
        with contextlib.ExitStack() as stack:
            summary = check(args, work, stack)
    except CheckError as exc:
        log(f"FAILED: {exc}")
        if any(work.iterdir()):
            log(f"logs (podman's service, the cloud, start-api) in {work}")
        else:
            work.rmdir()
        return 1
    except KeyboardInterrupt:
        shutil.rmtree(work, ignore_errors=True)
        log("interrupted; everything it started is stopped")
        return 130
    log(f"OK: every function (Serving: /health, /predict) through the SAM CLI against the local cloud in {summary}")
    if args.keep_logs:
        log(f"logs in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
