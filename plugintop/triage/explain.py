"""Provides the explanation phase (DESIGN §4.2): for each finding, what its explanation needs, fetched
after the verdict (it never delays it): the finding's own series at a fine step (its onset), the prompt
tokens per call, the tokens by model and the counter resets from Prometheus, and the attribute
comparison of its calls from Tempo: TraceQL metrics `compare()` where the Tempo answers it, else two
span samples (the tag names from `/api/v2/search/tags`, then `| select(...)` of them) compared here.
`analysis.explain` decides; every call goes through `Asker.ask`, so failures and timeouts are recorded."""

from __future__ import annotations

import asyncio
import math
import statistics
from collections import Counter
from collections.abc import Sequence

import msgspec

from plugintop.analysis import explain as ax
from plugintop.analysis import wording
from plugintop.analysis.attributes import BAND_QUANTILES, NUMERIC_SHARE, Counts, band, band_edges, counts_of
from plugintop.analysis.changes import lookback
from plugintop.analysis.model import Explain, Finding, Points, TriageResult
from plugintop.analysis.signals import Frame, ToolSignals
from plugintop.clients.tempo import MAX_SEARCH_RANGE_S
from plugintop.clients.tempo_metrics import MAX_METRICS_RANGE_S, TempoMetrics
from plugintop.models.prometheus import QueryResult
from plugintop.models.tempo import SearchResult
from plugintop.models.tempo_metrics import MetricsResult
from plugintop.queries import traceql
from plugintop.queries.promql import PromQL, Scope
from plugintop.schema import Schema
from plugintop.timerange import choose_step, parse_duration
from plugintop.triage.asking import Asker
from plugintop.triage.fleet import FleetPhase
from plugintop.triage.request import rate_window

MAX_FULL = 1
"""Findings explained with their own fetches (the first, most severe); the rest from the first wave's data."""
SERIES_POINTS = 120
SLICES = 4
"""A span sample is asked in this many slices of its range (a search answers the newest first)."""
PER_SLICE = 40
COMPARE_TOP = 20
"""Values per attribute `compare()` returns (Tempo's default is 10): the top of a long tail is enough."""
MAX_SELECT = 40
FINE_STEP_MIN_S = 15.0


def _per(num: QueryResult | None, den: QueryResult | None) -> Points:
    """num / den per timestamp (single-series answers), where den > 0."""
    if num is None or den is None or not num.series or not den.series:
        return []
    by_t = dict(num.series[0].values)
    return [(t, by_t[t] / d) for t, d in den.series[0].values if d > 0 and t in by_t and math.isfinite(by_t[t])]


def _one(res: QueryResult | None) -> Points:
    return list(res.series[0].values) if res is not None and res.series else []


def _slow_cut(f: Finding) -> float | None:
    """The duration past which a call is one of a latency finding's: slower than the tenant's usual p99
    (1 % of ordinary calls are), else than the line itself."""
    for v in (f.baseline, f.threshold):
        if v is not None and math.isfinite(v) and v > 0:
            return min(v, f.threshold) if math.isfinite(f.threshold) else v
    return None


