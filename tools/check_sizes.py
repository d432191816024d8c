"""Check every function of a `sam build` output against Lambda's 250 MiB unzipped limit, with its layers.

    python tools/check_sizes.py [.aws-sam/build] [--markdown]

Reads the built template (``template.yaml`` in the build directory) for the functions and the layers each
one uses (its own ``Layers`` or ``Globals.Function.Layers``), adds up the unzipped bytes of the function's
directory and of every layer's, and prints one row per function. Exits 1 when a function is over the
limit, or when a built directory is missing.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cfn_template import load_template, resources_of_type

LIMIT_BYTES = 250 * 1024 * 1024
MIB = 1024 * 1024


@dataclass
class FunctionSize:
    name: str
    code_bytes: int
    layer_bytes: dict[str, int]

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + sum(self.layer_bytes.values())

    @property
    def ok(self) -> bool:
        return self.total_bytes <= LIMIT_BYTES


def tree_bytes(path: Path) -> int:
    """Bytes of every regular file under ``path`` as Lambda unpacks them (symlinks not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            total += st.st_size
    return total


def _layer_ids(layers: Any) -> tuple[list[str], list[str]]:
    """(logical IDs of the template's own layers, other layer references such as ARNs)."""
    own: list[str] = []
    other: list[str] = []
    for layer in layers or []:
        if isinstance(layer, dict) and isinstance(layer.get("Ref"), str):
            own.append(layer["Ref"])
        else:
            other.append(str(layer))
    return own, other


def measure(build_dir: Path) -> tuple[list[FunctionSize], list[str]]:
    """The size of every built function with its layers, and the problems found on the way."""
    template = load_template(build_dir / "template.yaml")
    global_layers = ((template.get("Globals") or {}).get("Function") or {}).get("Layers")
    sizes: list[FunctionSize] = []
    problems: list[str] = []
    for name, resource in sorted(resources_of_type(template, "AWS::Serverless::Function").items()):
        props = resource.get("Properties") or {}
        if props.get("PackageType") == "Image":
            problems.append(f"{name}: an image function; its limit is 10 GB, not measured here")
            continue
        code_dir = build_dir / str(props.get("CodeUri", name))
        if not code_dir.is_dir():
            problems.append(f"{name}: no built code at {code_dir}")
            continue
        own, other = _layer_ids(props.get("Layers", global_layers))
        problems += [f"{name}: layer {ref} is not built here; its size is not counted" for ref in other]
        layer_bytes: dict[str, int] = {}
        for layer in own:
            layer_dir = build_dir / layer
            if not layer_dir.is_dir():
                problems.append(f"{name}: no built layer at {layer_dir}")
                continue
            layer_bytes[layer] = tree_bytes(layer_dir)
        sizes.append(FunctionSize(name, tree_bytes(code_dir), layer_bytes))
    return sizes, problems


def render(sizes: list[FunctionSize], markdown: bool = False) -> str:
    header = ["function", "code MiB", "layers MiB", "total MiB", "of 250 MiB", "status"]
    rows = [
        [
            s.name,
            f"{s.code_bytes / MIB:.1f}",
            f"{sum(s.layer_bytes.values()) / MIB:.1f}",
            f"{s.total_bytes / MIB:.1f}",
            f"{100 * s.total_bytes / LIMIT_BYTES:.0f}%",
            "ok" if s.ok else "OVER",
        ]
        for s in sizes
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] + ["---:"] * 4 + ["---"]) + " |"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:{'<' if i in (0, 5) else '>'}{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*r) for r in [header, *rows])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    markdown = "--markdown" in args
    paths = [a for a in args if a != "--markdown"]
    build_dir = Path(paths[0] if paths else ".aws-sam/build")
    if not (build_dir / "template.yaml").is_file():
        print(f"{build_dir}: no built template; run `sam build` (make sizes) first", file=sys.stderr)
        return 1
    sizes, problems = measure(build_dir)
    print(render(sizes, markdown))
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    over = [s.name for s in sizes if not s.ok]
    if over:
        print(f"over Lambda's 250 MiB unzipped limit: {', '.join(over)}", file=sys.stderr)
    return 1 if over or problems or not sizes else 0


if __name__ == "__main__":
    sys.exit(main())
