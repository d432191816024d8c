"""tools/check_sizes.py on made-up `sam build` outputs: a function plus its layers against 250 MiB unzipped.

Large files are sparse (truncate), so a 200 MiB layer costs no disk and no time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import check_sizes  # noqa: E402

MIB = 1024 * 1024

BUILT_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Layers:
      - !Ref CoreLayer
Resources:
  CoreLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: CoreLayer}
  SmallFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: SmallFunction, Handler: app.lambda_handler}
  BigFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: BigFunction, Handler: app.lambda_handler}
  NoLayerFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: NoLayerFunction, Handler: app.lambda_handler, Layers: []}
"""


def _file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.truncate(size)


@pytest.fixture
def build(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(BUILT_TEMPLATE)
    _file(tmp_path / "CoreLayer" / "python" / "numpy" / "lib.so", 60 * MIB)
    _file(tmp_path / "SmallFunction" / "app.py", 1000)
    _file(tmp_path / "BigFunction" / "sklearn" / "big.so", 200 * MIB)
    _file(tmp_path / "NoLayerFunction" / "pkg" / "big.so", 240 * MIB)
    return tmp_path


def test_a_function_is_measured_with_the_layers_it_uses(build: Path) -> None:
    sizes, problems = check_sizes.measure(build)
    by_name = {s.name: s for s in sizes}
    assert problems == []
    assert by_name["SmallFunction"].layer_bytes == {"CoreLayer": 60 * MIB}
    assert by_name["SmallFunction"].total_bytes == 60 * MIB + 1000
    # GIVEN 200 MiB of code + the 60 MiB layer / THEN over the limit, though each part alone fits
    assert by_name["BigFunction"].total_bytes == 260 * MIB and not by_name["BigFunction"].ok
    # GIVEN an explicit empty Layers list / THEN the global layer is not counted
    assert by_name["NoLayerFunction"].layer_bytes == {} and by_name["NoLayerFunction"].ok


def test_the_command_fails_and_names_the_function_over_budget(build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_sizes.main([str(build)]) == 1
    out, err = capsys.readouterr()
    assert "BigFunction" in err and "OVER" in out
    assert "SmallFunction" not in err


def test_the_command_passes_when_every_function_fits(build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.truncate(build / "BigFunction" / "sklearn" / "big.so", 150 * MIB)
    assert check_sizes.main([str(build), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("| function |")
    assert "| BigFunction | 150.0 | 60.0 | 210.0 | 84% | ok |" in out


def test_a_function_that_sam_did_not_build_is_a_failure(build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # sam build only says "Skipping copy operation since source ... does not exist" for a missing CodeUri
    os.truncate(build / "BigFunction" / "sklearn" / "big.so", 1)
    (build / "SmallFunction" / "app.py").unlink()
    (build / "SmallFunction").rmdir()
    assert check_sizes.main([str(build)]) == 1
    assert "SmallFunction: no built code" in capsys.readouterr().err


def test_no_build_directory_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_sizes.main([str(tmp_path / "missing")]) == 1
    assert "run `sam build`" in capsys.readouterr().err


def test_symlinks_are_not_followed(build: Path) -> None:
    (build / "SmallFunction" / "link.so").symlink_to(build / "BigFunction" / "sklearn" / "big.so")
    small = {s.name: s for s in check_sizes.measure(build)[0]}["SmallFunction"]
    assert small.code_bytes < MIB


def _dist(site: Path, name: str, version: str, files: dict[str, int]) -> None:
    """A fake installed distribution: its files and a dist-info whose RECORD lists them."""
    info = site / f"{name}-{version}.dist-info"
    (info / "licenses").mkdir(parents=True)
    (info / "licenses" / "LICENSE.txt").write_text("license")
    rows = []
    for rel, size in files.items():
        _file(site / rel, size)
        rows.append(f"{rel},sha256=x,{size}")
    rows += [f"{info.name}/RECORD,,", f"{info.name}/licenses/LICENSE.txt,sha256=x,7", "../../bin/tool,sha256=x,1"]
    (info / "RECORD").write_text("\n".join(rows) + "\n")


def test_dedupe_drops_a_same_version_copy_of_a_layer_package(build: Path) -> None:
    import dedupe_build

    # GIVEN numpy 2.5.5 in the layer, the same numpy in BigFunction and another version in SmallFunction
    layer_site = build / "CoreLayer" / "python"
    _dist(layer_site, "numpy", "2.5.5", {"numpy/core.so": 40 * MIB, "numpy.libs/blas.so": 10 * MIB})
    _dist(build / "BigFunction", "numpy", "2.5.5", {"numpy/core.so": 40 * MIB, "numpy.libs/blas.so": 10 * MIB})
    _dist(build / "SmallFunction", "numpy", "2.4.0", {"numpy/core.so": 40 * MIB})
    _dist(build / "BigFunction", "scikit_learn", "1.9.1", {"sklearn/tree.so": MIB})
    before = {s.name: s.code_bytes for s in check_sizes.measure(build)[0]}
    # WHEN deduped
    lines, removed = dedupe_build.dedupe(build)
    # THEN BigFunction loses its numpy (files, dist-info and emptied dirs), keeps scikit-learn
    assert 50 * MIB <= removed < 50 * MIB + 4096  # the files, plus the dist-info RECORD lists
    assert not (build / "BigFunction" / "numpy").exists() and not (build / "BigFunction" / "numpy.libs").exists()
    assert not (build / "BigFunction" / "numpy-2.5.5.dist-info").exists()
    assert (build / "BigFunction" / "sklearn" / "tree.so").exists()
    after = {s.name: s.code_bytes for s in check_sizes.measure(build)[0]}
    assert before["BigFunction"] - after["BigFunction"] > 50 * MIB
    # AND a different version is kept and reported; the layer is untouched
    assert after["SmallFunction"] == before["SmallFunction"]
    assert "SmallFunction: kept numpy 2.4.0 (the layer has 2.5.5)" in lines
    assert (layer_site / "numpy" / "core.so").exists()


def test_dedupe_drops_the_sdk_that_lambdas_runtime_ships_from_layers_and_functions(build: Path) -> None:
    import dedupe_build

    # GIVEN botocore pulled into the layer by the X-Ray SDK, and boto3 into a function
    layer_site = build / "CoreLayer" / "python"
    _dist(layer_site, "botocore", "1.44.8", {"botocore/data/big.json": 30 * MIB})
    _dist(layer_site, "aws_xray_sdk", "2.15.0", {"aws_xray_sdk/core.py": MIB})
    _dist(build / "BigFunction", "boto3", "1.44.8", {"boto3/session.py": MIB})
    lines, removed = dedupe_build.dedupe(build)
    # THEN both go (the runtime's copies are on sys.path), the X-Ray SDK stays
    assert not (layer_site / "botocore").exists() and not (build / "BigFunction" / "boto3").exists()
    assert (layer_site / "aws_xray_sdk" / "core.py").exists()
    assert "CoreLayer: removed botocore 1.44.8 (30.0 MiB), Lambda's runtime ships it" in lines
    assert removed >= 31 * MIB


def test_dedupe_dry_run_changes_nothing(build: Path) -> None:
    import dedupe_build

    _dist(build / "CoreLayer" / "python", "numpy", "2.5.5", {"numpy/core.so": MIB})
    _dist(build / "BigFunction", "numpy", "2.5.5", {"numpy/core.so": MIB})
    lines, removed = dedupe_build.dedupe(build, dry_run=True)
    assert MIB <= removed < MIB + 4096 and lines[0].startswith("BigFunction: would remove numpy 2.5.5")
    assert (build / "BigFunction" / "numpy" / "core.so").exists()
