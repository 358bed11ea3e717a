"""Provides the one place where httpx meets plugintop: building an `AsyncClient` for a backend,
sending an idempotent read with the retry policy, and translating every httpx outcome and HTTP
error body into the `errors` tree.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import os
import random
import re
import socket
import ssl
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import msgspec

from plugintop import __version__
from plugintop.clients.taps import REPLAY_MISS, REPLAYED
from plugintop.config.context import TLS, Timeouts
from plugintop.config.credentials import Credentials
from plugintop.errors import (
    BackendError,
    BackendTimeout,
    BadQuery,
    BadResponse,
    NotFound,
    NotInBundle,
    RateLimited,
    ServerError,
    Unauthorized,
    Unreachable,
)
from plugintop.redact import redact

T = TypeVar("T")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class RetryPolicy:
    """Retries for idempotent reads: only connection errors, timeouts, 429, 502, 503, 504.

    Exponential backoff with full jitter; `Retry-After` is honoured up to `retry_after_cap`.
    """

    attempts: int = 3
    base: float = 0.5
    cap: float = 8.0
    retry_after_cap: float = 30.0
    deadline: float = 60.0

    def delay(self, attempt: int, error: BackendError, rng: random.Random) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 0)."""
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.retry_after_cap)
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))


DEFAULT_RETRY = RetryPolicy()


def ssl_context(tls: TLS, base_url: str = "https://") -> ssl.SSLContext | bool:
    """The TLS verification to use: a context with the CA bundle and client certificate, or False.
    Backends with the same TLS settings share one context (loading the CA bundle takes ~15 ms). A
    plain-HTTP backend (no HTTPS proxy in the environment) never makes a TLS connection, since
    redirects are not followed: it gets a verifying context with no CA at all, which would fail
    closed if one were ever attempted, and the bundle is not read."""
    if tls.insecure:
        return False
    if base_url.lower().startswith("http://") and not _https_proxy(os.environ):
        return _no_ca()
    return _context(tls.ca_file, tls.cert_file, tls.key_file)


def _https_proxy(env: Mapping[str, str]) -> bool:
    return any(
        env.get(k, "").strip().lower().startswith("https://")
        for k in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
    )


@functools.lru_cache(maxsize=1)
def _no_ca() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies (CERT_REQUIRED, hostnames) against nothing


@functools.lru_cache(maxsize=8)
def _context(ca_file: Path | None, cert_file: Path | None, key_file: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if cert_file:
        ctx.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return ctx


def make_client(
    base_url: str,
    *,
    credentials: Credentials,
    tls: TLS,
    timeouts: Timeouts,
    headers: Mapping[str, str] | None = None,
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
) -> httpx.AsyncClient:
    """One `AsyncClient` for one backend, shared by every request to it; `wrap` puts a transport of its
    own around the network one (`clients.taps`: the query log, a replay)."""
    all_headers = {"User-Agent": f"plugintop/{__version__}", "Accept": "application/json"}
    all_headers.update(credentials.headers)
    all_headers.update(headers or {})
    verify = ssl_context(tls, base_url)
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=8)
    network = httpx.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=True, proxy=env_proxy(base_url))
    transport = wrap(network) if wrap else network
    return httpx.AsyncClient(
        base_url=base_url,
        headers=all_headers,
        auth=httpx.BasicAuth(*credentials.basic) if credentials.basic else None,
        verify=verify,
        timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect),
        limits=limits,
        transport=transport,
        follow_redirects=False,
        trust_env=True,
    )


def env_proxy(base_url: str) -> str | None:
    """The proxy the environment names for `base_url` (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, less
    `NO_PROXY`), as curl reads them. httpx reads them only for a client with no transport of its own, and every
    client here has one (the query log's tap), so it is set on the network transport itself."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme.lower()) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


def one_line(text: str, limit: int = 300) -> str:
    """Text from a backend as one safe, redacted line."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return redact(line)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parses `Retry-After` (seconds or HTTP-date) into seconds from now."""
    if not value:
        return None
    v = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", v):
        return float(v)
    try:
        dt = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    return max(0.0, dt.timestamp() - (time.time() if now is None else now))


def _error_text(resp: httpx.Response) -> str:
    body = resp.content[:4096].decode("utf-8", "replace").strip()
    if not body:
        return f"HTTP {resp.status_code} with an empty body"
    if body[:1] in "{[":
        try:
            data = json.loads(body)
        except json.JSONDecodeError:
            return body
        if isinstance(data, dict):
            for key in ("error", "message", "msg"):
                msg = data.get(key)
                if isinstance(msg, str) and msg:
                    # Pyroscope wraps a Connect error inside the message once more.
                    if msg.startswith("{"):
                        try:
                            inner = json.loads(msg)
                            if isinstance(inner, dict) and isinstance(inner.get("message"), str):
                                return str(inner["message"])
                        except json.JSONDecodeError:
                            pass
                    return msg
    if body.lstrip().lower().startswith(("<!doctype", "<html")):
        return f"HTTP {resp.status_code} with an HTML page"
    return body


