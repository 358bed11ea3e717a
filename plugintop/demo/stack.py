"""Provides `DemoStack`: the four demo backends on loopback ports over one `World`."""

from __future__ import annotations

import threading
from types import TracebackType

from plugintop.demo.api_loki import LokiAPI
from plugintop.demo.api_prometheus import PrometheusAPI
from plugintop.demo.api_pyroscope import PyroscopeAPI
from plugintop.demo.api_tempo import TempoAPI
from plugintop.demo.http import Server
from plugintop.demo.logs import LogStore
from plugintop.demo.metrics import MetricStore
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
        self, scenario: Scenario, host: str = "127.0.0.1", now: float | None = None, clock: Clock = system_clock
    ) -> None:
        self.world = World(scenario, now=now, clock=clock)
        self.metrics = MetricStore(self.world)
        self.logs = LogStore(self.world)
        self.profiles = ProfileStore(self.world)
        self.servers = {
            "prometheus": Server(PrometheusAPI(self.metrics), host),
            "loki": Server(LokiAPI(self.logs), host),
            "tempo": Server(TempoAPI(self.world), host),
            "pyroscope": Server(PyroscopeAPI(self.profiles), host),
        }

    @property
    def urls(self) -> dict[str, str]:
        return {name: s.url for name, s in self.servers.items()}

    def start(self, warm: bool = True) -> DemoStack:
        """Starts serving at once; with `warm`, computes the series in the background meanwhile."""
        for s in self.servers.values():
            s.start()
        if warm:
            threading.Thread(target=self._warm, daemon=True).start()
        return self

    def _warm(self) -> None:
        sc = self.world.scenario
        for ti in range(len(sc.tenants)):
            for tj in range(len(sc.tools)):
                self.metrics.rows(ti, tj)
                for vi in range(len(self.metrics.versions)):
                    self.metrics.rows(ti, tj, vi)

    def close(self) -> None:
        for s in self.servers.values():
            s.close()

    def __enter__(self) -> DemoStack:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
