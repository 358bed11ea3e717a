"""No verdict without answers: a backend that accepts and never answers, one that answers in part, and an
unexpected exception inside the triage each leave an honest "unknown" (or the incident, with the gap
listed), within the deadline; a triage stopped early makes no request after it stopped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from plugintop.analysis.model import TriageResult
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.report import exit_code, render
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest
from tests.faults import Fault, fault_server

NOW = float(int(time.time()) // 60 * 60)
"""Today's epoch: the demo's data ends now, as a real backend's does."""
DEADLINE = 6.0


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoStack]:
    with DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW) as s:
        yield s


def triage(urls: dict[str, str], tenant: str, deadline: float | None = DEADLINE) -> tuple[TriageResult, float]:
    """The report's triage of `tenant` over the last hour, with the default timeouts (20 s reads: longer
    than the deadline, as in a real install) and the report's deadline."""
    ctx = context_from({k: {"url": u} for k, u in urls.items()})

    async def go() -> TriageResult:
        async with await open_backends(ctx) as b:
            req = TriageRequest(
                plugin="recommender", tenant=tenant, range=TimeRange(NOW - 3600, NOW), deadline_s=deadline
            )
            return await Triage(b, ctx, req).run()

    began = time.monotonic()
    result = asyncio.run(go())
    return result, time.monotonic() - began


def test_a_hung_prometheus_is_unknown_never_healthy(demo: DemoStack) -> None:
    """globex is healthy on the demo: with its Prometheus hung, nothing may say so."""
    with fault_server(Fault("stall_headers")) as hung:
        r, took = triage({**demo.urls, "prometheus": hung.url}, "globex")
    assert r.verdict is not None
    assert r.verdict.state == "unknown", r.verdict
    assert any(u.startswith("prometheus: no answer in") for u in r.verdict.unchecked), r.verdict.unchecked
    assert took < DEADLINE + 3
    assert "HEALTHY" not in render(r, "text")
    assert exit_code(r) == 0


def test_a_hung_pyroscope_during_an_incident_is_unchecked(demo: DemoStack) -> None:
    with fault_server(Fault("stall_headers")) as hung:
        r, took = triage({**demo.urls, "pyroscope": hung.url}, "acme")
    assert r.verdict is not None and r.verdict.state == "incident"
    assert any(u.startswith("pyroscope: no answer in") for u in r.verdict.unchecked), r.verdict.unchecked
    assert r.profile is None
    assert took < DEADLINE + 3


def test_the_screen_never_waits_for_good() -> None:
    """Without a deadline (the screen) each call still has its own limit."""
    from plugintop.analysis.model import TriageResult as Result
    from plugintop.connect.backends import Backends
    from plugintop.triage.asking import CALL_LIMIT_S, Asker

    result = Result("p", "t", NOW - 60, NOW)
    asker = Asker(Backends(), result, 15.0)
    assert asker.call_limit_s == CALL_LIMIT_S

    async def hang() -> int:
        await asyncio.sleep(3600)
        return 1

    asker.call_limit_s = 0.2
    assert asyncio.run(asker.ask("tempo", "{}", hang())) is None
    assert [e.message for e in result.errors if e.backend == "tempo"] == ["no answer in 0.2 s"]


def test_a_partial_answer_is_no_healthy(demo: DemoStack) -> None:
    with fault_server(Fault("partial"), demo.urls["prometheus"]) as partial:
        r, _ = triage({**demo.urls, "prometheus": partial.url}, "globex")
    assert r.verdict is not None and r.verdict.state == "unknown", r.verdict
    assert any("partial" in u for u in r.verdict.unchecked), r.verdict.unchecked


def test_an_incident_found_on_partial_data_stays_an_incident(demo: DemoStack) -> None:
    with fault_server(Fault("partial"), demo.urls["prometheus"]) as partial:
        r, _ = triage({**demo.urls, "prometheus": partial.url}, "acme")
    assert r.verdict is not None and r.verdict.state == "incident"
    assert r.verdict.tool == "recommend_courses"
    assert any(u.startswith("prometheus: partial answer") for u in r.verdict.unchecked), r.verdict.unchecked


def test_an_unexpected_exception_is_one_problem_and_the_rest_goes_on(
    demo: DemoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in one phase (here the business metrics) is an "internal" line; the incident is still found."""
    import plugintop.triage.run as run

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom \x1b[31mred")

    monkeypatch.setattr(run, "business_metrics", broken)
    r, _ = triage(demo.urls, "acme")
    assert r.verdict is not None and r.verdict.state == "incident"
    internal = [e for e in r.errors if e.backend == "internal"]
    assert len(internal) == 1 and "RuntimeError: boom" in internal[0].message
    assert "\x1b" not in internal[0].message
    assert any(u.startswith("internal:") for u in r.verdict.unchecked)


def test_an_unexpected_exception_on_a_healthy_tenant_is_unknown(
    demo: DemoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import plugintop.triage.run as run

    def broken(*_: object, **__: object) -> list[object]:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(run, "find", broken)  # the analysis' `find`, as the triage calls it
    r, _ = triage(demo.urls, "globex")
    assert r.verdict is not None and r.verdict.state == "unknown", r.verdict


def test_a_stopped_triage_makes_no_request_after_it_stopped(demo: DemoStack) -> None:
    """The screen moves on while the window's parts are under way (the business metrics' series lookup
    held back a second): every request of the triage stops there."""
    with (
        fault_server(Fault("slow:1", lambda p: p.endswith("/api/v1/series")), demo.urls["prometheus"]) as prom,
        fault_server(Fault("", lambda p: False), demo.urls["loki"]) as loki,
        fault_server(Fault("", lambda p: False), demo.urls["tempo"]) as tempo,
    ):
        urls = {**demo.urls, "prometheus": prom.url, "loki": loki.url, "tempo": tempo.url}
        ctx = context_from({k: {"url": u} for k, u in urls.items()})
        stopped = 0.0

        async def go() -> None:
            nonlocal stopped
            async with await open_backends(ctx) as b:
                req = TriageRequest(plugin="recommender", tenant="acme", range=TimeRange(NOW - 3600, NOW))
                stream = Triage(b, ctx, req).stream()
                await anext(stream)  # the first wave
                await anext(stream)  # the window's parts are under way: business metrics, error lines
                await stream.aclose()
                stopped = time.monotonic()
                await asyncio.sleep(1.5)

        asyncio.run(go())
        late = [p for s in (prom, loki, tempo) for t, what, p in s.log if what == "in" and t > stopped]
    assert stopped and late == []


async def test_a_call_whose_phase_is_cancelled_before_it_starts_is_closed_not_left_unawaited() -> None:
    """A deadline that cancels a phase while its gather has not started every call: the calls (Tempo
    searches made by the caller) are closed when the triage stops, never dropped unawaited (a
    RuntimeWarning seen once in the suite with a hung Pyroscope)."""
    import inspect

    from plugintop.analysis.model import TriageResult
    from plugintop.connect.backends import Backends
    from plugintop.triage.asking import Asker

    asker = Asker(Backends(), TriageResult("p", "t", 0.0, 1.0), 60.0)
    started: list[int] = []

    async def call() -> int:
        started.append(1)
        return 1

    calls = [call() for _ in range(3)]
    task = asyncio.ensure_future(asyncio.gather(*(asker.ask("tempo", None, c) for c in calls)))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    asker.close_unstarted()
    assert not started and all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in calls)
