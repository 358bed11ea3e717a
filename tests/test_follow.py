"""The follow logic against a fake Loki over a real socket: bursts, duplicate timestamps, pages over
the limit, 429 and 5xx, a dropped connection — every entry exactly once, in order, gaps only when real."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from plugintop.cli.tail import run_tail
from plugintop.clients.loki import LokiClient
from plugintop.triage.follow import LogFollower
from tests.servers import Answer, Backend, Request, serve

S = 1_000_000_000


class FakeLoki(Backend):
    """Serves `entries` ((ns, line)) for forward range queries; `faults` script answers by request number."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[int, str]] = []
        self.faults: dict[int, str] = {}
        self.calls = 0

    def answer(self, req: Request) -> Answer:
        self.calls += 1
        fault = self.faults.get(self.calls)
        if fault == "429":
            return Answer(429, "too many outstanding requests", "text/plain", {"Retry-After": "0"})
        if fault == "500":
            return Answer(500, "internal error", "text/plain")
        if fault == "drop":
            return Answer(200, b'{"status":"success","data":{"resultType":"streams","res', "application/json")
        p = dict(req.params)
        lo, hi, limit = int(p["start"]), int(p["end"]), int(p["limit"])
        assert p["direction"] == "forward"
        picked = sorted(e for e in self.entries if lo <= e[0] < hi)[:limit]
        body = {
            "status": "success",
            "data": {
                "resultType": "streams",
                "result": [
                    {"stream": {"plugin": "p", "tenant_id": "t"}, "values": [[str(ts), line] for ts, line in picked]}
                ],
            },
        }
        return Answer(200, body)


@pytest.fixture
def loki() -> Iterator[FakeLoki]:
    with serve(FakeLoki()) as fake:
        yield fake  # type: ignore[misc]


def follower(url: str, clock: list[float], page: int = 5) -> tuple[LogFollower, httpx.AsyncClient]:
    http = httpx.AsyncClient(base_url=url)
    f = LogFollower(LokiClient(http), '{plugin="p"}', 0, page_limit=page, clock=lambda: clock[0], delay=0)
    return f, http


async def collect(
    f: LogFollower,
    clock: list[float],
    fake: FakeLoki,
    plan: list[tuple[float, list[tuple[int, str]]]],
) -> tuple[list[str], list[Any]]:
    """Advances the clock, adds entries, polls; returns the lines seen and the gaps."""
    seen: list[str] = []
    gaps: list[Any] = []
    for now, new in plan:
        fake.entries.extend(new)
        clock[0] = now
        batch = await f.poll()
        while batch.behind:
            seen += [e.line for e in batch.entries]
            gaps += batch.gaps
            batch = await f.poll()
        seen += [e.line for e in batch.entries]
        gaps += batch.gaps
    return seen, gaps


async def test_bursts_duplicate_timestamps_and_pages(loki: FakeLoki) -> None:
    clock = [0.0]
    f, http = follower(loki.url, clock, page=5)
    async with http:
        burst = [(1 * S + (i // 3), f"burst {i}") for i in range(23)]  # three lines share each timestamp
        same = [(5 * S, f"same {i}") for i in range(4)]  # four at one timestamp, across a page edge
        late = [(8 * S, "late 0")]
        seen, gaps = await collect(f, clock, loki, [(2.0, burst), (6.0, same), (7.0, []), (9.0, late)])
    want = [line for _, line in sorted(burst + same + late)]
    assert seen == want
    assert gaps == []


async def test_429_5xx_and_a_dropped_connection_lose_nothing(loki: FakeLoki) -> None:
    """The 429 is retried inside the poll (Retry-After 0); the 500 and the cut body fail a poll each."""
    clock = [0.0]
    f, http = follower(loki.url, clock, page=100)
    loki.faults = {2: "429", 3: "500", 5: "drop"}
    async with http:
        plan = [(float(t), [(t * S - S // 2, f"line {t}")]) for t in range(1, 9)]
        seen, gaps = await collect(f, clock, loki, plan)
    assert seen == [f"line {t}" for t in range(1, 9)]
    assert gaps and all(g.recovered for g in gaps)  # outages marked, and caught up across


async def test_more_lines_at_one_timestamp_than_a_page_is_a_real_gap(loki: FakeLoki) -> None:
    clock = [0.0]
    f, http = follower(loki.url, clock, page=3)
    async with http:
        crowd = [(1 * S, f"crowd {i}") for i in range(5)]
        seen, gaps = await collect(f, clock, loki, [(2.0, crowd + [(int(1.5 * S), "after")])])
    assert seen[:3] == ["crowd 0", "crowd 1", "crowd 2"] and seen[-1] == "after"
    assert gaps and not gaps[0].recovered  # the two that did not fit are reported, not hidden


async def test_tail_command_output_is_inert_and_stops_after_for(loki: FakeLoki) -> None:
    import time

    now = time.time()
    loki.entries = [
        (int((now - 5) * S), "\x1b[2J\x1b]52;c;ZXZpbA==\x07[bold]x[/] status=ok\rstatus=FAIL \u202eevil"),
        (int((now - 4) * S), '{"msg":"\\u001b[31mred"}'),
    ]
    out, err = io.StringIO(), io.StringIO()
    async with httpx.AsyncClient(base_url=loki.url) as http:
        rc = await run_tail(LokiClient(http), '{plugin="p"}', now - 60, duration=0.5, every=0.1, out=out, err=err)
    text = out.getvalue()
    assert rc == 0 and "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "[bold]x[/]" in text and "status=ok␍status=FAIL" in text and "⟨U+202E⟩evil" in text
    assert text.count("\n") == 2  # each line once, though polled several times
    out2 = io.StringIO()
    async with httpx.AsyncClient(base_url=loki.url) as http:
        await run_tail(LokiClient(http), '{plugin="p"}', now - 60, fmt="jsonl", duration=0.2, every=0.1, out=out2)
    rows = [json.loads(x) for x in out2.getvalue().splitlines()]
    assert rows[0]["line"].startswith("\x1b[2J") and "\x1b" not in out2.getvalue()


async def test_tail_reports_a_failing_backend_once_per_cause() -> None:
    out, err = io.StringIO(), io.StringIO()
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9") as http:
        rc = await run_tail(LokiClient(http), "{}", 0, duration=0.3, every=0.05, out=out, err=err)
    assert rc == 0 and err.getvalue().count("\n") == 1 and "unreachable" in err.getvalue()
