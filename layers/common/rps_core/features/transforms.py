"""Causal building blocks on 1-D float64 arrays: the value at t depends only on positions <= t.

Missing values (NaN) propagate through lags and differences; rolling statistics use the valid values in
the window and are NaN when fewer than ``min_count`` of them are valid.
"""

from __future__ import annotations

import numpy as np


def lag(x: np.ndarray, k: int) -> np.ndarray:
    """x(t - k), NaN for the first k positions."""
    if k == 0:
        return x.copy()
    out = np.full_like(x, np.nan)
    if k < x.shape[0]:
        out[k:] = x[:-k]
    return out


def diff(x: np.ndarray, k: int) -> np.ndarray:
    """x(t) - x(t - k)."""
    return x - lag(x, k)


def _windows(x: np.ndarray, window: int) -> np.ndarray:
    """View [n, window] of the trailing windows, NaN-padded before the start.

    Each row is computed from its own window only (no running sums), so a prediction made from the last
    HISTORY_HOURS observations gives bit-for-bit the features that training computed on the full history.
    """
    padded = np.concatenate((np.full(window - 1, np.nan), x))
    return np.lib.stride_tricks.sliding_window_view(padded, window)


def _counts(w: np.ndarray) -> np.ndarray:
    return np.count_nonzero(~np.isnan(w), axis=1)


def rolling_mean(x: np.ndarray, window: int, min_count: int | None = None) -> np.ndarray:
    """Mean of the valid values in the trailing window (NaN when fewer than ``min_count`` are valid)."""
    need = max(1, window // 2) if min_count is None else min_count
    w = _windows(x, window)
    n = _counts(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= need, np.nansum(w, axis=1) / n, np.nan)


def rolling_std(x: np.ndarray, window: int, min_count: int | None = None) -> np.ndarray:
    """Population standard deviation of the valid values in the trailing window."""
    need = max(2, window // 2) if min_count is None else max(2, min_count)
    w = _windows(x, window)
    n = _counts(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(w, axis=1) / n
        var = np.nansum((w - mean[:, None]) ** 2, axis=1) / n
        return np.where(n >= need, np.sqrt(var), np.nan)


def rolling_sum(x: np.ndarray, window: int, min_count: int | None = None) -> np.ndarray:
    """Sum of the valid values in the trailing window, scaled up for missing ones (mean * window)."""
    return rolling_mean(x, window, min_count) * window
