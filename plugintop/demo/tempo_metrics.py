"""Provides the demo Tempo's TraceQL metrics (`/api/metrics/query_range`): `rate()` and `count_over_time()`
(optionally `by (...)`) and `compare()`, counted from the world's spans, in Tempo 3's JSON shape; and the
backend-block bookkeeping the search and metrics answers report (`totalBlocks`, `totalBlockBytes`)."""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from plugintop.demo.lex import QueryError
from plugintop.demo.slots import Call
from plugintop.demo.traceql import AttrValue, Compare, DemoSpan, OverTime, Query, TraceView, get, label_of, match
from plugintop.demo.world import World

BACKEND_AFTER = 15 * 60
"""Seconds after which spans are in backend blocks (Tempo's `query_backend_after`); newer ones are in the
live store only."""
BLOCK_S = 5 * 60
"""Seconds of spans per backend block."""
SPAN_BYTES = 380
"""Bytes per span in a block (Parquet, compressed), for `totalBlockBytes` and `inspectedBytes`."""
MAX_EXEMPLARS = 100
"""Tempo's exemplars per query."""
SCOPE_NAME, SCOPE_VERSION = "plugin-sdk", "1.0.0"
"""The instrumentation scope of the platform SDK's spans (`instrumentation:name`, `instrumentation:version`)."""
WELL_KNOWN_RESOURCE = (
    "cluster",
    "container",
    "k8s.cluster.name",
    "k8s.container.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "namespace",
    "pod",
)
WELL_KNOWN_SPAN = (
    "http.method",
    "http.request.method",
    "http.route",
    "http.status_code",
    "http.url",
    "server.address",
    "url.path",
    "url.route",
)
"""Tempo 3's dedicated Parquet columns: every span has them, `nil` when it does not set them (so compare()
counts them, as a real Tempo 3.0.3 does)."""

Spans = Callable[[Call], list[tuple[str, str | None, DemoSpan, float, float]]]
Key = tuple[str, str]
"""An attribute value made hashable and typed: (type, text)."""


def any_value(value: AttrValue) -> dict[str, Any]:
    """An OTLP AnyValue as Tempo's JSON writes series labels: `nil` for a missing value."""
    if value is None:
        return {"stringValue": "nil"}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _key(value: AttrValue) -> Key:
    return ("nil", "") if value is None else (type(value).__name__, str(value))


