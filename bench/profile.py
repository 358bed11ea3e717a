"""pyinstrument profiles of the figures that were furthest from their targets: where the time goes.

    pip install pyinstrument        (or: pip install -e ".[bench]")
    python bench/profile.py [tail|log|flame|report ...]   (default: all four)

- `tail`: the tail's ingest (`bench/tail.py`'s pipeline, 200,000 entries) — `tail_vs_log_ratio`;
- `log`: Textual's `Log` fed the same lines pre-formatted — the other side of that ratio;
- `flame`: decode + top-N + diff of two 100,000-node flame graphs — `flame_100k_s`;
- `report`: `plugintop report --format json` against `plugintop demo serve` — `time_to_triage_ratio`.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

try:
    from pyinstrument import Profiler
except ImportError:  # pragma: no cover - a hint, not a crash
    sys.exit("bench/profile.py needs pyinstrument: pip install pyinstrument")


def profiled(title: str, run: Callable[[], object], interval: float = 0.0005) -> None:
    run()  # warm: imports, caches
    p = Profiler(interval=interval, async_mode="disabled")
    p.start()
    run()
    p.stop()
    print(f"===== {title}")
    print(p.output_text(unicode=False, color=False, show_all=False))


def tail() -> None:
    import tail as tb

    pages = tb.bodies(200_000)
    profiled("tail: LogView ingest, 200,000 entries", lambda: asyncio.run(tb.ingest_view(pages)))


def log() -> None:
    import tail as tb

    pages = tb.bodies(200_000)
    profiled("tail: Textual Log, the same lines pre-formatted", lambda: asyncio.run(tb.ingest_log(pages)))


def flame() -> None:
    from plugintop.analysis import flame as fa
    from plugintop.clients.pyroscope import parse_flamegraph
    from tests.faults import huge_flame

    n = 100_000
    win, base = huge_flame(n)["flamegraph"], huge_flame(n)["flamegraph"]

    def run() -> None:
        fw, fb = parse_flamegraph(win, max_nodes=n), parse_flamegraph(base, max_nodes=n)
        fa.summarise(fw, fb, (0, 1), (0, 1), nodes=fa.decode(fw))

    profiled("flame: 2 x 100,000 nodes", run)


def report() -> None:
    import run as R

    proc, urls = R.demo_serve()
    try:
        args = [*R.url_args(urls), "--plugin", "recommender", "--tenant", "acme", "--since", "1h"]
        cmd = [R.PLUGINTOP, "report", *args, "--p99-target", "2s", "--format", "json"]
        subprocess.run(cmd, capture_output=True, check=True)  # warm the demo
        prof = [sys.executable, "-m", "pyinstrument", "-i", "0.001", "-r", "text", "--no-color"]
        out = subprocess.run([*prof, "-m", "plugintop", *cmd[1:]], capture_output=True, text=True, check=True)
        print("===== report: plugintop report --format json against the demo")
        print(out.stdout[out.stdout.find("  _     ._") :])
    finally:
        proc.terminate()


def main() -> None:
    parts = {"tail": tail, "log": log, "flame": flame, "report": report}
    for name in sys.argv[1:] or list(parts):
        parts[name]()


if __name__ == "__main__":
    main()
