"""Secrets never printed, token files checked, hostile text inert everywhere, cancellation leaves the
connection pool idle, and every parser answers garbage with a typed error."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugintop.analysis.model import BackendProblem, Evidence, Finding, Pattern, TriageResult, Verdict
from plugintop.clients._http import send
from plugintop.clients.loki import decode_streams
from plugintop.clients.prometheus import PrometheusClient
from plugintop.clients.pyroscope import parse_flamegraph
from plugintop.clients.tempo import parse_search, parse_trace
from plugintop.errors import BackendError
from plugintop.ids import TraceId
from plugintop.report import render
from tests.fixtures import real
from tests.hostile import HOSTILE
from tests.servers import Answer, Backend, serve

TOKEN = "glsa_" + "A" * 32 + "_0123abcd"


def plugintop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("PLUGINTOP_")}
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "plugintop", *args], capture_output=True, text=True, timeout=120, env=e
    )


def test_a_forced_401_shows_no_token(backend: Backend) -> None:
    backend.route("GET", "/api/v1/status/buildinfo", Answer(401, f"invalid token {TOKEN}\n", "text/plain"))
    url = backend.url
    r = plugintop(
        "check",
        "--prometheus-url",
        url,
        "--loki-url",
        url,
        "--tempo-url",
        url,
        "--pyroscope-url",
        url,
        "--plugin",
        "p",
        "--tenant",
        "t",
        env={"PLUGINTOP_PROMETHEUS_TOKEN": TOKEN},
    )
    assert r.returncode == 3 and "401" in r.stdout
    assert TOKEN not in r.stdout + r.stderr and "AAAAAAAA" not in r.stdout + r.stderr
    # the four backends share the URL and are asked at once (Pyroscope's buildinfo has Prometheus' path):
    # the token went out, and only on Prometheus' API
    with_token = [q for q in backend.requests if q.headers.get("Authorization") == f"Bearer {TOKEN}"]
    assert with_token and all(q.path.startswith("/api/v1/") for q in with_token)
    others = [q for q in backend.requests if q.path.startswith(("/loki/", "/api/search", "/api/traces", "/querier"))]
    assert others and not any("Authorization" in q.headers for q in others)


def test_a_crash_path_shows_no_secret(tmp_path: Path) -> None:
    """An unexpected exception carrying the secret is reported in one redacted line."""
    script = tmp_path / "crash.py"
    script.write_text(
        "import sys, plugintop.cli as c, plugintop.cli.check as check\n"
        f"check.run = lambda ns: (_ for _ in ()).throw(RuntimeError('boom {TOKEN} http://u:pw-secret@h/'))\n"
        "sys.exit(c.main(['check']))\n"
    )
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 70 and "internal error" in r.stderr and "Traceback" not in r.stderr
    assert TOKEN not in r.stderr and "pw-secret" not in r.stderr


def test_a_readable_token_file_is_refused(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0o644)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[contexts.x.prometheus]\nurl = "http://127.0.0.1:9"\nauth = {{type = "bearer", token_file = "{token}"}}\n'
    )
    r = plugintop("check", "--config", str(cfg), "--plugin", "p", "--tenant", "t")
    assert r.returncode == 2 and f"chmod 600 {token}" in r.stderr and TOKEN not in r.stderr


def test_report_text_is_inert() -> None:
    r = TriageResult("p" + HOSTILE[0], "t" + HOSTILE[1], 0, 60)
    r.verdict = Verdict(
        state="incident",
        cause="errors",
        scope="tenant",
        tool=HOSTILE[0],
        summary=HOSTILE[2],
        evidence=HOSTILE[3:],
        unchecked=list(HOSTILE),
    )
    r.errors = [BackendProblem("loki", h) for h in HOSTILE]
    r.findings = [
        Finding(
            kind="errors",
            tool=h,
            start=0,
            end=60,
            severity=9.0,
            rank=1.0,
            cause="errors",
            evidence=[Evidence(signal="tempo", what="failing_spans", value=3, unit="count", detail=h)],
            patterns=[Pattern(pattern=h, count=3, baseline_count=0, example=h, trace_id=h)],
        )
        for h in HOSTILE
    ]
    r.known_tenants = list(HOSTILE)
    for fmt in ("text", "markdown", "json"):
        out = render(r, fmt)
        assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out and "\u202e" not in out
        if fmt != "json":
            assert "FAKE" in out and "[@click=app.quit]x[/]" in out


async def test_1000_cancel_cycles_leave_the_pool_idle() -> None:
    """Cancelled in-flight requests must not leak pool slots (httpcore hazard): the next request works."""
    with serve(Backend()) as b:
        slow = Answer(200, {"status": "success", "data": {"version": "x"}})
        b.route("GET", "/api/v1/status/buildinfo", slow)
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
        async with httpx.AsyncClient(base_url=b.url, limits=limits, timeout=5) as http:
            for i in range(1000):
                task = asyncio.create_task(send(http, "prometheus", "GET", "/api/v1/status/buildinfo"))
                await asyncio.sleep(0 if i % 2 else 0.0005)
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, BackendError):
                    pass
            info = await asyncio.wait_for(PrometheusClient(http).buildinfo(), 5)
            assert info.version == "x"
            # the cancelled requests were left to finish on their own (`_uncancellable`): the last of
            # them may still be answering now; a leaked slot would never come back
            pool = http._transport._pool  # type: ignore[attr-defined]

            async def idle() -> None:
                while pool._requests or not all(c.is_idle() or c.is_closed() for c in pool.connections):
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(idle(), 5)


JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)


def _mutate(obj: Any, data: st.DataObject) -> Any:
    """A fixture with one value somewhere replaced by random JSON."""
    if isinstance(obj, dict) and obj:
        k = data.draw(st.sampled_from(sorted(obj)))
        return {**obj, k: _mutate(obj[k], data) if data.draw(st.booleans()) else data.draw(JSON)}
    if isinstance(obj, list) and obj:
        i = data.draw(st.integers(0, len(obj) - 1))
        return [*obj[:i], _mutate(obj[i], data) if data.draw(st.booleans()) else data.draw(JSON), *obj[i + 1 :]]
    return data.draw(JSON)


PARSERS: dict[str, tuple[Callable[[Any], object], str]] = {
    "prom": (
        lambda d: PrometheusClient(None)._result(  # type: ignore[arg-type]
            d.get("data") if isinstance(d, dict) else d,
            d if isinstance(d, dict) else {},
        ),
        "prom_query_range_p99",
    ),
    "loki": (
        lambda d: decode_streams(json.dumps(d).encode()),
        "loki_query_range_backward_categorized",
    ),
    "trace": (lambda d: parse_trace(d, TraceId("4bf92f3577b34da6a3ce929d0e0e4736")), "tempo_trace_v2"),
    "search": (parse_search, "tempo_search_traceql_recent"),
    "flame": (
        lambda d: parse_flamegraph(d.get("flamegraph") if isinstance(d, dict) else d),
        "pyroscope_select_merge_stacktraces",
    ),
}


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parsers_answer_garbage_with_typed_errors(name: str, data: st.DataObject) -> None:
    parse, fixture = PARSERS[name]
    body = real(fixture)["body"]
    doc = data.draw(st.one_of(JSON, st.just(body).map(lambda b: json.loads(json.dumps(b)))))
    if data.draw(st.booleans()):
        doc = _mutate(body, data)
    try:
        parse(doc)
    except BackendError:
        pass
