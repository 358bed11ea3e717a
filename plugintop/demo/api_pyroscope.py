"""Provides the demo Pyroscope: Connect `ProfileTypes`, `LabelNames`, `LabelValues`,
`SelectMergeStacktraces`, `SelectSeries`, `Diff`; HTTP `/pyroscope/render`, `/pyroscope/render-diff`,
`/pyroscope/label-values`; `status/buildinfo`."""

from __future__ import annotations

import json
from typing import Any

from plugintop.demo.http import BUILDINFO, Request, Response
from plugintop.demo.lex import QueryError
from plugintop.demo.profiles import ProfileStore, encode
from plugintop.demo.promql_parse import Selector
from plugintop.demo.promql_parse import parse as parse_promql
from plugintop.schema import Schema
from plugintop.timerange import parse_time

MAX_RANGE = 24 * 3600
DEFAULT_MAX_NODES = 8192
_SERVICE = "/querier.v1.QuerierService/"


class ConnectError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


class PyroscopeAPI:
    """Routes of the demo Pyroscope."""

    def __init__(self, store: ProfileStore, schema: Schema | None = None) -> None:
        self.store = store
        self.s = schema or Schema()
        sc = store.world.scenario
        pt = self.s.profile_type.split(":")
        self.type_id = self.s.profile_type
        self.type_fields = {
            "ID": self.type_id,
            "name": pt[0],
            "sampleType": pt[1],
            "sampleUnit": pt[2],
            "periodType": pt[3],
            "periodUnit": pt[4],
        }
        self.labels = {
            self.s.profile_service_label: self.s.service_name(sc.plugin),
            "__name__": pt[0],
            "service_name": self.s.service_name(sc.plugin),
        }

    def __call__(self, req: Request) -> Response:
        p = req.path
        try:
            if p.startswith(_SERVICE) and req.method == "POST":
                return self.connect(p[len(_SERVICE) :], req)
            if p == "/pyroscope/render":
                return self.render(req)
            if p == "/pyroscope/render-diff":
                return self.render_diff(req)
            if p == "/pyroscope/label-values":
                return Response.json([self.labels["__name__"]] if req.get("label") == "__name__" else [])
            if p == "/api/v1/status/buildinfo":
                return Response.json({"status": "success", "data": BUILDINFO})
            if p == "/ready":
                return Response.text("ready\n", 200)
        except ConnectError as e:
            if p.startswith(_SERVICE):
                return Response.json({"code": e.code, "message": str(e)}, e.status)
            return Response.text(f"{e}\n", e.status)
        except QueryError as e:
            return Response.text(f"{e}\n", 400)
        return Response.text("404 page not found\n", 404)

    # ----- helpers ------------------------------------------------------------------------------
    def _matches(self, selector: str) -> bool:
        try:
            node = parse_promql(selector) if selector.strip() not in ("", "{}") else Selector(())
        except QueryError as e:
            raise ConnectError("invalid_argument", str(e)) from None
        if not isinstance(node, Selector):
            raise ConnectError("invalid_argument", "label selector must be a series selector")
        return all(m.matches(self.labels.get(m.name, "")) for m in node.matchers)

    def _range(self, start_ms: Any, end_ms: Any) -> tuple[float, float]:
        try:
            start, end = int(start_ms) / 1000, int(end_ms) / 1000
        except (TypeError, ValueError):
            raise ConnectError("invalid_argument", "start and end must be integers (ms)") from None
        if end <= start:
            raise ConnectError("invalid_argument", "end must be after start")
        if end - start > MAX_RANGE:
            raise ConnectError("invalid_argument", "the query time range exceeds the limit (max_query_length, 24h)")
        return start, end

    def _flame(self, selector: str, start: float, end: float, max_nodes: int) -> dict[str, Any]:
        stacks = self.store.stacks(start, end) if self._matches(selector) else {}
        return encode(stacks, max_nodes or DEFAULT_MAX_NODES)

    # ----- Connect ------------------------------------------------------------------------------
    def connect(self, method: str, req: Request) -> Response:
        try:
            body = req.json()
        except json.JSONDecodeError:
            raise ConnectError("invalid_argument", "request body is not valid JSON") from None
        now_ms = self.store.world.now() * 1000
        if method == "ProfileTypes":
            return Response.json({"profileTypes": [self.type_fields]})
        if method == "LabelNames":
            ok = all(self._matches(m) for m in body.get("matchers") or [])
            return Response.json({"names": sorted(self.labels)} if ok else {})
        if method == "LabelValues":
            name = body.get("name", "")
            ok = all(self._matches(m) for m in body.get("matchers") or [])
            values = [self.labels[name]] if ok and name in self.labels else []
            return Response.json({"names": values} if values else {})
        if method == "SelectMergeStacktraces":
            fg = self._select(body, now_ms)
            return Response.json({"flamegraph": _connect_flame(fg)})
        if method == "Diff":
            left, right = body.get("left") or {}, body.get("right") or {}
            if left.get("profileTypeID") != right.get("profileTypeID"):
                raise ConnectError("invalid_argument", "profile types must match")
            ls, le = self._range(left.get("start"), left.get("end"))
            rs, re_ = self._range(right.get("start"), right.get("end"))
            if not (self._matches(left.get("labelSelector", "{}")) and self._matches(right.get("labelSelector", "{}"))):
                return Response.json({"flamegraph": _connect_flame(encode({}, 1, right={}))})
            fg = encode(
                self.store.stacks(ls, le),
                int(left.get("maxNodes") or DEFAULT_MAX_NODES),
                right=self.store.stacks(rs, re_),
            )
            return Response.json({"flamegraph": _connect_flame(fg)})
        if method == "SelectSeries":
            self._check_type(body.get("profileTypeID"))
            start, end = self._range(body.get("start"), body.get("end"))
            step = float(body.get("step") or 15)
            if not self._matches(body.get("labelSelector", "{}")):
                return Response.json({})
            t0, samples = self.store.timeline(start, end, step)
            points = [{"value": v / 1e9, "timestamp": str(int((t0 + i * step) * 1000))} for i, v in enumerate(samples)]
            return Response.json({"series": [{"points": points}]})
        raise ConnectError("unimplemented", f"the demo backend does not implement {method}", 501)

    def _check_type(self, type_id: Any) -> None:
        if type_id != self.type_id:
            raise ConnectError("invalid_argument", f"profile type {type_id!r} not found")

    def _select(self, body: dict[str, Any], now_ms: float) -> dict[str, Any]:
        self._check_type(body.get("profileTypeID"))
        start, end = self._range(body.get("start"), body.get("end", now_ms))
        return self._flame(body.get("labelSelector") or "{}", start, end, int(body.get("maxNodes") or 0))

    # ----- HTTP ---------------------------------------------------------------------------------
    def _query(self, text: str | None) -> str:
        if not text:
            raise ConnectError("invalid_argument", "'query' is required")
        brace = text.find("{")
        type_id = text if brace < 0 else text[:brace]
        if type_id.count(":") < 4:
            raise ConnectError(
                "invalid_argument",
                "rpc error: code = InvalidArgument desc = 'query' must contain a profile-type selection",
            )
        self._check_type(type_id)
        return "{}" if brace < 0 else text[brace:]

    def _when(self, text: str | None, default: float) -> float:
        """`now-1h`, or unix seconds, milliseconds, microseconds or nanoseconds by their digit count."""
        if not text:
            return default
        if text.startswith("now"):
            return parse_time(text, self.store.world.now())
        try:
            v = float(text)
        except ValueError:
            raise ConnectError("invalid_argument", f"cannot parse time {text!r}") from None
        digits = len(text.split(".")[0].lstrip("-"))
        return v / (1 if digits <= 10 else 1e3 if digits <= 13 else 1e6 if digits <= 16 else 1e9)

    def render(self, req: Request) -> Response:
        selector = self._query(req.get("query"))
        now = self.store.world.now()
        start, end = self._when(req.get("from"), now - 3600), self._when(req.get("until"), now)
        max_nodes = int(req.get("maxNodes") or req.get("max-nodes") or DEFAULT_MAX_NODES)
        fg = self._flame(selector, start, end, max_nodes)
        step = max(15.0, round((end - start) / 1500 / 15) * 15)
        t0, samples = self.store.timeline(start, end, step)
        timeline = {"startTime": int(t0), "samples": samples, "durationDelta": int(step), "watermarks": None}
        return Response.json(_flamebearer(fg, "single", timeline))

    def render_diff(self, req: Request) -> Response:
        left_sel, right_sel = self._query(req.get("leftQuery")), self._query(req.get("rightQuery"))
        now = self.store.world.now()
        ls, le = self._when(req.get("leftFrom"), now - 7200), self._when(req.get("leftUntil"), now - 3600)
        rs, re_ = self._when(req.get("rightFrom"), now - 3600), self._when(req.get("rightUntil"), now)
        max_nodes = int(req.get("maxNodes") or DEFAULT_MAX_NODES)
        left = self.store.stacks(ls, le) if self._matches(left_sel) else {}
        right = self.store.stacks(rs, re_) if self._matches(right_sel) else {}
        fg = encode(left, max_nodes, right=right)
        return Response.json(
            {**_flamebearer(fg, "double", None), "leftTicks": fg["leftTicks"], "rightTicks": fg["rightTicks"]}
        )


def _flamebearer(fg: dict[str, Any], fmt: str, timeline: dict[str, Any] | None) -> dict[str, Any]:
    """`/pyroscope/render` and `render-diff`'s envelope (Go `encoding/json` of `FlamebearerProfile`)."""
    return {
        "version": 1,
        "flamebearer": {
            "names": fg["names"],
            "levels": fg["levels"],
            "numTicks": fg["total"],
            "maxSelf": fg["maxSelf"],
        },
        "metadata": {"format": fmt, "spyName": "", "sampleRate": 1000000000, "units": "samples", "name": "cpu"},
        "timeline": timeline,
        "groups": None,
        "heatmap": None,
    }


def _connect_flame(fg: dict[str, Any]) -> dict[str, Any]:
    """Connect's protojson: int64 as strings, levels as `{"values": [...]}`."""
    out: dict[str, Any] = {
        "names": fg["names"],
        "levels": [{"values": [str(v) for v in lv]} for lv in fg["levels"]],
        "total": str(fg["total"]),
        "maxSelf": str(fg["maxSelf"]),
    }
    if "leftTicks" in fg:
        out["leftTicks"] = str(fg["leftTicks"])
        out["rightTicks"] = str(fg["rightTicks"])
    return out
