"""Provides the demo Prometheus: `/api/v1/query`, `query_range`, `query_exemplars`, `labels`,
`label/<name>/values`, `series`, `status/config`, `targets`, `status/buildinfo` over the `MetricStore`;
with `[realism] partial`, query answers carry a "partial response" warning."""

from __future__ import annotations

import dataclasses
from typing import Any

from plugintop.demo.gofmt import go_float, go_ts
from plugintop.demo.http import BUILDINFO, Request, Response
from plugintop.demo.ids import span_id
from plugintop.demo.lex import QueryError
from plugintop.demo.metrics import JOB, MetricStore
from plugintop.demo.params import prom_duration, prom_time
from plugintop.demo.promql_eval import Engine
from plugintop.demo.promql_parse import Selector, parse
from plugintop.demo.promql_values import RangeRows, Scalar
from plugintop.timerange import parse_duration, to_rfc3339


def _error(kind: str, msg: str, status: int) -> Response:
    return Response.json({"status": "error", "errorType": kind, "error": msg}, status)


def _ok(data: Any, warnings: list[str] | None = None) -> Response:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    return Response.json(body)


PARTIAL = (
    "partial response: store 10.42.7.31:10901 (Thanos sidecar of prometheus-1) did not answer: "
    "rpc error: code = Unavailable desc = connection error"
)
"""The warning of a query answered without one of its stores (Thanos' wording; Mimir's is alike)."""


def _matchers(req: Request) -> list[list[Any]]:
    out = []
    for m in req.all("match[]"):
        node = parse(m)
        if not isinstance(node, Selector):
            raise QueryError(f'invalid parameter "match[]": {m!r} is not a series selector')
        out.append(list(node.matchers))
    return out


