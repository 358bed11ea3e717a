"""Provides flame-graph analysis: decoding Pyroscope's level encoding into a call tree, top functions
by self and total, the plugin's CPU per second, and what got hotter against a baseline (self share,
total share, or CPU per second)."""

from __future__ import annotations

import heapq
from operator import itemgetter

from plugintop.analysis.model import FlameNode, FunctionShare, ProfileSummary
from plugintop.models.pyroscope import FlameGraph

OTHER = "other"
"""Pyroscope's name for the subtrees collapsed by `maxNodes`."""
NOISE = 0.01
"""A function's self share must move by at least this (1 point of CPU) against the baseline to count as
hotter or colder: smaller moves are sampling noise (a 10 s profile at 100 Hz holds 1,000 samples)."""
BAR = 0.10
"""A move of this much (10 points of the window's CPU) is a lot: the verdict's bar for a hot function, and
the least growth of a function's CPU per second that counts on its own (when its share held)."""
CPU_RISE = 1.2
"""The plugin's CPU per second rose by this factor or more: a function's own CPU per second may count."""
EVERY_STACK = 1 - NOISE
"""A function with this total share or more is on every stack (main, the event loop)."""
EXPLAINS = 0.8
"""A callee whose inclusive growth is at least this part of its caller's explains the caller's: the
caller is not listed for it (the callee, where the time went, is)."""


def decode(fg: FlameGraph) -> list[FlameNode]:
    """The nodes of a flame graph in level order, each with its parent (4-int or 7-int levels).

    Offsets are delta-encoded per level (`x = previous end + delta`); a node's parent is the node of
    the level above whose span contains it (one forward pass per level, both levels being sorted by
    position). Diff graphs are placed on the combined left+right axis.
    """
    diff = fg.diff
    width = 7 if diff else 4
    names = fg.names
    nodes: list[FlameNode] = []
    append = nodes.append
    prev_ends: list[int] = []
    prev_first = 0
    for level, values in enumerate(fg.levels):
        ends: list[int] = []
        first = len(nodes)
        lx = rx = 0
        p = 0
        last = len(prev_ends) - 1
        for i in range(0, len(values) - width + 1, width):
            lx += values[i]
            total = values[i + 1]
            if diff:
                rx += values[i + 3]
                right_total, right_self = values[i + 4], values[i + 5]
            else:
                right_total = right_self = 0
            cx = lx + rx
            if last >= 0:
                while p < last and prev_ends[p] <= cx:
                    p += 1
                parent = prev_first + p
            else:
                parent = -1
            append(
                FlameNode(
                    names[values[i + width - 1]], level, lx, total, values[i + 2], parent, right_total, right_self
                )
            )
            lx += total
            rx += right_total
            ends.append(cx + total + right_total)
        prev_ends, prev_first = ends, first
    return nodes


def function_totals(nodes: list[FlameNode]) -> tuple[dict[str, int], dict[str, int]]:
    """(self, total) per function name; a function's total counts recursion once (a node adds its total
    only when no ancestor has the same name).

    One pass in level order (parents come first). Only a name seen on two or more levels can be its
    own ancestor, so only those names are carried down each node's path (a set shared with the parent
    until such a name joins it).
    """
    self_by = self_totals(nodes)
    total_by: dict[str, int] = dict.fromkeys(self_by, 0)
    first_level: dict[str, int] = {}
    multi: set[str] = set()
    for n in nodes:
        if first_level.setdefault(n.name, n.level) != n.level:
            multi.add(n.name)
    empty: frozenset[str] = frozenset()
    paths: list[frozenset[str]] = []
    append = paths.append
    for n in nodes:
        name = n.name
        path = paths[n.parent] if n.parent >= 0 else empty
        if name in path:  # recursion: an ancestor already counted this time
            append(path)
            continue
        total_by[name] += n.total
        append(path | {name} if name in multi else path)
    return self_by, total_by


def self_totals_of(fg: FlameGraph) -> tuple[dict[str, int], int]:
    """Self value per function name straight from the levels (no tree needed), and the graph's total:
    what a baseline contributes."""
    width = 7 if fg.diff else 4
    names = fg.names
    out: dict[str, int] = {}
    get = out.get
    for values in fg.levels:
        for s, k in zip(values[2::width], values[width - 1 :: width], strict=True):
            name = names[k]
            out[name] = get(name, 0) + s
    grand = fg.levels[0][1] if fg.levels and len(fg.levels[0]) >= width else 0
    return out, grand


