"""Progress of long work on stderr, as the terminal can show it.

On a terminal, one line rewritten in place (a spinner and the seconds so far); anywhere else (a pipe, a
CI log, a file) plain lines: one when a phase starts, one when it ends with its duration. Where the
stream cannot encode them (no UTF-8), symbols become ASCII: ``->``, ``ok``, ``x``, ``|/-\\``.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress", "plain", "unicode_ok"]

_ASCII = {"→": "->", "✓": "ok", "✗": "x", "…": "...", "°": " deg", "\u00d7": "x", "÷": "/", "≈": "~", "\u2013": "-"}
_SPINNER_UTF8 = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_SPINNER_ASCII = "|/-\\"


def unicode_ok(stream: TextIO) -> bool:
    """Whether ``stream`` can show the symbols this command line prints (→ ✓ ✗ and the spinner)."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:  # an in-memory text stream (io.StringIO) holds any str
        return True
    try:
        ("".join(_ASCII) + _SPINNER_UTF8).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def plain(text: str, stream: TextIO) -> str:
    """``text`` with its symbols in ASCII when ``stream`` cannot encode them."""
    if unicode_ok(stream):
        return text
    for symbol, ascii_text in _ASCII.items():
        text = text.replace(symbol, ascii_text)
    return text


class Progress:
    """``with Progress("training"):`` shows the phase while it runs and how long it took."""

    def __init__(self, what: str, stream: TextIO | None = None, interval_s: float = 0.2) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._unicode = unicode_ok(self.stream)
        self._started = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        if self.live:
            self._thread = threading.Thread(target=self._spin, name="progress", daemon=True)
            self._thread.start()
        else:
            self._write(f"{self.what}...\n")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        seconds = time.monotonic() - self._started
        if kind is None:
            mark = "✓ " if self.live else ""
            ending = f"done in {seconds:.1f} s"
        else:
            mark = "✗ " if self.live else ""
            ending = "interrupted" if issubclass(kind, KeyboardInterrupt) else f"failed after {seconds:.1f} s"
        self._write(f"{self._clear()}{mark}{self.what}: {ending}\n")

    def _spin(self) -> None:
        frames = _SPINNER_UTF8 if self._unicode else _SPINNER_ASCII
        i = 0
        while not self._stop.wait(0 if i == 0 else self.interval_s):
            seconds = time.monotonic() - self._started
            self._write(f"{self._clear()}{frames[i % len(frames)]} {self.what} {seconds:.0f} s")
            i += 1

    def _clear(self) -> str:
        return "\r\033[K" if self.live else ""

    def _write(self, text: str) -> None:
        try:
            self.stream.write(plain(text, self.stream) if not self._unicode else text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stream: progress is never worth failing for
            pass