def go_duration(seconds: float) -> str:
    """Go's `time.Duration.String()` of a span duration (`763.152065ms`, `1.27141s`, `2m3.5s`)."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)

    def frac(v: int, unit: int) -> str:
        whole, rest = divmod(v, unit)
        digits = str(rest).rjust(len(str(unit)) - 1, "0").rstrip("0")
        return f"{whole}.{digits}" if digits else str(whole)

    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{frac(ns, 1_000)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{frac(ns, 1_000_000)}ms"
    h, rest = divmod(ns, 3600 * 10**9)
    m, rest = divmod(rest, 60 * 10**9)
    out = f"{h}h" if h else ""
    out += f"{m}m" if h or m else ""
    return f"{sign}{out}{frac(rest, 10**9)}s"


def span_attributes(sp: DemoSpan, trace: TraceView) -> list[tuple[str, AttrValue]]:
    """Every attribute Tempo's compare() groups by, with its series label name: the intrinsics (not the
    durations), the span's and resource's attributes, and the dedicated columns it lacks as nil."""
    out: list[tuple[str, AttrValue]] = [
        ("name", sp.name),
        ("kind", sp.kind),
        ("status", sp.status),
        ("statusMessage", sp.status_message),
        ("rootName", trace.root_name),
        ("rootServiceName", trace.root_service),
        ("instrumentation:name", SCOPE_NAME),
        ("instrumentation:version", SCOPE_VERSION),
    ]
    out += [(f"span.{k}", v) for k, v in sp.attributes.items()]
    out += [(f"span.{k}", None) for k in WELL_KNOWN_SPAN if k not in sp.attributes]
    out += [(f"resource.{k}", v) for k, v in sp.resource.items()]
    out += [(f"resource.{k}", None) for k in WELL_KNOWN_RESOURCE if k not in sp.resource]
    return out


@dataclass(frozen=True, slots=True)
class Grid:
    """The aligned time buckets of a query_range, as Tempo 3 labels them: the sample at `t0 + i*step` counts
    the spans that started in (t0 + (i-1)*step, t0 + i*step], `t0` being the start rounded down to the step
    and the last sample the end rounded up (so the first one covers the step before the start). An instant
    query (end - start = step) is not aligned: one sample, at the end, of (start, end]."""

    start: float
    end: float
    step: float
    t0: float
    n: int

    @classmethod
    def of(cls, start: float, end: float, step: float) -> Grid:
        if abs(end - start - step) < 1e-6:  # an instant query: one bucket, (start, end], never aligned
            return cls(start, end, step, end, 1)
        t0 = math.floor(start / step) * step
        n = int(round((math.ceil(end / step) * step - t0) / step)) + 1
        return cls(start, end, step, t0, n)

    def index(self, t: float) -> int:
        """The bucket of a span starting at `t`, -1 outside the range."""
        i = math.ceil((t - self.t0) / self.step)
        return i if 0 <= i < self.n and t <= self.end else -1

    def samples(self, values: list[float]) -> list[dict[str, Any]]:
        """Tempo's samples: a zero has no `value` key."""
        stamps = self.stamps()
        return [
            {"timestampMs": ts, "value": int(v) if float(v).is_integer() else v} if v else {"timestampMs": ts}
            for ts, v in zip(stamps, values, strict=False)
        ]

    def stamps(self) -> list[str]:
        """Each sample's `timestampMs` (made once per grid: a compare() answer has hundreds of series)."""
        return _stamps(self.t0, self.step, self.n)


@functools.lru_cache(maxsize=8)
def _stamps(t0: float, step: float, n: int) -> list[str]:
    return [str(round((t0 + i * step) * 1000)) for i in range(n)]


def blocks(world: World, start: float, end: float) -> tuple[int, int]:
    """(blocks, bytes) of the backend blocks a query over [start, end] plans: the spans older than
    `BACKEND_AFTER` are in blocks of `BLOCK_S` seconds each."""
    lo = max(start, world.first_slot * world.slot_s)
    hi = min(end, world.now() - BACKEND_AFTER)
    if hi <= lo:
        return 0, 0
    n = int(math.floor(hi / BLOCK_S) - math.floor(lo / BLOCK_S)) + 1
    sc = world.scenario
    per_min = sum(t.calls_per_min * (2 + len(t.functions) + len(t.downstream)) for t in sc.tools) * len(sc.tenants)
    spans = per_min * n * BLOCK_S / 60 * min(1.0, sc.realism.trace_sampling)
    return n, int(spans * SPAN_BYTES)


def job_metrics(world: World, start: float, end: float, spans: int, jobs: int = 1) -> dict[str, Any]:
    """The `metrics` of a query_range answer; zeros are left out, as Tempo's JSON omits them."""
    n_blocks, block_bytes = blocks(world, start, end)
    out: dict[str, Any] = {}
    if spans:
        out["inspectedBytes"] = str(spans * SPAN_BYTES)
    if n_blocks:
        out["totalBlocks"] = n_blocks
    out["completedJobs"] = jobs + n_blocks
    out["totalJobs"] = jobs + n_blocks
    if block_bytes:
        out["totalBlockBytes"] = str(block_bytes)
    if spans:
        out["inspectedSpans"] = str(spans)
    return out


