"""The one httpx → errors mapping and the retry policy, over a real socket."""

from __future__ import annotations

import random

import httpx
import pytest

from plugintop.clients._http import RetryPolicy, retry_after_seconds, send
from plugintop.clients.prometheus import PrometheusClient
from plugintop.errors import BadQuery, BadResponse, NotFound, RateLimited, ServerError, Unauthorized, Unreachable
from tests.servers import Answer, Backend

FAST = RetryPolicy(attempts=3, base=0.001, cap=0.002, retry_after_cap=0.01)


@pytest.mark.parametrize(
    ("status", "error", "attempts"),
    [
        (401, Unauthorized, 1),
        (403, Unauthorized, 1),
        (404, NotFound, 1),
        (400, BadQuery, 1),
        (422, BadQuery, 1),
        (500, ServerError, 1),
        (502, ServerError, 3),
        (503, ServerError, 3),
        (504, ServerError, 3),
        (429, RateLimited, 3),
    ],
)
async def test_status_mapping_and_retries(
    status: int, error: type[Exception], attempts: int, backend: Backend, http: httpx.AsyncClient
) -> None:
    backend.route("GET", "/x", Answer(status, f"injected {status}\n", "text/plain"))
    with pytest.raises(error) as e:
        await send(http, "loki", "GET", "/x", policy=FAST, rng=random.Random(1))
    assert len(backend.requests) == attempts
    assert f"injected {status}" in str(e.value) and str(e.value).startswith("loki: ")


