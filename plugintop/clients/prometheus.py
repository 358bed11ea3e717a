"""Provides `PrometheusClient`: instant and range queries, exemplars, labels, series, buildinfo.

Works against Prometheus, Mimir and Grafana Cloud (give the base URL with its prefix) and through
Grafana's datasource proxy (GET only, as the proxy allows).
"""

from __future__ import annotations

import math
import re
from typing import Any

import httpx

from plugintop.clients._http import decode_json, send, validate
from plugintop.errors import BadQuery, BadResponse, UsageError
from plugintop.ids import SpanId, TraceId
from plugintop.models.common import BuildInfo
from plugintop.models.prometheus import Exemplar, ExemplarSeries, QueryResult, RawExemplarSeries, Series
from plugintop.timerange import MAX_POINTS, parse_duration


def clamp_step(start: float, end: float, step: float) -> float:
    """The step raised so that no series exceeds Prometheus' 11,000 points."""
    return max(step, math.ceil((end - start) / (MAX_POINTS - 1)), 0.001)


def _points(raw: Any, backend: str, what: str) -> list[tuple[float, float]]:
    """`[[time, "value"], ...]` as numbers: Prometheus writes values as strings, "NaN" and "+Inf" among them."""
    try:
        if not isinstance(raw, list):
            raise TypeError
        return [(float(t), float(v)) for t, v in raw]
    except (TypeError, ValueError):
        raise BadResponse(backend, f"unexpected {what}: not [time, value] pairs") from None


def _fmt(t: float) -> str:
    return f"{t:.3f}".rstrip("0").rstrip(".")


class PrometheusClient:
    """Client of the Prometheus HTTP API (`/api/v1/...`)."""

    backend = "prometheus"

    def __init__(self, http: httpx.AsyncClient, backend: str = "prometheus") -> None:
        self.http = http
        self.backend = backend
        self._scrape: tuple[float | None] | None = None
        """The configuration's scrape interval once read (a server's does not change under a session)."""

    async def _data(self, path: str, params: Any) -> tuple[Any, dict[str, Any]]:
        resp = await send(self.http, self.backend, "GET", path, params=params)
        body = decode_json(resp, self.backend)
        if not isinstance(body, dict):
            raise BadResponse(self.backend, "answer is not a JSON object")
        if body.get("status") == "error":
            raise BadQuery(self.backend, f"{body.get('errorType', 'error')}: {body.get('error', '')}"[:300])
        if body.get("status") != "success" or "data" not in body:
            raise BadResponse(self.backend, "answer has no status 'success' and data")
        return body["data"], body

    async def buildinfo(self) -> BuildInfo:
        data, _ = await self._data("/api/v1/status/buildinfo", None)
        return validate(BuildInfo, data, self.backend, "buildinfo")

    async def scrape_interval(self) -> float | None:
        """The server's global `scrape_interval` in seconds, from `/api/v1/status/config` (None when the
        configuration does not say; Mimir and Grafana Cloud have no such endpoint and raise). Asked once
        per client: the screen triages again on every move."""
        if self._scrape is None:
            data, _ = await self._data("/api/v1/status/config", None)
            text = data.get("yaml") if isinstance(data, dict) else None
            if not isinstance(text, str):
                raise BadResponse(self.backend, "status/config has no yaml")
            self._scrape = (global_scrape_interval(text),)
        return self._scrape[0]

    async def query(self, query: str, time: float) -> QueryResult:
        """An instant query at `time`."""
        data, body = await self._data("/api/v1/query", {"query": query, "time": _fmt(time)})
        return self._result(data, body)

    async def query_range(self, query: str, start: float, end: float, step: float) -> QueryResult:
        """A range query; `step` is raised if it would exceed the point limit."""
        step = clamp_step(start, end, step)
        params = {"query": query, "start": _fmt(start), "end": _fmt(end), "step": _fmt(step)}
        data, body = await self._data("/api/v1/query_range", params)
        return self._result(data, body)

    async def exemplars(self, query: str, start: float, end: float) -> list[ExemplarSeries]:
        """The exemplars of `query` in [start, end], their ids checked (`checked_exemplars`)."""
        data, _ = await self._data("/api/v1/query_exemplars", {"query": query, "start": _fmt(start), "end": _fmt(end)})
        return checked_exemplars(validate(list[RawExemplarSeries], data or [], self.backend, "exemplars"))

    async def labels(self, start: float, end: float, match: list[str] | None = None) -> list[str]:
        params: dict[str, Any] = {"start": _fmt(start), "end": _fmt(end)}
        if match:
            params["match[]"] = match
        data, _ = await self._data("/api/v1/labels", params)
        return validate(list[str], data or [], self.backend, "labels")

    async def label_values(self, name: str, start: float, end: float, match: list[str] | None = None) -> list[str]:
        params: dict[str, Any] = {"start": _fmt(start), "end": _fmt(end)}
        if match:
            params["match[]"] = match
        data, _ = await self._data(f"/api/v1/label/{escape_label_name(name)}/values", params)
        return validate(list[str], data or [], self.backend, "label values")

    async def series(self, match: list[str], start: float, end: float) -> list[dict[str, str]]:
        params = {"match[]": match, "start": _fmt(start), "end": _fmt(end)}
        data, _ = await self._data("/api/v1/series", params)
        return validate(list[dict[str, str]], data or [], self.backend, "series")

    def _result(self, data: Any, body: dict[str, Any]) -> QueryResult:
        if not isinstance(data, dict):
            raise BadResponse(self.backend, "data is not an object")
        rtype = data.get("resultType")
        result = data.get("result")
        warnings = [str(w) for w in body.get("warnings") or []]
        infos = [str(w) for w in body.get("infos") or []]
        if rtype == "matrix" or rtype == "vector":
            if not isinstance(result, list):
                raise BadResponse(self.backend, f"{rtype} result is not a list")
            series = []
            for i, item in enumerate(result):
                if not isinstance(item, dict):
                    raise BadResponse(self.backend, f"result[{i}] is not an object")
                metric = validate(dict[str, str], item.get("metric") or {}, self.backend, f"result[{i}].metric")
                if rtype == "matrix":
                    values = _points(item.get("values") or [], self.backend, f"result[{i}].values")
                else:
                    raw = item.get("value")
                    values = _points([raw], self.backend, f"result[{i}].value") if raw is not None else []
                series.append(Series(metric=metric, values=values))
            return QueryResult(result_type=rtype, series=series, warnings=warnings, infos=infos)
        if rtype == "scalar":
            point = _points([result], self.backend, "scalar")[0]
            return QueryResult(result_type=rtype, scalar=point[1], warnings=warnings, infos=infos)
        raise BadResponse(self.backend, f"unexpected result type {str(rtype)[:40]!r}")


