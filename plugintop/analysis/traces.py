"""Provides trace analysis: the span tree, self time per span, the critical path, the share of the
tool span spent in model calls, and the slowest non-LLM child. Tolerates orphans and clock skew."""

from __future__ import annotations

import re
from collections.abc import Iterable

from plugintop.analysis.model import SpanNode, TraceAnalysis
from plugintop.models.tempo import Span, Trace
from plugintop.schema import Schema


def is_llm(span: Span, schema: Schema) -> bool:
    """A model call: it names a model (`llm.model`, `gen_ai.request.model`) or its name says so."""
    if any(a in span.attributes for a in schema.llm_model_attrs):
        return True
    return re.search(schema.llm_span_name_pattern, span.name, re.IGNORECASE) is not None


def _union(intervals: Iterable[tuple[int, int]]) -> int:
    total, cur_s, cur_e = 0, None, None
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += cur_e - cur_s
    return total


def pick_tool_span(trace: Trace, schema: Schema, plugin: str | None = None, tool: str | None = None) -> Span:
    """The tool span: by name when known, else a server root, else the longest root."""
    if plugin and tool:
        name = schema.tool_span_name(plugin, tool)
        for s in trace.spans:
            if s.name == name:
                return s
    if plugin:
        head = schema.span_name.split("{tool}")[0].replace("{plugin}", plugin)
        named = [s for s in trace.spans if head and s.name.startswith(head)]
        if named:
            return max(named, key=lambda s: s.duration_ns)
    ids = {s.span_id for s in trace.spans}
    roots = [s for s in trace.spans if not s.parent_id or s.parent_id not in ids]
    servers = [s for s in roots if s.kind == "server"]
    return max(servers or roots or trace.spans, key=lambda s: s.duration_ns)


def analyse(trace: Trace, schema: Schema, plugin: str | None = None, tool: str | None = None) -> TraceAnalysis:
    """Everything the waterfall and the verdict need from one trace."""
    spans = trace.spans
    by_id = {s.span_id: s for s in spans}
    children: dict[str, list[Span]] = {}
    roots: list[Span] = []
    orphans = 0
    for s in spans:
        if s.parent_id and s.parent_id in by_id and s.parent_id != s.span_id:
            children.setdefault(s.parent_id, []).append(s)
        else:
            if s.parent_id:
                orphans += 1
            roots.append(s)
    tool_span = pick_tool_span(trace, schema, plugin, tool)

    # clamp children into their parent (clock skew), top-down
    bounds: dict[str, tuple[int, int]] = {}
    clamped = 0
    order: list[tuple[Span, int]] = []
    stack = [(r, 0) for r in sorted(roots, key=lambda x: x.start_ns, reverse=True)]
    seen: set[str] = set()
    while stack:
        s, depth = stack.pop()
        if s.span_id in seen:
            continue
        seen.add(s.span_id)
        order.append((s, depth))
        lo, hi = s.start_ns, max(s.start_ns, s.end_ns)
        if s.parent_id in bounds:
            plo, phi = bounds[s.parent_id]
            if lo < plo or hi > phi:
                clamped += 1
                lo, hi = min(max(lo, plo), phi), max(min(hi, phi), plo)
        bounds[s.span_id] = (lo, hi)
        for c in sorted(children.get(s.span_id, []), key=lambda x: x.start_ns, reverse=True):
            stack.append((c, depth + 1))

    self_ns = {
        s.span_id: max(
            0,
            (bounds[s.span_id][1] - bounds[s.span_id][0])
            - _union(bounds[c.span_id] for c in children.get(s.span_id, []) if c.span_id in bounds),
        )
        for s, _ in order
    }
    path = _critical_path(tool_span, children, bounds)
    on_path = {sid for sid, _ in path}
    llm_ids = {s.span_id for s in spans if s.span_id != tool_span.span_id and is_llm(s, schema)}

    tlo, thi = bounds.get(tool_span.span_id, (tool_span.start_ns, tool_span.end_ns))
    tool_ns = max(1, thi - tlo)
    descendants = _descendants(tool_span.span_id, children)
    llm_ns = _union((max(bounds[i][0], tlo), min(bounds[i][1], thi)) for i in llm_ids & descendants if i in bounds)
    direct = [c for c in children.get(tool_span.span_id, []) if c.span_id not in llm_ids and c.span_id in bounds]
    slowest = max(direct, key=lambda c: bounds[c.span_id][1] - bounds[c.span_id][0], default=None)
    model = next(
        (str(by_id[i].attributes.get(a)) for i in llm_ids for a in schema.llm_model_attrs if a in by_id[i].attributes),
        None,
    )
    if model is None:
        model = next((str(tool_span.attributes[a]) for a in schema.llm_model_attrs if a in tool_span.attributes), None)
    cost = tool_span.attributes.get(schema.llm_cost_attr)

    nodes = [
        SpanNode(
            span_id=s.span_id,
            parent_id=s.parent_id,
            name=s.name,
            kind=s.kind,
            start_ns=bounds[s.span_id][0],
            end_ns=bounds[s.span_id][1],
            depth=d,
            self_ns=self_ns[s.span_id],
            is_llm=s.span_id in llm_ids,
            on_critical_path=s.span_id in on_path,
            status=s.status,
            attributes=dict(s.attributes),
            service=s.service,
        )
        for s, d in order
    ]
    names = {s.span_id: s.name for s in spans}
    return TraceAnalysis(
        trace_id=trace.trace_id,
        spans=nodes,
        critical_path=[names[sid] for sid, _ in sorted(path, key=lambda p: bounds[p[0]][0])],
        critical_path_ns=[(names[sid], ns) for sid, ns in path],
        llm_share=min(1.0, llm_ns / tool_ns),
        tool_span=tool_span.name,
        tool_duration_s=tool_ns / 1e9,
        slowest_child=slowest.name if slowest else None,
        slowest_child_share=((bounds[slowest.span_id][1] - bounds[slowest.span_id][0]) / tool_ns) if slowest else 0.0,
        slowest_child_kind=slowest.kind if slowest else "",
        llm_model=model,
        llm_cost_usd=float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None,
        orphans=orphans,
        clamped=clamped,
        partial=trace.partial,
    )


def _descendants(root: str, children: dict[str, list[Span]]) -> set[str]:
    out: set[str] = set()
    stack = [root]
    while stack:
        for c in children.get(stack.pop(), []):
            if c.span_id not in out:
                out.add(c.span_id)
                stack.append(c.span_id)
    return out


def _critical_path(
    root: Span, children: dict[str, list[Span]], bounds: dict[str, tuple[int, int]]
) -> list[tuple[str, int]]:
    """(span id, nanoseconds of its own time on the path): from the end of each span, repeatedly
    the child that finished last before the cursor (the classic Jaeger walk)."""
    out: list[tuple[str, int]] = []
    work = [(root.span_id, bounds.get(root.span_id, (root.start_ns, root.end_ns))[1])]
    visited: set[str] = set()
    while work:
        sid, limit = work.pop()
        if sid in visited or sid not in bounds:
            continue
        visited.add(sid)
        lo, hi = bounds[sid]
        cursor = min(hi, limit)
        own = 0
        kids = sorted(
            (c for c in children.get(sid, []) if c.span_id in bounds), key=lambda c: bounds[c.span_id][1], reverse=True
        )
        for c in kids:
            clo, chi = bounds[c.span_id]
            if clo >= cursor:
                continue
            end = min(chi, cursor)
            own += max(0, cursor - end)
            work.append((c.span_id, end))
            cursor = clo
        own += max(0, cursor - lo)
        out.append((sid, own))
    return out
