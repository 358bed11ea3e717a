"""Provides the demo Tempo: TraceQL `/api/search`, TraceQL metrics `/api/metrics/query_range` (`rate()`,
`count_over_time()`, `compare()`), trace by id (v1 `/api/traces`, v2 `/api/v2/traces`), tag names and values
(v1 and v2, v2 scoped and filtered by a query), `status/buildinfo`, `/api/echo`."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from plugintop.demo.http import BUILDINFO, Request, Response
from plugintop.demo.lex import QueryError
from plugintop.demo.otlp import TraceBuilder, kv, tag_attr
from plugintop.demo.params import loki_time, prom_duration, uint32_seconds
from plugintop.demo.slots import Call
from plugintop.demo.tempo_metrics import MetricsEngine, blocks
from plugintop.demo.traceql import DemoSpan, Query, TraceView, get, match, parse, plan
from plugintop.demo.world import World
from plugintop.schema import Schema

MAX_SEARCH = 168 * 3600
SCAN_CALLS = 2000
"""Calls a tag search reads at most (newest first)."""
SCOPES = ("all", "none", "span", "resource", "intrinsic", "event", "link", "instrumentation")
INTRINSIC_TAGS = ["duration", "kind", "name", "status"]


class TempoAPI:
    """Routes of the demo Tempo."""

    def __init__(self, world: World, schema: Schema | None = None) -> None:
        self.world = world
        self.traces = TraceBuilder(world, schema)
        self.engine = MetricsEngine(world, self.traces.spans, self._matching_calls)

    def __call__(self, req: Request) -> Response:
        p = req.path
        try:
            if p == "/api/search":
                return self.search(req)
            if p.startswith("/api/v2/traces/"):
                return self.trace(p.rsplit("/", 1)[1], v2=True)
            if p.startswith("/api/traces/"):
                return self.trace(p.rsplit("/", 1)[1], v2=False)
            if p.startswith("/api/v2/search/tag/") and p.endswith("/values"):
                return self.tag_values(p[len("/api/v2/search/tag/") : -len("/values")], True, req)
            if p.startswith("/api/search/tag/") and p.endswith("/values"):
                return self.tag_values(p[len("/api/search/tag/") : -len("/values")], False, req)
            if p in ("/api/search/tags", "/api/v2/search/tags"):
                return self.tags(p.startswith("/api/v2"), req)
            if p == "/api/metrics/query_range":
                return self.metrics_range(req)
            if p.startswith("/api/metrics/"):
                raise QueryError("the demo backend evaluates TraceQL metrics at /api/metrics/query_range only")
            if p == "/api/status/buildinfo":
                return Response.json(BUILDINFO)
            if p == "/api/echo":
                return Response.text("echo", 200)
            if p == "/ready":
                return Response.text("ready", 200)
        except QueryError as e:
            return Response.text(str(e), 400)
        return Response.text("404 page not found\n", 404)

    def search(self, req: Request) -> Response:
        if req.get("tags") is not None and req.get("q") is not None:
            raise QueryError("invalid request: tags and q cannot both be set")
        q_text = req.get("q")
        if q_text is None:
            raise QueryError("the demo backend searches with a TraceQL `q` only")
        start, end = uint32_seconds("start", req.get("start")), uint32_seconds("end", req.get("end"))
        now = self.world.now()
        if start is None or end is None:
            start, end = int(now - 3600), int(now)
        if end <= start:
            raise QueryError("invalid end: end must be after start")
        if end - start > MAX_SEARCH:
            raise QueryError(f"range specified by start and end ({end - start}s) exceeds 168h0m0s")
        limit = int(req.get("limit") or 20)
        if limit <= 0:
            raise QueryError("invalid limit: must be a positive number")
        spss = int(req.get("spss") or 3)
        q = plan(parse(q_text))
        out = self._search(q, start, end, limit, spss)
        if req.get("start") and req.get("end"):  # (without a range Tempo searches the live store only)
            n_blocks, block_bytes = blocks(self.world, start, end)
            if n_blocks:
                out["metrics"]["totalBlocks"] = n_blocks
                out["metrics"]["totalBlockBytes"] = str(block_bytes)
        return Response.json(out)

    def metrics_range(self, req: Request) -> Response:
        q_text = req.get("q") or req.get("query")
        if not q_text:
            raise QueryError("invalid TraceQL query: empty query")
        now = self.world.now()
        end = loki_time(req.get("end"), now)
        start = loki_time(req.get("start"), end - 3600)
        if end <= start:
            raise QueryError("invalid start/end: end must be after start")
        step_text = req.get("step")
        step = prom_duration(step_text) if step_text else float(max(math.floor((end - start) / 250), 1))
        q = plan(parse(q_text, metrics=True))
        if q.metrics is None:
            raise QueryError("invalid TraceQL query: not a metrics query: end it in a metrics function like rate()")
        return Response.json(self.engine.query_range(q, start, end, step))

    def _matching_calls(self, q: Query, start: float, end: float) -> Iterator[Call]:
        """The calls Tempo holds whose spans may match `q`, ending in [start, end], oldest first."""
        tenants, tools = self._candidates(q)
        now = self.world.now()
        for c in self.world.iter_calls(start, end, tenants, tools, min_duration=q.min_duration, upto=self._upto(now)):
            if (q.min_duration is None or c.duration > q.min_duration) and self._kept(c, now):
                yield c

    def _scan(self, req: Request, q_text: str | None) -> Iterator[tuple[DemoSpan, TraceView]]:
        """The spans matching `q` (every span without one) in the request's range, newest calls first,
        at most `SCAN_CALLS` calls (Tempo's tag search reads a bounded amount too)."""
        q = plan(parse(q_text if q_text and q_text.strip() else "{}"))
        now = self.world.now()
        end_s, start_s = uint32_seconds("end", req.get("end")), uint32_seconds("start", req.get("start"))
        end = float(end_s) if end_s is not None else now
        start = float(start_s) if start_s is not None else end - 3600
        tenants, tools = self._candidates(q)
        calls = self.world.iter_calls(
            start, end, tenants, tools, newest_first=True, min_duration=q.min_duration, upto=self._upto(now)
        )
        n = 0
        for c in calls:
            if not self._kept(c, now):
                continue
            views = [sp for _, _, sp, _, _ in self.traces.spans(c)]
            trace = TraceView(views[0].name, str(views[0].resource["service.name"]), c.duration)
            hits = match(q.tree, views, trace)
            for i in hits or ():
                yield views[i], trace
            n += 1
            if n >= SCAN_CALLS:
                return

    def _candidates(self, q: Query) -> tuple[list[int] | None, list[int] | None]:
        sc, s = self.world.scenario, self.traces.s
        tenants = tools = None
        tenant = q.must_equal.get(s.span_tenant_attr)
        if tenant is not None:
            tenants = [i for i, t in enumerate(sc.tenants) if t == tenant]
        name = q.must_equal.get(":name")
        if name is not None and name.startswith(s.tool_span_name(sc.plugin, "")):
            tools = [j for j, t in enumerate(sc.tools) if s.tool_span_name(sc.plugin, t.name) == name]
        return tenants, tools

    def _upto(self, now: float) -> float | None:
        """With a trace lag each trace arrives on its own: the calls of the running slot are read too."""
        return now + self.world.slot_s if self.world.trace_lag[1] > 0 else None

    def _kept(self, c: Call, now: float) -> bool:
        """Whether Tempo has the call's trace by `now`: head sampling kept it and it has arrived."""
        return self.world.sampled(c.trace_id) and self.world.trace_ready(c, now)

    def _search(self, q: Query, start: int, end: int, limit: int, spss: int) -> dict[str, Any]:
        tenants, tools = self._candidates(q)
        now = self.world.now()
        traces: list[dict[str, Any]] = []
        inspected = 0
        calls = self.world.iter_calls(
            start, end, tenants, tools, newest_first=True, min_duration=q.min_duration, upto=self._upto(now)
        )
        for c in calls:
            if q.min_duration is not None and c.duration <= q.min_duration:
                continue
            if c.start < start or not self._kept(c, now):
                continue
            inspected += 1
            spans = self.traces.spans(c)
            views = [sp for _, _, sp, _, _ in spans]
            hits = match(q.tree, views, TraceView(views[0].name, str(views[0].resource["service.name"]), c.duration))
            if hits is None:
                continue
            traces.append(self._summary(c, spans, hits, q, spss))
            if len(traces) >= limit:
                break
        jobs = 1
        if "tempo" in self.world.realism.partial:  # a querier failed one block's job: fewer completed than total
            jobs = 2
        return {
            "traces": traces,
            "metrics": {"inspectedBytes": str(inspected * 4000), "completedJobs": 1, "totalJobs": jobs},
        }

    def _summary(self, c: Call, spans: list[Any], hits: list[int], q: Query, spss: int) -> dict[str, Any]:
        wanted = [*q.referenced, *q.select]
        out_spans = []
        for i in hits[:spss]:
            sid, _, sp, start, _ = spans[i]
            attrs: list[dict[str, Any]] = []
            for scope, name in wanted:
                value = sp.resource.get(name) if scope == "resource" else sp.attributes.get(name)
                if value is None and scope == "any":
                    value = sp.resource.get(name)
                if value is not None and all(a["key"] != name for a in attrs):
                    attrs.append(kv(name, value))
            span = {
                "spanID": sid,
                "name": sp.name,
                "startTimeUnixNano": str(int(start * 1e9)),
                "durationNanos": str(int(sp.duration * 1e9)),
            }
            if attrs:
                span["attributes"] = attrs
            out_spans.append(span)
        spanset = {"spans": out_spans, "matched": len(hits)}
        root = spans[0][2]
        return {
            "traceID": c.trace_id.lstrip("0") or "0",
            "rootServiceName": str(root.resource["service.name"]),
            "rootTraceName": root.name,
            "startTimeUnixNano": str(int(c.start * 1e9)),
            "durationMs": int(c.duration * 1000),
            "spanSet": spanset,
            "spanSets": [spanset],
            "serviceStats": {str(root.resource["service.name"]): {"spanCount": len(spans)}},
        }

    def trace(self, tid: str, v2: bool) -> Response:
        now = self.world.now()
        c = self.world.call(tid, self._upto(now))
        if c is not None and not self._kept(c, now):
            c = None
        if c is None:
            if v2:
                return Response.json({"trace": {}, "metrics": {}})
            return Response(404, b"", "")
        body = self.traces.otlp(c)
        if v2:
            out: dict[str, Any] = {"trace": body, "metrics": {"inspectedBytes": "4000"}}
            if "tempo" in self.world.realism.partial:
                out["status"] = "PARTIAL"
                out["message"] = "failed to find the trace in 1 of 3 blocks: the querier timed out"
            return Response.json(out)
        return Response.json({"batches": body["resourceSpans"]})

    def tag_values(self, tag: str, v2: bool, req: Request) -> Response:
        sc, s = self.world.scenario, self.traces.s
        name = tag.split(".", 1)[1] if v2 and tag.startswith(("span.", "resource.")) else tag.lstrip(".")
        q_text = req.get("q")
        if v2 and q_text and q_text.strip() not in ("", "{}"):
            return Response.json(
                {"tagValues": self._scanned_values(tag, req, q_text), "metrics": {"inspectedBytes": "0"}}
            )
        values: list[str] = []
        if name == s.span_tenant_attr:
            values = list(sc.tenants)
        elif name == "service.name":
            values = [sc.plugin]
        elif name == "name":
            values = [s.tool_span_name(sc.plugin, t.name) for t in sc.tools]
        elif name in s.llm_model_attrs:
            values = sorted({m for t in sc.tools for m in t.model_mix})
        else:
            values = sorted({v for t in sc.tools for a in t.attributes if a.name == name for v in a.values})
        if not values:  # not one the scenario lists: the values the last hour's spans carry
            found = self._scanned_values(tag if v2 else f".{name}", req, None)
            if not v2:
                return Response.json({"tagValues": [v["value"] for v in found], "metrics": {"inspectedBytes": "0"}})
            return Response.json({"tagValues": found, "metrics": {"inspectedBytes": "0"}})
        if v2:
            return Response.json(
                {"tagValues": [{"type": "string", "value": v} for v in values], "metrics": {"inspectedBytes": "0"}}
            )
        return Response.json({"tagValues": values, "metrics": {"inspectedBytes": "0"}})

    def _scanned_values(self, tag: str, req: Request, q_text: str | None) -> list[dict[str, str]]:
        """`{type, value}` of every value of `tag` on the spans matching `q_text`."""
        attr = tag_attr(tag)
        found: dict[tuple[str, str], None] = {}
        for sp, trace in self._scan(req, q_text):
            v = get(attr, sp, trace)
            if v is None or isinstance(v, list | dict):
                continue
            if attr in (("intrinsic", "status"), ("intrinsic", "kind")):
                kind = "keyword"
            elif isinstance(v, bool):
                kind = "bool"
            else:
                kind = {"int": "int", "float": "float"}.get(type(v).__name__, "string")
            text = str(v).lower() if isinstance(v, bool) else str(v)
            found[(kind, text)] = None
        return [{"type": k, "value": v} for k, v in sorted(found, key=lambda kv: kv[1])]

    def tags(self, v2: bool, req: Request) -> Response:
        scope = req.get("scope") or "all"
        if scope not in SCOPES:
            raise QueryError(f"invalid scope: {scope}")
        q_text = req.get("q")
        if v2 and q_text and q_text.strip() not in ("", "{}"):
            span_names: set[str] = set()
            resource_names: set[str] = set()
            for sp, _ in self._scan(req, q_text):
                span_names.update(sp.attributes)
                resource_names.update(sp.resource)
            found = {"span": sorted(span_names), "resource": sorted(resource_names), "intrinsic": INTRINSIC_TAGS}
            return Response.json(
                {
                    "scopes": [{"name": k, "tags": v} for k, v in found.items() if scope in (k, "all", "none") and v],
                    "metrics": {"inspectedBytes": "0"},
                }
            )
        s = self.traces.s
        span_tags = sorted(
            {
                s.span_tenant_attr,
                "user.id",
                s.span_version_attr,
                "llm.session.id",
                *s.llm_model_attrs,
                s.llm_cost_attr,
                "mcp.tool.name",
                "plugin.outcome",
                "code.function",
                "peer.service",
                "gen_ai.operation.name",
                *s.llm_prompt_tokens_attrs,
                *s.llm_completion_tokens_attrs,
                *(a.name for t in self.world.scenario.tools for a in t.attributes),
            }
        )
        resource = ["service.name", "service.version", "telemetry.sdk.language"]
        if v2:
            scopes = {"span": span_tags, "resource": resource, "intrinsic": INTRINSIC_TAGS}
            return Response.json(
                {
                    "scopes": [{"name": k, "tags": v} for k, v in scopes.items() if scope in (k, "all", "none")],
                    "metrics": {"inspectedBytes": "0"},
                }
            )
        return Response.json({"tagNames": sorted({*span_tags, *resource}), "metrics": {"inspectedBytes": "0"}})
