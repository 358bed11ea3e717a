"""Benchmark of the demo stack: start-up time and the latency of each query plugintop makes.

python bench/demo.py        prints `NAME VALUE UNIT` lines (median of several runs)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

import httpx

from plugintop.clients.loki import LokiClient
from plugintop.clients.prometheus import PrometheusClient
from plugintop.clients.pyroscope import PyroscopeClient
from plugintop.clients.tempo import TempoClient
from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.queries.logql import LogQL
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.pyroscope import label_selector
from plugintop.queries.traceql import TraceQL
from plugintop.schema import Schema
from plugintop.timerange import to_ns

RUNS = 5


async def queries(stack: DemoStack) -> dict[str, float]:
    s = Schema()
    now = stack.world.now()
    start, end = now - 3600, now
    win = (now - 45 * 60, now - 25 * 60)
    sc = Scope("recommender", "acme")
    p, lq, tq = PromQL(s), LogQL(s), TraceQL(s)
    async with (
        httpx.AsyncClient(base_url=stack.urls["prometheus"]) as hp,
        httpx.AsyncClient(base_url=stack.urls["loki"]) as hl,
        httpx.AsyncClient(base_url=stack.urls["tempo"]) as ht,
        httpx.AsyncClient(base_url=stack.urls["pyroscope"]) as hy,
    ):
        prom, loki, tempo, pyro = PrometheusClient(hp), LokiClient(hl), TempoClient(ht), PyroscopeClient(hy)
        calls = {
            "prom_p99_range": lambda: prom.query_range(p.quantile(0.99, sc, "5m"), start, end, 15),
            "prom_fleet_p99_range": lambda: prom.query_range(
                p.quantile(0.99, sc.fleet(), "5m", ("tool", "tenant")), start, end, 15
            ),
            "prom_success_range": lambda: prom.query_range(p.success_ratio(sc, "5m"), start, end, 15),
            "prom_burn_6h": lambda: prom.query(p.burn_rate(sc, "6h", 0.995), now),
            "prom_cost_range": lambda: prom.query_range(p.cost_per_min(sc, "5m"), start, end, 15),
            "prom_exemplars": lambda: prom.exemplars(p.buckets(sc), *win),
            "loki_logs_100": lambda: loki.query_logs(
                lq.selector("recommender", "acme"), to_ns(start), to_ns(end), limit=100
            ),
            "loki_errors_window": lambda: loki.query_metric(lq.error_count("recommender", "acme", "20m"), win[1]),
            "tempo_search_slow": lambda: tempo.search(
                tq.tool_spans("recommender", "acme", min_duration_s=2.0), *win, limit=20
            ),
            "pyroscope_flame_window": lambda: pyro.flamegraph(s.profile_type, label_selector(s, "recommender"), *win),
        }
        out = {}
        for name, call in calls.items():
            times = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                await call()
                times.append(time.perf_counter() - t0)
            out[name] = statistics.median(times[1:])  # the first run fills caches
            out[name + "_cold"] = times[0]
        return out


def main() -> None:
    print(f"cores {os.cpu_count()} n")
    starts = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        st = DemoStack(load_scenario(None)).start(warm=False)
        starts.append(time.perf_counter() - t0)
        st.close()
    print(f"demo_start_s {statistics.median(starts):.4f} s")
    stack = DemoStack(load_scenario(None)).start()
    try:
        for name, seconds in asyncio.run(queries(stack)).items():
            print(f"demo_{name}_ms {seconds * 1000:.1f} ms")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
