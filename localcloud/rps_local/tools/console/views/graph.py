"""The state graph of an ASL definition as inline SVG: states in layers by their distance from StartAt,
a Map's (or Parallel's) inner states drawn inside its box, each state coloured by its status."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any

from rps_local.tools.console.data.executions import StateRun, inner_scopes

__all__ = ["Layout", "Node", "layout", "render_graph"]

NODE_W, NODE_H, GAP_X, GAP_Y, PAD, HEADER = 170, 44, 24, 34, 12, 40
COLORS = {
    "SUCCEEDED": "#d8f0dc",
    "FAILED": "#f8d0d0",
    "RUNNING": "#d6e6fb",
    "CAUGHT": "#fbe8c8",
    "NOT_RUN": "#f2f2f2",
}


@dataclass
class Node:
    name: str
    x: float
    y: float
    w: float
    h: float
    container: bool = False


@dataclass
class Layout:
    width: float
    height: float
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str, bool]] = field(default_factory=list)  # (from, to, is a Catch)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)


def transitions(state: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    for key in ("Next", "Default"):
        if isinstance(state.get(key), str):
            yield state[key], False
    for choice in state.get("Choices") or []:
        if isinstance(choice, dict) and isinstance(choice.get("Next"), str):
            yield choice["Next"], False
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            yield catcher["Next"], True


def layers(scope: dict[str, Any]) -> list[list[str]]:
    """States by their shortest distance from StartAt (unreachable ones last), in definition order."""
    states = scope.get("States") or {}
    depth = {scope.get("StartAt"): 0}
    queue = [scope.get("StartAt")]
    while queue:
        name = queue.pop(0)
        for target, _ in transitions(states.get(name) or {}):
            if target in states and target not in depth:
                depth[target] = depth[name] + 1
                queue.append(target)
    last = max(depth.values(), default=0) + 1
    rows: dict[int, list[str]] = {}
    for name in states:
        rows.setdefault(depth.get(name, last), []).append(name)
    return [rows[d] for d in sorted(rows)]


def layout(scope: dict[str, Any], x0: float = 0.0, y0: float = 0.0) -> Layout:
    """Positions of every state (inner scopes included) and the transitions between them."""
    states = scope.get("States") or {}
    placed = Layout(0.0, 0.0)
    inner: dict[str, Layout] = {}
    for name, state in states.items():
        scopes = inner_scopes(state)
        if scopes:  # one inner scope drawn (the Map's item processor, or a Parallel's first branch)
            inner[name] = layout(scopes[0])
    y = y0
    for row in layers(scope):
        sizes = [
            (inner[n].width + 2 * PAD, inner[n].height + PAD + HEADER) if n in inner else (NODE_W, NODE_H) for n in row
        ]
        row_h = max(h for _, h in sizes)
        x = x0
        for name, (w, h) in zip(row, sizes, strict=True):
            placed.nodes.append(Node(name, x, y, w, h, name in inner))
            if name in inner:
                child = layout(scopes_of(states[name])[0], x + PAD, y + HEADER)
                placed.nodes.extend(child.nodes)
                placed.edges.extend(child.edges)
            x += w + GAP_X
        placed.width = max(placed.width, x - GAP_X - x0)
        y += row_h + GAP_Y
    placed.height = y - GAP_Y - y0
    for name, state in states.items():
        placed.edges.extend((name, target, catch) for target, catch in transitions(state) if target in states)
    return placed


def scopes_of(state: dict[str, Any]) -> list[dict[str, Any]]:
    return inner_scopes(state)


def render_graph(definition: dict[str, Any], runs: dict[str, StateRun]) -> str:
    """The SVG: a box per state (id ``state-NAME``) with its status, duration or Map summary."""
    placed = layout(definition, 8, 8)
    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{placed.width + 16:.0f}" '
        f'height="{placed.height + 16:.0f}" role="img" aria-label="state graph">',
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#667"/></marker></defs>',
    ]
    for node in placed.nodes:  # containers first, so inner states are drawn over them
        if node.container:
            parts.append(_box(node, runs.get(node.name)))
    for source, target, catch in placed.edges:
        a, b = placed.node(source), placed.node(target)
        x1, y1 = a.x + a.w / 2, a.y + a.h
        x2, y2 = b.x + b.w / 2, b.y
        if b.y <= a.y:  # a transition sideways or back up: from the side
            x1, y1, x2, y2 = a.x + a.w, a.y + a.h / 2, b.x, b.y + b.h / 2
        dash = ' stroke-dasharray="4 3"' if catch else ""
        parts.append(
            f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="#667"{dash} '
            'marker-end="url(#arrow)"/>'
        )
    for node in placed.nodes:
        if not node.container:
            parts.append(_box(node, runs.get(node.name)))
    parts.append("</svg>")
    return "".join(parts)


def _box(node: Node, run: StateRun | None) -> str:
    status = run.status if run else "NOT_RUN"
    label = escape(node.name)
    note = _note(run)
    text_y = node.y + (17 if node.container else 18)
    # the note goes under the name, a container's too: a Map of one column is no wider than its states
    note_x, note_y = node.x + 8, text_y + (15 if node.container else 17)
    return (
        f'<g class="state {status.lower()}" id="state-{label}" data-status="{status}">'
        f"<title>{label}: {status}{escape(' · ' + note) if note else ''}</title>"
        f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{node.w:.0f}" height="{node.h:.0f}" rx="6" '
        f'fill="{COLORS.get(status, "#eee")}" stroke="#889"/>'
        f'<text x="{node.x + 8:.0f}" y="{text_y:.0f}" font-size="13" font-weight="600">{label}</text>'
        f'<text x="{note_x:.0f}" y="{note_y:.0f}" font-size="11" fill="#444">{escape(note)}</text></g>'
    )


def _note(run: StateRun | None) -> str:
    if run is not None and run.in_child_executions:
        return "in child executions"
    if run is None or run.entered == 0:
        return "not run"
    if run.iterations is not None:
        return run.iterations.label
    times = f" x{run.entered}" if run.entered > 1 else ""
    caught = f", {run.caught} caught" if run.caught else ""
    return f"{run.seconds:.2f} s{times}{caught}" if run.outputs else f"{run.status.lower()}{caught}"
