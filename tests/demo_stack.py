"""The demo stack as the tests use it: the recorded fixtures' scenario at the recorded "now", with a
frozen clock, so the recorded requests can be replayed against it verbatim."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from plugintop.demo.scenario import Scenario, load_scenario
from plugintop.demo.stack import DemoStack
from tests.fixtures import REAL, need_fixtures

RECORDED_NOW = 1795700985.0


def recorded_scenario() -> Scenario:
    need_fixtures()
    return load_scenario(str(REAL / "scenario.toml"))


@contextmanager
def stack(scenario: Scenario | None = None, now: float = RECORDED_NOW) -> Iterator[DemoStack]:
    with DemoStack(scenario or recorded_scenario(), now=now, clock=lambda: now) as s:
        yield s


def fetch(
    base: str,
    method: str,
    path: str,
    params: list[list[str]] | list[tuple[str, str]] = (),  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> tuple[int, str, Any]:
    """(status, content type, parsed JSON or text) of one request over a real socket."""
    url = f"{base}{path}" + (f"?{urlencode([(str(p[0]), str(p[1])) for p in params])}" if params else "")
    data = json.dumps(body).encode() if body is not None else None
    req = Request(
        url,
        data=data,
        method=method,
        headers={**(headers or {}), **({"Content-Type": "application/json"} if data else {})},
    )
    try:
        with urlopen(req, timeout=30) as resp:
            status, ctype, raw = resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except HTTPError as e:
        status, ctype, raw = e.code, e.headers.get("Content-Type", ""), e.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, ctype, json.loads(text)
    except json.JSONDecodeError:
        return status, ctype, text