class Explainer:
    """The explanation phase of one triage."""

    def __init__(
        self,
        asker: Asker,
        schema: Schema,
        result: TriageResult,
        *,
        signals: Sequence[ToolSignals],
        frame: Frame,
        scrape_s: float,
        fleet: FleetPhase | None = None,
    ) -> None:
        self.asker, self.schema, self.result = asker, schema, result
        self.signals, self.frame, self.scrape_s = signals, frame, scrape_s
        self.promql = PromQL(schema)
        self.plugin, self.tenant = result.plugin, result.tenant
        self.fleet = fleet or FleetPhase(asker, schema, self.plugin, self.tenant, frame)
        self.problems = dict(asker.problems)
        """The backends' problems as the verdict saw them (the phase's own optional asks add none)."""

    # ----- Prometheus ---------------------------------------------------------------------------------
    async def series(self, f: Finding) -> ax.Fetched:
        """The finding's own series, prompt tokens per call, tokens by model and counter resets, at a
        step fine enough for its onset."""
        lo, hi = f.start - 2 * lookback(f.duration), f.end
        step = max(choose_step(hi - lo, SERIES_POINTS), FINE_STEP_MIN_S, self.scrape_s)
        rw = rate_window(step, self.scrape_s)
        fetched = ax.Fetched(step=step, smooth_s=parse_duration(rw))
        if self.asker.backends.prometheus is None:
            return fetched
        p, sc = self.promql, Scope(self.plugin, self.tenant, f.tool)
        own: dict[str, str] = {"calls": p.request_rate(sc, rw, by=())}
        if f.kind == "latency":
            own["own"] = p.quantile(0.99, sc, rw, by=())
        elif f.kind == "errors":
            own["own"] = p.failure_rate(sc, rw, by=())
        elif f.kind == "cost":
            own["own"] = p.cost_rate(sc, rw, by=()) if _has_cost(self.signals, f.tool) else p.token_rate(sc, rw, by=())
        own["prompt"] = p.prompt_token_rate(sc, rw)
        own["models"] = p.tokens_by_model(sc, rw)
        resets_q = self.fleet.fleetql.resets(self.plugin, rw)  # a window with samples in it, as the rates
        prom = self.asker.backends.prometheus
        answers = await asyncio.gather(
            *(self.asker.prom_range(q, lo, hi, step) for q in own.values()),
            # optional (not every Prometheus-like server has resets()): a refusal is no problem of the triage's
            self.asker.ask("prometheus", resets_q, prom.query_range(resets_q, lo, hi, step), quiet=True),
        )
        got = dict(zip([*own, "resets"], answers, strict=True))
        calls = got["calls"]
        fetched.rate = _one(calls)
        if f.kind == "latency":
            fetched.series = _one(got.get("own"))
        elif f.kind == "errors":
            fetched.series = _per(got.get("own"), calls) or None
        elif f.kind == "cost":
            fetched.series = _per(got.get("own"), calls) or None
        else:
            fetched.series = fetched.rate or None
        fetched.prompt_per_call = _per(got["prompt"], calls)
        models = got["models"]
        if models is not None:
            fetched.tokens_by_model = {
                s.metric.get(self.schema.model_label, ""): list(s.values) for s in models.series if s.values
            }
        resets = got["resets"]
        if resets is not None:
            fetched.resets = {
                s.metric.get("pod") or s.metric.get("instance", ""): list(s.values) for s in resets.series
            }
        return fetched

    # ----- Tempo --------------------------------------------------------------------------------------
    def _sets(self, f: Finding) -> tuple[list[str], list[str], tuple[float, float], tuple[float, float], str] | None:
        """(selection conditions, baseline conditions, selection range, baseline range, in words)."""
        ws, we = f.start, f.end
        back = ws - lookback(f.duration)
        if f.kind == "latency":
            cut = _slow_cut(f)
            if cut is None:
                return None
            what = f"calls over {wording.duration(cut)} in the window against the tool's other calls of the tenant"
            return [traceql.slower_than(cut)], [traceql.not_slower_than(cut)], (ws, we), (back, we), what
        if f.kind == "errors":
            what = "failed calls in the window against the calls that succeeded"
            return [traceql.FAILED], [traceql.NOT_FAILED], (ws, we), (back, we), what
        what = "the calls in the window against the tool's calls of the tenant before it"
        return [], [], (ws, we), (back, ws), what

    async def compare(self, f: Finding) -> ax.Comparison | None:
        """The finding's calls against the rest: `compare()` where Tempo answers it, else span samples."""
        tempo = self.asker.backends.tempo
        sets = self._sets(f)
        if tempo is None or sets is None:
            return None
        sel, base, sel_range, base_range, what = sets
        # an attribute that is the finding itself explains nothing: the cost of a costly call
        ignore = {self.schema.span_tenant_attr, *([self.schema.llm_cost_attr] if f.kind == "cost" else [])}
        if sel and sel_range[1] == base_range[1]:
            lo = max(base_range[0], base_range[1] - MAX_METRICS_RANGE_S)
            q = traceql.compare(self.schema, self.plugin, self.tenant, f.tool, sel, COMPARE_TOP)
            # only the sums over the range count: one step as long as the range, an instant query, which Tempo
            # does not align (a range query's start moves back to a multiple of its step, and one step more)
            hi = int(base_range[1])
            step = max(60, hi - int(lo))
            lo = hi - step
            res = await self.asker.ask("tempo", q, TempoMetrics(tempo).query_range(q, lo, hi, step), quiet=True)
            if res is not None and res.series:
                got = from_compare(res, ignore)
                if got is not None:
                    got.what = what
                    return got
        return await self.samples(f, sel, base, sel_range, base_range, what, ignore)

    async def samples(
        self,
        f: Finding,
        sel: list[str],
        base: list[str],
        sel_range: tuple[float, float],
        base_range: tuple[float, float],
        what: str,
        ignore: set[str],
    ) -> ax.Comparison | None:
        """Two span samples, each asked in slices of its range, with `select()` of the tool spans' tags."""
        tempo = self.asker.backends.tempo
        assert tempo is not None
        filt = traceql.spanset(traceql.tool_filter(self.schema, self.plugin, self.tenant, f.tool))
        tags = await self.asker.ask(
            "tempo", None, TempoMetrics(tempo).span_tags(filt, base_range[0], base_range[1]), quiet=True
        )
        names = [t for t in (tags.of("span") if tags is not None else []) if t not in ignore]
        if not names:
            names = [
                *self.schema.llm_model_attrs[:1],
                self.schema.span_version_attr,
                "user.id",
                *self.schema.llm_prompt_tokens_attrs[:1],
            ]
        names = names[:MAX_SELECT]

        async def sample(extra: list[str], rng: tuple[float, float]) -> list[dict[str, object]] | None:
            q = traceql.tool_spans_where(self.schema, self.plugin, self.tenant, f.tool, extra, names)
            lo = max(rng[0], rng[1] - MAX_SEARCH_RANGE_S)
            edges = [lo + (rng[1] - lo) * i / SLICES for i in range(SLICES + 1)]
            got = await asyncio.gather(
                *(
                    self.asker.ask("tempo", q if i == 0 else None, tempo.search(q, a, b, limit=PER_SLICE, spss=1))
                    for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False))
                )
            )
            if all(g is None for g in got):
                return None
            return calls_of(got, f.tool, self.schema.tool_span_name(self.plugin, f.tool))

        picked, rest = await asyncio.gather(sample(sel, sel_range), sample(base, base_range))
        if picked is None or rest is None:
            return None
        s_counts, b_counts, numeric = counts_of(picked, rest, ignore)
        users = {str(c["user.id"]) for c in picked if c.get("user.id") is not None}
        return ax.Comparison(
            selection=s_counts,
            baseline=b_counts,
            numeric=numeric,
            how="span samples",
            what=what,
            users=len(users) if users else None,
            users_of=len(picked) if users else None,
            ignore=ignore,
        )

    # ----- the phase ----------------------------------------------------------------------------------
    async def one(self, f: Finding, *, full: bool) -> Explain:
        drilled = self.result.slow_window is not None and self.result.slow_window.covers(f)
        rw = rate_window(self.frame.step, self.scrape_s)
        neighbours = self.fleet.neighbours(f, rw)
        dearer = self.fleet.dearer(f, rw)
        if full:
            fetched, cmp, fetched_neighbours, found = await asyncio.gather(
                self.series(f), self.compare(f), neighbours, dearer
            )
            fetched.comparison = cmp
            if cmp is None and self.asker.backends.tempo is not None:
                fetched.notes.append("tempo: no spans to compare")
        else:
            fetched = ax.Fetched(step=self.frame.step)
            fetched_neighbours, found = await asyncio.gather(neighbours, dearer)
        fetched.neighbours = fetched_neighbours
        fetched.dearer, fetched.dearer_rates = found
        return ax.explain(
            f,
            tenant=self.tenant,
            signals=self.signals,
            frame=self.frame,
            result=self.result,
            problems=self.problems,
            fetched=fetched,
            drilled=drilled,
        )


