"""Entry point of the ``rps`` console script. Commands are the ``cmd_*`` modules of this package."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import rps_local.cli as cli_package


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rps", description="The real-time predictive system's tools.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{cli_package.__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from rps_local.errors import LocalCloudError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LocalCloudError as exc:  # bad input or no cloud: one clear line, no traceback
        print(f"rps {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
