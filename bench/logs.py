"""Log figures: a line's latency from a fake Loki ingesting 1,000 lines/s to the log pane's repaint
(`tail_latency_p50_s`, `tail_latency_max_s`, and every line exactly once), and `plugintop logs` over a
12,000-line past range (`logs_fetch_s`, the command's wall time from exec to exit).

    python bench/logs.py
"""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

S = 1_000_000_000


class FakeLoki:
    """`query_range` over lines that appear when ingested: (ts_ns, line), sorted, guarded by a lock."""

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def add(self, ts: int, line: str) -> None:
        with self.lock:
            i = bisect.bisect_right(self.keys, ts)
            self.keys.insert(i, ts)
            self.lines.insert(i, line)

    def answer(self, q: dict[str, str]) -> bytes:
        lo, hi, limit = int(q["start"]), int(q["end"]), int(q["limit"])
        with self.lock:
            a, b = bisect.bisect_left(self.keys, lo), bisect.bisect_left(self.keys, hi)
            if q.get("direction") == "backward":
                idx = range(b - 1, max(a, b - limit) - 1, -1)
            else:
                idx = range(a, min(b, a + limit))
            values = [[str(self.keys[i]), self.lines[i]] for i in idx]
        body = {"status": "success", "data": {"resultType": "streams", "result": [{"stream": {}, "values": values}]}}
        return json.dumps(body).encode()


def serve(loki: FakeLoki) -> tuple[ThreadingHTTPServer, str]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: Any) -> None:
            pass

        def do_GET(self) -> None:
            u = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            body = loki.answer(q) if u.path == "/loki/api/v1/query_range" else b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


async def latency(seconds: float = 12.0, rate: int = 1000) -> tuple[list[float], int, int]:
    """Ingests `rate` lines/s for `seconds` (stamped at ingestion) while the screen's log pane follows
    them with the app's own follow loop; each line's latency is its first repaint minus its stamp.
    Returns the latencies, the lines ingested and the lines shown (counted once each)."""
    import httpx
    from textual.app import App, ComposeResult

    from plugintop.clients.loki import LokiClient
    from plugintop.live.follow import LogFollower, follow
    from plugintop.models.loki import LogEntry
    from plugintop.ui.widgets.logview import LogView

    loki = FakeLoki()
    srv, url = serve(loki)
    waiting: list[LogEntry] = []
    lat: list[float] = []
    seen: set[int] = set()

    class Timed(LogView):
        def _show(self) -> None:
            super()._show()
            now = time.time_ns()
            for e in waiting:
                lat.append((now - e.ts_ns) / S)
            waiting.clear()

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Timed(id="logs")

    stop = threading.Event()

    def ingest() -> None:
        n, t0 = 0, time.monotonic()
        while not stop.is_set():
            due = t0 + n / rate
            if (d := due - time.monotonic()) > 0:
                time.sleep(d)
            loki.add(time.time_ns(), json.dumps({"level": "info", "seq": n, "msg": "bench"}))
            n += 1
        counts[0] = n

    counts = [0]
    app = Host()
    async with app.run_test(size=(120, 40)):
        view = app.query_one(Timed)
        async with httpx.AsyncClient(base_url=url) as http:
            f = LogFollower(LokiClient(http), "{}", time.time_ns())
            producer = threading.Thread(target=ingest, daemon=True)
            producer.start()

            async def run() -> None:
                async for batch in follow(f, 1.0):
                    for e in batch.entries:
                        seq = json.loads(e.line)["seq"]
                        if seq in seen:
                            raise AssertionError(f"line {seq} shown twice")
                        seen.add(seq)
                    waiting.extend(batch.entries)
                    view.add(batch.entries, batch.gaps)

            task = asyncio.create_task(run())
            await asyncio.sleep(seconds)
            stop.set()
            producer.join()
            await asyncio.sleep(2.5)  # the last lines settle in
            task.cancel()
    srv.shutdown()
    return lat, counts[0], len(seen)


def logs_fetch(runs: int = 3) -> float:
    """Median wall time of `plugintop logs` over a 12,000-line range 2 h to 1 h ago (exec to exit)."""
    loki = FakeLoki()
    now = time.time_ns()
    for i in range(12_000):
        loki.add(now - 2 * 3600 * S + i * 300_000_000 + i % 7, json.dumps({"seq": i, "msg": f"past line {i}"}))
    srv, url = serve(loki)
    cmd = [sys.executable, "-m", "plugintop", "logs", "--loki-url", url, "--plugin", "p", "--tenant", "t"]
    cmd += ["--from", str(now - 2 * 3600 * S - 60 * S), "--to", str(now - 3600 * S + 60 * S), "--format", "jsonl"]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        times.append(time.perf_counter() - t0)
        assert out.count("\n") == 12_000, out.count("\n")
    srv.shutdown()
    return statistics.median(times)


def main() -> None:
    print(f"cores {os.cpu_count()} n")
    lat, ingested, shown = asyncio.run(latency())
    lat.sort()
    print(f"tail_latency_p50_s {statistics.median(lat):.3f} s")
    print(f"tail_latency_p95_s {lat[int(len(lat) * 0.95)]:.3f} s")
    print(f"tail_latency_max_s {lat[-1]:.3f} s")
    print(f"tail_latency_lines {shown} of {ingested} ingested, each once")
    assert shown == ingested, "lines lost"
    print(f"logs_fetch_s {logs_fetch():.3f} s")


if __name__ == "__main__":
    main()
