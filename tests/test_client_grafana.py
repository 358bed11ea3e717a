"""Datasource discovery and the proxy path, against Grafana's documented answer and a fake proxy."""

from __future__ import annotations

import httpx
import pytest

from plugintop.clients.grafana import DataSource, GrafanaClient, pick_datasource, proxy_path
from plugintop.config.context import Context, GrafanaConfig
from plugintop.connect.backends import open_backends
from plugintop.errors import NotFound
from tests.fixtures import doc, real, replay
from tests.servers import Answer, Backend, serve


async def test_documented_datasources(backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("GET", "/api/datasources", Answer(200, doc("grafana_datasources")))
    sources = await GrafanaClient(http).datasources()
    assert sources and sources[0].uid


def test_pick() -> None:
    s = [
        DataSource("a", "A", "prometheus"),
        DataSource("b", "B", "prometheus", is_default=True),
        DataSource("p", "P", "grafana-pyroscope-datasource"),
    ]
    assert pick_datasource(s, "prometheus", None).uid == "b"
    assert pick_datasource(s, "prometheus", "a").uid == "a"
    assert pick_datasource(s, "pyroscope", None).uid == "p"
    with pytest.raises(NotFound, match="loki"):
        pick_datasource(s, "loki", None)
    assert proxy_path("a/b") == "/api/datasources/proxy/uid/a%2Fb"


async def test_backends_through_the_proxy() -> None:
    """A Grafana that lists one datasource per backend and proxies each to a replaying backend."""
    prom = Backend()
    replay(prom, real("prom_buildinfo"))
    grafana = Backend()
    grafana.prefixes[proxy_path("prom-uid")] = prom
    grafana.route(
        "GET",
        "/api/datasources",
        Answer(
            200,
            [
                {"uid": "prom-uid", "name": "Mimir", "type": "prometheus"},
                {"uid": "loki-uid", "name": "Loki", "type": "loki"},
                {"uid": "tempo-uid", "name": "Tempo", "type": "tempo"},
                {"uid": "pyro-uid", "name": "Pyro", "type": "grafana-pyroscope-datasource"},
            ],
        ),
    )
    with serve(grafana):
        ctx = Context(grafana=GrafanaConfig(url=grafana.url))
        env: dict[str, str] = {}
        async with await open_backends(ctx, env) as b:
            assert b.prometheus is not None
            assert (await b.prometheus.buildinfo()).version == "2.42.0+ds"
            assert "Mimir" in b.urls["prometheus"]
    assert [r.path for r in grafana.requests] == [
        "/api/datasources",
        "/api/datasources/proxy/uid/prom-uid/api/v1/status/buildinfo",
    ]
