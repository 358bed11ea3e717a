"""Telemetry health per pillar: the newest datum's age, OK / stale / missing / unknown, the collector to
suspect; against the demo, and with each pillar empty in turn (a backend that answers, with nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from plugintop.analysis.health import PILLARS, STALE_AFTER_S, PillarHealth, classify, strip
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.live.health import pillar_health
from tests.servers import Answer, Backend, serve

NOW = 1_800_000_000.0


def test_the_line_between_ok_and_stale_is_each_pillars_own() -> None:
    for pillar in PILLARS:
        limit = STALE_AFTER_S[pillar]
        assert classify(pillar, NOW - limit + 1, NOW, 3600).state == "ok"
        stale = classify(pillar, NOW - limit - 1, NOW, 3600)
        assert stale.state == "stale" and stale.suspect and "ago" in stale.line()
    missing = classify("traces", None, NOW, 3600)
    assert missing.state == "missing" and "4318" in (missing.suspect or "") and "60 min" in missing.detail
    unknown = classify("logs", None, NOW, 3600, error="unreachable: connection refused")
    assert unknown.state == "unknown" and "loki" in unknown.detail and unknown.suspect is None


def test_the_strip_is_short() -> None:
    h = [
        PillarHealth("metrics", "ok", 20),
        PillarHealth("traces", "stale", 840),
        PillarHealth("logs", "ok", 3),
        PillarHealth("profiles", "missing"),
    ]
    assert strip(h) == "metrics ok 20 s · traces STALE 14 min · logs ok 3 s · profiles MISSING"


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoStack]:
    with DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW) as s:
        yield s


class Empty(Backend):
    """Answers every backend's question well formed and empty (Prometheus may hold `up` series)."""

    def __init__(self, up: list[float] | None = None) -> None:
        super().__init__()
        self.up = up or []

    def answer(self, req):  # type: ignore[no-untyped-def]
        p = dict(req.params)
        if req.path == "/api/v1/query_range":
            return Answer(200, {"status": "success", "data": {"resultType": "matrix", "result": []}})
        if req.path == "/api/v1/query":
            target = [{"job": "recommender", "instance": f"pod-{i}"} for i in range(len(self.up))]
            rows: list[dict[str, Any]]
            if p["query"].startswith("count by (job, instance)"):  # the targets of the plugin's series
                rows = [{"metric": m, "value": [NOW, "4"]} for m in target]
            else:
                assert p["query"].startswith("up{")
                rows = [
                    {"metric": {"__name__": "up", **m}, "value": [NOW, str(v)]}
                    for m, v in zip(target, self.up, strict=True)
                ]
            return Answer(200, {"status": "success", "data": {"resultType": "vector", "result": rows}})
        if req.path == "/loki/api/v1/query_range":
            return Answer(200, {"status": "success", "data": {"resultType": "streams", "result": []}})
        if req.path == "/api/search":
            return Answer(200, {"traces": [], "metrics": {}})
        if req.path == "/pyroscope/render":
            return Answer(
                200, {"flamebearer": {"names": ["total"], "levels": [], "numTicks": 0, "maxSelf": 0}, "timeline": None}
            )
        return Answer(404, "404 page not found\n", "text/plain")


def health(demo: DemoStack, empty: str | None = None, stub: Backend | None = None) -> dict[str, PillarHealth]:
    with serve(stub or Empty()) as srv:
        urls = {**demo.urls, **({empty: srv.url} if empty else {})}
        ctx = context_from({k: {"url": u} for k, u in urls.items()})

        async def go() -> list[PillarHealth]:
            async with await open_backends(ctx) as b:
                return await pillar_health(b, ctx, "recommender", NOW)

        return {h.pillar: h for h in asyncio.run(go())}


def test_the_demo_is_healthy_with_ages(demo: DemoStack) -> None:
    h = health(demo)
    assert [x.state for x in h.values()] == ["ok"] * 4
    assert all(x.age_s is not None and x.age_s < 120 for x in h.values())
    assert "no `up` series" in h["metrics"].detail  # the demo's Prometheus holds no up series


@pytest.mark.parametrize("pillar", PILLARS)
def test_each_pillar_empty_in_turn_is_missing_with_its_suspect(demo: DemoStack, pillar: str) -> None:
    backend = {"metrics": "prometheus", "traces": "tempo", "logs": "loki", "profiles": "pyroscope"}[pillar]
    h = health(demo, backend)
    assert h[pillar].state == "missing" and h[pillar].suspect
    assert all(x.state == "ok" for p, x in h.items() if p != pillar)


def test_scrape_targets_are_counted_from_up(demo: DemoStack) -> None:
    h = health(demo, "prometheus", Empty(up=[1, 0, 1]))
    assert "2/3 scrape targets up" in h["metrics"].detail


def test_a_backend_down_makes_its_pillar_unknown_not_missing(demo: DemoStack) -> None:
    urls = {**demo.urls, "tempo": "http://127.0.0.1:9"}
    ctx = context_from({k: {"url": u, "timeout": {"connect": 1, "read": 1}} for k, u in urls.items()})

    async def go() -> list[PillarHealth]:
        async with await open_backends(ctx) as b:
            return await pillar_health(b, ctx, "recommender", NOW)

    h = {x.pillar: x for x in asyncio.run(go())}
    assert h["traces"].state == "unknown" and "tempo" in h["traces"].detail and h["traces"].suspect is None
