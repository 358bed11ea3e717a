"""All of plugintop's performance figures in one run: `NAME VALUE UNIT` per line, each the median of
several measurements, on this machine (its core count first).

    python bench/run.py
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import logs as logs_bench  # noqa: E402
import scale as scale_bench  # noqa: E402
import tail as tail_bench  # noqa: E402

from plugintop.analysis import flame as flame_analysis  # noqa: E402
from plugintop.clients.pyroscope import parse_flamegraph  # noqa: E402
from plugintop.config.context import context_from  # noqa: E402
from plugintop.connect.backends import open_backends  # noqa: E402
from plugintop.timerange import TimeRange  # noqa: E402
from plugintop.triage import Triage, TriageRequest  # noqa: E402
from tests.faults import huge_flame, huge_trace  # noqa: E402

PLUGINTOP = str(Path(sys.executable).parent / "plugintop")
RUNS = 3
TRIAGE_RUNS = 7


def out(name: str, value: float, unit: str) -> None:
    print(f"{name} {value:.4g} {unit}", flush=True)


def demo_serve() -> tuple[subprocess.Popen[str], dict[str, str]]:
    p = subprocess.Popen([PLUGINTOP, "demo", "serve"], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    urls = dict(p.stdout.readline().strip().split("=", 1) for _ in range(4))
    return p, urls


def url_args(urls: dict[str, str]) -> list[str]:
    return [a for k, u in urls.items() for a in (f"--{k}-url", u)]


# ----- time to triage -------------------------------------------------------------------------------
async def recorded_triage(urls: dict[str, str]) -> list[list[tuple[str, str, Any, Any]]]:
    """The triage's requests, phase by phase (what the floor script replays)."""
    phases: list[list[tuple[str, str, Any, Any]]] = [[]]

    async def hook(request: httpx.Request) -> None:
        body = json.loads(request.content) if request.content else None
        phases[-1].append((str(request.url.copy_with(query=None)), request.method, request.url.params, body))

    ctx = context_from({k: {"url": u} for k, u in urls.items()})
    async with await open_backends(ctx) as b:
        for client in b._http:
            client.event_hooks["request"] = [hook]  # type: ignore[list-item]
        now = time.time()
        async for _ in Triage(
            b,
            ctx,
            TriageRequest(plugin="recommender", tenant="acme", range=TimeRange(now - 3600, now), p99_target_s=2.0),
        ).stream():
            phases.append([])
    return [p for p in phases if p]


async def floor(phases: list[list[tuple[str, str, Any, Any]]]) -> tuple[float, int, int]:
    """A minimal concurrent httpx script: each phase's requests at once, phases in order."""
    size = 0
    t = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as c:
        for phase in phases:
            answers = await asyncio.gather(*(c.request(m, u, params=p, json=b) for u, m, p, b in phase))
            size += sum(len(a.content) for a in answers)
    return time.perf_counter() - t, sum(len(p) for p in phases), size


PROCESS_FLOOR = """
import asyncio, json, sys
import httpx
phases = json.load(open(sys.argv[1]))
async def main():
    async with httpx.AsyncClient(timeout=60) as c:
        for phase in phases:
            await asyncio.gather(*(c.request(m, u, params=p, json=b) for u, m, p, b in phase))
asyncio.run(main())
"""


def process_floor(phases: list[list[tuple[str, str, Any, Any]]], path: Path) -> float:
    """The floor as a process of its own: the interpreter, asyncio and httpx imported, then each phase's
    requests at once, phases in order (what `report` cannot do faster, start-up included)."""
    path.write_text(json.dumps([[(u, m, list(p.multi_items()), b) for u, m, p, b in ph] for ph in phases]))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", PROCESS_FLOOR, str(path)], check=True, capture_output=True)
    return time.perf_counter() - t


