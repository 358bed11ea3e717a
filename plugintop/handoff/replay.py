"""Provides what a bundle needs around the triage: `record` (the triage and the rest of the screen's first
page, with every answer kept), the context a replay runs in (`replay_context`: the saved schema, SLO and
tail settings, backends that answer from the bundle) and the replay's clock (the saved moment)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from plugintop.analysis.model import TriageResult
from plugintop.config.context import BACKENDS, BackendConfig, Context
from plugintop.connect.backends import Backends, open_backends
from plugintop.errors import BackendError
from plugintop.handoff.bundle import Bundle, BundleError, Manifest, from_log
from plugintop.live.follow import TenantLogs, saved_read, tenant_range
from plugintop.live.health import pillar_health
from plugintop.querylog import QueryLog, as_json
from plugintop.report import render_json
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest

REPLAY_URL = "http://bundle.invalid"
"""The backends' base URL in a replay: never dialled (every answer comes from the bundle)."""


def context_json(ctx: Context) -> dict[str, Any]:
    """What of the context a replay needs: no URL, credential, header or TLS setting."""
    return {
        "schema": msgspec.to_builtins(ctx.telemetry),
        "slo": msgspec.to_builtins(ctx.slo),
        "tail": msgspec.to_builtins(ctx.tail),
        "scrape_interval": {b: ctx.backend(b).scrape_interval for b in BACKENDS},
    }


def replay_context(saved: dict[str, Any]) -> Context:
    """The context of a replay: the saved settings, and every backend at `REPLAY_URL`."""
    scrape = saved.get("scrape_interval") or {}
    backends = {b: BackendConfig(url=REPLAY_URL, scrape_interval=scrape.get(b)) for b in BACKENDS}
    settings = {k: saved.get(k, {}) for k in ("schema", "slo", "tail")}
    try:
        return msgspec.structs.replace(msgspec.convert(settings, Context), **backends)
    except msgspec.ValidationError as e:
        raise BundleError(f"the bundle's context is not one this plugintop reads: {e}") from None


async def record(backends: Backends, ctx: Context, req: TriageRequest, now: float) -> TriageResult:
    """Runs the triage at the moment `now`, then asks what the screen's first page asks besides it (each
    pillar's telemetry health, the log pane's read of the range), so that a replay of either finds its
    answers. The answers are in `backends.log` when it keeps them."""
    result = await Triage(backends, ctx, req, clock=lambda: now).run()
    await pillar_health(backends, ctx, req.plugin, now)
    if backends.loki is not None:
        start_ns, end_ns = saved_read((req.range.start, req.range.end), None, now)
        lines = tenant_range(backends.loki, TenantLogs(ctx.telemetry, req.plugin, req.tenant), start_ns, end_ns)
        try:
            async for _ in lines:
                pass
        except BackendError:  # the log pane's own failure: a replay meets the same one
            pass
    return result


async def save(
    ctx: Context, req: TriageRequest, now: float, env: Mapping[str, str] | None = None
) -> tuple[Bundle, TriageResult]:
    """The bundle of `record` at the moment `now`, and the triage's result (what the live report says)."""
    log = QueryLog(keep_answers=True)
    async with await open_backends(ctx, env, log=log) as backends:
        result = await record(backends, ctx, req, now)
    manifest = Manifest(
        saved_at=now,
        plugin=req.plugin,
        tenant=req.tenant,
        start=req.range.start,
        end=req.range.end,
        p99_target_s=req.p99_target_s,
        deadline_s=req.deadline_s or 30.0,
        urls=backends.urls,
    )
    report = render_json(result, requests=[as_json(r) for r in log])
    return from_log(manifest, log, report, context_json(ctx)), result


def request_of(m: Manifest) -> TriageRequest:
    """The triage request a bundle was saved for."""
    return TriageRequest(
        plugin=m.plugin,
        tenant=m.tenant,
        range=TimeRange(m.start, m.end),
        p99_target_s=m.p99_target_s,
        deadline_s=m.deadline_s,
    )


async def replay(bundle: Bundle) -> tuple[TriageResult, QueryLog]:
    """The triage answered from `bundle`, at the moment it was saved, and the query log of the replay."""
    ctx, m = replay_context(bundle.context), bundle.manifest
    async with await open_backends(ctx, replay=bundle.exchanges) as backends:
        result = await Triage(backends, ctx, request_of(m), clock=lambda: m.saved_at).run()
    return result, backends.log
