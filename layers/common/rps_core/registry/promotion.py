"""The promotion rule: the challenger replaces the champion only when it is better, on the same test rows,
by at least the configured relative margin (``PROMOTION_MARGIN``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def decide(challenger_mae: float, champion_mae: float | None, margin: float = 0.0) -> Decision:
    """Promote when there is no comparable champion, or ``challenger < champion * (1 - margin)``."""
    if champion_mae is None:
        return Decision(True, "no comparable champion")
    bar = champion_mae * (1.0 - margin)
    detail = f"(champion {champion_mae:.4f}, margin {margin:g})"
    if challenger_mae < bar:
        return Decision(True, f"challenger MAE {challenger_mae:.4f} < {bar:.4f} {detail}")
    return Decision(False, f"challenger MAE {challenger_mae:.4f} >= {bar:.4f} {detail}")
