"""``rps evaluate [--data FILE]``: the production training code on a whole data file, no cloud needed.

Trains the model exactly as the Train step does (features, pooled locations, 80/20 split in time order, ONNX
export with its parity check, the intervals' calibration) and prints MAE, RMSE, R², persistence MAE and skill,
overall and per location, and the 80% and 95% intervals' coverage and mean width per location and horizon,
measured on the last 20%: tables, or with ``--output json`` the document ``rps compare`` reads. The default
file is the embedded 2013 New York year. ``TARGET`` and ``HORIZON_HOURS`` are read from the environment like
the pipeline's, or given as options.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from rps_local.tools.cli.common import add_output

EXIT_CODES = "0 measured; 2 the data file or a setting cannot be read"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("evaluate", help="measure the training code on a data file (80/20 time split)")
    parser.add_argument("--data", type=Path, help="an Open-Meteo payload file (.json/.json.gz); default: embedded")
    parser.add_argument("--target", help="the variable to forecast (default: TARGET or temperature_2m)")
    parser.add_argument("--horizon", type=int, help="hours ahead (default: HORIZON_HOURS or 6)")
    add_output(
        parser,
        "target, horizon_hours, split, overall and per_location metrics (rps compare reads it), and intervals "
        "(coverage and width by horizon, and the calibration)",
    )
    parser.set_defaults(func=run)


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['target']} at {result['horizon_hours']} h, test {result['split']['test_start']} to "
        f"{result['split']['test_end']}",
        "| location | MAE | persistence MAE | skill | RMSE | rows |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in [*sorted(result["per_location"].items()), ("all", result["overall"])]:
        lines.append(
            f"| {name} | {s['mae']:.3f} | {s['persistence_mae']:.3f} | {s['skill']:.3f} | {s['rmse']:.3f} | {s['n']} |"
        )
    by_horizon = (result.get("intervals") or {}).get("by_horizon") or {}
    if by_horizon:
        lines += [
            "",
            "prediction intervals on the test rows (coverage: share of hours inside; width: mean, target unit)",
            "| location | horizon | 80% coverage | 80% width | 95% coverage | 95% width |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
    for horizon, measured in sorted(by_horizon.items(), key=lambda item: int(item[0])):
        for name, s in [*sorted(measured["per_location"].items()), ("all", measured["overall"])]:
            lines.append(
                f"| {name} | {horizon} h | {_percent(s['coverage_80'])} | {s['width_80']:.2f} | "
                f"{_percent(s['coverage_95'])} | {s['width_95']:.2f} |"
            )
    return "\n".join(lines)


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}%"


def run(args: argparse.Namespace) -> int:
    from rps_core.config import load_settings
    from rps_core.errors import RpsError
    from rps_core.training.evaluation import evaluate_file

    from rps_local.tools.cli.progress import Progress

    try:
        settings = load_settings()
        if args.target:
            settings = replace(settings, target=args.target)
        if args.horizon:
            settings = replace(settings, horizon_hours=args.horizon)
        what = args.data or "the embedded 2013 data"
        with Progress(f"training on {what} and measuring on its last 20%"):
            result = evaluate_file(args.data, settings)
    except RpsError as exc:
        print(f"rps evaluate: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1) if args.output == "json" else table(result))
    return 0
