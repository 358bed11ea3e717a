"""Provides the demo's CPU profiles: per 15 s slot, the CPU seconds of every stack of the plugin
(all tenants: eBPF knows no tenant), merged over a range into Pyroscope's flame graph encoding."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

from plugintop.demo.world import World

Stacks = dict[tuple[str, ...], float]


class ProfileStore:
    """CPU stacks of the scenario's plugin."""

    def __init__(self, world: World) -> None:
        self.world = world

    @lru_cache(maxsize=100_000)  # noqa: B019 - the store lives as long as the stack
    def slot_stacks(self, k: int) -> Stacks:
        w = self.world
        out: Stacks = {}
        for ti in range(len(w.scenario.tenants)):
            for tj in range(len(w.scenario.tools)):
                for stack, sec in w.cpu(tj, w.slot(ti, tj, k)).items():
                    out[stack] = out.get(stack, 0.0) + sec
        rng = random.Random(f"{w.seed}:idle:{k}")
        idle = ("python", "asyncio.run", "mcp.server.serve", "selectors.select")
        out[idle] = out.get(idle, 0.0) + w.slot_s * 0.02 * rng.uniform(0.8, 1.2)
        gc = ("python", "asyncio.run", "gc.collect")
        out[gc] = out.get(gc, 0.0) + w.slot_s * 0.008 * rng.uniform(0.5, 1.5)
        return out

    def stacks(self, start: float, end: float) -> Stacks:
        """CPU seconds by stack over the slots that ended in (start, end]."""
        out: Stacks = {}
        for k in self.world.slots(start, end):
            for stack, sec in self.slot_stacks(k).items():
                out[stack] = out.get(stack, 0.0) + sec
        return out

    def timeline(self, start: float, end: float, step: float) -> tuple[float, list[int]]:
        """CPU nanoseconds per `step` from `start` snapped down to the step; zero-filled."""
        t0 = start // step * step
        n = max(1, int((end - t0) // step))
        samples = [0] * n
        for k in self.world.slots(t0, end):
            i = int(((k + 1) * self.world.slot_s - 1e-9 - t0) // step)
            if 0 <= i < n:
                samples[i] += int(sum(self.slot_stacks(k).values()) * 1e9)
        return t0, samples


@dataclass
class _Node:
    name: str
    total: float = 0.0
    self_: float = 0.0
    right_total: float = 0.0
    right_self: float = 0.0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(stacks: Stacks, right: Stacks | None = None) -> _Node:
    root = _Node("total")
    for side, data in ((0, stacks), (1, right or {})):
        for stack, sec in data.items():
            v = round(sec * 1e9)
            node = root
            if side == 0:
                root.total += v
            else:
                root.right_total += v
            for frame in stack:
                node = node.children.setdefault(frame, _Node(frame))
                if side == 0:
                    node.total += v
                else:
                    node.right_total += v
            if side == 0:
                node.self_ += v
            else:
                node.right_self += v
    return root


def _truncate(root: _Node, max_nodes: int) -> None:
    """Collapses the smallest subtrees into `other` until at most `max_nodes` nodes remain."""
    sizes: list[float] = []
    stack = [root]
    while stack:
        n = stack.pop()
        sizes.append(n.total + n.right_total)
        stack.extend(n.children.values())
    if max_nodes <= 0 or len(sizes) <= max_nodes:
        return
    threshold = sorted(sizes, reverse=True)[max_nodes - 1]
    stack = [root]
    while stack:
        n = stack.pop()
        keep = {k: c for k, c in n.children.items() if c.total + c.right_total >= threshold}
        dropped = [c for k, c in n.children.items() if k not in keep]
        if dropped:
            other = keep.setdefault("other", _Node("other"))
            for c in dropped:
                other.total += c.total
                other.self_ += c.total
                other.right_total += c.right_total
                other.right_self += c.right_total
        n.children = keep
        stack.extend(c for k, c in keep.items() if k != "other")


def encode(stacks: Stacks, max_nodes: int, right: Stacks | None = None) -> dict[str, object]:
    """Pyroscope's flame graph: names, levels (4 ints a node, or 7 for a diff), total, maxSelf."""
    diff = right is not None
    root = _tree(stacks, right)
    _truncate(root, max_nodes)
    names: list[str] = []
    index: dict[str, int] = {}
    levels: list[list[int]] = []
    max_self = 0.0
    row: list[tuple[_Node, float, float]] = [(root, 0.0, 0.0)]
    while row:
        values: list[int] = []
        prev_l = prev_r = 0.0
        nxt: list[tuple[_Node, float, float]] = []
        for node, xl, xr in row:
            if node.name not in index:
                index[node.name] = len(names)
                names.append(node.name)
            max_self = max(max_self, node.self_, node.right_self)
            if diff:
                values += [
                    int(xl - prev_l),
                    int(node.total),
                    int(node.self_),
                    int(xr - prev_r),
                    int(node.right_total),
                    int(node.right_self),
                    index[node.name],
                ]
                prev_l, prev_r = xl + node.total, xr + node.right_total
            else:
                values += [int(xl - prev_l), int(node.total), int(node.self_), index[node.name]]
                prev_l = xl + node.total
            cl, cr = xl, xr
            for name in sorted(node.children):
                child = node.children[name]
                nxt.append((child, cl, cr))
                cl += child.total
                cr += child.right_total
        levels.append(values)
        row = nxt
    out: dict[str, object] = {
        "names": names,
        "levels": levels,
        "total": int(root.total + root.right_total),
        "maxSelf": int(max_self),
    }
    if diff:
        out["leftTicks"] = int(root.total)
        out["rightTicks"] = int(root.right_total)
    return out
