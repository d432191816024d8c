"""What serving/Makefile leaves out of the package is never loaded: a fresh process that refuses those
imports loads a champion, answers /predict, /predict/batch, /health and /openapi.json, and never maps
onnxruntime's C API library."""

# The fixtures come from test_serving_model; pytest passes them back as arguments of the same names.
# ruff: noqa: F811

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.test_serving_model import TARGET, Trained, request_rows, trained  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
# serving/Makefile's UNUSED, as module names (and the shared library file it removes).
REMOVED = (
    "onnxruntime.transformers",
    "onnxruntime.quantization",
    "onnxruntime.tools",
    "onnxruntime.datasets",
    "onnxruntime.backend",
    "google.protobuf",
    "flatbuffers",
    "packaging",
)

SCRIPT = """
import importlib.abc, json, sys
REMOVED = tuple(sys.argv[1].split(","))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in REMOVED or name.startswith(tuple(r + "." for r in REMOVED)):
            raise ImportError(f"{name} is not in the serving package")
        return None

sys.meta_path.insert(0, Refuse())
from rps_serving.app import create_app
from rps_serving.config import load_config
from rps_serving.gateway import make_adapter
from rps_core.forecasts import load_model
from rps_serving.store import ModelStore

pointer, onnx, body, event = json.load(open(sys.argv[2])), open(sys.argv[3], "rb").read(), sys.argv[4], sys.argv[5]
store = ModelStore("models", check_seconds=3600)
store._current = load_model(pointer, onnx)  # as store.refresh() would, without S3
store._next_check = float("inf")
adapter = make_adapter(create_app(load_config({"MODEL_BUCKET": "models", "DATA_BUCKET": "data"}), store))
def call(method, path, body=None):
    e = json.load(open(event))
    e.update(rawPath=path, rawQueryString="", body=body)
    e.pop("queryStringParameters", None)
    e["requestContext"]["http"].update(method=method, path=path)
    return adapter(e, None)["statusCode"]
batch = json.dumps({"items": [json.loads(body)] * 3})
statuses = [call("POST", "/predict", body), call("POST", "/predict/batch", batch), call("GET", "/health"),
            call("GET", "/openapi.json")]
maps = open("/proc/self/maps").read()
print(json.dumps({"statuses": statuses, "c_api_mapped": "libonnxruntime.so" in maps,
                  "loaded": sorted(m for m in sys.modules if m.startswith(REMOVED))}))
"""


def test_the_package_serves_without_what_the_makefile_removes(trained: Trained, tmp_path: Path) -> None:
    (tmp_path / "pointer.json").write_text(json.dumps(trained.pointer()))
    (tmp_path / "model.onnx").write_bytes(trained.onnx)
    body = json.dumps({"location": "JFK", "observations": request_rows(trained.obs)})
    event = ROOT / "events" / "reference" / "apiGatewayProxyV2Event.json"
    paths = [ROOT / "layers" / "common", ROOT / "serving", os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in paths if str(p)), "TARGET": TARGET}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(REMOVED), str(tmp_path / "pointer.json"), str(tmp_path / "model.onnx"),
         body, str(event)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"statuses": [200, 200, 200, 200], "c_api_mapped": False, "loaded": []}


def test_the_makefile_removes_what_this_test_checks() -> None:
    removes = (ROOT / "serving" / "Makefile").read_text().split("UNUSED :=", 1)[1].split("\n\n", 1)[0].split()
    paths = {"google.protobuf": "google", **{m: m.replace(".", "/") for m in REMOVED if m != "google.protobuf"}}
    assert set(paths.values()) <= set(removes)
    assert "onnxruntime/capi/libonnxruntime.so.*" in removes