async def test_retry_after_is_honoured_and_then_succeeds(backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("GET", "/x", Answer(429, "slow down", "text/plain", {"Retry-After": "0"}))
    with pytest.raises(RateLimited) as e:
        await send(http, "prometheus", "GET", "/x", policy=FAST)
    assert e.value.retry_after == 0


def test_retry_after_forms() -> None:
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert retry_after_seconds("garbage") is None


async def test_html_login_page_and_bad_json(backend: Backend, http: httpx.AsyncClient) -> None:
    c = PrometheusClient(http)
    backend.route("GET", "/api/v1/query", Answer(200, b"<html><body>Please log in</body></html>", "text/html"))
    with pytest.raises(BadResponse, match="HTML"):
        await c.query("x", 1)
    backend.route("GET", "/api/v1/query", Answer(200, b'{"status":"success","data":{"resultTy', "application/json"))
    with pytest.raises(BadResponse, match="invalid JSON"):
        await c.query("x", 1)
    backend.route("GET", "/api/v1/query", Answer(200, b"\xff\xfe not json", "application/json"))
    with pytest.raises(BadResponse):
        await c.query("x", 1)


async def test_unreachable_names_the_url_in_one_line() -> None:
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9") as h:
        with pytest.raises(Unreachable) as e:
            await send(h, "tempo", "GET", "/api/echo", policy=FAST)
    assert "127.0.0.1:9" in str(e.value) and "\n" not in str(e.value)


async def test_password_in_url_never_shown() -> None:
    async with httpx.AsyncClient(base_url="http://user:hunter2@127.0.0.1:9") as h:
        with pytest.raises(Unreachable) as e:
            await send(h, "loki", "GET", "/x", policy=FAST)
    assert "hunter2" not in str(e.value)


async def test_error_bodies_are_one_safe_line(backend: Backend, http: httpx.AsyncClient) -> None:
    backend.route("GET", "/x", Answer(400, "line one\n\x1b[2Jline two " + "y" * 1000, "text/plain"))
    with pytest.raises(BadQuery) as e:
        await send(http, "loki", "GET", "/x")
    msg = str(e.value)
    assert "\x1b" not in msg and "\n" not in msg and len(msg) < 400


def test_plain_http_backends_do_not_load_the_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend on plain HTTP gets a context that verifies against no CA (it fails closed if TLS were
    ever attempted) instead of loading the bundle; HTTPS, or an HTTPS proxy, gets the bundle."""
    import ssl

    from plugintop.clients._http import ssl_context
    from plugintop.config.context import TLS

    for k in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)
    plain, full = ssl_context(TLS(), "http://prom:9090"), ssl_context(TLS(), "https://prom:9090")
    assert isinstance(plain, ssl.SSLContext) and isinstance(full, ssl.SSLContext) and plain is not full
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.cert_store_stats()["x509_ca"] == 0
    monkeypatch.setenv("HTTP_PROXY", "https://proxy.example:3128")
    assert ssl_context(TLS(), "http://prom:9090") is full
    assert ssl_context(TLS(insecure=True), "http://prom:9090") is False


def test_a_name_that_does_not_resolve_says_so() -> None:
    import socket

    from plugintop.clients._http import _transport_error

    e = httpx.ConnectError("[Errno -2] Name or service not known")
    e.__cause__ = socket.gaierror(-2, "Name or service not known")  # as httpcore raises it
    msg = _transport_error("prometheus", e, "http://prometheus.example:9090").message
    assert "host name not found (Name or service not known)" in msg and "unknown error" not in msg


PROXY_VARS = (
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
)


class Tap(httpx.AsyncBaseTransport):
    """What the query log and a replay put around the network: sees every request."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.seen = inner, list[str]()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_request_through_an_environment_proxy_still_passes_the_tap(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`HTTP_PROXY` in the environment: the request goes through the proxy and through the tap (the query log
    lists it, a bundle keeps it, a replay answers it), not around it."""
    from plugintop.clients._http import make_client
    from plugintop.config.context import TLS, Timeouts
    from plugintop.config.credentials import Credentials

    for k in PROXY_VARS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HTTP_PROXY", backend.url)  # the test's server is the proxy
    backend.route("GET", "/api/v1/x", Answer(200, {"status": "success"}))
    taps: list[Tap] = []

    def tapped(inner: httpx.AsyncBaseTransport) -> Tap:
        taps.append(Tap(inner))
        return taps[-1]

    for bypass in ("", "prom.invalid"):
        monkeypatch.setenv("NO_PROXY", bypass)
        before = len(backend.requests)
        client = make_client(
            "http://prom.invalid:9090", credentials=Credentials(), tls=TLS(), timeouts=Timeouts(connect=2), wrap=tapped
        )
        async with client:
            try:
                status = (await client.get("/api/v1/x")).status_code
            except httpx.ConnectError:  # NO_PROXY: straight to a name that does not resolve
                status = 0
        assert taps[-1].seen == ["http://prom.invalid:9090/api/v1/x"]
        if bypass:
            assert status == 0 and len(backend.requests) == before
        else:
            assert status == 200 and backend.requests[-1].headers["Host"] == "prom.invalid:9090"


@pytest.mark.parametrize(("recorded", "error"), [({"status": 503}, ServerError), ({"error": "ReadTimeout"}, None)])
async def test_a_replayed_failure_is_not_retried(recorded: dict[str, object], error: type[Exception] | None) -> None:
    """A bundle's failed answer fails again at once: retrying a recording cannot change it (and the backoff
    would make a replay of a hung backend take seconds per request)."""
    from plugintop.clients.taps import ReplayTransport
    from plugintop.errors import BackendError, BackendTimeout
    from plugintop.querylog import Exchange

    row = Exchange(backend="prometheus", method="GET", path="/api/v1/query", query=[("query", "up")], **recorded)  # type: ignore[arg-type]
    replay = Tap(ReplayTransport("prometheus", [(row, b"overloaded")]))
    async with httpx.AsyncClient(base_url="http://prom.invalid:9090", transport=replay) as client:
        with pytest.raises(BackendError) as e:
            await send(client, "prometheus", "GET", "/api/v1/query", params={"query": "up"}, policy=FAST)
    assert isinstance(e.value, error or BackendTimeout)
    assert len(replay.seen) == 1
