"""Resident memory of process trees (psutil: Linux, macOS, Windows alike): what the local cloud holds in RAM."""

from __future__ import annotations

from collections.abc import Iterable

import psutil

__all__ = ["pss_mb", "rss_mb", "tree", "tree_pss_mb", "tree_rss_mb"]

_MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    """Resident set size; 0 when the process is gone or cannot be read."""
    try:
        return psutil.Process(pid).memory_info().rss / _MB
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages divided among the processes that share them. Where the system has
    no PSS (macOS, Windows), the unique set size (pages no other process shares), else RSS."""
    try:
        process = psutil.Process(pid)
        try:
            full = process.memory_full_info()
        except psutil.AccessDenied:  # the full reading needs more rights on some systems
            return process.memory_info().rss / _MB
        return (getattr(full, "pss", None) or getattr(full, "uss", None) or full.rss) / _MB
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return 0.0


def tree(roots: Iterable[int]) -> set[int]:
    """``roots`` and all their living descendants."""
    seen: set[int] = set()
    for pid in roots:
        try:
            process = psutil.Process(pid)
            seen.add(pid)
            seen.update(child.pid for child in process.children(recursive=True))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return seen


def tree_rss_mb(roots: Iterable[int]) -> float:
    """The summed RSS of ``roots`` and all their descendants (shared pages counted in each: an upper bound)."""
    return sum(rss_mb(pid) for pid in tree(roots))


def tree_pss_mb(roots: Iterable[int]) -> float:
    """The summed PSS of the tree: what it really holds in RAM."""
    return sum(pss_mb(pid) for pid in tree(roots))
