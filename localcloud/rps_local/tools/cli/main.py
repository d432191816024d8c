"""Entry point of the ``rps`` console script. Commands are the ``cmd_*`` modules of this package.

Each command module has ``register(subparsers)``; its docstring becomes the command's ``--help``
description and its ``EXIT_CODES`` (when it has one) the exit codes the help lists.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

import rps_local.tools.cli as cli_package
from rps_local.tools.cli.common import INTERRUPTED

# What every command shares: main() turns a LocalCloudError into one line on stderr and 2, Ctrl-C into 130.
DEFAULT_EXIT_CODES = "0 done; 2 bad input or no local cloud running (one line on stderr)"


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("rps")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _describe(parser: argparse.ArgumentParser, module: ModuleType) -> None:
    """The module's docstring as the description, and its exit codes as the epilog."""
    if parser.description is None and module.__doc__:
        parser.description = module.__doc__.replace("``", "").strip()
    codes = getattr(module, "EXIT_CODES", DEFAULT_EXIT_CODES)
    parser.epilog = f"exit codes: {codes}; {INTERRUPTED} interrupted (Ctrl-C)"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rps",
        description="The real-time predictive system's tools: the local cloud (rps up) and the commands that "
        "use it, and offline checks of data and models.",
        epilog="`rps COMMAND --help` describes a command and its exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{cli_package.__name__}.{info.name}")
            before = set(sub.choices)
            module.register(sub)
            for name in set(sub.choices) - before:
                _describe(sub.choices[name], module)
    return parser


def _never_fail_on_symbols() -> None:
    """Where stdout or stderr has no UTF-8 (a Windows console, PYTHONIOENCODING=ascii), a character it cannot
    encode prints as ``?`` instead of raising; the commands print ASCII there themselves (``progress.plain``)."""
    from rps_local.tools.cli.progress import unicode_ok

    for stream in (sys.stdout, sys.stderr):
        if not unicode_ok(stream) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def main(argv: list[str] | None = None) -> int:
    from rps_local.emulator.errors import LocalCloudError

    _never_fail_on_symbols()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LocalCloudError as exc:  # bad input or no cloud: one clear line, no traceback
        print(f"rps {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: a line, not a traceback
        print(f"rps {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
