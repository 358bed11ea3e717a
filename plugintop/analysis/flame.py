"""Provides flame-graph analysis: decoding Pyroscope's level encoding into a call tree, top functions
by self and total, and what got hotter against a baseline."""

from __future__ import annotations

from plugintop.analysis.model import FlameNode, FunctionShare, ProfileSummary
from plugintop.models.pyroscope import FlameGraph

OTHER = "other"
"""Pyroscope's name for the subtrees collapsed by `maxNodes`."""


def decode(fg: FlameGraph) -> list[FlameNode]:
    """The nodes of a flame graph in level order, each with its parent (4-int or 7-int levels).

    Offsets are delta-encoded per level (`x = previous end + delta`); a node's parent is the node of
    the level above whose span contains it. Diff graphs are placed on the combined left+right axis.
    """
    width = 7 if fg.diff else 4
    nodes: list[FlameNode] = []
    spans: list[tuple[int, int]] = []  # (combined x, combined width) per node
    prev_level: list[int] = []
    for level, values in enumerate(fg.levels):
        this_level: list[int] = []
        lx = rx = 0
        p = 0
        for i in range(0, len(values) - width + 1, width):
            lx += values[i]
            total, self_ = values[i + 1], values[i + 2]
            right_total = right_self = 0
            if width == 7:
                rx += values[i + 3]
                right_total, right_self = values[i + 4], values[i + 5]
            cx, cw = lx + rx, total + right_total
            parent = -1
            if prev_level:
                while p < len(prev_level) - 1 and spans[prev_level[p]][0] + spans[prev_level[p]][1] <= cx:
                    p += 1
                parent = prev_level[p]
            this_level.append(len(nodes))
            nodes.append(
                FlameNode(fg.names[values[i + width - 1]], level, lx, total, self_, parent, right_total, right_self)
            )
            spans.append((cx, cw))
            lx += total
            rx += right_total
        prev_level = this_level
    return nodes


def function_totals(nodes: list[FlameNode]) -> tuple[dict[str, int], dict[str, int]]:
    """(self, total) per function name; a function's total counts recursion once."""
    self_by: dict[str, int] = {}
    total_by: dict[str, int] = {}
    children: dict[int, list[int]] = {}
    for i, n in enumerate(nodes):
        self_by[n.name] = self_by.get(n.name, 0) + n.self
        if n.parent >= 0:
            children.setdefault(n.parent, []).append(i)
    if not nodes:
        return self_by, total_by
    on_path: dict[str, int] = {}
    stack: list[tuple[int, bool]] = [(0, False)]
    while stack:
        i, leaving = stack.pop()
        name = nodes[i].name
        if leaving:
            on_path[name] -= 1
            continue
        if not on_path.get(name):
            total_by[name] = total_by.get(name, 0) + nodes[i].total
        on_path[name] = on_path.get(name, 0) + 1
        stack.append((i, True))
        stack.extend((c, False) for c in children.get(i, []))
    return self_by, total_by


def _shares(values: dict[str, int], total: int, skip: set[str]) -> dict[str, float]:
    return {k: v / total for k, v in values.items() if total > 0 and k not in skip}


def summarise(
    window: FlameGraph,
    baseline: FlameGraph | None,
    span: tuple[float, float],
    base_span: tuple[float, float],
    top: int = 10,
    sample_rate: float = 1e9,
) -> ProfileSummary:
    """Top functions by self and total share in the window, and those whose self share grew most."""
    nodes = decode(window)
    self_w, total_w = function_totals(nodes)
    grand = nodes[0].total if nodes else 0
    skip = {"total"}
    self_share = _shares(self_w, grand, skip)
    total_share = _shares(total_w, grand, skip)
    hotter: list[FunctionShare] = []
    base_grand = 0
    truncated = any(n.name == OTHER for n in nodes) or (window.max_nodes > 0 and len(nodes) >= window.max_nodes)
    if baseline is not None:
        bnodes = decode(baseline)
        self_b, _ = function_totals(bnodes)
        base_grand = bnodes[0].total if bnodes else 0
        base_share = _shares(self_b, base_grand, skip)
        if base_grand > 0 and grand > 0:
            deltas = {f: s - base_share.get(f, 0.0) for f, s in self_share.items() if f != OTHER}
            hotter = [FunctionShare(f, d) for f, d in sorted(deltas.items(), key=lambda kv: -kv[1])[:top] if d > 0]
        truncated = truncated or any(n.name == OTHER for n in bnodes)

    def by(d: dict[str, float], n: int) -> list[FunctionShare]:
        return [FunctionShare(f, s) for f, s in sorted(d.items(), key=lambda kv: -kv[1])[:n] if s > 0]

    return ProfileSummary(
        top_self=by(self_share, top),
        top_total=by(total_share, 200),
        hotter=hotter,
        total_s=grand / sample_rate,
        baseline_total_s=base_grand / sample_rate,
        truncated=truncated,
        window=span,
        baseline=base_span,
    )
