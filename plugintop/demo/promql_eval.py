"""Provides the demo's PromQL evaluator over regularly sampled series, with Prometheus 2.x
semantics: 5 m lookback, left-closed range selectors, `extrapolatedRate`, `bucketQuantile`,
one-to-one vector matching, aggregation label rules and metric-name dropping. The arithmetic
lives in `promql_functions`, `promql_aggregations` and `promql_operators`; this is the walk."""

from __future__ import annotations

import math

from plugintop.demo.lex import QueryError
from plugintop.demo.promql_aggregations import Grouper, aggregate
from plugintop.demo.promql_columns import ByColumns
from plugintop.demo.promql_functions import (
    MATH,
    RANGE_FUNCTIONS,
    bucket_quantile,
    extrapolated_rate,
    over_range,
    safe,
)
from plugintop.demo.promql_operators import binary
from plugintop.demo.promql_parse import Agg, Binary, Call, Num, Selector, Str, Unary, parse
from plugintop.demo.promql_values import (
    Key,
    Labels,
    Matrix,
    RangeRows,
    Scalar,
    SeriesData,
    Storage,
    Vector,
    as_vector,
    drop_name,
    key,
)

__all__ = ["LOOKBACK", "Engine", "RangeRows", "Scalar", "SeriesData", "bucket_quantile", "extrapolated_rate"]

LOOKBACK = 300.0


