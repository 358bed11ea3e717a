"""Provides `DemoStack`: the four demo backends on loopback ports over one `World`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from types import TracebackType

from plugintop.demo.api_loki import LokiAPI
from plugintop.demo.api_prometheus import PrometheusAPI
from plugintop.demo.api_pyroscope import PyroscopeAPI
from plugintop.demo.api_tempo import TempoAPI
from plugintop.demo.http import Handler, Server
from plugintop.demo.logs import LogStore
from plugintop.demo.metrics import MetricStore
from plugintop.demo.processes import BACKENDS
from plugintop.demo.profiles import ProfileStore
from plugintop.demo.scenario import Scenario
from plugintop.demo.world import World
from plugintop.timerange import Clock, system_clock


class DemoStack:
    """Prometheus, Loki, Tempo and Pyroscope speaking their real HTTP APIs over synthetic data.

    Args:
        scenario: what to simulate.
        host: the address to bind (loopback unless asked otherwise).
        now: the scenario's "now" (default: the clock at start); data keeps arriving after it.
    """

    def __init__(
        self,
        scenario: Scenario,
        host: str = "127.0.0.1",
        now: float | None = None,
        clock: Clock = system_clock,
        only: Collection[str] = BACKENDS,
    ) -> None:
        self.world = World(scenario, now=now, clock=clock)
        self.metrics = MetricStore(self.world)
        self.logs = LogStore(self.world)
        self.profiles = ProfileStore(self.world)
        apis: dict[str, Callable[[], Handler]] = {
            "prometheus": lambda: PrometheusAPI(self.metrics),
            "loki": lambda: LokiAPI(self.logs),
            "tempo": lambda: TempoAPI(self.world),
            "pyroscope": lambda: PyroscopeAPI(self.profiles),
        }
        self.servers = {name: Server(make(), host) for name, make in apis.items() if name in only}

    @property
    def urls(self) -> dict[str, str]:
        return {name: s.url for name, s in self.servers.items()}

    def start(self, warm: bool = True) -> DemoStack:
        """Starts serving at once; with `warm`, computes the series in the background meanwhile."""
        for s in self.servers.values():
            s.start()
        if warm and "prometheus" in self.servers:
            threading.Thread(target=self._warm, daemon=True).start()
        return self

    def _warm(self) -> None:
        """Computes the metric series ahead (Prometheus only): a first triage asks for all of them.
        Warming the logs and profiles too was measured slower: on 2 cores it takes CPU from the
        Prometheus child, the first triage's longest wait."""
        sc = self.world.scenario
        for ti in range(len(sc.tenants)):
            for tj in range(len(sc.tools)):
                self.metrics.rows(ti, tj)
                for vi in range(len(self.metrics.versions)):
                    self.metrics.rows(ti, tj, vi)
        self.metrics.select(())  # and every series' samples

    def close(self) -> None:
        for s in self.servers.values():
            s.close()

    def __enter__(self) -> DemoStack:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
