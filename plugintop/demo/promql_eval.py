"""Provides the demo's PromQL evaluator over regularly sampled series, with Prometheus 2.x
semantics: 5 m lookback, left-closed range selectors, `extrapolatedRate`, `bucketQuantile`,
one-to-one vector matching, aggregation label rules and metric-name dropping."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from plugintop.demo.lex import QueryError
from plugintop.demo.promql_parse import Agg, Binary, Call, LabelMatcher, Num, Selector, Str, Unary, parse

LOOKBACK = 300.0
Labels = dict[str, str]
Vector = list[tuple[Labels, float]]
Matrix = list[tuple[Labels, list[tuple[float, float]]]]


@dataclass(frozen=True)
class SeriesData:
    """A series sampled every `step` seconds from `t0`; `monotonic` when it never decreases."""

    labels: Labels
    t0: float
    step: float
    values: Sequence[float]
    monotonic: bool = True


class Storage(Protocol):
    def select(self, matchers: Sequence[LabelMatcher]) -> list[SeriesData]: ...


class Window(Sequence[tuple[float, float]]):
    """The samples of one series inside a range selector, read lazily (no copies)."""

    __slots__ = ("s", "j0", "n")

    def __init__(self, s: SeriesData, j0: int, j1: int) -> None:
        self.s, self.j0, self.n = s, j0, j1 - j0 + 1

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[float, float]:  # type: ignore[override]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        j = self.j0 + i
        return (self.s.t0 + j * self.s.step, self.s.values[j])


class RangeRows(list):  # type: ignore[type-arg]
    """A range vector: (labels, points, series) rows; never a valid operand of an operator."""


@dataclass(frozen=True)
class Scalar:
    value: float


def _key(labels: Labels) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _drop_name(labels: Labels) -> Labels:
    return {k: v for k, v in labels.items() if k != "__name__"}


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


def _mod(a: float, b: float) -> float:
    return math.fmod(a, b) if b != 0 else math.nan


def _pow(a: float, b: float) -> float:
    try:
        return float(a**b) if not isinstance(a**b, complex) else math.nan
    except (OverflowError, ZeroDivisionError):
        return math.inf


ARITH: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
    "%": _mod,
    "^": _pow,
}
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


def extrapolated_rate(
    points: Sequence[tuple[float, float]],
    t: float,
    rng: float,
    offset: float,
    counter: bool,
    is_rate: bool,
    monotonic: bool,
) -> float | None:
    """Prometheus' `extrapolatedRate` for `rate`, `increase` and `delta`."""
    if len(points) < 2:
        return None
    first_t, first_v = points[0]
    last_t, last_v = points[-1]
    result = last_v - first_v
    if counter and not monotonic:
        prev = 0.0
        for _, v in points:
            if v < prev:
                result += prev
            prev = v
    return _extrapolate(result, first_t, first_v, last_t, len(points), t - offset, rng, counter, is_rate)


