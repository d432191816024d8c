"""Resident memory of process trees, from /proc (Linux): what the local cloud holds in RAM."""

from __future__ import annotations

import os
from collections.abc import Iterable

__all__ = ["pss_mb", "rss_mb", "tree_pss_mb", "tree_rss_mb"]


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def _kb_field_mb(path: str, field: str) -> float:
    """The ``field:`` line of a /proc file (a size in kB) in MB; 0 when the process is gone."""
    try:
        with open(path, encoding="ascii") as lines:
            for line in lines:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mb(pid: int) -> float:
    return _kb_field_mb(f"/proc/{pid}/status", "VmRSS:")


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages divided among the processes that share them."""
    return _kb_field_mb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _tree(roots: Iterable[int]) -> set[int]:
    children = _children()
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        stack.extend(children.get(pid, []))
    return seen


def tree_rss_mb(roots: Iterable[int]) -> float:
    """The summed RSS of ``roots`` and all their descendants (shared pages counted in each: an upper bound)."""
    return sum(rss_mb(pid) for pid in _tree(roots))


def tree_pss_mb(roots: Iterable[int]) -> float:
    """The summed PSS of the tree: what it really holds in RAM."""
    return sum(pss_mb(pid) for pid in _tree(roots))
