"""``rps console``: the URL of the running cloud's console (``console_url`` in endpoints.json), opened in a
browser with ``--open``. The console is served by ``rps up`` itself; this command starts nothing."""

from __future__ import annotations

import argparse

from rps_local.emulator.errors import LocalCloudError
from rps_local.tools.cli.common import add_output, add_state_dir, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("console", help="print (or --open) the URL of the local cloud's web console")
    parser.add_argument("--open", action="store_true", help="open it in the default browser")
    add_output(parser, "console_url and opened (whether --open opened a browser)")
    add_state_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rps_local.emulator.endpoints import read_endpoints

    url = read_endpoints(args.state_dir).get("console_url")
    if not url:
        raise LocalCloudError("this local cloud serves no console (started by an older rps up?): restart it")
    opened = False
    if args.open:
        import webbrowser

        opened = webbrowser.open(url)
    if args.output == "json":
        print_json({"console_url": url, "opened": opened})
        return 0
    print(url)
    if args.open and not opened:
        print("no browser to open here: open the URL above", flush=True)
    return 0
