"""One backend faulty, the others healthy: the healthy parts are complete, the faulty part is one clear
line naming the backend and the cause, the exit code follows DESIGN §4, nothing hangs."""

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

NOW = 1_800_000_000.0
TIMEOUT = {"connect": 1.0, "read": 1.0}
"""The faulty backend's: a stall is found out in a second."""
HEALTHY = {"connect": 5.0, "read": 20.0}
"""The healthy backends' (the demo answers the first wave's two dozen queries at once, on one interpreter)."""


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoStack]:
    with DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW) as s:
        yield s


def run(demo: DemoStack, backend: str, url: str, timeout: dict[str, float] = TIMEOUT) -> tuple[TriageResult, float]:
    urls = {**demo.urls, backend: url}
    ctx = context_from({k: {"url": u, "timeout": timeout if k == backend else HEALTHY} for k, u in urls.items()})

    async def go() -> TriageResult:
        async with await open_backends(ctx) as b:
            req = TriageRequest(plugin="recommender", tenant="acme", range=TimeRange(NOW - 3600, NOW), p99_target_s=2.0)
            return await asyncio.wait_for(Triage(b, ctx, req).run(), 60)

    t = time.monotonic()
    result = asyncio.run(go())
    return result, time.monotonic() - t


CASES = [
    ("prometheus", "refused", "refused"),
    ("tempo", "stall_headers", "no answer"),
    ("loki", "stall_body", "no answer"),
    ("pyroscope", "reset", "dropped"),
    ("tempo", "status:401", "401"),
    ("loki", "status:403", "403"),
    ("pyroscope", "status:404", "404"),
    ("tempo", "status:429", "429"),
    ("loki", "status:429:ra-seconds", "retry after"),
    ("pyroscope", "status:429:ra-date", "429"),
    ("loki", "status:500", "500"),
    ("tempo", "status:502", "502"),
    ("pyroscope", "status:503", "503"),
    ("loki", "status:504", "504"),
    ("prometheus", "html200", "HTML"),
    ("tempo", "truncated", "invalid JSON"),
    ("pyroscope", "invalid_json", "invalid JSON"),
    ("prometheus", "status_error_200", "injected failure"),
    ("prometheus", "unknown_result", "unexpected result type"),
]


def healthy_parts_present(r: TriageResult, faulty: str) -> None:
    if faulty != "prometheus":
        assert len(r.tools) == 3 and r.slo is not None and r.slow_window is not None and r.cost is not None
    if faulty != "tempo":
        assert r.spans  # exemplars alone still sample spans when Tempo is down; Tempo alone when Prometheus is
    if faulty != "pyroscope":
        assert r.profile is not None
    if faulty != "loki":
        assert r.logs is not None
    assert r.verdict is not None


@pytest.mark.parametrize(("backend", "mode", "cause"), CASES)
def test_one_faulty_backend(demo: DemoStack, backend: str, mode: str, cause: str) -> None:
    if mode == "refused":
        r, took = run(demo, backend, "http://127.0.0.1:9")
    else:
        with fault_server(Fault(mode)) as fs:
            r, took = run(demo, backend, fs.url)
    problems = [e for e in r.errors if e.backend == backend]
    assert len(problems) == 1, r.errors
    assert cause.lower() in problems[0].message.lower(), problems[0].message
    assert "\n" not in problems[0].message and len(problems[0].message) < 400
    assert all(e.backend == backend for e in r.errors), r.errors
    healthy_parts_present(r, backend)
    assert exit_code(r) == 0
    assert took < 30  # bounded by the timeouts and the retry policy, never a hang
    for fmt in ("json", "text", "markdown"):
        assert backend in render(r, fmt)


def test_the_slowest_trace_does_not_wait_for_the_slower_parts(demo: DemoStack) -> None:
    """The window's slowest trace is asked for as soon as its spans are known, while a slower part of
    the window (Loki's error counts, held back a second here) is still on its way; both end up in the
    result, the trace's log lines next to the error counts whichever came first."""
    slow = Fault("slow:1", lambda p: p.endswith("/loki/api/v1/query"))
    with (
        fault_server(slow, demo.urls["loki"]) as loki,
        fault_server(Fault("", lambda p: False), demo.urls["tempo"]) as tempo,
    ):
        urls = {**demo.urls, "loki": loki.url, "tempo": tempo.url}
        ctx = context_from({k: {"url": u} for k, u in urls.items()})

        async def go() -> TriageResult:
            async with await open_backends(ctx) as b:
                req = TriageRequest(
                    plugin="recommender", tenant="acme", range=TimeRange(NOW - 3600, NOW), p99_target_s=2.0
                )
                return await Triage(b, ctx, req).run()

        r = asyncio.run(go())
    trace_asked = min(t for t, what, path in tempo.log if what == "in" and "/api/v2/traces/" in path)
    counts_answered = min(t for t, what, path in loki.log if what == "out" and path.endswith("/v1/query"))
    assert trace_asked < counts_answered
    assert r.trace is not None and r.logs is not None
    assert r.logs.error_lines > 0 and r.logs.trace_lines
    assert not r.errors


def test_every_backend_down_is_exit_3(demo: DemoStack) -> None:
    ctx = context_from({k: {"url": "http://127.0.0.1:9", "timeout": TIMEOUT} for k in demo.urls})

    async def go() -> TriageResult:
        async with await open_backends(ctx) as b:
            return await Triage(
                b, ctx, TriageRequest(plugin="recommender", tenant="acme", range=TimeRange(NOW - 3600, NOW))
            ).run()

    r = asyncio.run(go())
    assert exit_code(r) == 3 and {e.backend for e in r.errors} == {"prometheus", "loki", "tempo", "pyroscope"}


def test_warnings_nan_and_inf_from_prometheus(demo: DemoStack) -> None:
    with fault_server(Fault("nan_inf", lambda p: p.endswith("query_range")), demo.urls["prometheus"]) as fs:
        r, _ = run(demo, "prometheus", fs.url)
    assert not r.errors and r.verdict is not None
    assert "NaN" not in render(r, "json")  # JSON carries null, never NaN


@pytest.mark.parametrize(
    ("backend", "mode", "path"),
    [
        ("tempo", "huge_trace", "/api/v2/traces/"),
        ("pyroscope", "flame:8192", "/querier.v1.QuerierService/SelectMergeStacktraces"),
        ("pyroscope", "flame:50000", "/querier.v1.QuerierService/SelectMergeStacktraces"),
        ("loki", "loki_huge", "/loki/api/v1/query_range"),
    ],
)
def test_huge_payloads(demo: DemoStack, backend: str, mode: str, path: str) -> None:
    with fault_server(Fault(mode, lambda p: p.startswith(path)), demo.urls[backend]) as fs:
        r, took = run(demo, backend, fs.url, HEALTHY)  # megabytes take more than the stall tests' second
    assert not r.errors, r.errors
    if mode == "huge_trace":
        assert r.trace is not None and len(r.trace.spans) == 10_000 and r.trace.critical_path
    if mode.startswith("flame"):
        assert r.profile is not None and r.profile.top_self and r.flame_nodes
        assert r.profile.truncated  # as many nodes as asked for (or more): shown as truncated
    if mode == "loki_huge":
        assert r.logs is not None and len(r.logs.trace_lines) == 5000
    assert took < 30
