"""Inline SVG charts: lines and points over time, horizontal bars. Server-rendered, no script, no fonts or
files to fetch; each point is a ``<circle class="pt">`` so a test can count what a chart shows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

__all__ = ["Line", "bar_chart", "time_chart"]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
W, H, LEFT, RIGHT, TOP, BOTTOM = 560, 220, 52, 12, 12, 34


@dataclass
class Line:
    label: str
    points: Sequence[tuple[datetime, float]]
    color: str = ""
    dots: bool = False  # points only (forecasts), not a line
    dashed: bool = False


@dataclass
class _Scale:
    x0: float
    x1: float
    y0: float
    y1: float
    ticks: list[float] = field(default_factory=list)

    def x(self, value: float) -> float:
        return LEFT + (value - self.x0) / ((self.x1 - self.x0) or 1) * (W - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return H - BOTTOM - (value - self.y0) / ((self.y1 - self.y0) or 1) * (H - TOP - BOTTOM)


def _nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if raw <= m * step)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(count + 2) if first + i * step <= high + step * 0.999]


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = "#666", size: int = 10) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def _svg(width: float, height: float) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" role="img">'
    )


def time_chart(lines: Sequence[Line], hlines: Sequence[tuple[str, float]] = (), empty: str = "no data yet") -> str:
    """Lines (and dotted series) over time with labelled horizontal rules (thresholds)."""
    values = [v for line in lines for _, v in line.points if math.isfinite(v)] + [v for _, v in hlines]
    times = [t.timestamp() for line in lines for t, _ in line.points]
    if not times:
        return _svg(W, 60) + _text(10, 34, empty, fill="#777", size=13) + "</svg>"
    ticks = _nice_ticks(min(values), max(values))
    scale = _Scale(min(times), max(times), ticks[0], ticks[-1], ticks)
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H + 18}" role="img">']
    for tick in ticks:
        y = scale.y(tick)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eceef1"/>')
        out.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#666">{tick:.4g}</text>'
        )
    for label, at in (("start", scale.x0), ("end", scale.x1))[: 1 if scale.x0 == scale.x1 else 2]:
        anchor = "start" if label == "start" else "end"
        when = datetime.fromtimestamp(at, UTC).strftime("%m-%d %H:%M")
        out.append(_text(scale.x(at), H - BOTTOM + 14, when, anchor))
    for label, value in hlines:
        y = scale.y(value)
        out.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d62728" stroke-dasharray="5 4"/>'
        )
        out.append(_text(W - RIGHT, y - 3, label, "end", "#d62728"))
    legend_x: float = LEFT
    for i, line in enumerate(lines):
        color = line.color or PALETTE[i % len(PALETTE)]
        coords = [(scale.x(t.timestamp()), scale.y(v)) for t, v in line.points if math.isfinite(v)]
        if not line.dots and len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            dash = ' stroke-dasharray="4 3"' if line.dashed else ""
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5"{dash} points="{path}"/>')
        if line.dots or len(coords) <= 1:
            out.extend(f'<circle class="pt" cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{color}"/>' for x, y in coords)
        else:  # points of a line are invisible markers: counted by tests, hovered for the value
            out.extend(
                f'<circle class="pt" cx="{x:.1f}" cy="{y:.1f}" r="1" fill="{color}" opacity="0"/>' for x, y in coords
            )
        out.append(f'<rect x="{legend_x}" y="{H + 4}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{legend_x + 14}" y="{H + 13}" font-size="11">{escape(line.label)}</text>')
        legend_x += 24 + 6.5 * len(line.label)
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    bars: Sequence[tuple[str, float, str]], rules: Sequence[tuple[str, float, str]] = (), cap: float = math.inf
) -> str:
    """Horizontal bars (label, value, color), highest first as given, with vertical rules (label, x, color)."""
    if not bars:
        return '<p class="muted">no data yet</p>'
    finite = [v for _, v, _ in bars if math.isfinite(v)]
    # one huge value (a calendar feature's PSI) would flatten the rest: the axis stops at ``cap``, and a
    # longer bar is cut there and marked with »
    top = max(min(cap, max(finite, default=0.0)), *(r[1] * 1.5 for r in rules), 1e-9) * 1.1
    row, label_w, width = 16, 190, 520
    height = row * len(bars) + 24
    out = [_svg(label_w + width + 50, height)]
    for i, (label, value, color) in enumerate(bars):
        y = 4 + i * row
        length = 0 if not math.isfinite(value) else min(value, top) / top * width
        out.append(f'<text x="{label_w - 4}" y="{y + 11}" font-size="10" text-anchor="end">{escape(label)}</text>')
        out.append(
            f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{length:.1f}" height="{row - 4}" fill="{color}"/>'
        )
        text = "-" if not math.isfinite(value) else f"{value:.3g}" + ("»" if value > top else "")
        out.append(f'<text x="{label_w + length + 4:.1f}" y="{y + 11}" font-size="10">{text}</text>')
    for label, value, color in rules:
        x = label_w + value / top * width
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 16}" stroke="{color}" stroke-dasharray="4 3"/>'
        )
        out.append(_text(x, height - 4, label, "middle", color))
    out.append("</svg>")
    return "".join(out)
