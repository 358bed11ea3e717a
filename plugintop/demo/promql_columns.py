"""Provides `Columns`: a range query's hot shapes evaluated series by series over all steps at once,
instead of step by step. `rate`/`increase` of a selector, the aggregations of such a rate and
`histogram_quantile` of those give one column per series (a value or None per step): the window
indices are worked out once per step, the group of a series once per query, not once per step.
The arithmetic and the summing order are the step-wise evaluator's, so the answers are the same
numbers; any other shape is evaluated step by step, as before."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from plugintop.demo.promql_aggregations import combine
from plugintop.demo.promql_functions import bucket_quantile, extrapolate, extrapolated_rate
from plugintop.demo.promql_operators import binary
from plugintop.demo.promql_parse import Agg, Binary, Call, Num, Selector
from plugintop.demo.promql_values import Key, Labels

if TYPE_CHECKING:
    from plugintop.demo.promql_eval import Engine

Column = list[float | None]
"""One series' value at each step, None where it has none."""
Columns = list[tuple[Labels, Column]]
COMBINED = frozenset({"sum", "avg", "min", "max", "count", "group", "stddev", "stdvar"})
"""The aggregations evaluated by columns (those without a parameter)."""


class ByColumns:
    """Evaluates one range query's nodes over the steps `ts` with `engine`'s memos."""

    def __init__(self, engine: Engine, ts: list[float]) -> None:
        self.engine, self.ts = engine, ts

    def steps(self, node: object) -> list[object]:
        """The node's value at each step: what `Engine._eval(node, t)` gives for each `t`."""
        cols = self.columns(node)
        if cols is not None:
            return [[(lb, v) for lb, col in cols if (v := col[i]) is not None] for i in range(len(self.ts))]
        if isinstance(node, Binary):
            pairs = zip(self.steps(node.lhs), self.steps(node.rhs), strict=True)
            return [binary(node, a, b) for a, b in pairs]
        return [self.engine._eval(node, t) for t in self.ts]

    def columns(self, node: object) -> Columns | None:
        """The node's columns, or None for a shape evaluated step by step."""
        if isinstance(node, Call) and node.func in ("rate", "increase") and len(node.args) == 1:
            sel = node.args[0]
            if isinstance(sel, Selector) and sel.range is not None:
                return self.rate(sel, node.func == "rate")
        if isinstance(node, Agg) and node.op in COMBINED:
            inner = self.columns(node.expr)
            return None if inner is None else self._aggregate(node, inner)
        if isinstance(node, Call) and node.func == "histogram_quantile" and len(node.args) == 2:
            q = node.args[0]
            inner = self.columns(node.args[1]) if isinstance(q, Num) else None
            return None if inner is None or not isinstance(q, Num) else self._quantile(node, q.value, inner)
        return None

    def rate(self, sel: Selector, is_rate: bool) -> Columns:
        """`rate`/`increase` at every step straight from the sample arrays: Prometheus' `extrapolatedRate`
        (`extrapolated_rate`), the window's indices worked out once per series layout and step."""
        assert sel.range is not None
        rng, off, e = sel.range, sel.offset, self.engine
        ends = [t - off for t in self.ts]
        layouts: dict[tuple[float, float, int], list[tuple[int, int]]] = {}
        out: Columns = []
        for s in e._select(sel):
            n, t0, step, vals = len(s.values), s.t0, s.step, s.values
            idx = layouts.get((t0, step, n))
            if idx is None:
                idx = layouts[(t0, step, n)] = [
                    (
                        max(0, math.ceil((at - rng - t0) / step - 1e-9)),
                        min(n - 1, math.floor((at - t0) / step + 1e-9)),
                    )
                    for at in ends
                ]
            col: Column
            if not s.monotonic or s.gaps:  # resets to count in, or staleness markers to leave out
                col = [
                    extrapolated_rate(s.points(j0, j1), t, rng, off, True, is_rate, s.monotonic) if j1 > j0 else None
                    for (j0, j1), t in zip(idx, self.ts, strict=True)
                ]
            else:  # a counter without resets: last minus first; a flat window is 0 whatever the edges
                col = [
                    None
                    if j1 <= j0
                    else 0.0
                    if (d := vals[j1] - vals[j0]) == 0
                    else extrapolate(d, t0 + j0 * step, vals[j0], t0 + j1 * step, j1 - j0 + 1, at, rng, True, is_rate)
                    for (j0, j1), at in zip(idx, ends, strict=True)
                ]
            out.append((e._without_name(s.labels), col))
        return out

    def _aggregate(self, node: Agg, inner: Columns) -> Columns:
        """`aggregate` at every step: members summed in series order, as the step-wise `total` does."""
        groups: dict[Key, tuple[Labels, list[Column]]] = {}
        for labels, col in inner:
            k, g = self.engine._grouper.group(labels, id(node), node.without, node.grouping)
            groups.setdefault(k, (g, []))[1].append(col)
        out: Columns = []
        steps = range(len(self.ts))
        for g, members in groups.values():
            acc: Column
            if node.op == "sum":
                acc = list(members[0])
                for col in members[1:]:
                    acc = [a if v is None else v if a is None else a + v for a, v in zip(acc, col, strict=True)]
            else:
                acc = []
                for i in steps:
                    vals = [v for col in members if (v := col[i]) is not None]
                    acc.append(combine(node.op, vals, math.nan) if vals else None)
            out.append((g, acc))
        return out

    def _quantile(self, node: Call, q: float, inner: Columns) -> Columns:
        """`Engine._histogram_quantile` at every step."""
        groups: dict[Key, tuple[Labels, list[tuple[float, Column]]]] = {}
        for labels, col in inner:
            try:
                le = float(labels.get("le", ""))
            except ValueError:
                continue
            k, rest = self.engine._grouper.group(labels, id(node), True, ("le",))
            groups.setdefault(k, (rest, []))[1].append((le, col))
        out: Columns = []
        for rest, members in groups.values():
            qs: Column = []
            for i in range(len(self.ts)):
                bs = [(le, v) for le, c in members if (v := c[i]) is not None]
                qs.append(bucket_quantile(q, bs) if bs else None)
            out.append((rest, qs))
        return out
