"""Memory of process trees through psutil (what ``rps status`` shows), on any system psutil supports."""

from __future__ import annotations

import os
import subprocess
import sys

from rps_local.emulator.procs import pss_mb, rss_mb, tree, tree_pss_mb, tree_rss_mb


def test_this_process_has_resident_memory() -> None:
    assert 5 < rss_mb(os.getpid()) < 100_000
    assert 0 < pss_mb(os.getpid()) <= rss_mb(os.getpid()) * 1.01


def test_a_tree_holds_the_children_and_their_memory() -> None:
    # a child that says when it has started, so its memory no longer grows while it is measured
    code = "import sys, time; print('ready', flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        assert {os.getpid(), child.pid} <= tree([os.getpid()])
        child_mb = rss_mb(child.pid)
        assert child_mb > 1
        assert tree_rss_mb([os.getpid()]) > rss_mb(os.getpid()) + child_mb / 2
        assert tree_pss_mb([os.getpid()]) > 0
    finally:
        child.kill()
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]
    assert child.pid not in tree([os.getpid()])


def test_a_process_that_is_gone_reads_as_nothing() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert rss_mb(gone.pid) == pss_mb(gone.pid) == 0.0
    assert tree([gone.pid]) == set() and tree_rss_mb([gone.pid]) == 0.0
