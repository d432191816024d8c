"""profile.md: a data profile of a dataset version, with a summary per column (training logs it to MLflow)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rps_core.schema import UNITS, Observations


def column_summary(column: np.ndarray) -> dict[str, float | int | None]:
    observed = column[~np.isnan(column)]
    summary: dict[str, float | int | None] = {
        "observed": int(observed.size),
        "missing": int(column.size - observed.size),
    }
    if observed.size:
        p5, p50, p95 = np.percentile(observed, [5, 50, 95])
        summary |= {
            "min": float(observed.min()),
            "p5": float(p5),
            "median": float(p50),
            "mean": float(observed.mean()),
            "p95": float(p95),
            "max": float(observed.max()),
            "std": float(observed.std()),
        }
    return summary


def longest_missing_run(column: np.ndarray) -> int:
    missing = np.isnan(column).astype(np.int8)
    if not missing.any():
        return 0
    edges = np.diff(np.concatenate([[0], missing, [0]]))
    return int(np.max(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)))


def _fmt(value: Any) -> str:
    return "" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))


def render_profile(obs: Observations, manifest: dict[str, Any]) -> str:
    rows = max(len(obs), 1)
    masked = manifest.get("cleaning", {}).get("masked_out_of_range", {})
    lines = [
        f"# Data profile: {obs.location}, version {manifest['version'][:12]}",
        "",
        f"- hours: {manifest['rows']} ({manifest['time_start']} to {manifest['time_end']}, UTC), "
        f"target `{manifest['target']}`",
        f"- source objects: {len(manifest['source_objects'])}; sha256 `{manifest['sha256']}`",
        "",
        "| column | unit | observed | missing | missing % | masked | longest gap h | min | p5 | median | mean "
        "| p95 | max | std |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in sorted(obs.values):
        s = column_summary(obs.values[name])
        missing = int(s["missing"] or 0)
        stats = " | ".join(_fmt(s.get(k)) for k in ("min", "p5", "median", "mean", "p95", "max", "std"))
        lines.append(
            f"| {name} | {UNITS.get(name, '')} | {s['observed']} | {s['missing']} | {100 * missing / rows:.1f} "
            f"| {masked.get(name, 0)} | {longest_missing_run(obs.values[name])} | {stats} |"
        )
    lines += ["", "Missing = hours absent from the source plus null readings plus masked out-of-range values."]
    return "\n".join(lines) + "\n"
