"""Distribution distances between live samples and a training reference kept as a histogram.

The champion pointer keeps, per feature, ``{min, max, edges, counts}`` (numpy-style edges, one more than
counts). Everything here works from that histogram alone, so monitoring never needs the training rows.

- PSI (population stability index) over the reference bins merged into about ``PSI_BINS`` bins of equal
  reference mass, plus two open bins for values below/above the reference range (where the reference has
  no mass, so a season the model never saw counts fully). Empty bins get ``EPSILON`` so the log is finite.
- KS: the Kolmogorov-Smirnov statistic max |F_live - F_ref| at the reference's bin edges, where the
  histogram gives F_ref exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rps_core.errors import ModelError

# Conventional PSI bands: < 0.1 stable, 0.1-0.25 moderate shift (warn), >= 0.25 significant shift (drift).
PSI_WARN = 0.1
PSI_DRIFT = 0.25
PSI_BINS = 10
EPSILON = 1e-4


@dataclass(frozen=True)
class ReferenceHistogram:
    """A feature's training distribution: ``edges`` (n + 1, increasing) and ``counts`` (n, >= 0)."""

    edges: np.ndarray
    counts: np.ndarray

    @classmethod
    def from_pointer(cls, name: str, entry: Mapping[str, Any]) -> ReferenceHistogram:
        """Parse one ``reference`` entry of the champion pointer; raises ModelError when malformed."""
        try:
            edges = np.asarray(entry["edges"], dtype="float64")
            counts = np.asarray(entry["counts"], dtype="float64")
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"champion reference for {name!r}: needs numeric 'edges' and 'counts' ({exc})") from exc
        if edges.ndim != 1 or counts.ndim != 1 or edges.size != counts.size + 1 or counts.size == 0:
            raise ModelError(
                f"champion reference for {name!r}: {edges.size} edges for {counts.size} counts (need counts + 1)"
            )
        if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) < 0):
            raise ModelError(f"champion reference for {name!r}: edges must be finite and non-decreasing")
        if np.any(counts < 0) or not np.isfinite(counts).all() or counts.sum() <= 0:
            raise ModelError(f"champion reference for {name!r}: counts must be non-negative with a positive total")
        return cls(edges, counts)

    @property
    def total(self) -> float:
        return float(self.counts.sum())

    def coarsened(self, bins: int = PSI_BINS) -> ReferenceHistogram:
        """Merge adjacent bins so that each holds about ``1 / bins`` of the reference mass.

        PSI is conventionally taken over about ten bins; the pointer may keep finer ones, and with a week of
        live rows many fine bins would be empty by chance alone, which inflates PSI.
        """
        if self.counts.size <= bins:
            return self
        cum = np.cumsum(self.counts) / self.total
        # Close a merged bin at the first fine edge where the cumulative share passes each 1/bins step.
        cuts = np.unique(np.searchsorted(cum, np.arange(1, bins) / bins, side="left"))
        cuts = cuts[cuts < self.counts.size - 1]
        keep = np.concatenate(([0], cuts + 1, [self.counts.size]))
        counts = np.add.reduceat(self.counts, keep[:-1])
        return ReferenceHistogram(self.edges[keep], counts)


def _finite(sample: np.ndarray) -> np.ndarray:
    x = np.asarray(sample, dtype="float64").ravel()
    return x[np.isfinite(x)]


def psi(reference: ReferenceHistogram, sample: np.ndarray, bins: int = PSI_BINS, epsilon: float = EPSILON) -> float:
    """Population stability index of ``sample`` against ``reference`` (NaN values are ignored).

    Returns NaN when the sample has no finite value.
    """
    x = _finite(sample)
    if x.size == 0:
        return float("nan")
    ref = reference.coarsened(bins)
    inner = ref.edges[1:-1]
    # Bin 0 is below the reference range, bin k+1 above it; inside, numpy's right-open bins with the last
    # reference bin closed (a value equal to the reference maximum is inside, as np.histogram counts it).
    idx = np.searchsorted(inner, x, side="right") + 1
    idx[x < ref.edges[0]] = 0
    idx[x > ref.edges[-1]] = ref.counts.size + 1
    live = np.bincount(idx, minlength=ref.counts.size + 2) / x.size
    expected = np.concatenate(([0.0], ref.counts / ref.total, [0.0]))
    live, expected = np.maximum(live, epsilon), np.maximum(expected, epsilon)
    return float(np.sum((live - expected) * np.log(live / expected)))


def ks_statistic(reference: ReferenceHistogram, sample: np.ndarray) -> float:
    """max |F_sample - F_ref| over the reference's bin edges; NaN when the sample has no finite value.

    The edges are where the histogram knows the reference CDF exactly; between them any shape is a guess
    (a straight line overstates a normal tail by 0.05 inside a decile bin), so the statistic is the binned
    KS, a lower bound of the continuous one that converges to it as bins get finer.
    """
    x = np.sort(_finite(sample))
    if x.size == 0:
        return float("nan")
    f_ref = np.concatenate(([0.0], np.cumsum(reference.counts))) / reference.total
    f_live = np.searchsorted(x, reference.edges, side="left") / x.size
    # Mass beyond the last edge shows up at the last edge (F_ref = 1 there); mass below the first edge at
    # the first edge (F_ref = 0), so a sample entirely outside the range scores 1.
    f_live[-1] = np.searchsorted(x, reference.edges[-1], side="right") / x.size
    return float(np.max(np.abs(f_live - f_ref)))
