"""Training reference statistics per feature, which the drift monitor and serving's range checks use."""

from __future__ import annotations

from typing import Any

import numpy as np

BINS = 10


def reference_stats(x: np.ndarray, names: list[str], bins: int = BINS) -> dict[str, dict[str, Any]]:
    """Per feature: ``min``, ``max``, histogram ``edges`` (deciles of the training values, so that each bin
    holds about a tenth of them) and ``counts``. Missing values are left out; an all-missing feature has
    empty edges and counts."""
    out: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(names):
        col = x[:, j].astype(np.float64)
        col = col[~np.isnan(col)]
        if col.size == 0:
            out[name] = {"min": None, "max": None, "edges": [], "counts": []}
            continue
        edges = np.unique(np.quantile(col, np.linspace(0.0, 1.0, bins + 1)))
        if edges.size < 2:  # a constant feature: one bin around its value
            edges = np.array([edges[0], edges[0] + 1e-6])
        counts, _ = np.histogram(col, bins=edges)
        out[name] = {
            "min": float(np.min(col)),
            "max": float(np.max(col)),
            "edges": [float(e) for e in edges],
            "counts": [int(c) for c in counts],
        }
    return out
