"""Provides `Backends`: the four clients built from a context, each over its own shared
`httpx.AsyncClient`, directly or through Grafana's datasource proxy; closed together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from plugintop.clients._http import make_client
from plugintop.clients.grafana import GrafanaClient, pick_datasource, proxy_path
from plugintop.clients.loki import LokiClient
from plugintop.clients.prometheus import PrometheusClient
from plugintop.clients.pyroscope import PyroscopeClient
from plugintop.clients.tempo import TempoClient
from plugintop.config import BACKENDS, Context
from plugintop.credentials import resolve
from plugintop.errors import BackendError, ConfigError
from plugintop.redact import redact


@dataclass
class Backends:
    """The clients of one context. A backend that could not be set up is `None` with its error."""

    prometheus: PrometheusClient | None = None
    loki: LokiClient | None = None
    tempo: TempoClient | None = None
    pyroscope: PyroscopeClient | None = None
    grafana: GrafanaClient | None = None
    urls: dict[str, str] = field(default_factory=dict)
    """Display URL of each backend (redacted)."""
    setup_errors: dict[str, BackendError] = field(default_factory=dict)
    _http: list[httpx.AsyncClient] = field(default_factory=list)

    async def aclose(self) -> None:
        for h in self._http:
            await h.aclose()
        self._http.clear()

    async def __aenter__(self) -> Backends:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


_CLIENTS = {"prometheus": PrometheusClient, "loki": LokiClient, "tempo": TempoClient, "pyroscope": PyroscopeClient}


async def open_backends(ctx: Context, env: Mapping[str, str] | None = None) -> Backends:
    """Builds the clients. Through Grafana, datasources are discovered once via `/api/datasources`.

    Raises:
        ConfigError: a backend has neither a URL nor Grafana to go through, or a secret is missing.
    """
    out = Backends()
    grafana_http: httpx.AsyncClient | None = None
    if ctx.grafana and ctx.grafana.url:
        g = ctx.grafana
        headers = {"X-Grafana-Org-Id": str(g.org_id)} if g.org_id else {}
        grafana_http = make_client(
            g.url or "",
            credentials=resolve(g.auth, "grafana.auth", env),
            tls=g.tls,
            timeouts=g.timeout,
            headers=headers,
        )
        out._http.append(grafana_http)
        out.grafana = GrafanaClient(grafana_http)
        out.urls["grafana"] = redact(g.url or "")
    sources = None
    for name in BACKENDS:
        cfg = ctx.backend(name)
        if cfg.url:
            headers = {"X-Scope-OrgID": cfg.tenant} if cfg.tenant else {}
            http = make_client(
                cfg.url,
                credentials=resolve(cfg.auth, f"{name}.auth", env),
                tls=cfg.tls,
                timeouts=cfg.timeout,
                headers=headers,
            )
            out.urls[name] = redact(cfg.url)
        elif ctx.grafana and ctx.grafana.url and out.grafana and grafana_http is not None:
            try:
                if sources is None:
                    sources = await out.grafana.datasources()
                ds = pick_datasource(sources, name, cfg.datasource_uid)
            except BackendError as e:
                out.setup_errors[name] = e
                out.urls[name] = redact(ctx.grafana.url)
                continue
            base = f"{ctx.grafana.url}{proxy_path(ds.uid)}"
            g = ctx.grafana
            headers = {"X-Grafana-Org-Id": str(g.org_id)} if g.org_id else {}
            http = make_client(
                base,
                credentials=resolve(g.auth, "grafana.auth", env),
                tls=g.tls,
                timeouts=cfg.timeout,
                headers=headers,
            )
            out.urls[name] = redact(f"{base} ({ds.name})")
        else:
            raise ConfigError(
                f"no URL for {name}: give --{name}-url, PLUGINTOP_{name.upper()}_URL, a context with "
                f"{name}.url, or --grafana-url (or try --demo)"
            )
        out._http.append(http)
        setattr(out, name, _CLIENTS[name](http))
    return out


def preflight(ctx: Context, env: Mapping[str, str] | None = None) -> None:
    """Checks, before any request, that every backend can be reached somehow and its secrets resolve.

    Raises:
        ConfigError: the first problem, in one line.
    """
    if ctx.grafana and ctx.grafana.url:
        resolve(ctx.grafana.auth, "grafana.auth", env)
    for name in BACKENDS:
        cfg = ctx.backend(name)
        if cfg.url:
            resolve(cfg.auth, f"{name}.auth", env)
        elif not (ctx.grafana and ctx.grafana.url):
            raise ConfigError(
                f"no URL for {name}: give --{name}-url, PLUGINTOP_{name.upper()}_URL, a context with "
                f"{name}.url, or --grafana-url (or try --demo)"
            )
