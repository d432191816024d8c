"""``make bench``: run every ``bench/bench_*.py`` module's ``run() -> list[dict]`` and print one table.

.venv/bin/python -m bench                 # all of them
.venv/bin/python -m bench localcloud      # only bench_localcloud
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any


def discover(only: list[str]) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    if only:
        names = [n for n in names if n.removeprefix("bench_") in only or n in only]
    return names


def run_module(name: str) -> list[dict[str, Any]]:
    started = time.perf_counter()
    try:
        rows = importlib.import_module(f"bench.{name}").run()
    except Exception as exc:  # one broken benchmark must not hide the others
        traceback.print_exc()
        return [{"bench": name.removeprefix("bench_"), "error": f"{type(exc).__name__}: {exc}"[:200]}]
    print(f"# {name}: {len(rows)} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return [{"bench": name.removeprefix("bench_"), **row} for row in rows]


def render(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def main(argv: list[str]) -> int:
    rows: list[dict[str, Any]] = []
    for name in discover(argv):
        rows += run_module(name)
    print(render(rows))
    return 1 if any("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