def from_compare(res: MetricsResult, ignore: set[str]) -> ax.Comparison | None:
    """`compare()`'s series as counts: per attribute value, its spans in the selection and the baseline
    (summed over the steps); the `_total` series give the sets' sizes. Span and resource attributes only
    (intrinsics such as `name` or `status` are what the sets were chosen by); numbers in bands."""
    raw: dict[str, dict[str, Counter[object]]] = {"selection": {}, "baseline": {}}
    totals: dict[str, list[float]] = {"selection": [], "baseline": []}
    for s in res.series:
        kind = str(s.labels.get("__meta_type", ""))
        keys = [k for k in s.labels if k != "__meta_type"]
        if len(keys) != 1:
            continue
        key = keys[0]
        name = key[5:] if key.startswith("span.") else key if key.startswith("resource.") else None
        if name is None or name in ignore:
            continue
        if kind.endswith("_total"):
            totals.setdefault(kind[:-6], []).append(s.total())
            continue
        value = s.labels[key]
        if kind in raw and value is not None and value != "nil":
            raw[kind].setdefault(name, Counter())[value] += round(s.total())
    # every attribute's total is the set's size; the median, as real Tempo 3.0.3 counts some (a resource's
    # `service.name`) twice
    n1, n0 = (round(statistics.median(totals[k])) if totals[k] else 0 for k in ("selection", "baseline"))
    if n1 <= 0 and n0 <= 0:
        return None
    sel, base = Counts(n=n1), Counts(n=n0)
    numeric: set[str] = set()
    for name in set(raw["selection"]) | set(raw["baseline"]):
        values = [*raw["selection"].get(name, Counter()), *raw["baseline"].get(name, Counter())]
        nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        banded = len(nums) >= NUMERIC_SHARE * len(values) and len(set(nums)) > len(BAND_QUANTILES) + 1
        edges: list[float] = []
        if banded:
            numeric.add(name)
            weighted = sorted(
                float(v)
                for v, c in raw["baseline"].get(name, Counter()).items()
                if isinstance(v, int | float)
                for _ in range(min(int(c), 10_000))
            )
            edges = band_edges(weighted or [float(v) for v in nums if isinstance(v, int | float)])
        for kind, into in (("selection", sel), ("baseline", base)):
            for v, c in raw[kind].get(name, Counter()).items():
                label = band(float(v), edges) if banded and isinstance(v, int | float) else str(v)
                into.add(name, label, int(c))
    users = raw["selection"].get("user.id")
    return ax.Comparison(
        selection=sel,
        baseline=base,
        numeric=numeric,
        how="tempo compare()",
        users=sum(1 for c in users.values() if c > 0) if users else None,
        users_of=n1 if users else None,
        ignore=ignore,
    )


