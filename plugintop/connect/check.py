"""Provides `plugintop check`: for each backend, whether it answers, accepts our credentials, its
version, the round-trip time and whether data for the plugin/tenant exists."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from plugintop.config.context import BACKENDS, Context
from plugintop.connect.backends import Backends
from plugintop.errors import BackendError, BadResponse, NotFound, Unauthorized
from plugintop.queries.logql import LogQL
from plugintop.queries.promql import PromQL, Scope
from plugintop.queries.pyroscope import label_selector
from plugintop.queries.traceql import TraceQL
from plugintop.timerange import TimeRange


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What `check` found for one backend."""

    backend: str
    url: str
    usable: bool
    reachable: bool
    auth_ok: bool | None
    version: str | None = None
    rtt_ms: float | None = None
    data: str | None = None
    error: str | None = None


async def _timed(call: Awaitable[object]) -> tuple[object, float]:
    t0 = time.perf_counter()
    out = await call
    return out, (time.perf_counter() - t0) * 1000


async def check_backend(
    name: str,
    url: str,
    version_call: Callable[[], Awaitable[object]],
    data_call: Callable[[], Awaitable[str]],
) -> CheckResult:
    """Runs the version probe, then the data probe, and classifies what failed."""
    version: str | None = None
    rtt: float | None = None
    try:
        info, rtt = await _timed(version_call())
        version = str(getattr(info, "version", "") or "") or None
    except (NotFound, BadResponse):
        version = "unknown (no buildinfo)"
    except BackendError as e:
        return _failed(name, url, e)
    try:
        t0 = time.perf_counter()
        data = await data_call()
        if rtt is None:
            rtt = (time.perf_counter() - t0) * 1000
    except BackendError as e:
        return _failed(name, url, e, version=version, rtt=rtt)
    return CheckResult(name, url, True, True, True, version, rtt, data)


def _failed(name: str, url: str, e: BackendError, version: str | None = None, rtt: float | None = None) -> CheckResult:
    reachable = e.kind not in ("unreachable", "timeout")
    auth: bool | None = False if isinstance(e, Unauthorized) else (None if not reachable else True)
    return CheckResult(name, url, False, reachable, auth, version, rtt, None, f"{e.kind}: {e.message}")


async def run_checks(backends: Backends, ctx: Context, plugin: str, tenant: str, rng: TimeRange) -> list[CheckResult]:
    """Checks every backend concurrently; never raises for a backend's failure."""
    schema = ctx.telemetry
    scope = Scope(plugin, tenant)
    start, end = rng.start, rng.end

    async def prom_data() -> str:
        assert backends.prometheus
        rows = await backends.prometheus.series([PromQL(schema).count(scope)], start, end)
        tools = {r.get(schema.tool_label, "") for r in rows}
        return f"{len(tools)} tool(s) for {plugin}/{tenant}" if rows else f"no data for {plugin}/{tenant}"

    async def loki_data() -> str:
        assert backends.loki
        rows = await backends.loki.series(LogQL(schema).selector(plugin, tenant), start, end)
        return f"{len(rows)} stream(s) for {plugin}/{tenant}" if rows else f"no logs for {plugin}/{tenant}"

    async def tempo_data() -> str:
        assert backends.tempo
        res = await backends.tempo.search(TraceQL(schema).tool_spans(plugin, tenant), start, end, limit=5)
        return f"traces for {plugin}/{tenant}" if res.traces else f"no traces for {plugin}/{tenant}"

    async def pyro_data() -> str:
        assert backends.pyroscope
        services = await backends.pyroscope.label_values(
            schema.profile_service_label, start, end, [label_selector(schema, plugin)]
        )
        svc = schema.service_name(plugin)
        return f"profiles for {svc}" if svc in services else f"no profiles for {svc}"

    probes = {"prometheus": prom_data, "loki": loki_data, "tempo": tempo_data, "pyroscope": pyro_data}
    tasks = []
    for name in BACKENDS:
        client = getattr(backends, name)
        url = backends.urls.get(name, "")
        if name in backends.setup_errors or client is None:
            err = backends.setup_errors.get(name) or BackendError(name, "not configured")
            tasks.append(asyncio.sleep(0, _failed(name, url, err)))
            continue
        tasks.append(check_backend(name, url, client.buildinfo, probes[name]))
    return list(await asyncio.gather(*tasks))


def format_results(results: list[CheckResult]) -> list[str]:
    """One line per backend, aligned, for a terminal."""
    lines = []
    for r in results:
        if r.usable:
            rtt = f"{r.rtt_ms:.0f} ms" if r.rtt_ms is not None else "-"
            lines.append(
                f"{r.backend:<10} OK    {r.url}  reachable, auth accepted, version {r.version or '?'}, {rtt}, {r.data}"
            )
        else:
            lines.append(f"{r.backend:<10} FAIL  {r.url}  {r.error}")
    return lines
