"""Provides the transports under a backend's `AsyncClient`: `LoggingTransport` writes each request and its
outcome to the session's `QueryLog` (and keeps the answer when a bundle is saved); `ReplayTransport`
answers from a bundle's recorded exchanges, with no network, and says "not in the bundle" for the rest."""

from __future__ import annotations

import time
from collections.abc import Iterable
from urllib.parse import unquote

import httpx

from plugintop.querylog import Exchange, QueryLog, exchange

REPLAY_MISS = "x-plugintop-replay"
"""The header of the answer `ReplayTransport` gives for a request the bundle does not hold."""
REPLAYED = "plugintop_replayed"
"""Marks a request `ReplayTransport` answered (its extensions): a recording answers the same however often
it is asked, so nothing it answers is retried."""

_DROP = {"content-encoding", "content-length", "transfer-encoding"}


def _parts(request: httpx.Request, base_path: str) -> tuple[str, list[tuple[str, str]], str]:
    path = unquote(request.url.path)
    if base_path and path.startswith(base_path):
        path = path[len(base_path) :] or "/"
    query = [(k, v) for k, v in httpx.QueryParams(request.url.query.decode("ascii", "replace")).multi_items()]
    body = request.content.decode("utf-8", "replace") if request.content else ""
    return path, query, body


class LoggingTransport(httpx.AsyncBaseTransport):
    """Sends through `inner` and writes one `Exchange` per attempt to `log`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, backend: str, base_path: str, log: QueryLog) -> None:
        self.inner, self.backend, self.base_path, self.log = inner, backend, base_path.rstrip("/"), log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path, query, body = _parts(request, self.base_path)
        started, t0 = time.time(), time.perf_counter()

        def row(**outcome: object) -> Exchange:
            elapsed = time.perf_counter() - t0
            return exchange(
                self.backend, request.method, path, query, body, started=started, elapsed_s=elapsed, **outcome
            )

        try:
            resp = await self.inner.handle_async_request(request)
            raw = httpx.Response(resp.status_code, headers=resp.headers, stream=resp.stream, request=request)
            content = await raw.aread()  # decoded (gzip) once, here
        except Exception as e:
            self.log.add(row(error=type(e).__name__))
            raise
        ctype = resp.headers.get("content-type", "")
        self.log.add(row(status=resp.status_code, size=len(content), content_type=ctype), content)
        headers = [(k, v) for k, v in resp.headers.multi_items() if k.lower() not in _DROP]
        return httpx.Response(resp.status_code, headers=headers, content=content, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers each request with the recorded answer of the same method, path, query and body (the
    last one recorded, as a retried request's last attempt is what the triage read); anything else is
    a 404 marked `REPLAY_MISS`. The exchanges it answers are logged too (the query log of a replay)."""

    def __init__(self, backend: str, recorded: Iterable[tuple[Exchange, bytes]], log: QueryLog | None = None) -> None:
        self.backend, self.log = backend, log
        self.answers: dict[str, tuple[Exchange, bytes]] = {}
        for row, answer in recorded:
            if row.backend == backend and (row.status or row.error):
                self.answers[row.key()] = (row, answer)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path, query, body = _parts(request, "")
        key = exchange(self.backend, request.method, path, query, body)
        found = self.answers.get(key.key())
        request.extensions[REPLAYED] = True
        if found is not None and not found[0].status:  # the recorded request failed: it fails again, alike
            failure = getattr(httpx, found[0].error, None)
            kind = failure if isinstance(failure, type) and issubclass(failure, httpx.TransportError) else None
            raise (kind or httpx.TransportError)(f"{found[0].error} (recorded)", request=request)
        if found is None:
            status, headers, content = 404, {REPLAY_MISS: "miss", "content-type": "application/json"}, b"{}"
        else:
            row, content = found
            status, headers = row.status, {"content-type": row.content_type or "application/json"}
        if self.log is not None:
            self.log.add(
                exchange(
                    self.backend,
                    request.method,
                    path,
                    query,
                    body,
                    status=status,
                    started=time.time(),
                    size=len(content),
                    error="" if found else "not in the bundle",
                )
            )
        return httpx.Response(status, headers=headers, content=content, request=request)