def calls_of(found: Sequence[SearchResult | None], tool: str, span_name: str) -> list[dict[str, object]]:
    """One attribute dict per call (its tool span) across the slices' answers, each trace once."""
    seen: set[str] = set()
    out: list[dict[str, object]] = []
    for res in found:
        for t in res.traces if res is not None else []:
            if t.trace_id in seen:
                continue
            seen.add(t.trace_id)
            span = next((s for s in t.spans if s.name == span_name), t.spans[0] if t.spans else None)
            if span is not None:
                out.append(dict(span.attributes))
    return out


def _has_cost(signals: Sequence[ToolSignals], tool: str) -> bool:
    ts = next((s for s in signals if s.tool == tool), None)
    return ts is not None and ts.tenant.has_cost()


async def explain_all(
    asker: Asker,
    schema: Schema,
    result: TriageResult,
    *,
    signals: Sequence[ToolSignals],
    frame: Frame,
    scrape_s: float,
    fleet: FleetPhase | None = None,
) -> list[Finding]:
    """Every finding of `result` with its explanation (the first `MAX_FULL` with their own fetches, at
    once; the rest from the first wave's data). Run after the verdict: it never delays it. `fleet` is the
    triage's fleet questions (the neighbours it may already have asked)."""
    ex = Explainer(asker, schema, result, signals=signals, frame=frame, scrape_s=scrape_s, fleet=fleet)
    findings = list(result.findings)
    got = await asyncio.gather(*(ex.one(f, full=i < MAX_FULL) for i, f in enumerate(findings)))
    return [msgspec.structs.replace(f, explain=e) for f, e in zip(findings, got, strict=True)]
