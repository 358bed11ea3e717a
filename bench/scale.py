"""The triage's cost as the fleet grows, on a real Prometheus (Debian's): the same plugin, tools and range
with 10 and with 1,000 tenants, each backfilled with `promtool tsdb create-blocks-from openmetrics` from the
demo's own generator and plugintop's recording rules over it (`create-blocks-from rules`), and the same
tenant's triage against each, with the rules and (for reference) from the raw series alone. Prints
`NAME VALUE UNIT` lines:

    python bench/scale.py [TENANTS ...]      # default 10 1000
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

import plugintop.triage.run as run_mod  # noqa: E402
from plugintop.config.context import context_from  # noqa: E402
from plugintop.connect.backends import open_backends  # noqa: E402
from plugintop.demo.metrics import MetricStore  # noqa: E402
from plugintop.demo.openmetrics import backfill  # noqa: E402
from plugintop.demo.scenario import Scenario, scenario_from  # noqa: E402
from plugintop.demo.world import World  # noqa: E402
from plugintop.timerange import TimeRange  # noqa: E402
from plugintop.triage import Triage, TriageRequest  # noqa: E402
from plugintop.triage.probes import recording_rules  # noqa: E402
from tests.integration.prometheus import _wait, backfill_rules, binaries, free_port  # noqa: E402

RANGE_S = 3600.0
RUNS = 9


def scenario(tenants: int) -> Scenario:
    """Two tools, coarse buckets, one scrape a minute; the first tenant has an LLM-bound incident, and a
    tenth of the fleet a slow spell of its own (so that the fleet questions have something to count)."""
    names = [f"t{i:05d}" for i in range(tenants)]
    tools = [
        {"name": "recommend_courses", "calls_per_min": 30, "median_ms": 180, "llm_model": "gpt-4o-mini",
         "llm_share": 0.5, "error_ratio": 0.002, "functions": ["rank"], "downstream": ["db.query"]},
        {"name": "search_catalog", "calls_per_min": 20, "median_ms": 90, "error_ratio": 0.002,
         "functions": ["parse"], "downstream": ["search.query"]},
    ]  # fmt: skip
    incidents: list[dict[str, Any]] = [
        {"tenant": names[0], "tool": "recommend_courses", "start": "-45m", "duration": "20m", "cause": "llm",
         "factor": 6.0},
    ]  # fmt: skip
    incidents += [
        {
            "tenant": n,
            "tool": "search_catalog",
            "start": "-30m",
            "duration": "10m",
            "cause": "downstream",
            "span": "search.query",
            "factor": 8.0,
        }
        for n in names[1::10]
    ]
    return scenario_from(
        {
            "plugin": "recommender",
            "version": "1.4.2",
            "seed": 11,
            "history": "2h10m",
            "scrape_interval": "60s",
            "tenants": names,
            "p99_target": "2s",
            "tools": tools,
            "incidents": incidents,
            "realism": {"buckets": [0.1, 0.25, 0.5, 1, 2.5, 5]},
        }
    )


def serve(prom: str, tsdb: Path, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Debian's Prometheus over `tsdb`, ready: (the process, its URL)."""
    port = free_port()
    config = tmp / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 60s\nscrape_configs: []\n")
    proc = subprocess.Popen(
        [prom, f"--config.file={config}", f"--storage.tsdb.path={tsdb}", f"--web.listen-address=127.0.0.1:{port}",
         "--storage.tsdb.retention.time=30d", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    _wait(f"{url}/-/ready", 120)
    return proc, url


def compacted(url: str, seconds: float = 180.0) -> None:
    """Waits until Prometheus has merged the rules' blocks into the data's (its compaction loop runs once a
    minute): a Prometheus that runs the rules holds them in its own blocks, not in twenty small ones, and a
    compaction during the measurements would be measured with them."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = httpx.get(f"{url}/metrics", timeout=10).text
        done = [ln for ln in text.splitlines() if ln.startswith("prometheus_tsdb_vertical_compactions_total ")]
        if done and float(done[0].split()[1]) > 0:
            time.sleep(2)  # the last merge of the round
            return
        time.sleep(2)
    print("scale: warning: Prometheus did not compact the rules' blocks in time", file=sys.stderr)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


@contextmanager
def prometheus(sc: Scenario, tmp: Path, rules: bool = True) -> Iterator[tuple[str, float, int]]:
    """A real Prometheus over the scenario's history: (url, the scenario's now, samples backfilled). With
    `rules`, plugintop's recording rules (`plugintop rules`) are backfilled over it too, with `promtool tsdb
    create-blocks-from rules`, as a platform that runs them has them."""
    prom, tool = binaries()
    now = float(int(time.time() // 60) * 60 - 60)
    store = MetricStore(World(sc, now=now, clock=lambda: now))
    data, tsdb = tmp / "data.om", tmp / "tsdb"
    lines = 0
    with data.open("w") as f:
        for line in backfill(store, now - sc.history_s, now):
            f.write(line)
            lines += 1
    del store  # the generator's world: millions of objects every later collection would walk
    gc.collect()
    subprocess.run([tool, "tsdb", "create-blocks-from", "openmetrics", str(data), str(tsdb)], check=True,
                   capture_output=True, timeout=600)  # fmt: skip
    data.unlink()
    proc, url = serve(prom, tsdb, tmp)
    if rules:
        blocks = backfill_rules(tool, url, now - sc.history_s, now, tmp)
        stop(proc)
        for block in blocks.iterdir():
            block.rename(tsdb / block.name)
        proc, url = serve(prom, tsdb, tmp)
    try:
        yield url, now, lines
    finally:
        stop(proc)


async def no_rules(*args: object) -> None:
    """The recording-rules probe of a platform that does not run them."""
    return None


async def triage(url: str, now: float, tenant: str, rules: bool = True) -> tuple[float, int, int, str]:
    """(seconds, bytes fetched, requests, verdict state) of one triage of `tenant` over the last hour; without
    `rules`, as if the recording rules did not run (every fleet question asked of the raw series)."""
    counted = {"bytes": 0, "requests": 0}
    run_mod.recording_rules = recording_rules if rules else no_rules

    async def response(r: httpx.Response) -> None:
        await r.aread()
        counted["bytes"] += len(r.content)
        counted["requests"] += 1

    ctx = context_from({"prometheus": {"url": url}})
    async with await open_backends(ctx, only=("prometheus",)) as b:
        for client in b._http:
            client.event_hooks["response"] = [response]
        t = time.perf_counter()
        req = TriageRequest(plugin="recommender", tenant=tenant, range=TimeRange(now - RANGE_S, now), p99_target_s=2.0)
        result = await Triage(b, ctx, req).run()
        took = time.perf_counter() - t
    state = result.verdict.state if result.verdict else "none"
    return took, counted["bytes"], counted["requests"], state


async def screen(url: str, now: float, tenant: str) -> tuple[float, float]:
    """The screen on that Prometheus (the other pillars down): (p95 ms from a key press in the percentiles
    table to the app idle again, once the triage is done; the process' resident MB then)."""
    from plugintop.ui.app import PlugintopApp
    from plugintop.ui.session import Session

    run_mod.recording_rules = recording_rules
    down = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback
    ctx = context_from({"prometheus": {"url": url}, **{b: {"url": down} for b in ("loki", "tempo", "pyroscope")}})
    app = PlugintopApp(
        Session(ctx, "bench", "recommender", tenant, TimeRange(now - RANGE_S, now), 2.0, clock=lambda: now)
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(app.triage_done.wait(), 60)
        await pilot.pause()
        times = []
        for k in range(40):
            t = time.perf_counter()
            await pilot.press("up" if k % 2 else "down")
            times.append((time.perf_counter() - t) * 1000)
        rss = next(
            int(x.split()[1]) / 1024
            for x in Path("/proc/self/status").read_text().splitlines()
            if x.startswith("VmRSS:")
        )
    return statistics.quantiles(times, n=20)[-1], rss


def screen_figures(tenants: int, url: str, now: float, tenant: str) -> None:
    """The screen's figures on that Prometheus, measured in a process of its own (the memory is the
    screen's, not this bench's), printed."""
    shown = subprocess.run(
        [sys.executable, __file__, "--screen", url, str(now), tenant],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    keystroke, rss = (float(x) for x in shown.stdout.split())
    print(f"scale_screen_keystroke_p95_ms_{tenants} {keystroke:.3g} ms", flush=True)
    print(f"scale_screen_rss_mb_{tenants} {rss:.4g} MB", flush=True)


def main(sizes: list[int]) -> None:
    """Every size's Prometheus is set up first and their blocks compacted in the same minute, then each is
    measured, the sizes in turn run by run (the others idle)."""
    got, raw = {}, {}
    with ExitStack() as stack:
        servers = {}
        for n in sizes:
            sc, t = scenario(n), time.perf_counter()
            url, now, lines = stack.enter_context(
                prometheus(sc, Path(stack.enter_context(tempfile.TemporaryDirectory())))
            )
            print(f"scale_backfill_{n}_s {time.perf_counter() - t:.4g} s ({lines} samples, and the rules)", flush=True)
            servers[n] = (url, now, sc.tenants[0])
        for url, _, _ in servers.values():
            compacted(url)
        for rules in (True, False):  # the sizes in turn, run by run: a slower spell of the machine hits both
            for url, now, tenant in servers.values():
                asyncio.run(triage(url, now, tenant, rules))  # warm Prometheus' caches
            runs: dict[int, list[tuple[float, int, int, str]]] = {n: [] for n in servers}
            for _ in range(RUNS if rules else 3):
                for n, (url, now, tenant) in servers.items():
                    runs[n].append(asyncio.run(triage(url, now, tenant, rules)))
            for n, done in runs.items():
                if rules:
                    got[n] = (statistics.median(r[0] for r in done), done[0][1])
                    print(f"scale_triage_{n}_s {got[n][0]:.4g} s", flush=True)
                    print(f"scale_bytes_{n} {done[0][1]} B", flush=True)
                    print(f"scale_requests_{n} {done[0][2]} n ({done[0][3]})", flush=True)
                else:
                    raw[n] = statistics.median(r[0] for r in done)
                    print(f"scale_triage_raw_{n}_s {raw[n]:.4g} s (without the recording rules, for reference)")
        for n, (url, now, tenant) in servers.items():
            screen_figures(n, url, now, tenant)
    if 10 in got and 1000 in got:
        print(f"scale_tenants_ratio {got[1000][0] / got[10][0]:.4g} x", flush=True)
        print(f"scale_bytes_ratio {got[1000][1] / got[10][1]:.4g} x", flush=True)
        print(f"scale_tenants_ratio_raw {raw[1000] / raw[10]:.4g} x (without the recording rules)", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--screen"]:
        print(*asyncio.run(screen(sys.argv[2], float(sys.argv[3]), sys.argv[4])))
    else:
        main([int(a) for a in sys.argv[1:]] or [10, 1000])