def time_to_triage(urls: dict[str, str], tmp: Path) -> None:
    cmd = [
        PLUGINTOP,
        "report",
        *url_args(urls),
        "--plugin",
        "recommender",
        "--tenant",
        "acme",
        "--since",
        "1h",
        "--p99-target",
        "2s",
        "--format",
        "json",
    ]
    subprocess.run(cmd, capture_output=True, check=True)  # warm the demo's caches
    phases = asyncio.run(recorded_triage(urls))
    walls, floors, processes = [], [], []
    for _ in range(TRIAGE_RUNS):  # alternating, so that all see the machine in the same state
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        walls.append(time.perf_counter() - t)
        floors.append(asyncio.run(floor(phases)))
        processes.append(process_floor(phases, tmp / "phases.json"))
    wall, fl, pf = statistics.median(walls), statistics.median(f[0] for f in floors), statistics.median(processes)
    out("triage_vs_process_floor", wall / pf, "x")
    out("time_to_triage_ratio", wall / fl, "x")
    out("time_to_triage_s", wall, "s")
    out("process_floor_s", pf, "s")
    out("floor_s", fl, "s")
    out("requests", floors[0][1], "n")
    out("bytes_fetched", floors[0][2], "B")
    runs = [asyncio.run(explanation(urls)) for _ in range(TRIAGE_RUNS)]
    why = statistics.median(done - verdict for verdict, done in runs)
    out("explain_added_ratio", why / (wall - why), "x")  # what the "why" adds to time_to_triage without it
    out("explain_s", why, "s")
    out("explain_vs_in_process_verdict", statistics.median((d - v) / v for v, d in runs), "x")


async def explanation(urls: dict[str, str]) -> tuple[float, float]:
    """Seconds to the verdict and to the end of the triage (the explanation is the phase after the verdict),
    in-process, over the same range as `time_to_triage`."""
    from plugintop.config.context import context_from
    from plugintop.connect.backends import open_backends
    from plugintop.timerange import TimeRange
    from plugintop.triage import Triage, TriageRequest

    ctx = context_from({k: {"url": u} for k, u in urls.items()})
    now = time.time()
    req = TriageRequest(plugin="recommender", tenant="acme", range=TimeRange(now - 3600, now), p99_target_s=2.0)
    async with await open_backends(ctx) as b:
        t0, verdict = time.perf_counter(), None
        async for r in Triage(b, ctx, req).stream():
            if r.verdict is not None and verdict is None:
                verdict = time.perf_counter() - t0
        done = time.perf_counter() - t0
    assert verdict is not None
    return verdict, done


# ----- first paint, help ------------------------------------------------------------------------------
FIRST_PAINT = """
import asyncio, sys, time
t0 = time.perf_counter()
urls = dict(a.split("=", 1) for a in sys.argv[1:])
stack = None
if not urls:  # the demo stack as `plugintop --demo` runs it: its children, started before the imports
    from plugintop.demo.processes import DemoProcesses
    stack = DemoProcesses().start()
from plugintop.config.context import context_from
from plugintop.timerange import TimeRange
from plugintop.ui.app import PlugintopApp, Session
async def main():
    if stack is None:
        await paint(urls)
        return
    async with stack:
        await paint(stack.urls)
async def paint(urls):
    ctx = context_from({k: {"url": u} for k, u in urls.items()})
    now = time.time()
    app = PlugintopApp(Session(ctx, "bench", "recommender", "acme", TimeRange(now - 3600, now), 2.0))
    async with app.run_test(size=(160, 48)) as pilot:
        await app.verdict_shown.wait()
        await pilot.pause()
        print(time.perf_counter() - t0, flush=True)  # the parent stops its clock at this line
        await app.triage_done.wait()
        await pilot.pause()
        print(time.perf_counter() - t0, flush=True)  # and the "why" filled in
asyncio.run(main())
"""


BARE_PAINT = """
import asyncio, time
t0 = time.perf_counter()
from textual.app import App
from textual.widgets import DataTable, Footer, Header, Static
class Bare(App):
    def compose(self):
        yield Header()
        yield Static("a bare Textual app")
        yield DataTable()
        yield Footer()
    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("tool", "p50", "p99", "rate", "ok%")
        for i in range(50):
            table.add_row(f"tool_{i}", "120 ms", "480 ms", "3.2/s", "99.9")
async def main():
    async with Bare().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        print(time.perf_counter() - t0, flush=True)
asyncio.run(main())
"""


def painted_after(script: str, args: list[str], lines: int = 1) -> list[float]:
    """Seconds from the process' start to each of its first `lines` lines (each a "painted" moment)."""
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert p.stdout is not None
    took = []
    for _ in range(lines):
        painted = p.stdout.readline()  # not its exit
        took.append(time.perf_counter() - t)
        assert painted.strip()
    assert p.wait(timeout=30) == 0
    return took


