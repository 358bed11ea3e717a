"""Benchmark of the live tail, all figures from one run:

- `tail_entries_per_s`: 200,000 entries as Loki answers of 1,000 → the client's page reading → the
  follower → `LogView` (index, filter active; sanitising and formatting for what is shown) → the last
  line painted (headless, 200×50), median of 5 runs alternating with:
- `tail_log_widget_entries_per_s` and `tail_vs_log_ratio`: Textual's own `Log` fed the same lines
  pre-formatted, a page per write (no parse, no sanitise, no filter), to its last line painted;
- `tail_no_screen_entries_per_s` and `tail_vs_log_ceiling`: the same pipeline up to the buffer with no
  screen at all (page reading, follower, filter, bounded buffer), and its ratio to `Log`: no view can
  beat it, so it bounds `tail_vs_log_ratio` on the machine at hand;
- `tail_keystroke_p95_ms`: key press to screen while 5,000 entries/s arrive;
- `tail_rss_mb_100k`: resident memory with 100,000 lines retained (a fresh process);
- `tail_rss_growth_mb`: resident memory growth from 100,000 to 600,000 entries through the bounded
  100,000-line buffer (what a 10-minute run at 1,000 entries/s ingests, compressed in time);
- `tail_soak_*`: the real thing, in real time: the app's tail for 10 minutes while 1,000 new entries
  a second arrive (through the Loki client and the follower), resident memory sampled every 30 s.

    python bench/tail.py [--soak-minutes 10]     (0 skips the soak; bench/run.py does)
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections import deque
from operator import attrgetter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.strip import Strip  # noqa: E402
from textual.widgets import Log  # noqa: E402

from plugintop.clients.loki import LokiClient, decode_streams  # noqa: E402
from plugintop.live.follow import LogFollower  # noqa: E402
from plugintop.models.loki import LogEntry, LogPage  # noqa: E402
from plugintop.ui.widgets.loglines import LineFilter, format_line  # noqa: E402
from plugintop.ui.widgets.logview import LogView  # noqa: E402

QUERY = '{plugin="recommender", tenant_id="acme"}'

PAGE = 1000
FILTER = "completed"
"""The filter on during the ingest runs (every line holds it: every line is kept and indexed)."""
T0 = 1_800_000_000_000_000_000


def _body(k0: int, n: int) -> bytes:
    values = []
    for k in range(k0, k0 + n):
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
    result = [{"stream": {"plugin": "recommender", "tenant_id": "acme"}, "values": values}]
    return json.dumps({"status": "success", "data": {"resultType": "streams", "result": result}}).encode()


def bodies(n: int) -> list[bytes]:
    """Loki `query_range` answers of PAGE entries each, shaped like the demo's lines."""
    return [_body(p * PAGE, PAGE) for p in range(n // PAGE)]


def entries_of(body: bytes) -> list[LogEntry]:
    return decode_streams(body)[0]


class Answers(LokiClient):
    """The Loki client with its HTTP round trip replaced by the next recorded answer: `query_logs`
    reads the page exactly as the client does (fast decode, merge, sort), with no transport."""

    def __init__(self, pages: list[bytes]) -> None:
        super().__init__(None)  # type: ignore[arg-type]  # never sends
        self._pages = iter(pages)

    async def query_logs(
        self, query: str, start: float, end: float, *, limit: int = 100, direction: str = "backward"
    ) -> LogPage:
        resp = httpx.Response(200, content=next(self._pages), headers={"content-type": "application/json"})
        return self.log_page(resp, limit, direction)


class PaintedView(LogView):
    """Records the newest row painted, to know when the last line is on screen."""

    painted = -1

    def render_line(self, y: int) -> Strip:
        n = self._absolute(y + self.scroll_offset.y)
        if n is not None:
            self.painted = max(self.painted, n)
        return super().render_line(y)


class PaintedLog(Log):
    painted = -1

    def render_line(self, y: int) -> Strip:
        self.painted = max(self.painted, y + self.scroll_offset.y)
        return super().render_line(y)


class TailApp(App[None]):
    def __init__(self, widget: str, limit: int = 100_000) -> None:
        super().__init__()
        self.widget, self.limit = widget, limit

    def compose(self) -> ComposeResult:
        if self.widget == "view":
            yield PaintedView(limit=self.limit, id="v")
        else:
            yield PaintedLog(max_lines=self.limit, id="v")


def settle() -> None:
    """Both widgets start with no garbage of their set-up pending, and with what exists so far kept out
    of later collections, as the app does once started (`cli._settled`). What an earlier run froze is
    unfrozen first: frozen, the earlier apps' cycles were never collected (~90 MB a run, and the later
    runs, `Log`'s most, slowed down in the grown heap)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


async def on_screen(widget: PaintedView | PaintedLog, last: int) -> None:
    """Until the row numbered `last` (absolute) has been painted."""
    while widget.painted < last:
        await asyncio.sleep(0.0005)


async def ingest_view(pages: list[bytes]) -> float:
    """Entries/s from Loki's answer bytes to the last line painted: the client's page reading (decode,
    merge, sort), the follower (cursor, de-duplication), `LogView` (index, filter), repaints."""
    app = TailApp("view")
    async with app.run_test(size=(200, 50)) as pilot:
        view = app.query_one(PaintedView)
        view.set_filter(FILTER)
        follower = LogFollower(Answers(pages), QUERY, T0 / 1e9, page_limit=PAGE, max_pages=1, clock=lambda: 4e9)
        await pilot.pause()
        settle()
        t = time.perf_counter()
        for _ in pages:
            batch = await follower.poll()
            view.add(batch.entries, batch.gaps)
            await asyncio.sleep(0)
        await on_screen(view, len(pages) * PAGE - 1)
        assert view.total == len(pages) * PAGE and view.count == min(view.total, 100_000)
        return len(pages) * PAGE / (time.perf_counter() - t)


async def ingest_no_screen(pages: list[bytes]) -> float:
    """Entries/s of what the tail does for every line before any screen: the client's page reading
    (decode, merge, sort), the follower, `LogView`'s filter and a buffer of the same bound. What a view
    adds can only lower it: its ratio to `Log` is the ceiling of `tail_vs_log_ratio` on this machine."""
    follower = LogFollower(Answers(pages), QUERY, T0 / 1e9, page_limit=PAGE, max_pages=1, clock=lambda: 4e9)
    keep = LineFilter(FILTER)
    rows: deque[LogEntry] = deque(maxlen=100_000)
    shown: list[int] = []
    line = attrgetter("line")
    settle()
    t = time.perf_counter()
    total = 0
    for _ in pages:
        entries = (await follower.poll()).entries
        shown.extend(keep.matching(total, map(line, entries), len(entries)))
        rows.extend(entries)
        total += len(entries)
    elapsed = time.perf_counter() - t
    assert total == len(shown) == len(pages) * PAGE and len(rows) == min(total, 100_000)
    return len(pages) * PAGE / elapsed


async def ingest_log(pages: list[bytes]) -> float:
    """Entries/s of Textual's `Log` fed the same lines pre-formatted, a page per write, to the last
    line painted."""
    lines = [[format_line(e).text for e in entries_of(b)] for b in pages]
    app = TailApp("log")
    async with app.run_test(size=(200, 50)) as pilot:
        log = app.query_one(PaintedLog)
        await pilot.pause()
        settle()
        t = time.perf_counter()
        for batch in lines:
            log.write_lines(batch)
            await asyncio.sleep(0)
        await on_screen(log, log.line_count - 1)  # `Log` numbers its retained lines
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
                view.add(entries_of(pages[i % len(pages)])[:500])
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
        view = app.query_one(PaintedView)
        at_100k = 0.0
        done = 0
        while done < total:
            for body in pages:
                view.add(entries_of(body))
                done += PAGE
                if done == 100_000:
                    await pilot.pause()
                    at_100k = rss_mb()
                if done >= total:
                    break
        await pilot.pause()
        return at_100k, rss_mb()


def soak_page(k0: int, n: int) -> bytes:
    """A Loki answer of `n` fresh entries numbered from `k0` (unique lines, increasing timestamps)."""
    return _body(k0, n)


async def soak(minutes: float, rate: int = 1000) -> list[tuple[float, float]]:
    """The app's tail for `minutes` of real time while `rate` new entries a second arrive (a poll a
    second through the Loki client and the follower; an in-memory transport serves them): RSS samples."""
    made = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal made
        start_ns = int(request.url.params["start"])
        k0 = max(made, (start_ns - T0) // 1000)
        made = k0 + rate
        return httpx.Response(200, content=soak_page(k0, rate), headers={"content-type": "application/json"})

    samples: list[tuple[float, float]] = []
    app = TailApp("view", limit=100_000)
    transport = httpx.MockTransport(handler)
    async with app.run_test(size=(200, 50)), httpx.AsyncClient(transport=transport, base_url="http://l") as http:
        view = app.query_one(PaintedView)
        follower = LogFollower(LokiClient(http), QUERY, T0 / 1e9, page_limit=5000, max_pages=1, clock=lambda: 4e9)
        t0 = time.monotonic()
        next_sample = 0.0
        while (elapsed := time.monotonic() - t0) < minutes * 60:
            batch = await follower.poll()
            view.add(batch.entries, batch.gaps)
            if elapsed >= next_sample:
                samples.append((elapsed, rss_mb()))
                next_sample += 30
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - t0 - elapsed)))
        samples.append((time.monotonic() - t0, rss_mb()))
        assert view.total == made, (view.total, made)
    return samples


def throughput(runs: int = 5) -> tuple[float, float, float]:
    """Median entries/s of `LogView` (the whole pipeline), of `Log` (pre-formatted lines) and of the
    pipeline without a screen, over 200,000 entries (twice the buffer, so all also drop), the runs
    alternating."""
    pages = bodies(200_000)
    view, log, bare = [], [], []
    for _ in range(runs):
        log.append(asyncio.run(ingest_log(pages)))
        view.append(asyncio.run(ingest_view(pages)))
        bare.append(asyncio.run(ingest_no_screen(pages)))
    return statistics.median(view), statistics.median(log), statistics.median(bare)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--memory":
        pages = bodies(100_000)
        a, b = asyncio.run(memory(pages, 600_000))
        print(f"{a:.1f} {b:.1f}")
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--soak-child":
        for t, mb in asyncio.run(soak(float(sys.argv[2]))):
            print(f"{t:.0f} {mb:.1f}")
        return
    minutes = float(sys.argv[sys.argv.index("--soak-minutes") + 1]) if "--soak-minutes" in sys.argv else 10.0
    print(f"cores {os.cpu_count()} n")
    v, lg, bare = throughput()
    print(f"tail_entries_per_s {v:.0f} entries/s")
    print(f"tail_log_widget_entries_per_s {lg:.0f} entries/s")
    print(f"tail_vs_log_ratio {v / lg:.2f} x")
    print(f"tail_no_screen_entries_per_s {bare:.0f} entries/s")
    print(f"tail_vs_log_ceiling {bare / lg:.2f} x (decode + filter + buffer alone, against Log)")
    pages = bodies(50_000)
    p95 = statistics.median(asyncio.run(keystrokes(pages)) for _ in range(3))
    print(f"tail_keystroke_p95_ms {p95:.1f} ms")
    out = subprocess.run([sys.executable, __file__, "--memory"], capture_output=True, text=True, check=True).stdout
    at_100k, at_600k = (float(x) for x in out.split())
    print(f"tail_rss_mb_100k {at_100k:.1f} MB")
    print(f"tail_rss_growth_mb {at_600k - at_100k:.1f} MB")
    if minutes > 0:
        cmd = [sys.executable, __file__, "--soak-child", str(minutes)]
        rows = [
            line.split()
            for line in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split("\n")
            if line
        ]
        samples = [(float(t), float(mb)) for t, mb in rows]
        full = [mb for t, mb in samples if t >= 120]  # the buffer is full after 100 s at 1,000 entries/s
        print(f"tail_soak_minutes {samples[-1][0] / 60:.1f} min")
        print(f"tail_soak_rss_mb_at_2min {full[0]:.1f} MB")
        print(f"tail_soak_rss_mb_end {full[-1]:.1f} MB")
        print(f"tail_soak_rss_growth_mb {full[-1] - full[0]:.1f} MB")
        print("tail_soak_rss_samples " + " ".join(f"{t:.0f}s:{mb:.0f}" for t, mb in samples) + " MB")


if __name__ == "__main__":
    main()
