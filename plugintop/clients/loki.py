"""Provides `LokiClient`: log and metric range queries (both directions, paged past the entry
limit), instant metric queries, labels, label values, series, buildinfo.

Always sends `X-Loki-Response-Encoding-Flags: categorize-labels` and accepts the 2- and 3-element
value forms, so structured metadata never splits streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from operator import attrgetter
from typing import Any

import httpx
import msgspec

from plugintop.clients._http import decode_json, send, validate
from plugintop.clients.prometheus import PrometheusClient
from plugintop.errors import BadQuery, BadResponse
from plugintop.models.common import BuildInfo, buildinfo_body
from plugintop.models.loki import EntryKey, LogEntry, LogPage, LogPattern
from plugintop.models.prometheus import QueryResult

MAX_ENTRIES = 5000
"""Loki's default `max_entries_limit_per_query`."""
MAX_RANGE_S = 721 * 3600
"""Loki's default `max_query_length`."""

_HEADERS = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}


def ns(t: float) -> str:
    """Epoch seconds as Loki's nanosecond string."""
    return str(int(round(t * 1e9)))


_TS = attrgetter("ts_ns")


class _Stream(msgspec.Struct):
    stream: dict[str, str] = {}
    values: list[LogEntry] = []


class _Streams(msgspec.Struct):
    resultType: str
    result: list[_Stream]


class _StreamsAnswer(msgspec.Struct):
    status: str
    data: _Streams
    warnings: list[str] | None = None


_STREAMS = msgspec.json.Decoder(_StreamsAnswer, strict=False)


def decode_streams(content: bytes | str, backend: str = "loki") -> tuple[list[LogEntry], list[str]]:
    """The one reader of a log query's answer: its entries (streams concatenated) and warnings,
    decoded in C without an intermediate JSON tree. Invalid UTF-8 is read with U+FFFD in its place.

    Raises:
        BadQuery: Loki answered `status: error`.
        BadResponse: anything else than a `streams` answer (HTML, invalid JSON, an odd shape), named.
    """
    try:
        answer = _STREAMS.decode(content)
    except msgspec.DecodeError as error:
        if isinstance(content, bytes) and "UTF-8" in str(error):  # read it as Loki's Go would print it
            return decode_streams(content.decode("utf-8", "replace"), backend)
        raise _not_streams(content, error, backend) from None
    if answer.status != "success" or answer.data.resultType != "streams":
        raise _not_streams(content, None, backend)
    entries: list[LogEntry] = []
    for stream in answer.data.result:
        labels = stream.stream
        for e in stream.values:
            e.stream = labels
        entries.extend(stream.values)
    return entries, answer.warnings or []


def _not_streams(content: bytes | str, e: msgspec.DecodeError | None, backend: str) -> BadResponse | BadQuery:
    """Why an answer is not a log query's `streams`, in one line."""
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    if text.lstrip()[:1] == "<":
        return BadResponse(backend, "answered HTML, not JSON: a login page or proxy?")
    try:
        body = msgspec.json.decode(text)
    except msgspec.DecodeError as bad:
        return BadResponse(backend, f"invalid JSON ({bad})")
    except RecursionError:
        return BadResponse(backend, "JSON nested too deeply")
    if isinstance(body, dict) and body.get("status") == "error":
        return BadQuery(backend, str(body.get("error", "error"))[:300])
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or body.get("status") != "success":
        return BadResponse(backend, "answer has no status 'success' and data")
    if data.get("resultType") != "streams":
        return BadResponse(backend, "a log query did not answer streams")
    return BadResponse(backend, f"unexpected streams: {e}")


class Cursor:
    """Where a log query read in pages has got to: the last timestamp read, and the entries at that
    timestamp already taken. The next page starts at that timestamp again (Loki cannot start between
    two entries that share one), so those entries come back and are dropped; nothing is skipped.

    A timestamp shared by more entries than a page holds would return the same page for ever: the
    cursor then steps one nanosecond past it (`stepped` says so; the entries beyond the page are lost).
    """

    def __init__(self, ns: int, forward: bool = True) -> None:
        self.ns = ns
        self.forward = forward
        self.seen: set[EntryKey] = set()
        self.stepped = False

    def take(self, page: LogPage) -> list[LogEntry]:
        """The page's entries not taken before (the page is in the cursor's direction); moves on."""
        entries = page.entries
        fresh = self._fresh(entries)
        if entries:
            last = entries[-1].ts_ns
            if last != self.ns:
                self.ns, self.seen = last, set()
            i = len(entries)
            while i and entries[i - 1].ts_ns == last:  # the page ends at the cursor, in order
                i -= 1
            self.seen.update(e.key for e in entries[i:])
        self.stepped = page.limit_reached and not fresh
        if self.stepped:
            self.ns += 1 if self.forward else -1
            self.seen = set()
        return fresh

    def _fresh(self, entries: list[LogEntry]) -> list[LogEntry]:
        """Only the entries at the cursor's own timestamp can repeat (the page starts there), so only
        they are looked up."""
        cursor, seen, n = self.ns, self.seen, len(entries)
        i = 0
        if self.forward:
            while i < n and entries[i].ts_ns <= cursor:
                i += 1
        else:
            while i < n and entries[i].ts_ns >= cursor:
                i += 1
        return [e for e in entries[:i] if e.key not in seen] + entries[i:] if i else entries


