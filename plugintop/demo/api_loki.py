"""Provides the demo Loki: `query_range` (logs both directions with limit, metrics with step),
`query` (instant metrics), `labels`, `label/<name>/values`, `series`, `status/buildinfo`."""

from __future__ import annotations

import json
import time
from importlib import resources
from typing import Any

from plugintop.demo.gofmt import go_float, go_ts
from plugintop.demo.http import BUILDINFO, Request, Response
from plugintop.demo.lex import QueryError
from plugintop.demo.logql import (
    LogQuery,
    RangeAgg,
    Scaled,
    VectorAgg,
    aggregate,
    count_series,
    parse,
    run_pipeline,
    scale,
    stream_matches,
)
from plugintop.demo.logs import LogLine, LogStore
from plugintop.demo.params import loki_time, prom_duration
from plugintop.demo.promql_parse import Selector
from plugintop.demo.promql_parse import parse as parse_promql

MAX_ENTRIES = 5000
MAX_RANGE = 721 * 3600
CHUNK = 300.0
"""The longest stretch of lines a log query reads at once."""
FIRST_CHUNK = 15.0
"""The first stretch it reads (then twice as long each time): `limit=1`, as a freshness probe asks,
reads 15 s of lines, not 300 s of every stream."""
PARTIAL = "partial response: querier 10.42.3.17:9095 did not answer for part of the range: context canceled"
"""The warning of an answer some of whose sub-queries failed."""
_STATS: dict[str, Any] = json.loads(resources.files("plugintop.demo").joinpath("loki_stats.json").read_text())

Series = dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[tuple[float, float]]]]


def _stats(lines: int, entries: int, seconds: float) -> dict[str, Any]:
    stats: dict[str, Any] = json.loads(json.dumps(_STATS))
    summary = stats.setdefault("summary", {})
    summary.update(
        totalLinesProcessed=lines,
        totalEntriesReturned=entries,
        execTime=round(seconds, 6),
        totalPostFilterLines=entries,
    )
    return stats