def error_from_response(backend: str, resp: httpx.Response) -> BackendError:
    """The typed error for an HTTP status >= 400, with the backend's own message."""
    status = resp.status_code
    if resp.headers.get(REPLAY_MISS):
        return NotInBundle(backend, "not in the bundle (run the command live for it)")
    msg = one_line(_error_text(resp))
    if status in (401, 403):
        return Unauthorized(backend, f"HTTP {status}: authentication refused ({msg})")
    if status == 404:
        return NotFound(backend, f"HTTP 404: {msg} (wrong URL or path prefix?)")
    if status == 429:
        ra = retry_after_seconds(resp.headers.get("retry-after"))
        hint = f", retry after {ra:.0f} s" if ra is not None else ""
        return RateLimited(backend, f"HTTP 429: rate limited{hint} ({msg})", retry_after=ra)
    if status in (400, 422):
        return BadQuery(backend, f"HTTP {status}: {msg}")
    if status >= 500:
        return ServerError(backend, f"HTTP {status}: {msg}", status)
    return BackendError(backend, f"HTTP {status}: {msg}")


def _os_reason(e: BaseException) -> str | None:
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, socket.gaierror):  # its errno is getaddrinfo's (-2), not one os.strerror knows
            return f"host name not found ({cur.strerror or 'name lookup failed'})"
        if isinstance(cur, OSError) and cur.errno:
            return os.strerror(cur.errno).lower()
        if isinstance(cur, OSError) and cur.strerror:
            return cur.strerror.lower()
        cur = cur.__cause__ or cur.__context__
    return None


def _transport_error(backend: str, e: httpx.HTTPError, url: str) -> BackendError:
    where = redact(url)
    if isinstance(e, httpx.ConnectTimeout):
        return BackendTimeout(backend, f"connect timeout to {where}")
    if isinstance(e, httpx.TimeoutException):
        return BackendTimeout(backend, f"no answer from {where} in time ({type(e).__name__})")
    if isinstance(e, httpx.ConnectError):
        reason = _os_reason(e) or one_line(str(e), 120) or "connection failed"
        return Unreachable(backend, f"cannot connect to {where}: {reason}")
    if isinstance(e, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return Unreachable(backend, f"connection to {where} dropped: {one_line(str(e), 120) or type(e).__name__}")
    return BackendError(backend, f"request to {where} failed: {type(e).__name__}")


async def send(
    client: httpx.AsyncClient,
    backend: str,
    method: str,
    path: str,
    *,
    params: Any = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    policy: RetryPolicy = DEFAULT_RETRY,
    ok_statuses: tuple[int, ...] = (),
    rng: random.Random | None = None,
) -> httpx.Response:
    """Sends one idempotent read, retrying per `policy`; returns a response with status < 400.

    Args:
        ok_statuses: statuses >= 400 to hand back to the caller instead of raising (e.g. 404).

    Raises:
        BackendError: the typed failure once retries are spent.
    """
    rng = rng or random.Random()
    started = time.monotonic()
    url = f"{client.base_url}{path.lstrip('/')}" if str(client.base_url).endswith("/") else f"{client.base_url}{path}"
    attempt = 0
    while True:
        request = client.build_request(method, path, params=params, json=json_body, headers=headers)
        try:
            resp = await _uncancellable(client.send(request))
        except httpx.HTTPError as e:
            error = _transport_error(backend, e, url)
        else:
            if resp.status_code < 400 or resp.status_code in ok_statuses:
                return resp
            error = error_from_response(backend, resp)
        attempt += 1
        if not error.retryable or attempt >= policy.attempts or request.extensions.get(REPLAYED):
            raise error  # (a replayed answer is a recording: asked again, it answers the same)
        delay = policy.delay(attempt - 1, error, rng)
        if time.monotonic() - started + delay > policy.deadline:
            raise error
        await asyncio.sleep(delay)


def _discard(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so it is never reported as unhandled


async def _uncancellable(call: Awaitable[T]) -> T:
    """Awaits `call` so that cancelling the caller does not cancel the request half-way: cancelling
    inside httpcore's connection pool can leak a pool slot until every request fails with PoolTimeout
    (an open httpcore issue). The orphaned request finishes on its own, bounded by the timeouts."""
    task = asyncio.ensure_future(call)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_discard)
        raise


def decode_json(resp: httpx.Response, backend: str) -> Any:
    """The body as JSON; an HTML page, invalid or truncated JSON becomes `BadResponse`."""
    text = resp.content.decode("utf-8", "replace")
    head = text.lstrip()[:1]
    if "html" in resp.headers.get("content-type", "") or head == "<":
        raise BadResponse(backend, f"answered HTML, not JSON (HTTP {resp.status_code}): a login page or proxy?")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadResponse(backend, f"invalid JSON ({e.msg} at byte {e.pos} of {len(text)})") from None
    except RecursionError:
        raise BadResponse(backend, "JSON nested too deeply") from None


def validate(kind: type[T], data: Any, backend: str, what: str) -> T:
    """Validates decoded JSON into `kind` (a model, or a type such as `list[str]`); numbers written as
    strings are read as numbers (Prometheus' exemplar values are); a mismatch becomes `BadResponse`
    naming the place."""
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as e:
        raise BadResponse(backend, f"unexpected {what}: {e}") from None
