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
    padded = np.empty(x.shape[0] + window - 1)
    padded[: window - 1] = np.nan
    padded[window - 1 :] = x
    # as_strided is sliding_window_view without its argument checks (a third of a serving request's cost).
    return np.lib.stride_tricks.as_strided(padded, (x.shape[0], window), (padded.strides[0],) * 2, writeable=False)


def _valid_sums(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window: the count of valid values, their sum, and the validity mask (as np.nansum, computed once)."""
    missing = np.isnan(w)
    return w.shape[1] - missing.sum(axis=1), np.where(missing, 0.0, w).sum(axis=1), missing


def _from(first: int, tail: np.ndarray) -> np.ndarray:
    """``tail`` as the rows from ``first`` on of a full-length column, NaN before."""
    if not first:
        return tail
    out = np.full(first + tail.shape[0], np.nan)
    out[first:] = tail
    return out


def rolling_mean(x: np.ndarray, window: int, min_count: int | None = None, first: int = 0) -> np.ndarray:
    """Mean of the valid values in the trailing window (NaN when fewer than ``min_count`` are valid);
    rows before ``first`` are not computed (NaN)."""
    need = max(1, window // 2) if min_count is None else min_count
    n, total, _ = _valid_sums(_windows(x, window)[first:])
    with np.errstate(invalid="ignore", divide="ignore"):
        return _from(first, np.where(n >= need, total / n, np.nan))


def rolling_std(x: np.ndarray, window: int, min_count: int | None = None, first: int = 0) -> np.ndarray:
    """Population standard deviation of the valid values in the trailing window."""
    need = max(2, window // 2) if min_count is None else max(2, min_count)
    w = _windows(x, window)[first:]
    n, total, missing = _valid_sums(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        var = np.where(missing, 0.0, (w - mean[:, None]) ** 2).sum(axis=1) / n
        return _from(first, np.where(n >= need, np.sqrt(var), np.nan))


def rolling_sum(x: np.ndarray, window: int, min_count: int | None = None, first: int = 0) -> np.ndarray:
    """Sum of the valid values in the trailing window, scaled up for missing ones (mean * window)."""
    return rolling_mean(x, window, min_count, first) * window
