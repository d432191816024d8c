"""Remove from each built function the packages that its layers already ship at the same version.

`sam build` installs each function's requirements.txt on its own, so a function that needs scikit-learn
or onnxruntime gets its own numpy beside the CoreLayer's: about 53 MiB counted twice against Lambda's
250 MiB. Lambda puts the function's code (/var/task) before the layers (/opt/python) on sys.path, so the
function's copy wins; when both copies are the same version, dropping the function's changes nothing but
the size. A different version is left alone (and reported), since the function asked for it.

    python tools/dedupe_build.py [.aws-sam/build] [--dry-run]

It also removes, from layers and functions alike, the AWS SDK that Lambda's Python runtime already ships
(boto3, botocore and their dependencies, on sys.path after /opt/python): they arrive only as dependencies
(the X-Ray SDK's botocore for Powertools Tracer, 30 MiB) and nothing here needs another version of them.

Run after `sam build` and before `sam deploy` (`make sizes` does); it edits only .aws-sam/build.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cfn_template import load_template, resources_of_type

DIST_INFO = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+)\.dist-info$")
LAYER_SITE_DIRS = ("python", "python/lib/python3.12/site-packages")
# In Lambda's Python runtime (/var/runtime) already, by normalized distribution name
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "six")


@dataclass(frozen=True)
class Dist:
    name: str
    version: str
    site: Path
    dist_info: Path

    def files(self) -> list[Path]:
        """The files this distribution installed inside its site directory (from its RECORD)."""
        record = self.dist_info / "RECORD"
        if not record.is_file():
            return []
        found = []
        with record.open(newline="") as f:
            for row in csv.reader(f):
                if not row or row[0].startswith(("/", "..")):
                    continue
                path = self.site / row[0]
                if path.is_file() or path.is_symlink():
                    found.append(path)
        return found

    def size(self) -> int:
        return sum(os.lstat(p).st_size for p in self.files())


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def distributions(site: Path) -> dict[str, Dist]:
    """The distributions installed in a site directory, by normalized name."""
    dists: dict[str, Dist] = {}
    if site.is_dir():
        for entry in site.iterdir():
            match = DIST_INFO.match(entry.name)
            if match and entry.is_dir():
                name = _normalize(match["name"])
                dists[name] = Dist(name, match["version"], site, entry)
    return dists


def _layer_dists(layer_dir: Path) -> dict[str, Dist]:
    dists: dict[str, Dist] = {}
    for sub in LAYER_SITE_DIRS:
        dists.update(distributions(layer_dir / sub))
    return dists


def _prune_empty_dirs(root: Path) -> None:
    for dirpath, _dirs, _files in sorted(os.walk(root), key=lambda t: -len(t[0])):
        path = Path(dirpath)
        if path != root and not any(path.iterdir()):
            path.rmdir()


def _remove(dist: Dist, root: Path, dry_run: bool) -> int:
    size = dist.size()
    if not dry_run:
        for path in dist.files():
            path.unlink()
        shutil.rmtree(dist.dist_info, ignore_errors=True)
        _prune_empty_dirs(root)
    return size


def _runtime_provided(build_dir: Path, template: dict, dry_run: bool) -> tuple[list[str], int]:
    """Drop the AWS SDK packages the runtime ships from every layer and function."""
    lines: list[str] = []
    removed = 0
    roots = {
        name: build_dir / str((resource.get("Properties") or {}).get("CodeUri", name))
        for name, resource in resources_of_type(template, "AWS::Serverless::Function").items()
    }
    for name in resources_of_type(template, "AWS::Serverless::LayerVersion"):
        roots[name] = build_dir / name
    for name, root in sorted(roots.items()):
        sites = [root / sub for sub in LAYER_SITE_DIRS] + [root]
        for site in sites:
            for dist_name, dist in sorted(distributions(site).items()):
                if dist_name in RUNTIME_PROVIDED:
                    size = _remove(dist, root, dry_run)
                    removed += size
                    lines.append(
                        f"{name}: {'would remove' if dry_run else 'removed'} {dist_name} {dist.version} "
                        f"({size / 2**20:.1f} MiB), Lambda's runtime ships it"
                    )
    return lines, removed


def dedupe(build_dir: Path, dry_run: bool = False) -> tuple[list[str], int]:
    """Remove the runtime's SDK and same-version duplicates; returns (one line per removal, bytes removed)."""
    template = load_template(build_dir / "template.yaml")
    global_layers = ((template.get("Globals") or {}).get("Function") or {}).get("Layers") or []
    lines, removed = _runtime_provided(build_dir, template, dry_run)
    for name, resource in sorted(resources_of_type(template, "AWS::Serverless::Function").items()):
        props = resource.get("Properties") or {}
        code_dir = build_dir / str(props.get("CodeUri", name))
        layers = props.get("Layers", global_layers) or []
        refs = [ref["Ref"] for ref in layers if isinstance(ref, dict) and isinstance(ref.get("Ref"), str)]
        in_layers: dict[str, Dist] = {}
        for ref in refs:
            in_layers.update(_layer_dists(build_dir / ref))
        for dist_name, dist in sorted(distributions(code_dir).items()):
            layer_dist = in_layers.get(dist_name)
            if layer_dist is None:
                continue
            if layer_dist.version != dist.version:
                lines.append(f"{name}: kept {dist_name} {dist.version} (the layer has {layer_dist.version})")
                continue
            size = _remove(dist, code_dir, dry_run)
            lines.append(
                f"{name}: {'would remove' if dry_run else 'removed'} {dist_name} {dist.version} "
                f"({size / 2**20:.1f} MiB), the layer's copy is used"
            )
            removed += size
    return lines, removed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    dry_run = "--dry-run" in args
    paths = [a for a in args if a != "--dry-run"]
    build_dir = Path(paths[0] if paths else ".aws-sam/build")
    if not (build_dir / "template.yaml").is_file():
        print(f"{build_dir}: no built template; run `sam build` first", file=sys.stderr)
        return 1
    lines, removed = dedupe(build_dir, dry_run)
    for line in lines:
        print(line)
    print(f"dedupe: {removed / 2**20:.1f} MiB {'removable' if dry_run else 'removed'} from the layers and functions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
