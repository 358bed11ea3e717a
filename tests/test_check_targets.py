"""`plugintop check` on a healthy pipeline as a real service has it: a plain scrape config (no `plugin` label
on `up`: the targets are the `job`/`instance` of the plugin's own series) and a Tempo whose search returns the
first page of its range, oldest first, while ~40 spans/s arrive. It exited 3, calling traces STALE."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from plugintop.analysis.health import PillarHealth
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.live.health import pillar_health
from tests.servers import Answer, Backend, Request, serve

PLUGIN = "recommender"
TARGET = ("recommender", "10.0.0.7:8000")
_MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def matches(labels: dict[str, str], selector: str) -> bool:
    """Whether a series' labels satisfy the `{...}` matchers of `selector` (regexes anchored, as in PromQL)."""
    inside = selector[selector.index("{") + 1 : selector.index("}")]
    for name, op, raw in _MATCHER.findall(inside):
        value = raw.encode().decode("unicode_escape")
        have = labels.get(name, "")
        ok = {
            "=": have == value,
            "!=": have != value,
            "=~": re.fullmatch(value, have) is not None,
            "!~": re.fullmatch(value, have) is None,
        }[op]
        if not ok:
            return False
    return True


class Prometheus(Backend):
    """A Prometheus scraping the plugin with a plain scrape config: `up` has job and instance, no plugin
    label; a node exporter's target is down beside it. `plugin_up` says whether the plugin's target is up."""

    def __init__(self, now: float, plugin_up: int = 1, job_labels: bool = True) -> None:
        super().__init__()
        self.now = now
        self.job_labels = job_labels
        self.ups = [
            ({"__name__": "up", "job": TARGET[0], "instance": TARGET[1]}, plugin_up),
            ({"__name__": "up", "job": "node", "instance": "10.0.0.9:9100"}, 0),
        ]

    def answer(self, req: Request) -> Answer:
        p = dict(req.params)
        ok: dict[str, Any] = {"status": "success"}
        if req.path == "/api/v1/status/buildinfo":
            return Answer(200, {**ok, "data": {"version": "2.53.0"}})
        if req.path == "/api/v1/series":
            listed = [{"__name__": "plugin_tool_duration_seconds_count", "plugin": PLUGIN, "tool": "grade"}]
            return Answer(200, {**ok, "data": listed})
        if req.path == "/api/v1/query_range":
            points = [[self.now - 30 * i, "4"] for i in range(10, -1, -1)]
            return Answer(200, {**ok, "data": {"resultType": "matrix", "result": [{"metric": {}, "values": points}]}})
        if req.path == "/api/v1/query":
            q = p["query"]
            rows: list[dict[str, Any]]
            if q.startswith("count by (job, instance)"):
                metric = {"job": TARGET[0], "instance": TARGET[1]} if self.job_labels else {}
                rows = [{"metric": metric, "value": [self.now, "12"]}]
            elif q.startswith("up{"):
                rows = [{"metric": m, "value": [self.now, str(v)]} for m, v in self.ups if matches(m, q)]
            else:
                return Answer(400, {"status": "error", "errorType": "bad_data", "error": f"unexpected {q}"})
            return Answer(200, {**ok, "data": {"resultType": "vector", "result": rows}})
        return Answer(404, "404 page not found\n", "text/plain")


class Tempo(Backend):
    """A Tempo receiving a trace every 0.25 s (about 40 spans/s) for the last hour, whose search answers the
    first `limit` traces of its range, oldest first (as real Tempo may: it stops at the first full page)."""

    def __init__(self, now: float) -> None:
        super().__init__()
        self.starts = [now - 3600 + 0.25 * i for i in range(int(3600 / 0.25))]
        self.searched: list[tuple[int, int]] = []

    def answer(self, req: Request) -> Answer:
        p = dict(req.params)
        if req.path == "/api/status/buildinfo":
            return Answer(200, {"version": "v2.6.1"})
        if req.path == "/api/search":
            start, end, limit = int(p["start"]), int(p["end"]), int(p["limit"])
            self.searched.append((start, end))
            page = [t for t in self.starts if start <= t <= end][:limit]
            traces = [
                {
                    "traceID": f"{i + 1:032x}",
                    "rootServiceName": PLUGIN,
                    "rootTraceName": "plugin.recommender.tool.grade",
                    "startTimeUnixNano": str(int(t * 1e9)),
                    "durationMs": 180,
                }
                for i, t in enumerate(page)
            ]
            return Answer(200, {"traces": traces, "metrics": {}})
        return Answer(404, "404 page not found\n", "text/plain")


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoStack]:
    """Loki and Pyroscope with data up to now (the other two pillars of the check)."""
    with DemoStack(load_scenario(None)) as s:
        yield s


def health(demo: DemoStack, prom: Backend, tempo: Backend, now: float) -> dict[str, PillarHealth]:
    with ExitStack() as stack:
        urls = {**demo.urls, "prometheus": stack.enter_context(serve(prom)).url}
        urls["tempo"] = stack.enter_context(serve(tempo)).url
        ctx = context_from({k: {"url": u} for k, u in urls.items()})

        async def go() -> list[PillarHealth]:
            async with await open_backends(ctx) as b:
                return await pillar_health(b, ctx, PLUGIN, now)

        return {h.pillar: h for h in asyncio.run(go())}


def test_check_of_a_healthy_real_pipeline_exits_0(demo: DemoStack) -> None:
    now = time.time()
    prom, tempo = Prometheus(now), Tempo(now)
    with serve(prom), serve(tempo):
        urls = {**demo.urls, "prometheus": prom.url, "tempo": tempo.url}
        args = [a for name, u in urls.items() for a in (f"--{name}-url", u)]
        r = subprocess.run(
            [sys.executable, "-m", "plugintop", "check", *args, "--plugin", PLUGIN, "--tenant", "acme"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    out = r.stdout + r.stderr
    lines = {x.split()[0]: x for x in r.stdout.splitlines() if x.startswith("  ")}
    assert "STALE" not in lines["traces"] and "OK" in lines["traces"], out
    assert "1/1 scrape targets up" in lines["metrics"], out
    assert r.returncode == 0, out


def test_the_newest_trace_comes_from_a_range_ending_now(demo: DemoStack) -> None:
    now = time.time()
    tempo = Tempo(now)
    h = health(demo, Prometheus(now), tempo, now)
    assert h["traces"].state == "ok" and h["traces"].age_s is not None and h["traces"].age_s < 5
    assert all(abs(end - now) <= 1 for _, end in tempo.searched)  # every search ends now
    assert now - tempo.searched[0][0] <= 15 * 60  # the first asks only for the last minutes


def test_scrape_targets_are_found_by_the_job_and_instance_of_the_plugins_series(demo: DemoStack) -> None:
    now = time.time()
    h = health(demo, Prometheus(now, plugin_up=0), Tempo(now), now)
    # the node exporter's target that is down beside it is not the plugin's
    assert "0/1 scrape targets up (down or not scraped: recommender/10.0.0.7:8000)" in h["metrics"].detail
    pushed = health(demo, Prometheus(now, job_labels=False), Tempo(now), now)
    assert "carry no job/instance" in pushed["metrics"].detail
