"""The demo stack answers every recorded request in the recorded shape (DESIGN §5, API.md §10)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plugintop.demo.stack import DemoStack
from tests.demo_stack import fetch, stack
from tests.fixtures import real, real_names
from tests.shapes import diff

BACKEND = {"prom": "prometheus", "loki": "loki", "tempo": "tempo", "pyroscope": "pyroscope"}
WEBSOCKET = {"loki_tail_message", "loki_tail_message_categorized"}
UNSUPPORTED = {"tempo_metrics_query_range", "tempo_metrics_query_range_rate"}
"""TraceQL metrics: plugintop does not use them; the demo answers them with Tempo's error shape."""
NAMES = [n for p in BACKEND for n in real_names(p + "_") if n not in WEBSOCKET | UNSUPPORTED]
RECORDED_TRACE = "855ca7a9b92d277a7b3e535f8b4e12bf"


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoStack]:
    with stack() as s:
        yield s


@pytest.mark.parametrize("name", NAMES)
def test_same_request_same_shape(name: str, demo: DemoStack) -> None:
    rec = real(name)
    req = rec["request"]
    backend = BACKEND[name.split("_")[0]]
    path = req["path"]
    if RECORDED_TRACE in path:  # the recorded trace came from the recording tool: ask for one of the demo's
        call = next(demo.world.iter_calls(1795700900, 1795700985, newest_first=True))
        path = path.replace(RECORDED_TRACE, call.trace_id)
    status, ctype, body = fetch(demo.urls[backend], req["method"], path, req["params"], req["headers"], req.get("body"))
    assert status == rec["status"], (status, body)
    want_json = not isinstance(rec["body"], str)
    assert want_json == (not isinstance(body, str)), (ctype, body)
    if rec["content_type"]:
        assert ctype.split(";")[0] == rec["content_type"].split(";")[0]
    problems = diff(rec["body"], body)
    assert not problems, problems


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_requests_get_the_backends_error_shape(name: str, demo: DemoStack) -> None:
    req = real(name)["request"]
    status, ctype, body = fetch(demo.urls["tempo"], req["method"], req["path"], req["params"])
    assert status == 400 and ctype.startswith("text/plain") and isinstance(body, str) and body
