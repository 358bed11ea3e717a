"""The follow logic against a fake Loki over a real socket: bursts, duplicate timestamps, pages over
the limit, 429 and 5xx, a dropped connection — every entry exactly once, in order, gaps only when real."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugintop.cli.tail import EXIT_BEHIND, run_tail
from plugintop.clients.loki import LokiClient
from plugintop.models.loki import LogEntry, LogPage
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
        self.delay = 0.0

    def answer(self, req: Request) -> Answer:
        self.calls += 1
        time.sleep(self.delay)
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


NOW_NS = 1_796_000_000_123_456_789
"""Today's epoch in nanoseconds, not a round number: a float near it resolves only ~240 ns."""
NOW = NOW_NS / S


def follower(url: str, clock: list[float], page: int = 5) -> tuple[LogFollower, httpx.AsyncClient]:
    http = httpx.AsyncClient(base_url=url)
    f = LogFollower(LokiClient(http), '{plugin="p"}', NOW_NS - 60 * S, page_limit=page, clock=lambda: clock[0])
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


@pytest.mark.parametrize("page", [4, 1000])
async def test_a_nanosecond_burst_at_todays_epoch_arrives_once_in_order(loki: FakeLoki, page: int) -> None:
    """2,000 lines 37 ns apart (and three sharing a nanosecond) at today's epoch, in two pushes: each
    exactly once, in order."""
    clock = [NOW]
    f, http = follower(loki.url, clock, page=page)
    burst = [(NOW_NS - S // 2 + 37 * i + (i % 3 == 0), f"burst {i}") for i in range(2000)]  # reaching Loki 0.6 s late
    burst += [(NOW_NS - S // 4 + 1, f"shared {i}") for i in range(3)]
    async with http:
        seen, gaps = await collect(f, clock, loki, [(NOW + 0.1, burst[:700]), (NOW + 0.2, burst[700:]), (NOW + 3, [])])
    assert seen == [line for _, line in sorted(burst)]
    assert gaps == []


async def test_bursts_duplicate_timestamps_and_pages(loki: FakeLoki) -> None:
    clock = [NOW]
    f, http = follower(loki.url, clock, page=5)
    async with http:
        burst = [(NOW_NS + 1 * S + (i // 3), f"burst {i}") for i in range(23)]  # three lines share each timestamp
        same = [(NOW_NS + 5 * S, f"same {i}") for i in range(4)]  # four at one timestamp, across a page edge
        late = [(NOW_NS + 8 * S, "late 0")]
        plan = [(NOW + 2, burst), (NOW + 6, same), (NOW + 7, []), (NOW + 9, late), (NOW + 12, [])]
        seen, gaps = await collect(f, clock, loki, plan)
    want = [line for _, line in sorted(burst + same + late)]
    assert seen == want
    assert gaps == []


async def test_a_line_reaching_loki_late_is_still_shown_once(loki: FakeLoki) -> None:
    """Read up to now, the last second is read again: a line stamped before newer ones but ingested after
    them (within the settle second) is shown, and nothing twice."""
    clock = [NOW]
    f, http = follower(loki.url, clock, page=100)
    async with http:
        first = [(NOW_NS + 1 * S, "on time")]
        straggler = [(NOW_NS + 1 * S - 300_000_000, "late by 0.7 s")]
        plan = [(NOW + 1.1, first), (NOW + 1.2, []), (NOW + 1.5, straggler), (NOW + 2.0, []), (NOW + 4.0, [])]
        seen, gaps = await collect(f, clock, loki, plan)
    assert sorted(seen) == ["late by 0.7 s", "on time"] and len(seen) == 2 and gaps == []


async def test_429_5xx_and_a_dropped_connection_lose_nothing(loki: FakeLoki) -> None:
    """The 429 is retried inside the poll (Retry-After 0); the 500 and the cut body fail a poll each."""
    clock = [NOW]
    f, http = follower(loki.url, clock, page=100)
    loki.faults = {2: "429", 3: "500", 5: "drop"}
    async with http:
        plan = [(NOW + t, [(NOW_NS + t * S - S // 2, f"line {t}")]) for t in range(1, 9)]
        seen, gaps = await collect(f, clock, loki, plan)
    assert seen == [f"line {t}" for t in range(1, 9)]
    assert gaps and all(g.recovered for g in gaps)  # outages marked, and caught up across


async def test_more_lines_at_one_timestamp_than_a_page_is_a_real_gap(loki: FakeLoki) -> None:
    clock = [NOW]
    f, http = follower(loki.url, clock, page=3)
    async with http:
        crowd = [(NOW_NS + 1 * S, f"crowd {i}") for i in range(5)]
        seen, gaps = await collect(f, clock, loki, [(NOW + 2, crowd + [(NOW_NS + int(1.5 * S), "after")])])
    assert seen[:3] == ["crowd 0", "crowd 1", "crowd 2"] and seen[-1] == "after"
    assert gaps and not gaps[0].recovered  # the two that did not fit are reported, not hidden


class MemoryLoki:
    """Loki's `query_range` over lines that become visible at their arrival time (no HTTP)."""

    def __init__(self, lines: list[tuple[int, int, str]], clock: list[float]) -> None:
        self.lines = lines  # (ts_ns, arrives_ns, line)
        self.clock = clock

    async def query_logs(self, query: str, start_ns: int, end_ns: int, *, limit: int, direction: str) -> LogPage:
        now = int(self.clock[0] * S)
        got = sorted((t, line) for t, arrives, line in self.lines if arrives <= now and start_ns <= t < end_ns)
        picked = got[:limit]
        return LogPage([LogEntry.of(t, line, {"plugin": "p"}) for t, line in picked], len(picked) >= limit, [])


@settings(max_examples=150, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 400), min_size=1, max_size=60),
    lags=st.lists(st.integers(0, 900_000_000), min_size=60, max_size=60),
    extra=st.integers(1, 4),
    polls=st.lists(st.integers(1, 400_000_000), min_size=1, max_size=12),
)
def test_any_timestamps_any_page_size_every_line_once(
    offsets: list[int], lags: list[int], extra: int, polls: list[int]
) -> None:
    """For any multiset of timestamps (nanoseconds apart at today's epoch), any page size larger than the
    most lines sharing one timestamp, and any arrival lag within the settle second, every line is shown
    exactly once; in timestamp order when none is late."""
    import asyncio
    from collections import Counter

    base = NOW_NS
    lines = [(base + o, base + o + lags[i], f"l{i}") for i, o in enumerate(offsets)]
    page = max(Counter(offsets).values()) + extra
    clock = [NOW - 1]
    f = LogFollower(MemoryLoki(lines, clock), "{}", base - S, page_limit=page, clock=lambda: clock[0])  # type: ignore[arg-type]

    async def run() -> list[str]:
        seen: list[str] = []
        t = base
        for step in [*polls, 2 * S]:
            t += step
            clock[0] = t / S
            batch = await f.poll()
            seen += [e.line for e in batch.entries]
            while batch.behind:
                batch = await f.poll()
                seen += [e.line for e in batch.entries]
            assert not batch.gaps
        return seen

    seen = asyncio.run(run())
    assert sorted(seen) == sorted(line for *_, line in lines) and len(seen) == len(lines)
    if not any(lags[: len(offsets)]):
        assert seen == [line for _, _, line in sorted(lines)]


async def test_tail_command_output_is_inert_and_stops_after_for(loki: FakeLoki) -> None:
    now = time.time()
    loki.entries = [
        (int((now - 5) * S), "\x1b[2J\x1b]52;c;ZXZpbA==\x07[bold]x[/] status=ok\rstatus=FAIL \u202eevil"),
        (int((now - 4) * S), '{"msg":"\\u001b[31mred"}'),
    ]
    out, err = io.StringIO(), io.StringIO()
    async with httpx.AsyncClient(base_url=loki.url) as http:
        rc = await run_tail(
            LokiClient(http), '{plugin="p"}', int((now - 60) * S), duration=0.5, every=0.1, out=out, err=err
        )
    text = out.getvalue()
    assert rc == 0 and "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "[bold]x[/]" in text and "status=ok␍status=FAIL" in text and "⟨U+202E⟩evil" in text
    assert text.count("\n") == 2  # each line once, though polled several times
    out2 = io.StringIO()
    async with httpx.AsyncClient(base_url=loki.url) as http:
        await run_tail(
            LokiClient(http), '{plugin="p"}', int((now - 60) * S), fmt="jsonl", duration=0.2, every=0.1, out=out2
        )
    rows = [json.loads(x) for x in out2.getvalue().splitlines()]
    assert rows[0]["line"].startswith("\x1b[2J") and "\x1b" not in out2.getvalue()


async def test_tail_reports_a_failing_backend_once_and_does_not_stop_silently() -> None:
    """Loki unreachable the whole `--for`: the cause is said once, and the stop while behind is said and
    exits non-zero (never a quiet 0 with lines unprinted)."""
    out, err = io.StringIO(), io.StringIO()
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9") as http:
        rc = await run_tail(LokiClient(http), "{}", 0, duration=3, every=0.05, out=out, err=err)  # retries end in 1.5 s
    said = err.getvalue().splitlines()
    assert rc == EXIT_BEHIND and out.getvalue() == ""
    assert sum("unreachable" in x for x in said) == 1 and "still behind" in said[-1] and "--from" in said[-1]


async def test_for_running_out_behind_says_how_far_it_got(loki: FakeLoki) -> None:
    """Pages slower than `--for`: it stops at the deadline, prints what it read, and says where to resume."""
    loki.entries = [(int((time.time() - 3000 + i) * S), f"old {i}") for i in range(50)]
    loki.delay = 0.6
    out, err = io.StringIO(), io.StringIO()
    async with httpx.AsyncClient(base_url=loki.url) as http:
        started = time.monotonic()
        rc = await run_tail(LokiClient(http), "{}", int((time.time() - 3600) * S), duration=0.3, out=out, err=err)
        took = time.monotonic() - started
    assert rc == EXIT_BEHIND and "still behind" in err.getvalue() and "continue with --from" in err.getvalue()
    assert took < 0.6  # the deadline is kept, not the slow page's answer waited for


async def test_a_frozen_loki_is_said_at_once_and_marked_caught_up_after(
    loki: FakeLoki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer that takes longer than `FROZEN_S`: stderr says so while waiting (not when a timeout gives
    up), and the lines after it carry a gap marker saying nothing was lost (the cursor proves it)."""
    import plugintop.triage.follow as follow_mod

    monkeypatch.setattr(follow_mod, "FROZEN_S", 0.3)
    now = time.time()
    loki.entries = [(int((now - 5) * S), "before the freeze")]
    loki.delay = 0.8
    out, err = io.StringIO(), io.StringIO()
    async with httpx.AsyncClient(base_url=loki.url) as http:
        rc = await run_tail(LokiClient(http), "{}", int((now - 60) * S), duration=2.0, every=0.1, out=out, err=err)
    assert "loki not answering since" in err.getvalue()
    text = out.getvalue()
    assert "before the freeze" in text and "caught up, nothing lost" in text and "\x1b" not in text
    assert rc in (0, EXIT_BEHIND)  # a poll may be in flight at the deadline; either way it is said