class LokiAPI:
    """Routes of the demo Loki."""

    def __init__(self, store: LogStore) -> None:
        self.store = store

    def __call__(self, req: Request) -> Response:
        with self.store.serving():
            return self._route(req)

    def _route(self, req: Request) -> Response:
        p = req.path
        try:
            if p == "/loki/api/v1/query_range":
                return self.query_range(req)
            if p == "/loki/api/v1/query":
                return self.query(req)
            if p == "/loki/api/v1/labels":
                return self._ok(sorted({k for s in self.store.streams for k in s}))
            if p.startswith("/loki/api/v1/label/") and p.endswith("/values"):
                name = p[len("/loki/api/v1/label/") : -len("/values")]
                return self._ok(sorted({s[name] for s in self._streams(req.get("query")) if name in s}))
            if p == "/loki/api/v1/series":
                matches = req.all("match[]")
                if not matches:
                    return Response.text("at least one match[] argument required", 400)
                found = [s for m in matches for s in self._streams(m)]
                return self._ok([dict(t) for t in dict.fromkeys(tuple(sorted(s.items())) for s in found)])
            if p == "/loki/api/v1/patterns":
                if not self.store.world.realism.loki_patterns:  # no pattern ingester: the querier's 404
                    return Response.text("", 404)
                return self.patterns(req)
            if p == "/loki/api/v1/status/buildinfo":
                return Response.json(BUILDINFO)
            if p == "/ready":
                return Response.text("ready\n", 200)
        except QueryError as e:
            return Response.text(str(e), 400)
        return Response.text("404 page not found\n", 404)

    @staticmethod
    def _ok(data: Any) -> Response:
        return Response.json({"status": "success", "data": data}, content_type="application/json; charset=UTF-8")

    def _streams(self, selector: str | None) -> list[dict[str, str]]:
        if not selector:
            return list(self.store.streams)
        node = parse_promql(selector)
        if not isinstance(node, Selector):
            raise QueryError("parse error at line 1, col 1: syntax error: unexpected input, expecting {")
        return [s for s in self.store.streams if all(m.matches(s.get(m.name, "")) for m in node.matchers)]

    def _range(self, req: Request) -> tuple[float, float]:
        now = self.store.world.now()
        end = loki_time(req.get("end"), now)
        since = req.get("since")
        start = loki_time(req.get("start"), end - (prom_duration(since) if since else 3600))
        if end <= start:
            raise QueryError("end timestamp must not be before or equal to start time")
        if end - start > MAX_RANGE:
            raise QueryError(f"the query time range exceeds the limit (query length: {end - start:.0f}s, limit: 721h)")
        return start, end

    def query_range(self, req: Request) -> Response:
        t0 = time.perf_counter()
        node = parse(req.get("query") or "")
        start, end = self._range(req)
        categorize = "categorize-labels" in (req.headers.get("x-loki-response-encoding-flags") or "")
        if isinstance(node, LogQuery):
            limit = int(req.get("limit") or 100)
            if limit > MAX_ENTRIES:
                raise QueryError(
                    f"max entries limit per query exceeded, limit > max_entries_limit_per_query "
                    f"({limit} > {MAX_ENTRIES})"
                )
            if limit <= 0:
                raise QueryError("limit must be a positive value")
            direction = (req.get("direction") or "backward").lower()
            picked, scanned = self._logs(node, start, end, limit, direction == "forward")
            data: dict[str, Any] = {
                "resultType": "streams",
                "result": _streams_json(picked, categorize, direction == "forward"),
            }
            if categorize:
                data = {"resultType": "streams", "encodingFlags": ["categorize-labels"], "result": data["result"]}
            data["stats"] = _stats(scanned, len(picked), time.perf_counter() - t0)
            return self._answer(data)
        step_text = req.get("step")
        step = prom_duration(step_text) if step_text else max(float(int((end - start) / 250)), 1.0)
        if (end - start) / step > 11000:
            raise QueryError(
                "exceeded maximum resolution of 11,000 points per time series. Try increasing the value "
                "of the step parameter"
            )
        steps = [start + i * step for i in range(int((end - start) // step) + 1)]
        series = self._metric(node, steps)
        result = [
            {"metric": lb, "values": [[go_ts(t), go_float(v)] for t, v in pts]}
            for lb, pts in (series[k] for k in sorted(series))
        ]
        data = {"resultType": "matrix", "result": result, "stats": _stats(0, 0, time.perf_counter() - t0)}
        return self._answer(data)

    def query(self, req: Request) -> Response:
        node = parse(req.get("query") or "")
        if isinstance(node, LogQuery):
            raise QueryError(
                "log queries are not supported as an instant query type, please change your query to a range query type"
            )
        t = loki_time(req.get("time"), self.store.world.now())
        series = self._metric(node, [t])
        result = [
            {"metric": lb, "value": [go_ts(t), go_float(pts[-1][1])]}
            for lb, pts in (series[k] for k in sorted(series))
            if pts
        ]
        data = {"resultType": "vector", "result": result, "stats": _stats(0, 0, 0.0)}
        return self._answer(data)

    def _answer(self, data: dict[str, Any]) -> Response:
        """A query's answer; with `[realism] partial` naming loki, it carries Loki's top-level `warnings`."""
        body: dict[str, Any] = {"status": "success", "data": data}
        if "loki" in self.store.world.realism.partial:
            body["warnings"] = [PARTIAL]
        return Response.json(body, content_type="application/json; charset=UTF-8")

    def patterns(self, req: Request) -> Response:
        """Message patterns of the selected streams, as the pattern ingester gives them: built from the JSON
        message field, variable tokens as `<_>`, messages of fewer than 4 tokens skipped, counts per step."""
        node = parse(req.get("query") or "")
        if not isinstance(node, LogQuery) or node.stages:
            raise QueryError("only stream selectors are supported by the patterns endpoint")
        start, end = self._range(req)
        step = prom_duration(req.get("step")) if req.get("step") else 10.0
        fields = self.store.s.log_message_fields
        found: dict[tuple[str, str], dict[int, int]] = {}
        for line in self.store.lines(self._tenants(node), start, end):
            msg = next((line.fields[f] for f in fields if f in line.fields), None)
            tokens = (msg or "").split()
            if len(tokens) < 4:
                continue
            pattern = " ".join("<_>" if any(ch.isdigit() for ch in t) else t for t in tokens)
            level = line.metadata.get("detected_level", "unknown")
            at = int((line.ts_ns / 1e9 - start) // step * step + start)
            counts = found.setdefault((pattern, level), {})
            counts[at] = counts.get(at, 0) + 1
        data = [
            {"pattern": pattern, "level": level, "samples": [[t, n] for t, n in sorted(counts.items())]}
            for (pattern, level), counts in sorted(found.items(), key=lambda kv: -sum(kv[1].values()))
        ]
        return self._ok(data)

    def _tenants(self, q: LogQuery) -> list[int]:
        return [i for i, s in enumerate(self.store.streams) if stream_matches(q, s)]

    def _logs(
        self,
        q: LogQuery,
        start: float,
        end: float,
        limit: int,
        forward: bool,
    ) -> tuple[list[tuple[LogLine, dict[str, str]]], int]:
        tenants = self._tenants(q)
        self.store.prefetch(tenants)
        picked: list[tuple[LogLine, dict[str, str]]] = []
        scanned = 0
        size, edge = FIRST_CHUNK, start if forward else end
        while True:  # chunks from the range's near end, doubling up to CHUNK: a small limit reads little
            a, b = (edge, min(end, edge + size)) if forward else (max(start, edge - size), edge)
            edge, size = (b if forward else a), min(CHUNK, size * 2)
            lines = self.store.lines(tenants, a, b)
            scanned += len(lines)
            lines.sort(key=lambda x: x.ts_ns, reverse=not forward)
            for line in lines:
                got = run_pipeline(q, line)
                if got is not None:
                    picked.append((line, got[1]))
                    if len(picked) >= limit:
                        return picked, scanned
            if (forward and b >= end) or (not forward and a <= start):
                break
        return picked, scanned

    def _metric(self, node: object, steps: list[float]) -> Series:
        if isinstance(node, Scaled):
            inner = self._metric(node.inner, steps)
            return {k: (lb, [(t, scale(node.op, node.number, v)) for t, v in pts]) for k, (lb, pts) in inner.items()}
        if isinstance(node, VectorAgg):
            return aggregate(node.op, node.grouping, node.without, self._metric(node.inner, steps))
        if isinstance(node, RangeAgg):
            q = node.query
            lines = self.store.lines(self._tenants(q), steps[0] - node.range, steps[-1] + 1e-9)
            entries = []
            for line in lines:
                got = run_pipeline(q, line)
                if got is not None:
                    entries.append((line.ts_ns / 1e9, {**got[0], **got[1]}, len(line.line)))
            entries.sort(key=lambda e: e[0])
            return count_series(node.func, q, node.range, entries, steps)
        raise QueryError("parse error at line 1, col 1: syntax error: unexpected query type")


def _streams_json(picked: list[tuple[LogLine, dict[str, str]]], categorize: bool, forward: bool) -> list[Any]:
    streams: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[Any]]] = {}
    for line, parsed in picked:
        if categorize:
            labels = line.stream
            extra: dict[str, Any] = {"structuredMetadata": line.metadata}
            if parsed:
                extra["parsed"] = parsed
            value: list[Any] = [str(line.ts_ns), line.line, extra]
        else:
            labels = {**line.stream, **line.metadata, **parsed}
            value = [str(line.ts_ns), line.line]
        streams.setdefault(tuple(sorted(labels.items())), (labels, []))[1].append(value)
    return [{"stream": labels, "values": values} for labels, values in streams.values()]
