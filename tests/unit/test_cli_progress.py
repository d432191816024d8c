"""Progress of long work: plain lines when not on a terminal, a line rewritten in place on one, and no
symbol a stream without UTF-8 cannot show."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rps_local.tools.cli.progress import Progress, plain, unicode_ok

ROOT = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class AsciiTerminal(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def _ascii_stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="ascii")


def test_not_on_a_terminal_one_line_at_the_start_and_one_at_the_end() -> None:
    out = io.StringIO()
    with Progress("training", stream=out):
        pass
    first, last = out.getvalue().splitlines()
    assert first == "training..."
    assert last.startswith("training: done in ") and last.endswith(" s")
    assert "\r" not in out.getvalue() and "\033" not in out.getvalue()


def test_on_a_terminal_the_line_is_rewritten_with_the_seconds() -> None:
    out = Terminal()
    with Progress("training", stream=out, interval_s=0.01):
        time.sleep(0.1)
    text = out.getvalue()
    assert text.count("\r") >= 3 and "training 0 s" in text
    assert text.endswith("✓ training: done in 0.1 s\n")


def test_a_failure_and_an_interruption_are_said() -> None:
    out = io.StringIO()
    with pytest.raises(ValueError), Progress("training", stream=out):
        raise ValueError
    assert out.getvalue().splitlines()[-1].startswith("training: failed after ")
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt), Progress("training", stream=out):
        raise KeyboardInterrupt
    assert out.getvalue().splitlines()[-1] == "training: interrupted"


def test_without_utf8_only_ascii() -> None:
    stream = _ascii_stream()
    assert not unicode_ok(stream) and unicode_ok(io.StringIO())
    assert plain("  → Plan", stream) == "  -> Plan" and plain("  ✓ Plan 0.10 s", stream) == "  ok Plan 0.10 s"
    assert plain("  → Plan", io.StringIO()) == "  → Plan"
    terminal = AsciiTerminal(io.BytesIO(), encoding="ascii")
    with Progress("training", stream=terminal, interval_s=0.01):
        time.sleep(0.05)
    shown = terminal.buffer.getvalue().decode("ascii")  # no spinner braille, no check mark
    assert "|" in shown and "ok training: done in " in shown


def test_a_command_on_an_ascii_console_prints_no_traceback() -> None:
    # GIVEN stdout and stderr that only take ASCII (PYTHONIOENCODING=ascii), WHEN a help with R² in it prints
    done = subprocess.run(
        [sys.executable, "-m", "rps_local.tools.cli.main", "evaluate", "--help"],
        capture_output=True,
        env={"PYTHONIOENCODING": "ascii", "PYTHONPATH": ":".join(sys.path), "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