def _extrapolate(
    result: float,
    first_t: float,
    first_v: float,
    last_t: float,
    n: int,
    range_end: float,
    rng: float,
    counter: bool,
    is_rate: bool,
) -> float:
    """The end of `extrapolatedRate`: `result` (the increase seen between the first and last of `n`
    samples) extrapolated to the range's edges, per second for `rate`."""
    to_start = first_t - (range_end - rng)
    to_end = range_end - last_t
    sampled = last_t - first_t
    avg = sampled / (n - 1)
    if counter and result > 0 and first_v >= 0:
        to_zero = sampled * (first_v / result)
        to_start = min(to_start, to_zero)
    threshold = avg * 1.1
    interval = sampled + (to_start if to_start < threshold else avg / 2) + (to_end if to_end < threshold else avg / 2)
    result = result * (interval / sampled)
    return result / rng if is_rate else result


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' `bucketQuantile` over (upper bound, cumulative count) pairs."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for ub, c in buckets:
        merged[ub] = merged.get(ub, 0.0) + c
    bs = sorted(merged.items())
    if not bs or not math.isinf(bs[-1][0]):
        return math.nan
    fixed: list[tuple[float, float]] = []
    hi = -math.inf
    for ub, c in bs:
        hi = max(hi, c)
        fixed.append((ub, hi))
    if len(fixed) < 2:
        return math.nan
    observations = fixed[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next((i for i in range(len(fixed) - 1) if fixed[i][1] >= rank), len(fixed) - 1)
    if b == len(fixed) - 1:
        return fixed[-2][0]
    if b == 0 and fixed[0][0] <= 0:
        return fixed[0][0]
    start, end, count = 0.0, fixed[b][0], fixed[b][1]
    if b > 0:
        start = fixed[b - 1][0]
        count -= fixed[b - 1][1]
        rank -= fixed[b - 1][1]
    return start + (end - start) * (rank / count)


class Engine:
    """Evaluates PromQL over a `Storage`."""

    def __init__(self, storage: Storage, lookback: float = LOOKBACK) -> None:
        self.storage = storage
        self.lookback = lookback
        self._selected: dict[int, list[SeriesData]] = {}
        self._noname: dict[int, tuple[Labels, Labels]] = {}
        self._groups: dict[int, dict[int, tuple[tuple[tuple[str, str], ...], Labels, Labels]]] = {}
        """Per grouping node: series label-set id → (group key, group labels, the label set)."""
        self._names: dict[int, list[Labels]] = {}

    def _reset(self) -> None:
        """Memos live for one query: label sets are the same objects at every step."""
        self._selected, self._noname, self._groups, self._names = {}, {}, {}, {}

    def _without_name(self, labels: Labels) -> Labels:
        hit = self._noname.get(id(labels))
        if hit is None or hit[0] is not labels:
            hit = (labels, _drop_name(labels))
            self._noname[id(labels)] = hit
        return hit[1]

    def instant(self, query: str, t: float) -> Scalar | Vector | str | RangeRows:
        """An instant query's value; a range vector selector answers its raw samples (a matrix)."""
        node = parse(query)
        self._reset()
        value = self._eval(node, t)
        if isinstance(value, RangeRows):
            return value
        return value  # type: ignore[return-value]

    def range(self, query: str, start: float, end: float, step: float) -> Matrix:
        node = parse(query)
        self._reset()
        out: dict[tuple[tuple[str, str], ...], tuple[Labels, list[tuple[float, float]]]] = {}
        n = int((end - start) // step)
        for i in range(n + 1):
            t = start + i * step
            value = self._eval(node, t)
            if isinstance(value, str):
                raise QueryError('invalid expression type "string" for range query, must be Scalar or instant Vector')
            if isinstance(value, Scalar):
                value = [({}, value.value)]
            if isinstance(value, RangeRows):
                raise QueryError(
                    'invalid expression type "range vector" for range query, must be Scalar or instant Vector'
                )
            for labels, v in self._vector(value):
                entry = out.setdefault(_key(labels), (labels, []))
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
            return [(_drop_name(lb), -x) for lb, x in self._vector(v)]
        if isinstance(node, Binary):
            return self._binary(node, t)
        if isinstance(node, Agg):
            return self._aggregate(node, t)
        if isinstance(node, Call):
            return self._call(node, t)
        raise QueryError(f"unsupported expression {type(node).__name__}")

    def _vector(self, v: object) -> Vector:
        if not isinstance(v, list) or isinstance(v, RangeRows):
            raise QueryError("expected type instant vector")
        return v

    def _selector(self, sel: Selector, t: float) -> object:
        at = t - sel.offset
        if sel.range is not None:
            lo, hi = at - sel.range, at
            out = RangeRows()
            for s in self._select(sel):
                j0 = max(0, math.ceil((lo - s.t0) / s.step - 1e-9))
                j1 = min(len(s.values) - 1, math.floor((hi - s.t0) / s.step + 1e-9))
                if j1 >= j0:
                    out.append((s.labels, Window(s, j0, j1), s))
            return out
        vec: Vector = []
        for s in self._select(sel):
            j = min(len(s.values) - 1, math.floor((at - s.t0) / s.step + 1e-9))
            if j >= 0 and s.t0 + j * s.step >= at - self.lookback:
                vec.append((s.labels, s.values[j]))
        return vec

    def _fast_rate(self, sel: Selector, t: float, is_rate: bool) -> Vector:
        """`rate`/`increase` straight from the sample arrays: the same `extrapolatedRate` arithmetic as
        `extrapolated_rate`, with the window's indices computed once per series layout, not per series."""
        assert sel.range is not None
        rng = sel.range
        at = t - sel.offset
        lo = at - rng
        out: Vector = []
        layouts: dict[tuple[float, float, int], tuple[int, int]] = {}
        series = self._select(sel)
        names = self._names.get(id(sel))
        if names is None:
            names = self._names[id(sel)] = [self._without_name(x.labels) for x in series]
        for s, labels in zip(series, names, strict=True):
            n = len(s.values)
            layout = (s.t0, s.step, n)
            idx = layouts.get(layout)
            if idx is None:
                j0 = max(0, math.ceil((lo - s.t0) / s.step - 1e-9))
                j1 = min(n - 1, math.floor((at - s.t0) / s.step + 1e-9))
                idx = layouts[layout] = (j0, j1)
            j0, j1 = idx
            if j1 - j0 < 1:
                continue
            if not s.monotonic:
                v = extrapolated_rate(Window(s, j0, j1), t, rng, sel.offset, True, is_rate, False)
            else:  # a counter without resets: its increase is last minus first, no need to read between
                first_v = s.values[j0]
                result = s.values[j1] - first_v
                v = _extrapolate(
                    result, s.t0 + j0 * s.step, first_v, s.t0 + j1 * s.step, j1 - j0 + 1, at, rng, True, is_rate
                )
            if v is not None:
                out.append((labels, v))
        return out

    def _range_arg(self, node: Call, i: int = 0) -> tuple[Selector, object]:
        arg = node.args[i] if len(node.args) > i else None
        if not isinstance(arg, Selector) or arg.range is None:
            raise QueryError(f'expected type range vector in call to function "{node.func}"')
        return arg, arg

    def _call(self, node: Call, t: float) -> object:
        f = node.func
        if f in ("rate", "increase") and isinstance(node.args[0], Selector) and node.args[0].range is not None:
            return self._fast_rate(node.args[0], t, f == "rate")
        if f in ("rate", "increase", "delta", "irate", "idelta") or f.endswith("_over_time"):
            sel, _ = self._range_arg(node, 1 if f == "quantile_over_time" else 0)
            rows = self._selector(sel, t)
            assert isinstance(rows, list)
            out: Vector = []
            for labels, pts, s in rows:
                v = self._range_function(f, pts, t, sel, s, node)
                if v is not None:
                    out.append((self._without_name(labels), v))
            return out
        if f == "histogram_quantile":
            q = self._scalar_arg(node, 0, t)
            groups: dict[tuple[tuple[str, str], ...], tuple[Labels, list[tuple[float, float]]]] = {}
            for labels, v in self._vector(self._eval(node.args[1], t)):
                try:
                    le = float(labels.get("le", ""))
                except ValueError:
                    continue
                key, rest = self._group(labels, id(node), True, ("le",))
                entry = groups.get(key)
                if entry is None:
                    entry = groups[key] = (rest, [])
                entry[1].append((le, v))
            return [(lb, bucket_quantile(q, bs)) for lb, bs in groups.values()]
        if f == "time":
            return Scalar(t)
        if f == "vector":
            return [({}, self._scalar_arg(node, 0, t))]
        if f == "scalar":
            vec = self._vector(self._eval(node.args[0], t))
            return Scalar(vec[0][1] if len(vec) == 1 else math.nan)
        unary: dict[str, Callable[[float], float]] = {
            "abs": abs,
            "ceil": math.ceil,
            "floor": math.floor,
            "exp": math.exp,
            "sqrt": math.sqrt,
            "ln": math.log,
            "log2": math.log2,
            "log10": math.log10,
        }
        if f in unary:
            fn = unary[f]
            return [(_drop_name(lb), self._safe(fn, v)) for lb, v in self._vector(self._eval(node.args[0], t))]
        if f in ("clamp_min", "clamp_max"):
            bound = self._scalar_arg(node, 1, t)
            pick = max if f == "clamp_min" else min
            return [(_drop_name(lb), pick(v, bound)) for lb, v in self._vector(self._eval(node.args[0], t))]
        if f in ("sort", "sort_desc"):
            return sorted(self._vector(self._eval(node.args[0], t)), key=lambda x: x[1], reverse=f == "sort_desc")
        raise QueryError(f'parse error: unknown function with name "{f}"')

    @staticmethod
    def _safe(fn: Callable[[float], float], v: float) -> float:
        try:
            return float(fn(v))
        except (ValueError, OverflowError):
            return math.nan

    def _scalar_arg(self, node: Call, i: int, t: float) -> float:
        if len(node.args) <= i:
            raise QueryError(f'expected at least {i + 1} argument(s) in call to "{node.func}"')
        v = self._eval(node.args[i], t)
        if not isinstance(v, Scalar):
            raise QueryError(f'expected type scalar in call to function "{node.func}"')
        return v.value

    def _range_function(
        self, f: str, pts: Sequence[tuple[float, float]], t: float, sel: Selector, s: SeriesData, node: Call
    ) -> float | None:
        assert sel.range is not None
        if f in ("rate", "increase", "delta"):
            return extrapolated_rate(pts, t, sel.range, sel.offset, f != "delta", f == "rate", s.monotonic)
        if f in ("irate", "idelta"):
            if len(pts) < 2:
                return None
            (t1, v1), (t2, v2) = pts[-2], pts[-1]
            d = v2 - v1 if f == "idelta" or v2 >= v1 else v2
            return d / (t2 - t1) if f == "irate" else d
        vals = [v for _, v in pts]
        if not vals:
            return None
        if f == "sum_over_time":
            return sum(vals)
        if f == "avg_over_time":
            return sum(vals) / len(vals)
        if f == "count_over_time":
            return float(len(vals))
        if f == "max_over_time":
            return max(vals)
        if f == "min_over_time":
            return min(vals)
        if f == "last_over_time":
            return vals[-1]
        raise QueryError(f'parse error: unknown function with name "{f}"')

    def _aggregate(self, node: Agg, t: float) -> Vector:
        vec = self._vector(self._eval(node.expr, t))
        if node.op == "sum":
            return self._sum(node, vec)
        groups: dict[tuple[tuple[str, str], ...], tuple[Labels, list[tuple[Labels, float]]]] = {}
        for labels, v in vec:
            key, g = self._group(labels, id(node), node.without, node.grouping)
            entry = groups.get(key)
            if entry is None:
                entry = groups[key] = (g, [])
            entry[1].append((labels, v))
        op = node.op
        if op in ("topk", "bottomk"):
            k = int(self._eval_scalar(node.param, t))
            out: Vector = []
            for _, members in groups.values():
                ranked = sorted(members, key=lambda m: (math.isnan(m[1]), -m[1] if op == "topk" else m[1]))
                out.extend(ranked[: max(0, k)])
            return out
        result: Vector = []
        for g, members in groups.values():
            vals = [v for _, v in members]
            if op == "sum":
                r = math.fsum(vals) if all(math.isfinite(v) for v in vals) else sum(vals)
            elif op == "avg":
                r = sum(vals) / len(vals)
            elif op == "min":
                r = min((v for v in vals if not math.isnan(v)), default=math.nan)
            elif op == "max":
                r = max((v for v in vals if not math.isnan(v)), default=math.nan)
            elif op == "count":
                r = float(len(vals))
            elif op == "group":
                r = 1.0
            elif op in ("stddev", "stdvar"):
                mean = sum(vals) / len(vals)
                var = sum((v - mean) ** 2 for v in vals) / len(vals)
                r = math.sqrt(var) if op == "stddev" else var
            elif op == "quantile":
                phi = self._eval_scalar(node.param, t)
                r = _quantile(phi, vals)
            else:
                raise QueryError(f"unsupported aggregation {op}")
            result.append((g, r))
        return result

    def _group(
        self, labels: Labels, nid: int, without: bool, grouping: tuple[str, ...]
    ) -> tuple[tuple[tuple[str, str], ...], Labels]:
        """The group labels (and their key) of a series for one grouping node, memoised per query:
        the same label objects come back at every step of a range query."""
        memo_by_labels = self._groups.get(nid)
        if memo_by_labels is None:
            memo_by_labels = self._groups[nid] = {}
        memo = memo_by_labels.get(id(labels))
        if memo is None or memo[2] is not labels:
            if without:
                g = {k: x for k, x in labels.items() if k not in grouping and k != "__name__"}
            else:
                g = {k: labels[k] for k in grouping if k in labels}
            memo = memo_by_labels[id(labels)] = (_key(g), g, labels)
        return memo[0], memo[1]

    def _sum(self, node: Agg, vec: Vector) -> Vector:
        """`sum` without per-group member lists (the hot path of every percentile query)."""
        totals: dict[tuple[tuple[str, str], ...], list[Any]] = {}
        nid = id(node)
        for labels, v in vec:
            key, g = self._group(labels, nid, node.without, node.grouping)
            acc = totals.get(key)
            if acc is None:
                totals[key] = [g, v]
            else:
                acc[1] += v
        return [(g, v) for g, v in totals.values()]

    def _eval_scalar(self, node: object, t: float) -> float:
        v = self._eval(node, t)
        if not isinstance(v, Scalar):
            raise QueryError("expected type scalar")
        return v.value

    def _binary(self, node: Binary, t: float) -> object:
        lhs, rhs = self._eval(node.lhs, t), self._eval(node.rhs, t)
        op = node.op
        if op in ("and", "or", "unless"):
            return self._set_op(op, self._vector(lhs), self._vector(rhs), node)
        if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
            if op in COMPARE:
                if not node.bool_mod:
                    raise QueryError("comparisons between scalars must use BOOL modifier")
                return Scalar(1.0 if COMPARE[op](lhs.value, rhs.value) else 0.0)
            return Scalar(ARITH[op](lhs.value, rhs.value))
        if isinstance(lhs, Scalar) or isinstance(rhs, Scalar):
            scalar_side = lhs if isinstance(lhs, Scalar) else rhs
            assert isinstance(scalar_side, Scalar)
            vec = self._vector(rhs if isinstance(lhs, Scalar) else lhs)
            s = scalar_side.value
            out: Vector = []
            for labels, v in vec:
                a, b = (s, v) if isinstance(lhs, Scalar) else (v, s)
                if op in COMPARE:
                    hit = COMPARE[op](a, b)
                    if node.bool_mod:
                        out.append((_drop_name(labels), 1.0 if hit else 0.0))
                    elif hit:
                        out.append((labels, v))
                else:
                    out.append((_drop_name(labels), ARITH[op](a, b)))
            return out
        return self._vector_op(node, self._vector(lhs), self._vector(rhs))

    @staticmethod
    def _signature(labels: Labels, node: Binary) -> tuple[tuple[str, str], ...]:
        if node.on is not None:
            return tuple(sorted((k, v) for k, v in labels.items() if k in node.on))
        return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__" and k not in node.ignoring))

    def _vector_op(self, node: Binary, lhs: Vector, rhs: Vector) -> Vector:
        right: dict[tuple[tuple[str, str], ...], tuple[Labels, float]] = {}
        for labels, v in rhs:
            sig = self._signature(labels, node)
            if sig in right:
                raise QueryError(
                    "found duplicate series for the match group on the right hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side"
                )
            right[sig] = (labels, v)
        out: Vector = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        for labels, v in lhs:
            sig = self._signature(labels, node)
            if sig not in right:
                continue
            if sig in seen:
                raise QueryError(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                )
            seen.add(sig)
            rv = right[sig][1]
            if node.op in COMPARE:
                hit = COMPARE[node.op](v, rv)
                if node.bool_mod:
                    out.append((self._result_labels(labels, node, True), 1.0 if hit else 0.0))
                elif hit:
                    out.append((self._result_labels(labels, node, False), v))
            else:
                out.append((self._result_labels(labels, node, True), ARITH[node.op](v, rv)))
        return out

    @staticmethod
    def _result_labels(labels: Labels, node: Binary, drop_name: bool) -> Labels:
        out = _drop_name(labels) if drop_name else dict(labels)
        if node.on is not None:
            out = {k: v for k, v in out.items() if k in node.on or (k == "__name__" and not drop_name)}
        elif node.ignoring:
            out = {k: v for k, v in out.items() if k not in node.ignoring}
        return out

    def _set_op(self, op: str, lhs: Vector, rhs: Vector, node: Binary) -> Vector:
        rsigs = {self._signature(lb, node) for lb, _ in rhs}
        if op == "and":
            return [(lb, v) for lb, v in lhs if self._signature(lb, node) in rsigs]
        if op == "unless":
            return [(lb, v) for lb, v in lhs if self._signature(lb, node) not in rsigs]
        lsigs = {self._signature(lb, node) for lb, _ in lhs}
        return lhs + [(lb, v) for lb, v in rhs if self._signature(lb, node) not in lsigs]


def _quantile(q: float, values: list[float]) -> float:
    if not values or math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    vs = sorted(values)
    rank = q * (len(vs) - 1)
    lo = max(0, math.floor(rank))
    hi = min(len(vs) - 1, lo + 1)
    w = rank - math.floor(rank)
    return vs[lo] * (1 - w) + vs[hi] * w