def first_paint(urls: dict[str, str]) -> None:
    args = [f"{k}={u}" for k, u in urls.items()]
    firsts, demos, bares = [], [], []
    for _ in range(RUNS):  # alternating, so that all three see the machine in the same state
        bares += painted_after(BARE_PAINT, [])
        firsts.append(painted_after(FIRST_PAINT, args, 2))
        demos.append(painted_after(FIRST_PAINT, [], 2))
    bare = statistics.median(bares)
    first, demo = (statistics.median(x[0] for x in runs) for runs in (firsts, demos))
    out("first_paint_vs_bare", first / bare, "x")
    out("demo_first_paint_vs_bare", demo / bare, "x")
    out("bare_textual_paint_s", bare, "s")
    out("first_paint_s", first, "s")
    out("demo_first_paint_s", demo, "s")
    out("why_paint_s", statistics.median(x[1] for x in firsts), "s")
    out("demo_why_paint_s", statistics.median(x[1] for x in demos), "s")
    helps = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([PLUGINTOP, "--help"], capture_output=True, check=True)
        helps.append(time.perf_counter() - t)
    out("help_s", statistics.median(helps), "s")


# ----- trace and flame --------------------------------------------------------------------------------
TRACE_PAINT = """
import asyncio, json, sys, time
from plugintop.clients.tempo import parse_trace
from plugintop.analysis.traces import analyse
from plugintop.schema import Schema
from plugintop.ui.widgets.waterfall import TraceView
from textual.app import App
body = json.loads(open(sys.argv[1]).read())
class A(App):
    def compose(self):
        yield TraceView()
async def main():
    app = A()
    async with app.run_test(size=(160, 48)) as pilot:
        t = time.perf_counter()
        a = analyse(parse_trace(body, "t"), Schema(), "recommender", "recommend_courses")
        app.query_one(TraceView).show(a)
        await pilot.pause()
        first = time.perf_counter() - t
        s = time.perf_counter()
        for _ in range(20):
            await pilot.press("pagedown")
        print(first, (time.perf_counter() - s) / 20)
asyncio.run(main())
"""


def trace_and_flame(tmp: Path) -> None:
    body = huge_trace("ab" * 16, 10_000)
    path = tmp / "trace.json"
    path.write_text(json.dumps(body))
    runs = []
    for _ in range(RUNS):
        r = subprocess.run(
            [sys.executable, "-c", TRACE_PAINT, str(path)], capture_output=True, text=True, check=True, cwd=ROOT
        )
        runs.append([float(x) for x in r.stdout.split()])
    out("trace_10k_s", statistics.median(r[0] for r in runs), "s")
    out("trace_10k_scroll_ms", statistics.median(r[1] for r in runs) * 1000, "ms")
    for name, nodes in (("flame_8k_s", 8192), ("flame_100k_s", 100_000)):
        win, base = huge_flame(nodes)["flamegraph"], huge_flame(nodes)["flamegraph"]
        times = []
        for _ in range(RUNS):
            t = time.perf_counter()
            fw, fb = parse_flamegraph(win, max_nodes=nodes), parse_flamegraph(base, max_nodes=nodes)
            decoded = flame_analysis.decode(fw)  # as the triage does: decoded once, for the view and the summary
            flame_analysis.summarise(fw, fb, (0, 1), (0, 1), nodes=decoded)
            times.append(time.perf_counter() - t)
        out(name, statistics.median(times), "s")


# ----- event-loop stalls ------------------------------------------------------------------------------
STALLS = """
import asyncio, sys, time
from plugintop.config.context import context_from
from plugintop.timerange import TimeRange
from plugintop.ui.app import PlugintopApp, Session
urls = dict(a.split("=", 1) for a in sys.argv[1:])
ctx = context_from({k: {"url": u} for k, u in urls.items()})
now = time.time()
app = PlugintopApp(Session(ctx, "bench", "recommender", "acme", TimeRange(now - 3600, now), 2.0, tail_every=1.0))
worst = [0.0]
async def ticker():
    while True:
        t = time.perf_counter()
        await asyncio.sleep(0.005)
        worst[0] = max(worst[0], time.perf_counter() - t - 0.005)
async def main():
    async with app.run_test(size=(160, 48)) as pilot:
        task = asyncio.create_task(ticker())
        await app.triage_done.wait()
        for keys in (["2", "enter"], ["down", "down", "enter"], ["f"], ["escape"], ["1", "down", "enter"]):
            await pilot.press(*keys)
            await asyncio.sleep(0.5)
        await app.triage_done.wait()
        await asyncio.sleep(2)
        task.cancel()
        print(worst[0] * 1000)
asyncio.run(main(), debug=True)
"""


