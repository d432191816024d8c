"""Print an environment's ``parameter_overrides`` from samconfig.toml with more ``Key=Value`` pairs added.

``sam deploy --parameter-overrides`` replaces samconfig's list instead of merging with it (aws-sam-cli
#2380), so the deploy workflow passes the whole list plus what only the run knows::

    sam deploy --config-env prod --parameter-overrides "$(python tools/parameter_overrides.py prod GitCommit=$SHA)"

A key given here replaces the same key from samconfig.toml. Exit 2, naming the problem, on an unknown
environment or a malformed pair.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PAIR = re.compile(r"^([A-Za-z0-9]+)=(.*)$", re.DOTALL)


def merged(config: dict, env: str, extra: list[str]) -> list[str]:
    try:
        listed = config[env]["deploy"]["parameters"]["parameter_overrides"]
    except KeyError:
        raise ValueError(f"samconfig.toml has no [{env}.deploy.parameters] parameter_overrides") from None
    pairs = listed.split() if isinstance(listed, str) else list(listed)
    out: dict[str, str] = {}
    for item in [*pairs, *extra]:
        match = PAIR.match(item)
        if not match:
            raise ValueError(f"{item!r} is not Key=Value")
        out[match.group(1)] = item
    return list(out.values())


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print("usage: parameter_overrides.py ENV [Key=Value ...]", file=sys.stderr)
        return 2
    config = tomllib.loads((Path(__file__).resolve().parents[1] / "samconfig.toml").read_text())
    try:
        print(" ".join(merged(config, argv[0], argv[1:])))
    except ValueError as exc:
        print(f"parameter_overrides.py: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
