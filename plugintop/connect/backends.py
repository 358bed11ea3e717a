"""Provides `Backends`: the four clients built from a context, each over its own shared
`httpx.AsyncClient`, directly or through Grafana's datasource proxy; closed together."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from plugintop.clients._http import make_client
from plugintop.clients.grafana import GrafanaClient, pick_datasource, proxy_path
from plugintop.clients.loki import LokiClient
from plugintop.clients.prometheus import PrometheusClient
from plugintop.clients.pyroscope import PyroscopeClient
from plugintop.clients.taps import LoggingTransport, ReplayTransport
from plugintop.clients.tempo import TempoClient
from plugintop.config.context import BACKENDS, BackendConfig, Context, GrafanaConfig, Timeouts
from plugintop.config.credentials import resolve
from plugintop.errors import BackendError, ConfigError
from plugintop.querylog import Exchange, QueryLog
from plugintop.redact import redact

Wrap = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


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
    log: QueryLog = field(default_factory=QueryLog)
    """Every request made through these clients (the query log)."""
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


def http_client(
    base_url: str,
    cfg: BackendConfig,
    secret_key: str,
    timeouts: Timeouts,
    env: Mapping[str, str] | None,
    wrap: Wrap | None = None,
) -> httpx.AsyncClient:
    """The one way a backend's `AsyncClient` is made: `cfg`'s credentials (named `secret_key` in
    errors), TLS and headers (`X-Scope-OrgID` for a multi-tenant backend, `X-Grafana-Org-Id` for
    Grafana's)."""
    headers: dict[str, str] = {}
    if isinstance(cfg, GrafanaConfig):
        if cfg.org_id:
            headers["X-Grafana-Org-Id"] = str(cfg.org_id)
    elif cfg.tenant:
        headers["X-Scope-OrgID"] = cfg.tenant
    return make_client(
        base_url,
        credentials=resolve(cfg.auth, secret_key, env),
        tls=cfg.tls,
        timeouts=timeouts,
        headers=headers,
        wrap=wrap,
    )


def _no_url(name: str) -> ConfigError:
    return ConfigError(
        f"no URL for {name}: give --{name}-url, PLUGINTOP_{name.upper()}_URL, a context with "
        f"{name}.url, or --grafana-url (or try --demo)"
    )


async def open_backends(
    ctx: Context,
    env: Mapping[str, str] | None = None,
    only: Sequence[str] = BACKENDS,
    *,
    log: QueryLog | None = None,
    replay: Sequence[tuple[Exchange, bytes]] | None = None,
) -> Backends:
    """Builds the clients of the backends in `only` (default all four), each request written to `log`
    (a new one by default). Through Grafana, datasources are discovered once via `/api/datasources`.
    With `replay` (a bundle's exchanges), every answer comes from it and nothing goes to the network.
    What was opened is closed again if a later backend fails.

    Raises:
        ConfigError: a backend has neither a URL nor Grafana to go through, or a secret is missing.
    """
    out = Backends(log=log if log is not None else QueryLog())
    try:
        await _open(out, ctx, env, only, replay)
    except BaseException:
        await out.aclose()
        raise
    return out


def _tap(name: str, base_url: str, log: QueryLog, replay: Sequence[tuple[Exchange, bytes]] | None) -> Wrap:
    if replay is not None:
        answers = ReplayTransport(name, replay, log)
        return lambda _network: answers
    base_path = urlsplit(base_url).path
    return lambda network: LoggingTransport(network, name, base_path, log)


async def _open(
    out: Backends,
    ctx: Context,
    env: Mapping[str, str] | None,
    only: Sequence[str],
    replay: Sequence[tuple[Exchange, bytes]] | None,
) -> None:
    g = ctx.grafana if ctx.grafana and ctx.grafana.url else None
    sources = None
    for name in only:
        cfg = ctx.backend(name)
        if cfg.url:
            http = http_client(cfg.url, cfg, f"{name}.auth", cfg.timeout, env, _tap(name, cfg.url, out.log, replay))
            out.urls[name] = redact(cfg.url)
        elif g is not None and g.url:
            if out.grafana is None:
                grafana_http = http_client(
                    g.url, g, "grafana.auth", g.timeout, env, _tap("grafana", g.url, out.log, replay)
                )
                out._http.append(grafana_http)
                out.grafana = GrafanaClient(grafana_http)
                out.urls["grafana"] = redact(g.url)
            try:
                if sources is None:
                    sources = await out.grafana.datasources()
                ds = pick_datasource(sources, name, cfg.datasource_uid)
            except BackendError as e:
                out.setup_errors[name] = e
                out.urls[name] = redact(g.url)
                continue
            base = f"{g.url}{proxy_path(ds.uid)}"
            http = http_client(base, g, "grafana.auth", cfg.timeout, env, _tap(name, base, out.log, replay))
            out.urls[name] = redact(f"{base} ({ds.name})")
        else:
            raise _no_url(name)
        out._http.append(http)
        setattr(out, name, _CLIENTS[name](http))


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
            raise _no_url(name)
