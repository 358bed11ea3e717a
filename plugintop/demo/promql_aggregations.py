"""Provides the demo's PromQL aggregations (`sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`,
`stdvar`, `quantile`, `topk`, `bottomk`) and the grouping they share with `histogram_quantile`."""

from __future__ import annotations

import math
from typing import Any

from plugintop.demo.lex import QueryError
from plugintop.demo.promql_functions import quantile
from plugintop.demo.promql_values import Key, Labels, Vector, key


class Grouper:
    """The group of each series under one grouping node, memoised for one query: the same label
    objects come back at every step of a range query."""

    def __init__(self) -> None:
        self._memo: dict[int, dict[int, tuple[Key, Labels, Labels]]] = {}
        """Per grouping node: series label-set id → (group key, group labels, the label set)."""

    def group(self, labels: Labels, nid: int, without: bool, grouping: tuple[str, ...]) -> tuple[Key, Labels]:
        """The group labels (and their key) of a series for the grouping node `nid`."""
        by_labels = self._memo.get(nid)
        if by_labels is None:
            by_labels = self._memo[nid] = {}
        memo = by_labels.get(id(labels))
        if memo is None or memo[2] is not labels:
            if without:
                g = {k: x for k, x in labels.items() if k not in grouping and k != "__name__"}
            else:
                g = {k: labels[k] for k in grouping if k in labels}
            memo = by_labels[id(labels)] = (key(g), g, labels)
        return memo[0], memo[1]


def total(grouper: Grouper, nid: int, without: bool, grouping: tuple[str, ...], vec: Vector) -> Vector:
    """`sum` without per-group member lists (the hot path of every percentile query)."""
    totals: dict[Key, list[Any]] = {}
    for labels, v in vec:
        k, g = grouper.group(labels, nid, without, grouping)
        acc = totals.get(k)
        if acc is None:
            totals[k] = [g, v]
        else:
            acc[1] += v
    return [(g, v) for g, v in totals.values()]


def aggregate(
    op: str, grouper: Grouper, nid: int, without: bool, grouping: tuple[str, ...], vec: Vector, param: float
) -> Vector:
    """Aggregation `op` of `vec` by group; `param` is `topk`/`bottomk`'s k or `quantile`'s φ."""
    if op == "sum":
        return total(grouper, nid, without, grouping, vec)
    groups: dict[Key, tuple[Labels, list[tuple[Labels, float]]]] = {}
    for labels, v in vec:
        k, g = grouper.group(labels, nid, without, grouping)
        entry = groups.get(k)
        if entry is None:
            entry = groups[k] = (g, [])
        entry[1].append((labels, v))
    if op in ("topk", "bottomk"):
        out: Vector = []
        for _, members in groups.values():
            ranked = sorted(members, key=lambda m: (math.isnan(m[1]), -m[1] if op == "topk" else m[1]))
            out.extend(ranked[: max(0, int(param))])
        return out
    return [(g, combine(op, [v for _, v in members], param)) for g, members in groups.values()]


def combine(op: str, vals: list[float], param: float) -> float:
    """Aggregation `op` of one group's values (not `topk`/`bottomk`, which keep their members)."""
    if op == "avg":
        return sum(vals) / len(vals)
    if op == "min":
        return min((v for v in vals if not math.isnan(v)), default=math.nan)
    if op == "max":
        return max((v for v in vals if not math.isnan(v)), default=math.nan)
    if op == "count":
        return float(len(vals))
    if op == "group":
        return 1.0
    if op in ("stddev", "stdvar"):
        mean = sum(vals) / len(vals)
        var = sum((v - mean) ** 2 for v in vals) / len(vals)
        return math.sqrt(var) if op == "stddev" else var
    if op == "quantile":
        return quantile(param, vals)
    raise QueryError(f"unsupported aggregation {op}")
