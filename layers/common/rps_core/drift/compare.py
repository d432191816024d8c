"""Per-feature drift of a live feature matrix against the champion's reference, and the drifted share."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rps_core.drift.stats import PSI_DRIFT, PSI_WARN, ReferenceHistogram, ks_statistic, psi

# Calendar encodings move with the date by construction: a week in October never looks like a year of
# training rows, which is the calendar advancing, not the world changing. The sun's position (elevation,
# insolation) is the calendar at a place, known years ahead. They are reported, not counted.
CALENDAR_FEATURE = re.compile(r"(^|_)(doy|day_of_year|dayofyear|month|week|season|year|sun|insolation)(_|$)")
# Below this many live values a feature's PSI is mostly sampling noise; it is reported as "no data".
MIN_ROWS = 24


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's distances; ``status`` is ``drift`` (PSI >= threshold), ``warn``, ``ok``, ``calendar``
    (not counted) or ``no data``."""

    name: str
    status: str
    psi: float
    ks: float
    rows: int
    reference_mean: float
    live_mean: float


@dataclass(frozen=True)
class DriftSummary:
    features: list[FeatureDrift]
    psi_threshold: float
    psi_warn: float
    missing_reference: list[str] = field(default_factory=list)

    @property
    def counted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.status in ("ok", "warn", "drift")]

    @property
    def drifted(self) -> list[str]:
        return [f.name for f in self.features if f.status == "drift"]

    @property
    def share(self) -> float:
        """Drifted features over the features that were compared (0 when none was)."""
        counted = self.counted
        return len(self.drifted) / len(counted) if counted else 0.0

    @property
    def max_psi(self) -> float:
        values = [f.psi for f in self.counted]
        return max(values) if values else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "psi_threshold": self.psi_threshold,
            "psi_warn": self.psi_warn,
            "share": self.share,
            "max_psi": self.max_psi,
            "drifted": self.drifted,
            "missing_reference": self.missing_reference,
            "features": [{k: _json_number(v) for k, v in asdict(f).items()} for f in self.features],
        }


def _json_number(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _status(name: str, rows: int, value: float, threshold: float, warn: float) -> str:
    if CALENDAR_FEATURE.search(name):
        return "calendar"
    if rows < MIN_ROWS or math.isnan(value):
        return "no data"
    if value >= threshold:
        return "drift"
    return "warn" if value >= warn else "ok"


def compare_features(
    reference: Mapping[str, Mapping[str, Any]],
    matrix: np.ndarray,
    names: Sequence[str],
    psi_threshold: float = PSI_DRIFT,
    psi_warn: float = PSI_WARN,
) -> DriftSummary:
    """Compare each column of ``matrix`` (rows x features named ``names``) with its reference histogram.

    Columns without a reference histogram are listed in ``missing_reference`` and not counted.
    """
    matrix = np.asarray(matrix, dtype="float64")
    if matrix.ndim != 2 or matrix.shape[1] != len(names):
        raise ValueError(f"feature matrix of shape {matrix.shape} does not match {len(names)} feature names")
    warn = min(psi_warn, psi_threshold)
    results: list[FeatureDrift] = []
    missing: list[str] = []
    for j, name in enumerate(names):
        entry = reference.get(name)
        # Training writes empty edges for a feature that was all missing: nothing to compare with.
        if not entry or not entry.get("edges"):
            missing.append(name)
            continue
        ref = ReferenceHistogram.from_pointer(name, entry)
        column = matrix[:, j]
        live = column[np.isfinite(column)]
        mids = (ref.edges[:-1] + ref.edges[1:]) / 2
        value = psi(ref, live)
        results.append(
            FeatureDrift(
                name=name,
                status=_status(name, live.size, value, psi_threshold, warn),
                psi=value,
                ks=ks_statistic(ref, live),
                rows=int(live.size),
                reference_mean=float(np.sum(mids * ref.counts) / ref.total),
                live_mean=float(live.mean()) if live.size else float("nan"),
            )
        )
    return DriftSummary(results, psi_threshold, warn, missing)