def totals_of(fg: FlameGraph, wanted: set[str]) -> dict[str, int]:
    """Total (inclusive) value of each wanted function straight from the levels, recursion counted once (as
    `function_totals`, without building the tree): what a baseline contributes."""
    width = 7 if fg.diff else 4
    names = fg.names
    out: dict[str, int] = {}
    get = out.get
    empty: frozenset[str] = frozenset()
    prev_ends: list[int] = []
    prev_paths: list[frozenset[str]] = []
    ids = {i for i, name in enumerate(names) if name in wanted}
    # below the deepest level that holds a wanted function nothing is added: those levels are not read
    deepest = max(
        (d for d, values in enumerate(fg.levels) if not ids.isdisjoint(values[width - 1 :: width])), default=-1
    )
    for values in fg.levels[: deepest + 1]:
        ends: list[int] = []
        paths: list[frozenset[str]] = []
        lx = rx = right = 0
        p = 0
        last = len(prev_ends) - 1
        for i in range(0, len(values) - width + 1, width):
            lx += values[i]
            total = values[i + 1]
            if fg.diff:
                rx += values[i + 3]
                right = values[i + 4]
            cx = lx + rx
            if last >= 0:
                while p < last and prev_ends[p] <= cx:
                    p += 1
                path = prev_paths[p]
            else:
                path = empty
            k = values[i + width - 1]
            if k in ids and (name := names[k]) not in path:
                out[name] = get(name, 0) + total
                path = path | {name}
            paths.append(path)
            ends.append(cx + total + right)
            lx += total
            rx += right
        prev_ends, prev_paths = ends, paths
    return out


def _top_shares(values: dict[str, int], n: int, total: int, skip: set[str]) -> list[FunctionShare]:
    """The `n` largest of `values` as shares of `total` (none when it is 0), `skip` left out."""
    if total <= 0:
        return []
    top = heapq.nlargest(n + len(skip), values.items(), key=itemgetter(1))
    return [FunctionShare(f, v / total) for f, v in top if f not in skip][:n]


def self_totals(nodes: list[FlameNode]) -> dict[str, int]:
    """Self value per function name (no tree walk needed)."""
    out: dict[str, int] = {}
    get = out.get
    for n in nodes:
        out[n.name] = get(n.name, 0) + n.self
    return out


def _top(d: dict[str, float], n: int, floor: float = 0.0) -> list[FunctionShare]:
    return [FunctionShare(f, v) for f, v in heapq.nlargest(n, d.items(), key=itemgetter(1)) if v > floor]


def subtree(nodes: list[FlameNode], root: int) -> list[FlameNode]:
    """The nodes under `root` (itself first), in level order, parents re-indexed: what a zoom shows."""
    if not 0 <= root < len(nodes):
        return []
    keep = {root: 0}
    out = [FlameNode(nodes[root].name, 0, nodes[root].x, nodes[root].total, nodes[root].self, -1)]
    for i in range(root + 1, len(nodes)):
        n = nodes[i]
        if n.parent in keep:
            keep[i] = len(out)
            out.append(FlameNode(n.name, n.level, n.x, n.total, n.self, keep[n.parent]))
    return out


def matches(nodes: list[FlameNode], text: str) -> tuple[list[int], float]:
    """The frames whose name holds `text` (any case), and their share of the whole profile, each stack
    counted once (a match under a match adds nothing)."""
    needle = text.casefold()
    if not needle or not nodes:
        return [], 0.0
    hit = [needle in n.name.casefold() for n in nodes]
    covered = [False] * len(nodes)
    share = 0
    for i, n in enumerate(nodes):
        up = covered[n.parent] if n.parent >= 0 else False
        covered[i] = up or hit[i]
        if hit[i] and not up:
            share += n.total
    return [i for i, h in enumerate(hit) if h], share / max(1, nodes[0].total)


def cpu_per_s(total: int, span: tuple[float, float], sample_rate: float = 1e9) -> float:
    """CPU per second of wall time (how many cores were busy): a profile's total over its window."""
    length = span[1] - span[0]
    return total / sample_rate / length if length > 0 else 0.0


def _callee_best(nodes: list[FlameNode], growth: dict[str, float]) -> dict[str, float]:
    """Per function, the largest growth among the functions it calls (recursion left out); `growth` holds
    only the functions that could explain a caller (the rest count as no growth)."""
    out: dict[str, float] = {}
    get = out.get
    if not growth:
        return out
    for n in nodes:
        g = growth.get(n.name)
        if g is None or n.parent < 0:
            continue
        caller = nodes[n.parent].name
        if caller != n.name and g > get(caller, -1.0):
            out[caller] = g
    return out


