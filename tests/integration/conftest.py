from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from tests.integration.prometheus import RealPrometheus, real_prometheus


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    with real_prometheus(load_scenario(None), Path(tmp_path_factory.mktemp("prometheus"))) as p:
        yield p


@pytest.fixture(scope="session")
def demo(prometheus: RealPrometheus) -> Iterator[DemoStack]:
    """The demo stack on the same scenario and the same "now" (frozen)."""
    now = prometheus.now
    with DemoStack(load_scenario(None), now=now, clock=lambda: now) as stack:
        yield stack