class LokiClient:
    """Client of the Loki HTTP API (`/loki/api/v1/...`)."""

    def __init__(self, http: httpx.AsyncClient, backend: str = "loki") -> None:
        self.http = http
        self.backend = backend
        self._metrics = PrometheusClient(http, backend)

    async def _get(self, path: str, params: Any) -> Any:
        resp = await send(self.http, self.backend, "GET", path, params=params, headers=_HEADERS)
        return decode_json(resp, self.backend)

    async def _data(self, path: str, params: Any) -> tuple[Any, dict[str, Any]]:
        return self._envelope(await self._get(path, params))

    def _envelope(self, body: Any) -> tuple[Any, dict[str, Any]]:
        if not isinstance(body, dict) or body.get("status") != "success" or "data" not in body:
            if isinstance(body, dict) and body.get("status") == "error":
                raise BadQuery(self.backend, str(body.get("error", "error"))[:300])
            raise BadResponse(self.backend, "answer has no status 'success' and data")
        return body["data"], body

    async def buildinfo(self) -> BuildInfo:
        body = buildinfo_body(await self._get("/loki/api/v1/status/buildinfo", None))
        return validate(BuildInfo, body, self.backend, "buildinfo")

    async def query_logs(
        self, query: str, start_ns: int, end_ns: int, *, limit: int = 100, direction: str = "backward"
    ) -> LogPage:
        """One page of a log query (`start_ns` inclusive, `end_ns` exclusive, Unix nanoseconds: integers
        from end to end, since a float near today's epoch resolves only ~240 ns), sorted as `direction`
        asks."""
        limit = max(1, min(limit, MAX_ENTRIES))
        params = {"query": query, "start": str(start_ns), "end": str(end_ns), "limit": limit, "direction": direction}
        resp = await send(self.http, self.backend, "GET", "/loki/api/v1/query_range", params=params, headers=_HEADERS)
        return self.log_page(resp, limit, direction)

    def log_page(self, resp: httpx.Response, limit: int, direction: str) -> LogPage:
        """The page in a log query's answer, sorted as `direction` asks."""
        if "html" in resp.headers.get("content-type", ""):
            decode_json(resp, self.backend)  # raises, saying so
        entries, warnings = decode_streams(resp.content, self.backend)
        entries.sort(key=_TS, reverse=direction == "backward")  # streams merged; already sorted: linear
        return LogPage(entries, len(entries) >= limit, warnings)

    async def log_pages(
        self, query: str, start_ns: int, end_ns: int, *, page: int = MAX_ENTRIES, direction: str = "forward"
    ) -> AsyncIterator[LogPage]:
        """A log query read page by page with a `Cursor`, each entry once, in order, until the range is
        read; each page yielded holds only the entries not yielded before (`limit_reached`: the cursor
        had to step past a timestamp shared by more entries than a page holds; some were skipped)."""
        forward = direction == "forward"
        cursor = Cursor(start_ns if forward else end_ns, forward)
        while end_ns > start_ns:
            got = await self.query_logs(query, start_ns, end_ns, limit=page, direction=direction)
            fresh = cursor.take(got)
            yield LogPage(fresh, cursor.stepped, got.warnings)
            if not got.limit_reached or not got.entries:
                return
            if forward:  # the next page starts at the cursor's timestamp again (its entries are `seen`)
                start_ns = cursor.ns
            else:
                end_ns = cursor.ns + 1

    async def query_logs_all(
        self, query: str, start_ns: int, end_ns: int, *, max_entries: int = 20_000, direction: str = "forward"
    ) -> LogPage:
        """A log query paged past Loki's entry limit (each entry once, in order). `limit_reached` says
        `max_entries` cut it."""
        out: list[LogEntry] = []
        warnings: list[str] = []
        async for got in self.log_pages(
            query, start_ns, end_ns, page=min(MAX_ENTRIES, max_entries + 1), direction=direction
        ):
            warnings.extend(got.warnings)
            out.extend(got.entries)
            if len(out) > max_entries:
                return LogPage(out[:max_entries], True, warnings)
        return LogPage(out, False, warnings)

    async def query_metric_range(self, query: str, start: float, end: float, step: float) -> QueryResult:
        """A LogQL metric query over a range (matrix)."""
        params = {"query": query, "start": ns(start), "end": ns(end), "step": f"{step:g}"}
        data, body = await self._data("/loki/api/v1/query_range", params)
        return self._metrics._result(data, body)

    async def query_metric(self, query: str, time: float) -> QueryResult:
        """A LogQL metric query at one instant (vector)."""
        data, body = await self._data("/loki/api/v1/query", {"query": query, "time": ns(time)})
        return self._metrics._result(data, body)

    async def labels(self, start: float, end: float) -> list[str]:
        data, _ = await self._data("/loki/api/v1/labels", {"start": ns(start), "end": ns(end)})
        return validate(list[str], data or [], self.backend, "labels")

    async def label_values(self, name: str, start: float, end: float, query: str | None = None) -> list[str]:
        params = {"start": ns(start), "end": ns(end)}
        if query:
            params["query"] = query
        data, _ = await self._data(f"/loki/api/v1/label/{name}/values", params)
        return validate(list[str], data or [], self.backend, "label values")

    async def patterns(self, selector: str, start: float, end: float, step: float = 60.0) -> list[LogPattern]:
        """Message patterns of the streams of `selector` (needs Loki's pattern ingester: a Loki without it
        answers 404, raised as `BadQuery`)."""
        params = {"query": selector, "start": ns(start), "end": ns(end), "step": f"{step:g}s"}
        data, _ = await self._data("/loki/api/v1/patterns", params)
        return validate(list[LogPattern], data or [], self.backend, "patterns")

    async def series(self, match: str, start: float, end: float) -> list[dict[str, str]]:
        data, _ = await self._data("/loki/api/v1/series", {"match[]": match, "start": ns(start), "end": ns(end)})
        return validate(list[dict[str, str]], data or [], self.backend, "series")