class Engine:
    """Evaluates PromQL over a `Storage`."""

    def __init__(self, storage: Storage, lookback: float = LOOKBACK) -> None:
        self.storage = storage
        self.lookback = lookback
        self._reset()

    def _reset(self) -> None:
        """Memos live for one query: label sets are the same objects at every step."""
        self._selected: dict[int, list[SeriesData]] = {}
        self._noname: dict[int, tuple[Labels, Labels]] = {}
        self._grouper = Grouper()

    def _without_name(self, labels: Labels) -> Labels:
        hit = self._noname.get(id(labels))
        if hit is None or hit[0] is not labels:
            hit = (labels, drop_name(labels))
            self._noname[id(labels)] = hit
        return hit[1]

    def instant(self, query: str, t: float) -> Scalar | Vector | str | RangeRows:
        """An instant query's value; a range vector selector answers its raw samples (a matrix)."""
        node = parse(query)
        self._reset()
        return self._eval(node, t)  # type: ignore[return-value]

    def range(self, query: str, start: float, end: float, step: float) -> Matrix:
        node = parse(query)
        self._reset()
        out: dict[Key, tuple[Labels, list[tuple[float, float]]]] = {}
        ts = [start + i * step for i in range(int((end - start) // step) + 1)]
        for t, value in zip(ts, ByColumns(self, ts).steps(node), strict=True):
            if isinstance(value, str):
                raise QueryError('invalid expression type "string" for range query, must be Scalar or instant Vector')
            if isinstance(value, Scalar):
                value = [({}, value.value)]
            if isinstance(value, RangeRows):
                raise QueryError(
                    'invalid expression type "range vector" for range query, must be Scalar or instant Vector'
                )
            for labels, v in as_vector(value):
                entry = out.setdefault(key(labels), (labels, []))
                entry[1].append((t, v))
        return [out[k] for k in sorted(out)]

    # ---------------------------------------------------------------------------------------------
    def _select(self, sel: Selector) -> list[SeriesData]:
        got = self._selected.get(id(sel))
        if got is None:
            got = self.storage.select(sel.matchers)
            self._selected[id(sel)] = got
        return got

    def _eval(self, node: object, t: float) -> object:
        if isinstance(node, Num):
            return Scalar(node.value)
        if isinstance(node, Str):
            return node.value
        if isinstance(node, Selector):
            return self._selector(node, t)
        if isinstance(node, Unary):
            v = self._eval(node.expr, t)
            if isinstance(v, Scalar):
                return Scalar(-v.value)
            return [(drop_name(lb), -x) for lb, x in as_vector(v)]
        if isinstance(node, Binary):
            return binary(node, self._eval(node.lhs, t), self._eval(node.rhs, t))
        if isinstance(node, Agg):
            vec = as_vector(self._eval(node.expr, t))
            param = self._eval_scalar(node.param, t) if node.op in ("topk", "bottomk", "quantile") else math.nan
            return aggregate(node.op, self._grouper, id(node), node.without, node.grouping, vec, param)
        if isinstance(node, Call):
            return self._call(node, t)
        raise QueryError(f"unsupported expression {type(node).__name__}")

    def _selector(self, sel: Selector, t: float) -> object:
        at = t - sel.offset
        if sel.range is not None:
            lo, hi = at - sel.range, at
            out = RangeRows()
            for s in self._select(sel):
                j0 = max(0, math.ceil((lo - s.t0) / s.step - 1e-9))
                j1 = min(len(s.values) - 1, math.floor((hi - s.t0) / s.step + 1e-9))
                if j1 >= j0 and (pts := s.points(j0, j1)):
                    out.append((s.labels, pts, s))
            return out
        vec: Vector = []
        for s in self._select(sel):
            j = min(len(s.values) - 1, math.floor((at - s.t0) / s.step + 1e-9))
            if j >= 0 and s.t0 + j * s.step >= at - self.lookback:
                v = s.values[j]
                if s.gaps and v != v:  # the newest sample is a staleness marker: the series is gone
                    continue
                vec.append((s.labels, v))
        return vec

    def _call(self, node: Call, t: float) -> object:
        f = node.func
        if f in RANGE_FUNCTIONS:
            return self._over_range(node, t)
        if f == "histogram_quantile":
            return self._histogram_quantile(node, t)
        if f == "time":
            return Scalar(t)
        if f == "vector":
            return [({}, self._scalar_arg(node, 0, t))]
        if f == "scalar":
            vec = as_vector(self._eval(node.args[0], t))
            return Scalar(vec[0][1] if len(vec) == 1 else math.nan)
        if f in MATH:
            fn = MATH[f]
            return [(drop_name(lb), safe(fn, v)) for lb, v in as_vector(self._eval(node.args[0], t))]
        if f in ("clamp_min", "clamp_max"):
            bound = self._scalar_arg(node, 1, t)
            pick = max if f == "clamp_min" else min
            return [(drop_name(lb), pick(v, bound)) for lb, v in as_vector(self._eval(node.args[0], t))]
        if f in ("sort", "sort_desc"):
            return sorted(as_vector(self._eval(node.args[0], t)), key=lambda x: x[1], reverse=f == "sort_desc")
        raise QueryError(f'parse error: unknown function with name "{f}"')

    def _over_range(self, node: Call, t: float) -> Vector:
        f = node.func
        i = 1 if f == "quantile_over_time" else 0
        sel = node.args[i] if len(node.args) > i else None
        if not isinstance(sel, Selector) or sel.range is None:
            raise QueryError(f'expected type range vector in call to function "{f}"')
        if f in ("rate", "increase"):  # the range queries' arithmetic, at one step
            return [(lb, v) for lb, col in ByColumns(self, [t]).rate(sel, f == "rate") if (v := col[0]) is not None]
        phi = self._scalar_arg(node, 0, t) if i else math.nan
        rows = self._selector(sel, t)
        assert isinstance(rows, RangeRows)
        out: Vector = []
        for labels, pts, s in rows:
            v = over_range(f, pts, t, sel.range, sel.offset, s.monotonic, phi)
            if v is not None:
                out.append((self._without_name(labels), v))
        return out

    def _histogram_quantile(self, node: Call, t: float) -> Vector:
        q = self._scalar_arg(node, 0, t)
        groups: dict[Key, tuple[Labels, list[tuple[float, float]]]] = {}
        for labels, v in as_vector(self._eval(node.args[1], t)):
            try:
                le = float(labels.get("le", ""))
            except ValueError:
                continue
            k, rest = self._grouper.group(labels, id(node), True, ("le",))
            entry = groups.get(k)
            if entry is None:
                entry = groups[k] = (rest, [])
            entry[1].append((le, v))
        return [(lb, bucket_quantile(q, bs)) for lb, bs in groups.values()]

    def _scalar_arg(self, node: Call, i: int, t: float) -> float:
        if len(node.args) <= i:
            raise QueryError(f'expected at least {i + 1} argument(s) in call to "{node.func}"')
        v = self._eval(node.args[i], t)
        if not isinstance(v, Scalar):
            raise QueryError(f'expected type scalar in call to function "{node.func}"')
        return v.value

    def _eval_scalar(self, node: object, t: float) -> float:
        v = self._eval(node, t)
        if not isinstance(v, Scalar):
            raise QueryError("expected type scalar")
        return v.value
