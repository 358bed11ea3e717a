"""Provides `Triage`: the one orchestrator between the clients and the analysis. Given (plugin, tenant,
range, settings) it finds the scrape interval, asks the first wave (percentiles, SLO, every tool's
signals), finds and scopes the findings, drills into the top one's window (spans, trace, profile,
cost, logs, error patterns, failing spans), and decides the verdict, yielding the result after each
phase. A failing backend leaves its parts empty and adds one line to `errors`; the rest goes on."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from typing import Any, TypeVar

import msgspec

from plugintop.analysis.business import findings as business_findings
from plugintop.analysis.findings import find
from plugintop.analysis.model import Evidence, Finding, SlowWindow, TriageResult
from plugintop.analysis.scope import scoped
from plugintop.analysis.signals import Frame
from plugintop.analysis.verdict import decide
from plugintop.analysis.window import peak_in
from plugintop.config.context import Context
from plugintop.connect.backends import Backends
from plugintop.queries.fleet import FleetQL
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.recorded import RecordedFleetQL, RecordedRest, RestQL
from plugintop.timerange import choose_step, format_duration
from plugintop.triage.asking import Asker
from plugintop.triage.business import business_metrics
from plugintop.triage.drill import Drill, Found
from plugintop.triage.explain import explain_all
from plugintop.triage.fleet import FleetPhase
from plugintop.triage.probes import recording_rules, scrape_interval, sparse
from plugintop.triage.request import DEFAULT_SCRAPE_INTERVAL, TriageRequest, rate_window
from plugintop.triage.signals import Wave, first_wave, latency_detail

T = TypeVar("T")

BASELINE_MAX_S = 24 * 3600.0
"""The stretch before the range fetched as baseline: as long as the range, at most a day."""


class Triage:
    """One triage run."""

    def __init__(
        self, backends: Backends, ctx: Context, req: TriageRequest, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.ctx, self.req = ctx, req
        self.schema = ctx.telemetry
        self.promql = PromQL(self.schema)
        r = req.range
        now = clock()
        self.end = min(r.end, now) if now > r.start else r.end
        """The range's end, never after now: a range reaching into the future takes nothing from there."""
        self.result = TriageResult(req.plugin, req.tenant, r.start, r.end)
        self.step = choose_step(r.duration)
        """The step of the series shown over the range."""
        baseline = min(r.duration, BASELINE_MAX_S)
        self.series_step = choose_step(r.duration + baseline)
        """The step of the signal series, which reach back `baseline` before the range."""
        self.asker = Asker(backends, self.result, self.step, deadline_s=req.deadline_s)
        self.drill = Drill(self.asker, self.schema, req.plugin, req.tenant, req.focus.attribute)
        self.scrape_s = DEFAULT_SCRAPE_INTERVAL
        self.rw = rate_window(self.series_step, self.scrape_s)
        self.rest = RestQL(self.promql)
        """The rest of the fleet's questions: from the raw series, or the recording rules when they run."""
        self.fleetql = FleetQL(self.promql)
        """The other tenants' questions, likewise."""
        self.fleet: FleetPhase | None = None
        """The fleet's questions of this triage, once its findings are known."""
        self.wave = Wave()
        self.frame = Frame(
            start=r.start,
            end=self.end,
            baseline_start=r.start - baseline,
            step=self.series_step,
            success_target=ctx.slo.success_target,
            daily_budget_usd=ctx.slo.daily_budget_usd,
        )
        self.found = Found()
        self._decided = False

    def waiting(self) -> dict[str, float]:
        """Backend → seconds its oldest unanswered call has waited."""
        return self.asker.waiting()

    def elapsed(self) -> float:
        """Seconds since the triage began."""
        return self.asker.elapsed()

    @property
    def call_limit_s(self) -> float:
        """How long one call may wait before its backend is "no answer in N s"."""
        return self.asker.call_limit_s

    # ----- the workflow -------------------------------------------------------------------------
    async def stream(self) -> AsyncGenerator[TriageResult, None]:
        """Yields the result after each phase (percentiles + SLO + findings, window parts, verdict).

        Every request a phase starts belongs to it: the phases run their calls in `asyncio.TaskGroup`s,
        and the tasks that outlive a yield (the business metrics, the error lines, the slowest trace) are
        cancelled and awaited whenever the triage stops early (the screen moved on, the deadline passed).
        Any exception in a phase is one problem ("internal") in the result, and the rest goes on."""
        phases = self._phases()
        try:
            async for result in phases:
                yield result
        finally:
            await phases.aclose()  # its own cleanup (pending tasks cancelled) now, not when collected
            self.asker.close_unstarted()

    async def _phases(self) -> AsyncGenerator[TriageResult, None]:
        await self._phase("scrape interval", self._probes())
        await self._phase("percentiles", self._first_wave())
        yield self.result
        if self.wave.answered and not self.result.tools:
            await self._phase("known tenants", self._known())
        tool, win = self._focus()
        # the explanation's neighbours (who surged in each finding's window) need only the windows: asked
        # now, beside the window's drill, the explanation finds them answered (or waits for them)
        early = [asyncio.create_task(self._phase("neighbours", self._neighbours()))] if self.fleet else []
        try:
            async with aclosing(self._drilled(tool, win)) as drilled:  # closed (its tasks cancelled) with us
                async for result in drilled:
                    yield result
        finally:
            await _cancelled(early)

    async def _drilled(self, tool: str | None, win: tuple[float, float]) -> AsyncGenerator[TriageResult, None]:
        """The window's drill, the verdict, the explanation."""
        pending: list[asyncio.Task[object]] = []
        try:
            if self.result.tools:
                pending.append(asyncio.create_task(self._phase("business metrics", self._business(win))))
            if tool is not None or not self.result.tools:
                target = self._errors_target()
                errors = (
                    asyncio.create_task(
                        self._phase("error lines", self.drill.errors(target.tool, (target.start, target.end)))
                    )
                    if target
                    else None
                )
                pending += [errors] if errors is not None else []
                ts = next((t for t in self.result.tools if t.tool == tool), None)
                trace = await self._phase("window", self.drill.window(tool, ts, win, self._target(tool) or 0.0))
                if trace is not None:
                    pending.append(trace)
                    yield self.result
                    await trace
                if errors is not None and isinstance(found := await errors, Found):
                    self.found = found
            for task in pending:
                await task
        finally:
            await _cancelled(pending)
        self._verdict()
        yield self.result
        if self.result.findings:
            explained = await self._phase(
                "explanation",
                explain_all(
                    self.asker,
                    self.schema,
                    self.result,
                    signals=self.wave.signals,
                    frame=self.frame,
                    scrape_s=self.scrape_s,
                    fleet=self.fleet,
                ),
            )
            if explained is not None:
                self.result.findings = explained
                yield self.result

    async def _neighbours(self) -> None:
        assert self.fleet is not None
        rw = rate_window(self.frame.step, self.scrape_s)
        await asyncio.gather(*(self.fleet.neighbours(f, rw) for f in self.result.findings if f.tool))

    async def run(self) -> TriageResult:
        """The whole triage; with a deadline, what has not answered by then is listed as unchecked."""
        deadline = self.req.deadline_s
        stream = self.stream()
        try:
            async with asyncio.timeout(deadline):
                async for _ in stream:
                    pass
        except TimeoutError:
            self.asker.expire(f"no answer within the {deadline:g} s deadline")
        finally:
            await stream.aclose()
        self._verdict()
        return self.result

    async def _phase(self, name: str, work: Awaitable[T]) -> T | None:
        """`work`'s result; an unexpected exception is one problem of the triage's, not its end."""
        try:
            return await work
        except (asyncio.CancelledError, TimeoutError, KeyboardInterrupt):
            raise
        except BaseExceptionGroup as group:
            if group.subgroup((asyncio.CancelledError, KeyboardInterrupt)) is not None:
                raise
            self.asker.internal(name, group.exceptions[0])
        except Exception as e:  # noqa: BLE001 - one error policy: the problem is shown, the triage goes on
            self.asker.internal(name, e)
        return None

    # ----- phases ---------------------------------------------------------------------------------
    async def _probes(self) -> None:
        """The scrape interval and the recording rules, asked at once before the first wave."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._scrape_interval())
            group.create_task(self._recorded())

    async def _recorded(self) -> None:
        if (recorded := await recording_rules(self.asker, self.promql, self.req.plugin, self.end)) is not None:
            self.rest, self.fleetql = RecordedRest(recorded), RecordedFleetQL(recorded)

    async def _scrape_interval(self) -> None:
        found, source = await scrape_interval(
            self.asker, self.promql, self.ctx, self.req.plugin, self.req.tenant, self.end
        )
        self.scrape_s = found
        self.rw = rate_window(self.series_step, found)
        self.result.scrape_interval_s, self.result.scrape_interval_source = found, source

    def _target(self, tool: str | None) -> float | None:
        if self.req.p99_target_s is not None:
            return self.req.p99_target_s
        return self.ctx.slo.p99_target_s(tool)

    async def _first_wave(self) -> None:
        req = self.req
        self.wave = await first_wave(
            promql=self.promql,
            schema=self.schema,
            scope=Scope(req.plugin, req.tenant),  # every tool: the focus moves the panes, never the findings
            start=req.range.start,
            end=self.end,
            baseline_start=self.frame.baseline_start,
            rate_window=self.rw,
            step=self.step,
            series_step=self.series_step,
            whole=format_duration(max(self.end - req.range.start, 60.0)),
            success_target=self.ctx.slo.success_target,
            daily_budget_usd=self.ctx.slo.daily_budget_usd,
            targets=self._target,
            range_query=self.asker.prom_range,
            instant=lambda q: self.asker.prom(q, self.end),
            rest=self.rest,
        )
        r = self.result
        r.tools, r.slo = self.wave.tools, self.wave.slo
        if why := sparse(self.wave.samples, self.end - req.range.start, self.scrape_s):
            self.asker.partial.setdefault("prometheus", why)
        r.has_data = bool(r.tools) or "prometheus" in self.asker.problems
        by_tool = {ts.tool: ts for ts in self.wave.signals}
        found = find(self.wave.signals, self.frame, self.wave.spend_1d_usd)
        slow = {f.tool for f in found if f.kind == "latency" and f.tool in by_tool}
        await asyncio.gather(
            *(
                latency_detail(
                    promql=self.promql,
                    schema=self.schema,
                    scope=Scope(req.plugin, req.tenant),
                    baseline_start=self.frame.baseline_start,
                    end=self.end,
                    rate_window=self.rw,
                    series_step=self.series_step,
                    range_query=self.asker.prom_range,
                    signals=by_tool[tool],
                    rest=self.rest,
                )
                for tool in sorted(slow)
            )
        )
        self.fleet = fleet = FleetPhase(self.asker, self.schema, req.plugin, req.tenant, self.frame, self.fleetql)
        tooled = [f for f in found if f.tool in by_tool]  # (a daily-spend finding is no tool's)
        others = await asyncio.gather(*(fleet.of(f, by_tool[f.tool].tenant.has_cost()) for f in tooled))
        fleets = {id(f): o for f, o in zip(tooled, others, strict=True)}
        r.findings = [
            scoped(f, by_tool[f.tool], self.frame, req.tenant, fleets[id(f)]) if f.tool in by_tool else f for f in found
        ]

    async def _known(self) -> None:
        """The tenants (or, for an unknown plugin, the plugins) that do have data, for a typo."""
        p = self.asker.backends.prometheus
        if p is None:
            return
        s, start = self.schema, self.frame.baseline_start
        metric = f"{s.duration_metric}_count"
        tenants = await self.asker.ask(
            "prometheus",
            None,
            p.label_values(s.tenant_label, start, self.end, [self.promql.count(Scope(self.req.plugin))]),
            quiet=True,
        )
        self.result.known_tenants = sorted(tenants or [])
        if not self.result.known_tenants:
            plugins = await self.asker.ask(
                "prometheus", None, p.label_values(s.plugin_label, start, self.end, [metric]), quiet=True
            )
            self.result.known_plugins = sorted(plugins or [])

    def _focus(self) -> tuple[str | None, tuple[float, float]]:
        """The tool and window every pane follows: the screen's own, the top finding's, or the whole range."""
        r, findings, focus = self.result, self.result.findings, self.req.focus
        top = findings[0] if findings else None
        if focus.tool is not None and focus.window is None:  # the chosen tool's own first finding
            top = next((f for f in findings if f.tool == focus.tool), None)
            if top is None:
                return focus.tool, (self.req.range.start, self.end)
        if focus.window is not None:
            tool = focus.tool or (top.tool if top else self._slowest_tool())
            ws, we = focus.window
        elif top is not None:
            tool, (ws, we) = top.tool, (top.start, top.end)
        else:
            return self._slowest_tool(), (self.req.range.start, self.end)
        if tool is None:
            return None, (ws, we)
        ts = next((t for t in r.tools if t.tool == tool), None)
        peak = (peak_in(ts.p99_series, ws, we) if ts else None) or math.nan
        r.slow_window = SlowWindow(
            start=ws,
            end=we,
            tool=tool,
            p99_s=peak,
            target_s=self._target(tool),
            baseline_p99_s=top.baseline if top and top.kind == "latency" else None,
            other_tenants_slow=list(top.others) if top else [],
        )
        return tool, (ws, we)

    def _slowest_tool(self) -> str | None:
        finite = [t for t in self.result.tools if math.isfinite(t.p99_s)]
        return max(finite, key=lambda t: t.p99_s).tool if finite else None

    def _errors_target(self) -> Finding | None:
        """The finding whose error lines and failing spans are looked at: the first errors finding, or the top."""
        findings = self.result.findings
        return next((f for f in findings if f.kind == "errors"), findings[0] if findings else None)

    def _attach(self) -> None:
        """The error patterns, failing spans and error-line counts onto the finding they were looked up for."""
        target = self._errors_target()
        if target is None:
            return
        ev = list(self.found.failing)
        logs = self.result.logs
        top = self.result.findings[0]
        if logs is not None and target is top:
            ev.append(
                Evidence(
                    signal="loki",
                    what="error_lines",
                    value=logs.error_lines,
                    baseline=logs.baseline_error_lines,
                    unit="count",
                )
            )
        new = msgspec.structs.replace(target, evidence=[*target.evidence, *ev], patterns=self.found.patterns)
        self.result.findings = [new if f is target else f for f in self.result.findings]

    def _load_growth(self, f: Finding) -> float | None:
        """Every tenant's calls of `f`'s tool in its window over those in as long a stretch before it."""
        ts = next((t for t in self.wave.signals if t.tool == f.tool), None)
        if ts is None:
            return None
        length = max(f.end - f.start, self.frame.step)
        rates = [ts.tenant.rate, ts.rest.rate]

        def calls(start: float, end: float) -> float:
            return sum(v for r in rates for t, v in r if start <= t < end and math.isfinite(v))

        before = calls(f.start - length, f.start)
        return calls(f.start, f.end) / before if before > 0 else None

    async def _business(self, win: tuple[float, float]) -> None:
        """The plugin's own metrics for the tenant: the window against as long a stretch before it."""
        length = max(60.0, win[1] - win[0])
        baseline = (win[0] - length, win[0])
        metrics, found = await business_metrics(
            self.asker, self.promql, self.req.plugin, self.req.tenant, win, baseline, self.frame.baseline_start
        )
        self.result.business = metrics
        if found > len(metrics):
            self.result.notes.append(f"{found} business metrics found: the first {len(metrics)} by name are shown")

    def _verdict(self) -> None:
        if self._decided:
            return
        self._decided = True
        self._attach()
        r = self.result
        drilled = bool(r.findings) and r.slow_window is not None and r.slow_window.covers(r.findings[0])
        r.verdict, r.findings = decide(  # the drill describes the top finding only when it drilled that one
            r.findings,
            trace=r.trace if drilled else None,
            profile=r.profile if drilled else None,
            problems=dict(self.asker.problems),
            partial=dict(self.asker.partial),
            sampled=(len(r.spans), sum(1 for sp in r.spans if sp.source == "exemplar")) if r.spans else None,
            load_growth=self._load_growth(r.findings[0]) if r.findings else None,
            has_data=r.has_data,
            known_tenants=r.known_tenants,
        )
        r.findings += business_findings(r.business, r.findings)
        if r.verdict.state == "no_data" and r.logs and r.logs.error_lines:
            r.verdict.evidence.append(f"yet Loki has {r.logs.error_lines} error lines for this tenant in the range")


async def _cancelled(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Cancels the tasks that have not finished and waits until they have stopped."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: a failure was already recorded by its phase