def loop_stalls(urls: dict[str, str]) -> None:
    vals = []
    for _ in range(RUNS):
        r = subprocess.run(
            [sys.executable, "-c", STALLS, *(f"{k}={u}" for k, u in urls.items())],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        vals.append(float(r.stdout.split()[-1]))
    out("loop_stall_max_ms", statistics.median(vals), "ms")


# ----- terminal bandwidth -----------------------------------------------------------------------------
class BusyLoki(BaseHTTPRequestHandler):
    """A Loki whose tenant writes `rate` lines a second (query_range forward answers them)."""

    rate = 1000

    def log_message(self, *a: Any) -> None:
        pass

    def do_GET(self) -> None:
        from urllib.parse import parse_qs, urlparse

        q = parse_qs(urlparse(self.path).query)
        if "query_range" not in self.path:
            body = b'{"status":"success","data":[]}'
        else:
            lo, hi = int(q["start"][0]), int(q["end"][0])
            limit = int(q.get("limit", ["100"])[0])
            ts: list[int] = []
            if self.rate:
                step = 1_000_000_000 // self.rate
                first = -(-lo // step) * step
                ts = list(range(first, hi, step))[:limit]
            values = [
                [
                    str(t),
                    json.dumps(
                        {
                            "level": "info",
                            "event": "plugin.tool.completed",
                            "tool": "recommend_courses",
                            "msg": f"line {t}",
                            "trace_id": f"{t:032x}",
                        }
                    ),
                ]
                for t in ts
            ]
            body = json.dumps(
                {
                    "status": "success",
                    "data": {
                        "resultType": "streams",
                        "result": [{"stream": {"plugin": "recommender", "tenant_id": "acme"}, "values": values}],
                    },
                }
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def terminal_bytes(args: list[str], settle: float, window: float) -> float:
    """Bytes a second the app writes to a 200×50 pseudo-terminal, after `settle` seconds."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(PLUGINTOP, [PLUGINTOP, *args])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    os.kill(pid, signal.SIGWINCH)
    count, t0 = 0, time.monotonic()
    measuring = False
    while time.monotonic() - t0 < settle + window:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not measuring and time.monotonic() - t0 >= settle:
            measuring, count = True, 0
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            count += len(data)
    os.write(fd, b"q")
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    os.close(fd)
    return count / window


class QuietLoki(BusyLoki):
    rate = 0


def bandwidth(urls: dict[str, str]) -> None:
    """Idle: every pane filled, no new log lines (a quiet Loki); tailing: 1,000 new lines a second."""
    for name, handler in (("idle_bytes_per_s", QuietLoki), ("tail_bytes_per_s", BusyLoki)):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        loki = {**urls, "loki": f"http://127.0.0.1:{srv.server_address[1]}"}
        args = [*url_args(loki), "--plugin", "recommender", "--tenant", "acme", "--since", "1h", "--p99-target", "2s"]
        out(name, statistics.median(terminal_bytes(args, 12, 10) for _ in range(RUNS)), "B/s")
        srv.shutdown()


def main() -> None:
    import tempfile

    print(f"cores {os.cpu_count()} n", flush=True)
    proc, urls = demo_serve()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            time_to_triage(urls, Path(tmp))
        first_paint(urls)
        v, lg, bare = tail_bench.throughput()
        pages = tail_bench.bodies(50_000)
        out("tail_entries_per_s", v, "entries/s")
        out("tail_vs_log_ratio", v / lg, "x")
        out("tail_vs_log_ceiling", bare / lg, "x")
        out(
            "tail_keystroke_p95_ms",
            statistics.median(asyncio.run(tail_bench.keystrokes(pages)) for _ in range(RUNS)),
            "ms",
        )
        mem = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "tail.py"), "--memory"], capture_output=True, text=True, check=True
        ).stdout.split()
        out("tail_rss_mb_100k", float(mem[0]), "MB")
        lat, ingested, shown = asyncio.run(logs_bench.latency())
        out("tail_latency_p50_s", statistics.median(lat), "s")
        out("tail_latency_max_s", max(lat), "s")
        out("tail_latency_lines_lost", ingested - shown, "lines")
        out("logs_fetch_s", logs_bench.logs_fetch(), "s")
        with tempfile.TemporaryDirectory() as tmp:
            trace_and_flame(Path(tmp))
        loop_stalls(urls)
        bandwidth(urls)
        scale_bench.main([10, 1000])
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
