"""What `rps run` and `rps backfill` print: the states, the execution's output as JSON, then a final status
line (``SUCCEEDED run-… in 35.2 s``)."""

from __future__ import annotations

import json
from typing import Any


def execution_output(stdout: str) -> Any:
    """The JSON document in a run's stdout (the first one; the status line after it is not part of it)."""
    document, _ = json.JSONDecoder().raw_decode(stdout[stdout.index("{") :])
    return document
