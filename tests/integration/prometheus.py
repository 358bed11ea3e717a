"""A real Prometheus for the tests: the built-in scenario's last 6 h backfilled with `promtool tsdb
create-blocks-from openmetrics`, then Prometheus started on that data on a free loopback port, with
exemplar storage on and a short live scrape of an OpenMetrics endpoint that carries exemplars."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from plugintop.demo.metrics import MetricStore
from plugintop.demo.openmetrics import backfill, exposition
from plugintop.demo.scenario import Scenario
from plugintop.demo.world import World

INSTALL_HINT = "install Debian's prometheus package: sudo apt-get install prometheus (or scripts/install-deps.sh)"


def binaries() -> tuple[str, str]:
    """(prometheus, promtool), or a skip (a failure under CI, where scripts/install-deps.sh installs them)."""
    prom = os.environ.get("PROMETHEUS_BIN") or shutil.which("prometheus")
    tool = os.environ.get("PROMTOOL_BIN") or shutil.which("promtool")
    if not prom or not tool:
        if os.environ.get("CI"):
            pytest.fail(f"prometheus/promtool missing under CI: {INSTALL_HINT}")
        pytest.skip(f"prometheus/promtool not found: {INSTALL_HINT}")
    return prom, tool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RealPrometheus:
    url: str
    now: float
    """The scenario's "now": backfilled data ends here; compare queries up to it."""
    scrape_job: str = "plugintop-demo"


@contextmanager
def exemplar_endpoint(scenario: Scenario, now: float) -> Iterator[str]:
    """An OpenMetrics `/metrics` of the same scenario continuing in real time, with exemplars."""
    store = MetricStore(World(scenario, now=now))

    class H(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = exposition(store).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield f"127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def _wait(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready in {seconds:.0f} s")


def backfill_rules(tool: str, url: str, start: float, end: float, tmp: Path) -> Path:
    """plugintop's recording rules (`plugintop rules`) evaluated over [start, end] of the Prometheus at
    `url` by `promtool tsdb create-blocks-from rules`: the directory of the blocks it made."""
    rules, blocks = tmp / "rules.yaml", tmp / "rules-blocks"
    made = subprocess.run([sys.executable, "-m", "plugintop", "rules"], capture_output=True, text=True, check=True)
    rules.write_text(made.stdout)
    subprocess.run(
        [tool, "tsdb", "create-blocks-from", "rules", f"--start={int(start)}", f"--end={int(end)}", f"--url={url}",
         f"--output-dir={blocks}", "--quiet", str(rules)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return blocks


@contextmanager
def real_prometheus(scenario: Scenario, tmp: Path, rules: bool = False) -> Iterator[RealPrometheus]:
    """Debian's Prometheus over the scenario's history (and, with `rules`, plugintop's recording rules
    backfilled over it, as a platform that runs them has them)."""
    prom, tool = binaries()
    slot = scenario.scrape_s
    now = float(int(time.time() // slot) * slot - slot)
    store = MetricStore(World(scenario, now=now, clock=lambda: now))
    data = tmp / "data.om"
    with data.open("w") as f:
        f.writelines(backfill(store, now - scenario.history_s, now))
    tsdb = tmp / "tsdb"
    subprocess.run(
        [tool, "tsdb", "create-blocks-from", "openmetrics", str(data), str(tsdb)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    with exemplar_endpoint(scenario, now) as target:
        config = tmp / "prometheus.yml"
        config.write_text(
            f"global:\n  scrape_interval: {scenario.scrape_interval}\n  evaluation_interval: 1m\n"
            "scrape_configs:\n  - job_name: plugintop-demo\n    scrape_interval: 1s\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        log = (tmp / "prometheus.log").open("w")

        def start() -> tuple[subprocess.Popen[bytes], str]:
            port = free_port()
            proc = subprocess.Popen(
                [
                    prom,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tsdb}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--enable-feature=exemplar-storage",
                    "--storage.tsdb.retention.time=30d",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait(f"{url}/-/ready", 60)
            except BaseException:
                stop(proc)
                raise
            return proc, url

        def stop(proc: subprocess.Popen[bytes]) -> None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

        proc, url = start()
        try:
            if rules:
                blocks = backfill_rules(tool, url, now - scenario.history_s, now, tmp)
                stop(proc)
                for block in blocks.iterdir():
                    block.rename(tsdb / block.name)
                proc, url = start()
            yield RealPrometheus(url, now)
        finally:
            stop(proc)
            log.close()