class PrometheusAPI:
    """Routes of the demo Prometheus."""

    def __init__(self, store: MetricStore) -> None:
        self.store = store

    def __call__(self, req: Request) -> Response:
        p = req.path
        try:
            if p == "/api/v1/query":
                return self.query(req)
            if p == "/api/v1/query_range":
                return self.query_range(req)
            if p == "/api/v1/query_exemplars":
                return self.exemplars(req)
            if p == "/api/v1/labels":
                return self.labels(req)
            if p.startswith("/api/v1/label/") and p.endswith("/values"):
                return self.label_values(req, p[len("/api/v1/label/") : -len("/values")])
            if p == "/api/v1/series":
                return self.series(req)
            if p == "/api/v1/status/buildinfo":
                return _ok(BUILDINFO)
            if p == "/api/v1/status/config":
                return _ok({"yaml": self._config()})
            if p == "/api/v1/targets":
                return _ok(self._targets(req.get("state") or "any"))
            if p in ("/-/ready", "/-/healthy"):
                return Response.text("Prometheus Server is Ready.\n", 200)
        except QueryError as e:
            msg = str(e)
            if "parse error" in msg and not msg.startswith("invalid parameter"):
                msg = f'invalid parameter "query": {msg}'
            return _error("bad_data", msg, 400)
        return Response.text("404 page not found\n", 404)

    def _config(self) -> str:
        """The configuration as Prometheus prints it (its global section, as 2.42 writes it): the global
        interval may differ from the plugin job's own, the real sample spacing."""
        w = self.store.world
        si = f"{w.slot_s:g}s"
        g = w.realism.global_scrape_interval
        gi = f"{parse_duration(g):g}s" if g else si
        return (
            f"global:\n  scrape_interval: {gi}\n  scrape_timeout: 10s\n  evaluation_interval: {gi}\n"
            f"scrape_configs:\n- job_name: {JOB}\n  honor_timestamps: true\n  scrape_interval: {si}\n"
            "  scrape_timeout: 10s\n  metrics_path: /metrics\n  scheme: http\n"
        )

    def _targets(self, state: str) -> dict[str, Any]:
        """`/api/v1/targets`: the plugin's pods as the job's active targets, with the job's interval."""
        w = self.store.world
        k = w.last_slot()
        last = (k + 1) * w.slot_s
        si = f"{w.slot_s:g}s"
        active = []
        for p, target in enumerate(self.store.targets):
            down = w.missed(p, k)
            address = target["instance"]
            active.append(
                {
                    "discoveredLabels": {
                        "__address__": address,
                        "__meta_kubernetes_pod_name": target["pod"],
                        "__metrics_path__": "/metrics",
                        "__scheme__": "http",
                        "__scrape_interval__": si,
                        "__scrape_timeout__": "10s",
                        "job": JOB,
                    },
                    "labels": target if self.store.scraped else {"instance": address, "job": JOB},
                    "scrapePool": JOB,
                    "scrapeUrl": f"http://{address}/metrics",
                    "globalUrl": f"http://{address}/metrics",
                    "lastError": 'Get "http://{address}/metrics": context deadline exceeded' if down else "",
                    "lastScrape": to_rfc3339(last),
                    "lastScrapeDuration": 10.0 if down else 0.004,
                    "health": "down" if down else "up",
                    "scrapeInterval": si,
                    "scrapeTimeout": "10s",
                }
            )
        out: dict[str, Any] = {"activeTargets": [], "droppedTargets": [], "droppedTargetCounts": {JOB: 0}}
        if state in ("any", "active"):
            out["activeTargets"] = active if self.store.scraped else active[:1]
        return out

    def _warnings(self) -> list[str] | None:
        return [PARTIAL] if "prometheus" in self.store.world.realism.partial else None

    def _now(self) -> float:
        return self.store.world.now()

    def query(self, req: Request) -> Response:
        q = req.get("query") or ""
        if not q:
            raise QueryError('invalid parameter "query": unknown position: parse error: no expression found in input')
        t = prom_time(req.get("time"), self._now())
        value = Engine(self.store).instant(q, t)
        warn = self._warnings()
        if isinstance(value, Scalar):
            return _ok({"resultType": "scalar", "result": [go_ts(t), go_float(value.value)]}, warn)
        if isinstance(value, str):
            return _ok({"resultType": "string", "result": [go_ts(t), value]}, warn)
        if isinstance(value, RangeRows):
            rows = [{"metric": lb, "values": [[go_ts(x), go_float(v)] for x, v in pts]} for lb, pts, *_ in value]
            return _ok({"resultType": "matrix", "result": rows}, warn)
        return _ok(
            {
                "resultType": "vector",
                "result": [{"metric": labels, "value": [go_ts(t), go_float(v)]} for labels, v in value],
            },
            warn,
        )

    def query_range(self, req: Request) -> Response:
        q = req.get("query") or ""
        if req.get("start") is None:
            raise QueryError('invalid parameter "start": cannot parse "" to a valid timestamp')
        if req.get("end") is None:
            raise QueryError('invalid parameter "end": cannot parse "" to a valid timestamp')
        start, end = prom_time(req.get("start"), 0), prom_time(req.get("end"), 0)
        if end < start:
            raise QueryError('invalid parameter "end": end timestamp must not be before start time')
        step = prom_duration(req.get("step"))
        if (end - start) / step > 11000:
            raise QueryError(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
                "resolution (?step=XX)"
            )
        matrix = Engine(self.store).range(q, start, end, step)
        result = [{"metric": labels, "values": [[go_ts(t), go_float(v)] for t, v in pts]} for labels, pts in matrix]
        return _ok({"resultType": "matrix", "result": result}, self._warnings())

    def exemplars(self, req: Request) -> Response:
        """The latest observation per bucket per scrape, for the bucket series the query selects: only
        sampled calls carry one (as an SDK attaches exemplars), and none without exemplar storage."""
        q = req.get("query") or ""
        start = prom_time(req.get("start"), self.store.world.first_slot * self.store.world.slot_s)
        end = prom_time(req.get("end"), self._now())
        selectors: list[Selector] = []
        _collect_selectors(parse(q), selectors)
        w = self.store.world
        if not w.realism.exemplars:  # Prometheus' default: no exemplar storage, an empty answer
            return _ok([])
        wanted: dict[tuple[int, int, str, str, str, int], dict[str, str]] = {}
        vl = self.store.schema.version_label
        for sel in selectors:
            for s in self.store.series:
                lb = s.labels
                if "le" in lb and all(m.matches(lb.get(m.name, "")) for m in sel.matchers):
                    wanted[(*s.pair[:2], lb.get(vl, ""), lb.get("outcome", ""), lb["le"], s.pair[3])] = lb
        pairs = sorted({(key[0], key[1]) for key in wanted})
        found: dict[tuple[int, int, str, str, str, int], list[dict[str, Any]]] = {}
        scraped = self.store.scraped
        for ti, tj in pairs:
            for k in w.slots(start, end):
                latest: dict[tuple[str, str, int], Any] = {}
                for c in w.calls(ti, tj, k):
                    if not w.sampled(c.trace_id):
                        continue
                    bound = next(b for b in w.buckets if c.duration <= b)
                    latest[("success" if c.ok else "error", go_float(bound), c.pod if scraped else 0)] = c
                for (outcome, le, pod), c in latest.items():
                    key = (ti, tj, c.version, outcome, le, pod)
                    if key in wanted and start <= c.end <= end:
                        found.setdefault(key, []).append(
                            {
                                "labels": {"span_id": span_id(c.trace_id, 0), "trace_id": c.trace_id},
                                "value": go_float(round(c.duration, 6)),
                                "timestamp": go_ts(c.end),
                            }
                        )
        data = [{"seriesLabels": wanted[key], "exemplars": ex} for key, ex in sorted(found.items())]
        return _ok(data)

    def labels(self, req: Request) -> Response:
        sets = _matchers(req)
        names = {k for lb in self._series(sets) for k in lb}
        return _ok(sorted(names))

    def label_values(self, req: Request, name: str) -> Response:
        sets = _matchers(req)
        if name.startswith("U__"):
            name = _unescape(name[3:])
        return _ok(sorted({lb[name] for lb in self._series(sets) if name in lb}))

    def series(self, req: Request) -> Response:
        sets = _matchers(req)
        if not sets:
            return _error("bad_data", "no match[] parameter provided", 400)
        return _ok(self._series(sets))

    def _series(self, sets: list[list[Any]]) -> list[dict[str, str]]:
        if not sets:
            return [s.labels for s in self.store.series]
        seen: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        for ms in sets:
            for lb in self.store.matching(ms):
                seen[tuple(sorted(lb.items()))] = lb
        return list(seen.values())


def _collect_selectors(node: object, out: list[Selector]) -> None:
    if isinstance(node, Selector):
        out.append(node)
        return
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            for v in value if isinstance(value, tuple) else (value,):
                _collect_selectors(v, out)


def _unescape(name: str) -> str:
    out, i = [], 0
    while i < len(name):
        if name.startswith("__", i):
            out.append("_")
            i += 2
        elif name[i] == "_":
            j = name.index("_", i + 1)
            out.append(chr(int(name[i + 1 : j], 16)))
            i = j + 1
        else:
            out.append(name[i])
            i += 1
    return "".join(out)
