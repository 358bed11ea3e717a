"""Benchmark of the live tail, all figures from one run:

- `tail_entries_per_s`: Loki JSON pages → parse → sanitise → index → filter → on screen, in the app's
  `LogView` (headless, 200×50, a filter active);
- `tail_log_widget_entries_per_s` and `tail_vs_log_ratio`: Textual's own `Log` fed the same lines
  pre-formatted and batched (no parse, no sanitise, no filter), the same way;
- `tail_keystroke_p95_ms`: key press to screen while 5,000 entries/s arrive;
- `tail_rss_mb_100k`: resident memory with 100,000 lines retained (a fresh process);
- `tail_rss_growth_mb`: resident memory growth from 100,000 to 600,000 entries through the bounded
  100,000-line buffer (what a 10-minute run at 1,000 entries/s ingests, compressed in time).

    python bench/tail.py
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual.app import App, ComposeResult  # noqa: E402
from textual.strip import Strip  # noqa: E402
from textual.widgets import Log  # noqa: E402

from plugintop.clients.loki import parse_streams  # noqa: E402
from plugintop.ui.widgets.logview import LogView, row_of  # noqa: E402

PAGE = 1000
T0 = 1_800_000_000_000_000_000


def bodies(n: int) -> list[bytes]:
    """Loki `query_range` answers of PAGE entries each, shaped like the demo's lines."""
    out = []
    for p in range(n // PAGE):
        values = []
        for i in range(PAGE):
            k = p * PAGE + i
            line = json.dumps(
                {
                    "ts": "2026-11-26T13:09:44.048Z",
                    "level": "error" if k % 50 == 0 else "info",
                    "event": "plugin.tool.completed",
                    "tool": "recommend_courses",
                    "tenant_id": "acme",
                    "trace_id": f"{k:032x}",
                    "span_id": f"{k:016x}",
                    "outcome": "success",
                    "duration_ms": 123.4,
                    "msg": "tool recommend_courses completed",
                },
                separators=(",", ":"),
            )
            values.append([str(T0 + k * 1000), line, {"structuredMetadata": {"trace_id": f"{k:032x}"}}])
        body = {
            "status": "success",
            "data": {
                "resultType": "streams",
                "result": [{"stream": {"plugin": "recommender", "tenant_id": "acme"}, "values": values}],
            },
        }
        out.append(json.dumps(body).encode())
    return out


class TailApp(App[None]):
    def __init__(self, widget: str, limit: int = 100_000) -> None:
        super().__init__()
        self.widget, self.limit = widget, limit

    def compose(self) -> ComposeResult:
        yield LogView(limit=self.limit, id="v") if self.widget == "view" else Log(max_lines=self.limit, id="v")


async def ingest_view(pages: list[bytes]) -> float:
    app = TailApp("view")
    async with app.run_test(size=(200, 50)) as pilot:
        view = app.query_one(LogView)
        view.set_filter("completed")
        await pilot.pause()
        t = time.perf_counter()
        for body in pages:  # pages as the follower receives them; the screen refreshes at its own pace
            data = json.loads(body)
            view.add(parse_streams(data["data"]["result"]))
            await asyncio.sleep(0)
        await pilot.pause()  # the last page on screen
        assert view.count == len(pages) * PAGE
        return len(pages) * PAGE / (time.perf_counter() - t)


async def ingest_log(pages: list[bytes]) -> float:
    lines = [[row_of(e).text for e in parse_streams(json.loads(b)["data"]["result"])] for b in pages]  # pre-formatted
    app = TailApp("log")
    async with app.run_test(size=(200, 50)) as pilot:
        log = app.query_one(Log)
        await pilot.pause()
        t = time.perf_counter()
        for batch in lines:
            log.write_lines(batch)
            await asyncio.sleep(0)
        await pilot.pause()
        return len(pages) * PAGE / (time.perf_counter() - t)


class TimedView(LogView):
    """Records when the cursor's row was last painted, to time key press → screen."""

    painted: tuple[int, float] = (-1, 0.0)

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if y + self.scroll_offset.y == self.cursor:
            self.painted = (self.cursor, time.perf_counter())
        return strip


class KeyApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TimedView(id="v")


async def keystrokes(pages: list[bytes]) -> float:
    """Key press → the moved cursor painted, while 500 entries arrive every 100 ms (5,000 entries/s)."""
    app = KeyApp()
    async with app.run_test(size=(200, 50)) as pilot:
        view = app.query_one(TimedView)
        view.focus()
        stop = asyncio.Event()

        async def feed() -> None:
            i = 0
            while not stop.is_set():
                data = json.loads(pages[i % len(pages)])
                view.add(parse_streams(data["data"]["result"])[:500])
                i += 1
                await asyncio.sleep(0.1)

        task = asyncio.create_task(feed())
        await asyncio.sleep(0.5)
        await pilot.press("up")  # leave follow mode, so the cursor moves freely
        times = []
        for k in range(60):
            want = view.cursor + (-1 if k % 2 else 1)
            t = time.perf_counter()
            app.simulate_key("up" if k % 2 else "down")
            while not (view.painted[0] == want and view.painted[1] > t):
                await asyncio.sleep(0.001)
            times.append((view.painted[1] - t) * 1000)
            await asyncio.sleep(0.02)
        stop.set()
        await task
        return statistics.quantiles(times, n=20)[-1]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def memory(pages: list[bytes], total: int) -> tuple[float, float]:
    app = TailApp("view", limit=100_000)
    async with app.run_test(size=(200, 50)) as pilot:
        view = app.query_one(LogView)
        at_100k = 0.0
        done = 0
        while done < total:
            for body in pages:
                view.add(parse_streams(json.loads(body)["data"]["result"]))
                done += PAGE
                if done == 100_000:
                    await pilot.pause()
                    at_100k = rss_mb()
                if done >= total:
                    break
        await pilot.pause()
        return at_100k, rss_mb()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--memory":
        pages = bodies(100_000)
        a, b = asyncio.run(memory(pages, 600_000))
        print(f"{a:.1f} {b:.1f}")
        return
    pages = bodies(50_000)
    view_rates = [asyncio.run(ingest_view(pages)) for _ in range(3)]
    log_rates = [asyncio.run(ingest_log(pages)) for _ in range(3)]
    v, lg = statistics.median(view_rates), statistics.median(log_rates)
    print(f"cores {os.cpu_count()} n")
    print(f"tail_entries_per_s {v:.0f} entries/s")
    print(f"tail_log_widget_entries_per_s {lg:.0f} entries/s")
    print(f"tail_vs_log_ratio {v / lg:.2f} x")
    p95 = statistics.median(asyncio.run(keystrokes(pages)) for _ in range(3))
    print(f"tail_keystroke_p95_ms {p95:.1f} ms")
    out = subprocess.run([sys.executable, __file__, "--memory"], capture_output=True, text=True, check=True).stdout
    at_100k, at_600k = (float(x) for x in out.split())
    print(f"tail_rss_mb_100k {at_100k:.1f} MB")
    print(f"tail_rss_growth_mb {at_600k - at_100k:.1f} MB")


if __name__ == "__main__":
    main()
