"""Provides `TraceBuilder`: a demo call's spans as Tempo stores them (OTLP JSON, ids in base64 for v1 and
hex for v2), and the span-attribute helpers the demo Tempo's answers share."""

from __future__ import annotations

import base64
import threading
from typing import Any

from plugintop.demo import ids
from plugintop.demo.realism import pod_name
from plugintop.demo.slots import Call
from plugintop.demo.tempo_metrics import SCOPE_NAME, SCOPE_VERSION
from plugintop.demo.traceql import AttrValue, DemoSpan
from plugintop.demo.world import World
from plugintop.schema import Schema


def tag_attr(tag: str) -> tuple[str, str]:
    """(scope, name) of a v2 tag (`span.x`, `resource.x`, `.x`, `name`, `status`, ...)."""
    for scope in ("span", "resource"):
        if tag.startswith(scope + "."):
            return scope, tag[len(scope) + 1 :]
    if tag.startswith("."):
        return "any", tag[1:]
    if tag in ("name", "status", "kind", "duration", "statusMessage", "rootName", "rootServiceName"):
        return "intrinsic", tag
    return "any", tag


def kv(key: str, value: AttrValue) -> dict[str, Any]:
    if isinstance(value, bool):
        v: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    else:
        v = {"stringValue": str(value)}
    return {"key": key, "value": v}


def b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


KEPT_CALLS = 20_000
"""Calls whose spans are kept between queries (oldest dropped first)."""


class TraceBuilder:
    """The spans of a call, as the platform SDK would emit them."""

    def __init__(self, world: World, schema: Schema | None = None) -> None:
        self.world = world
        self.s = schema or Schema()
        self._kept: dict[str, list[tuple[str, str | None, DemoSpan, float, float]]] = {}
        self._lock = threading.Lock()

    def spans(self, c: Call) -> list[tuple[str, str | None, DemoSpan, float, float]]:
        """(span id, parent id, span view, start, end) of every span, the tool span first (callers must not
        change the list: it is kept, by trace id, for the next query that reads the call: a search and a
        `compare()` read the same calls)."""
        got = self._kept.get(c.trace_id)
        if got is None:
            got = self._spans(c)
            with self._lock:  # the stack answers from several threads
                self._kept[c.trace_id] = got
                if len(self._kept) > KEPT_CALLS:
                    del self._kept[next(iter(self._kept))]
        return got

    def _spans(self, c: Call) -> list[tuple[str, str | None, DemoSpan, float, float]]:
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
                "traceId": b64(c.trace_id),
                "spanId": b64(sid),
                "name": sp.name,
                "kind": f"SPAN_KIND_{sp.kind.upper()}",
                "startTimeUnixNano": str(int(start * 1e9)),
                "endTimeUnixNano": str(int(end * 1e9)),
                "attributes": [kv(k, v) for k, v in sp.attributes.items()],
                "status": {"code": "STATUS_CODE_ERROR", "message": sp.status_message} if sp.status == "error" else {},
            }
            if parent:
                span["parentSpanId"] = b64(parent)
            spans.append(span)
        resource = self.spans(c)[0][2].resource
        return {
            "resourceSpans": [
                {
                    "resource": {"attributes": [kv(k, v) for k, v in resource.items()]},
                    "scopeSpans": [{"scope": {"name": SCOPE_NAME, "version": SCOPE_VERSION}, "spans": spans}],
                }
            ]
        }
