"""What layers/common/Makefile leaves out of CoreLayer is never imported by the functions that use the layer:
a fresh process that refuses those modules imports what Train (scikit-learn, scipy, skl2onnx, onnx),
Forecast and serving (onnxruntime) and the library import. (numpy/f2py was once trimmed from the layer, and
scipy's array-API layer, which reads every numpy attribute, failed to import on Lambda.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Lambda's Python runtime ships these (/var/runtime): the layer leaves them out, the functions still have them
RUNTIME = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six")
IMPORTS = (
    "sklearn.ensemble",
    "scipy.stats",
    "skl2onnx",
    "onnx.reference",
    "onnxruntime",
    "rps_core.training.train",
    "rps_core.forecasts.service",
)
SCRIPT = """
import importlib, importlib.abc, sys
REMOVED = tuple(m for m in sys.argv[1].split(",") if m)

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in REMOVED or name.startswith(tuple(r + "." for r in REMOVED)):
            raise ImportError(f"{name} is not in CoreLayer")
        return None

sys.meta_path.insert(0, Refuse())
for module in sys.argv[2:]:
    importlib.import_module(module)
print("ok")
"""


def removed_modules() -> list[str]:
    """The Makefile's UNUSED paths that are Python packages under site-packages, as module names."""
    text = (ROOT / "layers" / "common" / "Makefile").read_text()
    unused = re.search(r"^UNUSED := (.*?)(?<!\\)$", text, re.S | re.M)
    assert unused, "layers/common/Makefile has no UNUSED list"
    paths = unused.group(1).replace("\\\n", " ").split()
    return [
        p.replace("/", ".")
        for p in paths
        if re.fullmatch(r"[a-z_][a-z0-9_]*(/[a-z0-9_]+)*", p) and not p.startswith("bin")
    ]


def test_the_layers_trim_removes_nothing_the_functions_import():
    removed = removed_modules()
    assert "botocore" in removed and "numpy.f2py" not in removed
    refused = [m for m in removed if m not in RUNTIME]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(refused), *IMPORTS],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
