"""Provides `PyroscopeClient`: profile types, label values, the merged flame graph for a selector
and range (Connect `SelectMergeStacktraces` or `/pyroscope/render`), the diff of two ranges, buildinfo."""

from __future__ import annotations

from typing import Any

import httpx

from plugintop.clients._http import decode_json, send, validate
from plugintop.errors import BadResponse
from plugintop.models.common import BuildInfo, buildinfo_body
from plugintop.models.pyroscope import FlameGraph, ProfileType, Timeline

DEFAULT_MAX_NODES = 8192
"""Pyroscope's default `max-flamegraph-nodes-default`; always sent explicitly."""
MAX_RANGE_S = 24 * 3600
"""Pyroscope's default `max-query-length`."""

_SERVICE = "/querier.v1.QuerierService"


def _ints(values: Any, backend: str, what: str) -> list[int]:
    if not isinstance(values, list):
        raise BadResponse(backend, f"{what} is not a list")
    try:
        return list(map(int, values))
    except (TypeError, ValueError, OverflowError):
        raise BadResponse(backend, f"{what} holds a value that is not an integer") from None


def parse_flamegraph(fg: Any, backend: str = "pyroscope", *, diff: bool = False, max_nodes: int = 0) -> FlameGraph:
    """A flame graph from Connect JSON (`levels: [{values: ["0",...]}]`) or flamebearer (`[[0,...]]`)."""
    if not isinstance(fg, dict):
        raise BadResponse(backend, "flamegraph is not an object")
    names = fg.get("names") or []
    if not isinstance(names, list):
        raise BadResponse(backend, "flamegraph names is not a list")
    levels = []
    width = 7 if diff else 4
    raw_levels = fg.get("levels") or []
    if not isinstance(raw_levels, list):
        raise BadResponse(backend, "flamegraph levels is not a list")
    for d, lv in enumerate(raw_levels):
        raw = lv.get("values") or [] if isinstance(lv, dict) else lv
        ints = _ints(raw, backend, f"levels[{d}]")
        if len(ints) % width:
            raise BadResponse(backend, f"levels[{d}] length is not a multiple of {width}")
        refs = ints[width - 1 :: width]
        if refs and (min(refs) < 0 or max(refs) >= len(names)):
            raise BadResponse(backend, f"levels[{d}] names a function outside names")
        levels.append(ints)
    total = fg.get("total", fg.get("numTicks"))
    try:
        total_i = int(total) if total is not None else (levels[0][1] if levels else 0)
        max_self = int(fg.get("maxSelf") or 0)
        left, right = int(fg.get("leftTicks") or 0), int(fg.get("rightTicks") or 0)
    except (TypeError, ValueError):
        raise BadResponse(backend, "flamegraph totals are not integers") from None
    return FlameGraph(
        names=[str(n) for n in names],
        levels=levels,
        total=total_i,
        max_self=max_self,
        left_ticks=left,
        right_ticks=right,
        diff=diff,
        max_nodes=max_nodes,
    )


class PyroscopeClient:
    """Client of Pyroscope's Connect API and its `/pyroscope/render` HTTP API."""

    def __init__(self, http: httpx.AsyncClient, backend: str = "pyroscope") -> None:
        self.http = http
        self.backend = backend

    async def _connect(self, method: str, body: dict[str, Any]) -> Any:
        resp = await send(self.http, self.backend, "POST", f"{_SERVICE}/{method}", json_body=body)
        data = decode_json(resp, self.backend)
        if not isinstance(data, dict):
            raise BadResponse(self.backend, f"{method} answer is not an object")
        return data

    async def buildinfo(self) -> BuildInfo:
        resp = await send(self.http, self.backend, "GET", "/api/v1/status/buildinfo")
        return validate(BuildInfo, buildinfo_body(decode_json(resp, self.backend)), self.backend, "buildinfo")

    async def profile_types(self, start: float, end: float) -> list[ProfileType]:
        data = await self._connect("ProfileTypes", {"start": int(start * 1000), "end": int(end * 1000)})
        return [
            ProfileType(
                str(p.get("ID", "")), str(p.get("name", "")), str(p.get("sampleType", "")), str(p.get("sampleUnit", ""))
            )
            for p in data.get("profileTypes") or []
            if isinstance(p, dict)
        ]

    async def label_values(self, name: str, start: float, end: float, matchers: list[str] | None = None) -> list[str]:
        body: dict[str, Any] = {"name": name, "start": int(start * 1000), "end": int(end * 1000)}
        if matchers:
            body["matchers"] = matchers
        data = await self._connect("LabelValues", body)
        return [str(n) for n in data.get("names") or []]

    async def flamegraph(
        self, profile_type: str, selector: str, start: float, end: float, max_nodes: int = DEFAULT_MAX_NODES
    ) -> FlameGraph:
        """The merged flame graph of `selector` (`{service_name="x"}`) over [start, end]."""
        body = {
            "profileTypeID": profile_type,
            "labelSelector": selector,
            "start": int(start * 1000),
            "end": int(end * 1000),
            "maxNodes": max_nodes,
        }
        data = await self._connect("SelectMergeStacktraces", body)
        fg = data.get("flamegraph")
        if fg is None:  # protojson omits an empty message
            return FlameGraph(names=["total"], levels=[], total=0, max_nodes=max_nodes)
        return parse_flamegraph(fg, self.backend, max_nodes=max_nodes)

    async def render(
        self, query: str, start: float, end: float, max_nodes: int = DEFAULT_MAX_NODES
    ) -> tuple[FlameGraph, Timeline | None]:
        """`/pyroscope/render` for `query` (`type{labels}`): the flame graph and its timeline."""
        params = {"query": query, "from": int(start), "until": int(end), "format": "json", "maxNodes": max_nodes}
        resp = await send(self.http, self.backend, "GET", "/pyroscope/render", params=params)
        body = decode_json(resp, self.backend)
        if not isinstance(body, dict):
            raise BadResponse(self.backend, "render answer is not an object")
        fg = parse_flamegraph(body.get("flamebearer"), self.backend, max_nodes=max_nodes)
        tl = body.get("timeline")
        timeline = None
        if isinstance(tl, dict):
            timeline = Timeline(
                float(tl.get("startTime") or 0),
                float(tl.get("durationDelta") or 0),
                _ints(tl.get("samples") or [], self.backend, "timeline.samples"),
            )
        return fg, timeline

    async def diff(
        self, query: str, left: tuple[float, float], right: tuple[float, float], max_nodes: int = DEFAULT_MAX_NODES
    ) -> FlameGraph:
        """`/pyroscope/render-diff` of `query` over two ranges (left = baseline, right = window)."""
        params = {
            "leftQuery": query,
            "leftFrom": int(left[0]),
            "leftUntil": int(left[1]),
            "rightQuery": query,
            "rightFrom": int(right[0]),
            "rightUntil": int(right[1]),
            "format": "json",
            "maxNodes": max_nodes,
        }
        resp = await send(self.http, self.backend, "GET", "/pyroscope/render-diff", params=params)
        body = decode_json(resp, self.backend)
        if not isinstance(body, dict):
            raise BadResponse(self.backend, "render-diff answer is not an object")
        fb = dict(body.get("flamebearer") or {})
        fb.setdefault("leftTicks", body.get("leftTicks"))
        fb.setdefault("rightTicks", body.get("rightTicks"))
        return parse_flamegraph(fb, self.backend, diff=True, max_nodes=max_nodes)