class MetricsEngine:
    """Evaluates one TraceQL metrics query over the world's spans."""

    def __init__(
        self,
        world: World,
        spans: Spans,
        calls: Callable[[Query, float, float], Iterator[Call]],
    ) -> None:
        self.world = world
        self.spans = spans
        self.calls = calls

    def matched(self, q: Query, grid: Grid) -> Iterator[tuple[Call, DemoSpan, TraceView, float]]:
        """(call, span, trace, span start) of every span the query's filter matches, in the grid."""
        for c in self.calls(q, grid.t0 - grid.step, grid.end + self.world.slot_s):
            if c.start > grid.end:
                continue
            spans = self.spans(c)
            views = [sp for _, _, sp, _, _ in spans]
            trace = TraceView(views[0].name, str(views[0].resource["service.name"]), c.duration)
            hits = match(q.tree, views, trace)
            for i in hits or ():
                t = spans[i][3]
                if grid.index(t) >= 0:
                    yield c, views[i], trace, t

    def query_range(self, q: Query, start: float, end: float, step: float) -> dict[str, Any]:
        grid = Grid.of(start, end, step)
        if grid.n > 11_000:
            raise QueryError(f"step of {step:g}s is too small: the range has more than 11000 points")
        if isinstance(q.metrics, Compare):
            series, spans = self._compare(q, q.metrics, grid)
        elif isinstance(q.metrics, OverTime):
            series, spans = self._over_time(q, q.metrics, grid)
        else:
            raise QueryError("invalid TraceQL query: not a metrics query: end it in a metrics function like rate()")
        return {"series": series, "metrics": job_metrics(self.world, grid.t0, end, spans)}

    # ----- rate() / count_over_time() --------------------------------------------------------------
    def _over_time(self, q: Query, m: OverTime, grid: Grid) -> tuple[list[dict[str, Any]], int]:
        counts: dict[tuple[Key, ...], list[float]] = {}
        values: dict[tuple[Key, ...], tuple[AttrValue, ...]] = {}
        firsts: dict[tuple[Key, ...], dict[int, tuple[Call, DemoSpan, TraceView, float]]] = {}
        seen = 0
        for c, sp, trace, t in self.matched(q, grid):
            seen += 1
            vals = tuple(get(a, sp, trace) for a in m.by)
            key = tuple(_key(v) for v in vals)
            row = counts.get(key)
            if row is None:
                row = counts[key] = [0.0] * grid.n
                values[key] = vals
                firsts[key] = {}
            i = grid.index(t)
            row[i] += 1
            firsts[key].setdefault(i, (c, sp, trace, t))
        per = 1.0 / grid.step if m.fn == "rate" else 1.0
        out = []
        cap = max(1, MAX_EXEMPLARS // max(1, len(counts)))
        ex_labels = [*q.used, *(a for a in m.by if a not in q.used)]
        for key in sorted(counts):
            row = [v * per for v in counts[key]]
            if m.by:
                labels = [{"key": name, "value": any_value(v)} for name, v in zip(m.labels, values[key], strict=True)]
            else:
                labels = [{"key": "__name__", "value": {"stringValue": m.fn}}]
            series: dict[str, Any] = {"labels": labels, "samples": grid.samples(row)}
            chosen = sorted(firsts[key].items())
            stride = max(1, math.ceil(len(chosen) / cap))
            exemplars = []
            for i, (c, sp, trace, t) in chosen[::stride]:
                ls = [{"key": label_of(a), "value": any_value(get(a, sp, trace))} for a in ex_labels]
                ls.append({"key": "trace:id", "value": {"stringValue": c.trace_id.lstrip("0") or "0"}})
                exemplars.append({"labels": ls, "value": row[i], "timestampMs": str(int(t * 1000))})
            if exemplars:
                series["exemplars"] = exemplars
            out.append(series)
        return out, seen

    # ----- compare() -------------------------------------------------------------------------------
    def _compare(self, q: Query, m: Compare, grid: Grid) -> tuple[list[dict[str, Any]], int]:
        groups = ("baseline", "selection")
        examples: list[dict[int, tuple[Call, DemoSpan, TraceView, float]]] = [{}, {}]
        sel = m.selection
        assert isinstance(sel, tuple)
        pred = sel[1]
        seen = 0
        n = grid.n
        # Real Tempo 3.0.3 counts the attributes of the outer filter's conditions twice (both its fetch passes
        # return them): `name` and `resource.service.name` of `{resource.service.name=.. && name=..}`.
        twice = {label_of(a) for a in q.used}
        buckets: dict[int, Counter[tuple[int, str, type, AttrValue]]] = {}
        """Bucket -> (group, name, type, value) -> spans: counted per bucket first (Counter.update counts in C;
        most values repeat within a bucket), then spread into the rows."""
        for c, sp, trace, t in self.matched(q, grid):
            seen += 1
            in_window = not (m.start_ns and m.end_ns) or m.start_ns <= t * 1e9 < m.end_ns
            g = 1 if in_window and pred(sp, trace) else 0
            i = grid.index(t)
            keys = [(g, name, type(v), v) for name, v in span_attributes(sp, trace)]
            if twice:
                keys += [k for k in keys if k[1] in twice]
            bucket = buckets.get(i)
            if bucket is None:
                bucket = buckets[i] = Counter()
            bucket.update(keys)
            examples[g].setdefault(i, (c, sp, trace, t))
        rows: dict[tuple[int, str, type, AttrValue], dict[int, float]] = {}
        """Sparse: most values (a user, a session) are in few buckets of the hundreds."""
        totals: list[dict[str, list[float]]] = [{}, {}]
        for i, bucket in buckets.items():
            for k, spans_in in bucket.items():
                rows.setdefault(k, {})[i] = spans_in
                tot = totals[k[0]].get(k[1])
                if tot is None:
                    tot = totals[k[0]][k[1]] = [0.0] * n
                tot[i] += spans_in
        values: list[dict[str, list[tuple[AttrValue, dict[int, float]]]]] = [{}, {}]
        for (g, name, _, v), row in rows.items():
            values[g].setdefault(name, []).append((v, row))
        out: list[dict[str, Any]] = []
        for g, group in enumerate(groups):
            for name in sorted(values[g]):
                ranked = sorted(values[g][name], key=lambda vr: (-sum(vr[1].values()), _key(vr[0])))
                for v, sparse in ranked[: m.top_n]:
                    dense = [0.0] * n
                    for i, x in sparse.items():
                        dense[i] = x
                    out.append(self._series(group, name, v, dense, grid))
        for g, group in enumerate(groups):
            names = sorted(totals[g])
            total_series = [self._series(f"{group}_total", name, None, totals[g][name], grid) for name in names]
            chosen = sorted(examples[g].items())[: MAX_EXEMPLARS // 2]
            for j, (i, (c, sp, trace, t)) in enumerate(chosen):  # one span per bucket, spread over the series
                target = total_series[j % len(total_series)]
                ls = [{"key": name, "value": any_value(v)} for name, v in span_attributes(sp, trace)]
                ls += [
                    {"key": "duration", "value": {"stringValue": go_duration(sp.duration)}},
                    {"key": "traceDuration", "value": {"stringValue": go_duration(trace.duration)}},
                    {"key": "trace:id", "value": {"stringValue": c.trace_id.lstrip("0") or "0"}},
                ]
                exemplar = {"labels": ls, "value": totals[g]["kind"][i], "timestampMs": str(int(t * 1000))}
                target.setdefault("exemplars", []).append(exemplar)
            out += total_series
        return out, seen

    @staticmethod
    def _series(group: str, name: str, value: AttrValue, row: list[float], grid: Grid) -> dict[str, Any]:
        labels = [
            {"key": "__meta_type", "value": {"stringValue": group}},
            {"key": name, "value": any_value(value)},
        ]
        return {"labels": labels, "samples": grid.samples([int(v) for v in row])}