TRACE_ID_LABELS = ("trace_id", "traceID", "traceId", "trace.id")
"""The label names an SDK writes an exemplar's trace id under."""
SPAN_ID_LABELS = ("span_id", "spanID", "spanId", "span.id")


def checked_exemplars(raw: list[RawExemplarSeries]) -> list[ExemplarSeries]:
    """Exemplars with their ids made `TraceId` and `SpanId` (under the labels `trace_id` and `span_id`, no
    other spelling kept): one whose trace id label is not a trace id is dropped and counted in its
    series' `invalid_ids`, never sent anywhere; a malformed span id is left out."""
    out = []
    for series in raw:
        kept, invalid = [], 0
        for e in series.exemplars:
            tid_raw = next((e.labels[k] for k in TRACE_ID_LABELS if k in e.labels), None)
            tid = TraceId.parse(tid_raw)
            if tid_raw is not None and tid is None:
                invalid += 1
                continue
            sid = SpanId.parse(next((e.labels[k] for k in SPAN_ID_LABELS if k in e.labels), None))
            labels = {k: v for k, v in e.labels.items() if k not in TRACE_ID_LABELS and k not in SPAN_ID_LABELS}
            labels |= ({"trace_id": tid} if tid else {}) | ({"span_id": sid} if sid else {})
            kept.append(Exemplar(labels=labels, value=e.value, timestamp=e.timestamp, trace_id=tid, span_id=sid))
        out.append(ExemplarSeries(series_labels=series.series_labels, exemplars=kept, invalid_ids=invalid))
    return out


_GLOBAL_SCRAPE = re.compile(r"^global:\n(?:[ \t]+.*\n)*?[ \t]+scrape_interval:[ \t]*(\S+)", re.MULTILINE)


def global_scrape_interval(yaml_text: str) -> float | None:
    """`global.scrape_interval` of a Prometheus configuration as the server prints it (seconds), or None."""
    m = _GLOBAL_SCRAPE.search(yaml_text if yaml_text.endswith("\n") else yaml_text + "\n")
    if m is None:
        return None
    try:
        return parse_duration(m.group(1))
    except UsageError:
        return None


def escape_label_name(name: str) -> str:
    """A label name for the `/label/<name>/values` path (`U__` encoding for non-identifiers)."""
    if name and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name) and name.isascii():
        return name
    out = ["U__"]
    for c in name:
        if c == "_":
            out.append("__")
        elif c.isascii() and c.isalnum():
            out.append(c)
        else:
            out.append(f"_{ord(c):x}_")
    return "".join(out)