def _hotter(
    nodes: list[FlameNode],
    d_self: dict[str, float],
    d_total: dict[str, float],
    d_cpu: dict[str, float],
    share: dict[str, float],
) -> dict[str, float]:
    """Per function, how much hotter it got in points of the window's CPU (only those past `NOISE`).

    Its self share's growth always counts; its total (inclusive) share's growth counts unless a function
    it calls grew as much (`EXPLAINS`): then the growth is that callee's, which is named instead. When the
    plugin's CPU per second rose (`d_cpu` not empty) and neither share rose past `BAR`, the growth of its
    own CPU per second (as a part of the window's CPU) counts once it reaches `BAR`, under the same rule,
    for a function that is not on every stack (`share`, its total share in the window, below
    `EVERY_STACK`: the main loop's CPU rises with any work and says nothing of where it went).
    """
    total = {f: d for f, d in d_total.items() if d >= EXPLAINS * NOISE}
    cpu = {f: d for f, d in d_cpu.items() if d >= EXPLAINS * BAR}
    best_total, best_cpu = _callee_best(nodes, total), _callee_best(nodes, cpu)
    out: dict[str, float] = {}
    for f in {f for f, d in d_self.items() if d >= NOISE} | set(total) | set(cpu):
        if f == OTHER:
            continue
        m = d_self.get(f, 0.0)
        t = total.get(f, 0.0)
        if t > m and best_total.get(f, 0.0) < EXPLAINS * t:
            m = t
        c = cpu.get(f, 0.0)
        if m < BAR <= c and share.get(f, 0.0) < EVERY_STACK and best_cpu.get(f, 0.0) < EXPLAINS * c:
            m = c
        if m >= NOISE:
            out[f] = m
    return out


def summarise(
    window: FlameGraph,
    baseline: FlameGraph | None,
    span: tuple[float, float],
    base_span: tuple[float, float],
    top: int = 10,
    sample_rate: float = 1e9,
    nodes: list[FlameNode] | None = None,
) -> ProfileSummary:
    """Top functions by self and total share in the window, the plugin's CPU per second in the window and
    the baseline, and the functions that got hotter (`_hotter`: self share, total share, or their own CPU
    per second while the plugin's rose) or colder (self share).

    Args:
        nodes: the window already decoded (the triage decodes it once for the flame view too).
    """
    nodes = decode(window) if nodes is None else nodes
    self_w, total_w = function_totals(nodes)
    grand = nodes[0].total if nodes else 0
    skip = {"total"}
    hotter: list[FunctionShare] = []
    colder: list[FunctionShare] = []
    hotter_self: list[FunctionShare] = []
    hotter_total: list[FunctionShare] = []
    base_grand = 0
    cpu_w = cpu_per_s(grand, span, sample_rate)
    cpu_b = 0.0
    truncated = any(n.name == OTHER for n in nodes) or (window.max_nodes > 0 and len(nodes) >= window.max_nodes)
    if baseline is not None:
        base_self, base_grand = self_totals_of(baseline)
        cpu_b = cpu_per_s(base_grand, base_span, sample_rate)
        if base_grand > 0 and grand > 0:
            # only a function holding `EXPLAINS * NOISE` of the window can have grown by that much
            cut = EXPLAINS * NOISE * grand
            wanted = {f for f, w in total_w.items() if w >= cut} - skip - {OTHER}
            base_total = totals_of(baseline, wanted)
            get, get_total = base_self.get, base_total.get
            # a self share can move by NOISE only where it, or the baseline's, is NOISE or more: the rest
            # can neither be listed nor change what `_hotter` says (100,000 functions, a few dozen read)
            big = {f for f, w in self_w.items() if w >= NOISE * grand}
            big |= {f for f, w in base_self.items() if w >= NOISE * base_grand} & self_w.keys()
            big -= {*skip, OTHER}
            deltas = {f: w / grand - get(f, 0) / base_grand for f, w in self_w.items() if f in big}  # (in order)
            total_share = {f: total_w.get(f, 0) / grand for f in wanted | deltas.keys()}
            total_deltas = {f: total_share[f] - get_total(f, 0) / base_grand for f in wanted}
            d_cpu: dict[str, float] = {}
            if cpu_b > 0 and cpu_w >= CPU_RISE * cpu_b:
                # the function's CPU per second now less before, as a part of the window's CPU per second
                k = cpu_b / cpu_w
                d_cpu = {f: total_share[f] - get_total(f, 0) / base_grand * k for f in wanted}
            hotter = _top(_hotter(nodes, deltas, total_deltas, d_cpu, total_share), top, NOISE)
            hotter_self = _top(deltas, top, NOISE)
            hotter_total = _top(total_deltas, top, NOISE)
            colder = _top({f: -d for f, d in deltas.items()}, top, NOISE)
        truncated = truncated or OTHER in base_self
    return ProfileSummary(
        top_self=_top_shares(self_w, top, grand, skip),
        top_total=_top_shares(total_w, 200, grand, skip),
        hotter=hotter,
        colder=colder,
        total_s=grand / sample_rate,
        baseline_total_s=base_grand / sample_rate,
        truncated=truncated,
        window=span,
        baseline=base_span,
        cpu_per_s=cpu_w,
        baseline_cpu_per_s=cpu_b,
        hotter_self=hotter_self,
        hotter_total=hotter_total,
    )
