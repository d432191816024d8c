"""How many rejected locations a run tolerates: one bad station does not stop the others' forecasts, but a
run where many fail (a broken source, a bad deploy) fails loudly with the gate's causes."""

from __future__ import annotations

from rps_core.contract import TrainRequest
from rps_core.errors import DataQualityError

__all__ = ["check_tolerated"]

_CAUSES_SHOWN = 5
_CAUSE_CHARS = 300


def check_tolerated(request: TrainRequest, tolerated_percentage: float) -> None:
    """Raise DataQualityError when the share of the run's locations left out (quarantined by the gate, or in
    a Map batch that failed) exceeds ``tolerated_percentage`` or when no location passed; the message names
    them and their causes."""
    rejected = [(q.location, f"rejected by the quality gate: {q.cause}") for q in request.quarantined] + [
        (f.location, f"failed ({f.error}): {f.cause}") for f in request.failed
    ]
    total = len(request.datasets) + len(rejected)
    if not rejected:
        return
    share = 100.0 * len(rejected) / total
    if request.datasets and share <= tolerated_percentage:
        return
    causes = "; ".join(f"{name} {why[:_CAUSE_CHARS]}" for name, why in rejected[:_CAUSES_SHOWN])
    more = f"; and {len(rejected) - _CAUSES_SHOWN} more" if len(rejected) > _CAUSES_SHOWN else ""
    raise DataQualityError(
        f"{len(rejected)} of {total} locations {'quarantined or failed' if request.failed else 'quarantined'} "
        f"({share:.1f}%, tolerated {tolerated_percentage:g}%): "
        f"{causes}{more}"
    )
