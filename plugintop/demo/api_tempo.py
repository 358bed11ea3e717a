"""Provides the demo Tempo: TraceQL `/api/search`, trace by id (v1 `/api/traces`, v2
`/api/v2/traces`), tag names and values (v1 and v2), `status/buildinfo`, `/api/echo`."""

from __future__ import annotations

import base64
from typing import Any

from plugintop.demo import ids
from plugintop.demo.http import BUILDINFO, Request, Response
from plugintop.demo.lex import QueryError
from plugintop.demo.params import uint32_seconds
from plugintop.demo.realism import pod_name
from plugintop.demo.traceql import AttrValue, DemoSpan, Query, TraceView, match, parse, plan
from plugintop.demo.world import Call, World
from plugintop.schema import Schema

MAX_SEARCH = 168 * 3600


def _kv(key: str, value: AttrValue) -> dict[str, Any]:
    if isinstance(value, bool):
        v: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    else:
        v = {"stringValue": str(value)}
    return {"key": key, "value": v}


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


class TraceBuilder:
    """The spans of a call, as the platform SDK would emit them."""

    def __init__(self, world: World, schema: Schema | None = None) -> None:
        self.world = world
        self.s = schema or Schema()

    def spans(self, c: Call) -> list[tuple[str, str | None, DemoSpan, float, float]]:
        """(span id, parent id, span view, start, end) of every span, the tool span first."""
        sc, s = self.world.scenario, self.s
        tid = c.trace_id
        root = ids.span_id(tid, 0)
        attrs: dict[str, AttrValue] = {
            s.span_tenant_attr: c.tenant,
            "user.id": c.user,
            s.span_version_attr: c.version,
            "llm.session.id": c.attrs["session"],
            s.llm_prompt_tokens_attrs[0]: c.prompt_tokens,
            s.llm_completion_tokens_attrs[0]: c.completion_tokens,
            s.llm_model_attrs[0]: c.model or c.tool.llm_model,
            s.llm_cost_attr: round(c.cost_usd, 7),
            "mcp.tool.name": c.tool.name,
            "plugin.outcome": "success" if c.ok else "error",
            **c.tags,
        }
        resource: dict[str, AttrValue] = {
            "service.name": sc.plugin,
            "service.version": c.version,
            "telemetry.sdk.language": "python",
        }
        if self.world.pods > 1:
            pod = pod_name(sc.plugin.lower(), sc.seed, c.pod)
            resource["k8s.pod.name"] = pod
            resource["service.instance.id"] = pod
        status = "unset" if c.ok else "error"
        message = "" if c.ok else (c.error or f"tool {c.tool.name} failed")
        out: list[tuple[str, str | None, DemoSpan, float, float]] = [
            (
                root,
                None,
                DemoSpan(
                    s.tool_span_name(sc.plugin, c.tool.name), c.duration, status, "server", attrs, resource, message
                ),
                c.start,
                c.end,
            )
        ]
        t = c.start
        model = c.model or c.tool.llm_model
        for i, p in enumerate(c.parts, start=1):
            if p.role == "llm" and p.error is not None:  # a throttled attempt: the model answered 429
                a: dict[str, AttrValue] = {
                    s.llm_model_attrs[0]: model,
                    s.llm_model_attrs[1]: model,
                    "gen_ai.operation.name": "chat",
                    "http.response.status_code": 429,
                    "error.type": "429",
                }
            elif p.role == "llm":
                a = {
                    s.llm_model_attrs[0]: model,
                    s.llm_model_attrs[1]: model,
                    "gen_ai.operation.name": "chat",
                    s.llm_prompt_tokens_attrs[1]: c.prompt_tokens,
                    s.llm_completion_tokens_attrs[1]: c.completion_tokens,
                }
            elif p.role == "downstream":
                a = {"peer.service": p.name.split(".")[0]}
            else:
                a = {"code.function": p.name}
            status = "unset" if p.error is None else "error"
            view = DemoSpan(p.name, p.seconds, status, p.kind, a, resource, p.error or "")
            out.append((ids.span_id(tid, i), root, view, t, t + p.seconds))
            t += p.seconds
        return out

    def otlp(self, c: Call) -> dict[str, Any]:
        """The trace as Tempo's jsonpb: base64 ids, string int64s, enum names."""
        spans = []
        for sid, parent, sp, start, end in self.spans(c):
            span: dict[str, Any] = {
                "traceId": _b64(c.trace_id),
                "spanId": _b64(sid),
                "name": sp.name,
                "kind": f"SPAN_KIND_{sp.kind.upper()}",
                "startTimeUnixNano": str(int(start * 1e9)),
                "endTimeUnixNano": str(int(end * 1e9)),
                "attributes": [_kv(k, v) for k, v in sp.attributes.items()],
                "status": {"code": "STATUS_CODE_ERROR", "message": sp.status_message} if sp.status == "error" else {},
            }
            if parent:
                span["parentSpanId"] = _b64(parent)
            spans.append(span)
        resource = self.spans(c)[0][2].resource
        return {
            "resourceSpans": [
                {
                    "resource": {"attributes": [_kv(k, v) for k, v in resource.items()]},
                    "scopeSpans": [{"scope": {"name": "plugin-sdk", "version": "1.0.0"}, "spans": spans}],
                }
            ]
        }


class TempoAPI:
    """Routes of the demo Tempo."""

    def __init__(self, world: World, schema: Schema | None = None) -> None:
        self.world = world
        self.traces = TraceBuilder(world, schema)

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
                return self.tag_values(p[len("/api/v2/search/tag/") : -len("/values")], v2=True)
            if p.startswith("/api/search/tag/") and p.endswith("/values"):
                return self.tag_values(p[len("/api/search/tag/") : -len("/values")], v2=False)
            if p in ("/api/search/tags", "/api/v2/search/tags"):
                return self.tags(v2=p.startswith("/api/v2"))
            if p.startswith("/api/metrics/"):
                raise QueryError("the demo backend does not evaluate TraceQL metrics (plugintop does not use them)")
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
        return Response.json(self._search(q, start, end, limit, spss))

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
                    attrs.append(_kv(name, value))
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

    def tag_values(self, tag: str, v2: bool) -> Response:
        sc, s = self.world.scenario, self.traces.s
        name = tag.split(".", 1)[1] if v2 and tag.startswith(("span.", "resource.")) else tag.lstrip(".")
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
        if v2:
            return Response.json(
                {"tagValues": [{"type": "string", "value": v} for v in values], "metrics": {"inspectedBytes": "0"}}
            )
        return Response.json({"tagValues": values, "metrics": {"inspectedBytes": "0"}})

    def tags(self, v2: bool) -> Response:
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
            return Response.json(
                {
                    "scopes": [
                        {"name": "span", "tags": span_tags},
                        {"name": "resource", "tags": resource},
                        {"name": "intrinsic", "tags": ["duration", "kind", "name", "status"]},
                    ],
                    "metrics": {"inspectedBytes": "0"},
                }
            )
        return Response.json({"tagNames": sorted({*span_tags, *resource}), "metrics": {"inspectedBytes": "0"}})
