"""The follow logic against a fake Loki over a real socket: bursts, duplicate timestamps, pages over
the limit, 429 and 5xx, a dropped connection — every entry exactly once, in order, gaps only when real."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugintop.cli.tail import EXIT_BEHIND, run_tail
from plugintop.clients.loki import LokiClient
from plugintop.live.follow import LateEntry, LogFollower, late_ages
from plugintop.models.loki import LogEntry, LogPage
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
        self.visible_at: dict[tuple[int, str], int] = {}
        """When a line becomes queryable (ns; absent: at once), as a shipper's batching makes it."""
        self.now: Callable[[], int] = time.time_ns

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
        now = self.now()
        shown = (e for e in self.entries if lo <= e[0] < hi and self.visible_at.get(e, 0) <= now)
        picked = sorted(shown)[:limit]
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
        while batch.more:
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


async def test_a_line_reaching_loki_3s_after_its_timestamp_is_shown_once(loki: FakeLoki) -> None:
    """A shipper's batching (Promtail/Alloy batch wait, Fluent Bit flush, ~1 s, plus ingest) makes a line
    queryable seconds after its own timestamp, while newer lines already are: it is shown, once."""
    t0 = time.time_ns()
    clock = [t0 / S]
    loki.now = lambda: int(clock[0] * S)
    on_time = [(t0 + i * S // 10 + 7, f"on time {i}") for i in range(80)]
    lagged = (t0 + 2 * S + 123, "lagged 3 s")
    loki.entries = [*on_time, lagged]
    loki.visible_at = {e: e[0] for e in on_time} | {lagged: lagged[0] + 3 * S}
    async with httpx.AsyncClient(base_url=loki.url) as http:
        f = LogFollower(LokiClient(http), '{plugin="p"}', t0 - S, clock=lambda: clock[0])
        seen, gaps = await collect(f, clock, loki, [(t0 / S + k / 5, []) for k in range(1, 60)])
    assert seen.count("lagged 3 s") == 1
    assert sorted(seen) == sorted(line for _, line in loki.entries) and gaps == []


async def test_a_line_reaching_loki_after_the_settle_window_is_shown_once_marked_late(loki: FakeLoki) -> None:
    """8 s late, past the 5 s settle window: the sweep at twice the settle finds it, shown once as a
    `LateEntry` that says how long after its timestamp it was shown; the lines on time are not marked."""
    t0 = time.time_ns()
    clock = [t0 / S]
    loki.now = lambda: int(clock[0] * S)
    on_time = [(t0 + i * S // 4 + 11, f"on time {i}") for i in range(40)]
    very_late = (t0 + 3 * S + 5, "8 s late")
    loki.entries = [*on_time, very_late]
    loki.visible_at = {very_late: very_late[0] + 8 * S}
    shown: list[LogEntry] = []
    async with httpx.AsyncClient(base_url=loki.url) as http:
        f = LogFollower(LokiClient(http), '{plugin="p"}', t0 - S, clock=lambda: clock[0])
        for k in range(1, 200):  # 40 s of polls, 0.2 s apart
            clock[0] = t0 / S + k / 5
            batch = await f.poll()
            shown += batch.entries
            while batch.more:
                batch = await f.poll()
                shown += batch.entries
            assert not batch.gaps
    late = [e for e in shown if isinstance(e, LateEntry)]
    assert [e.line for e in late] == ["8 s late"] and f.late == 1
    assert 8 * S <= late[0].late_ns <= 13 * S  # found by the sweep at 10-12.5 s of age
    assert sorted(e.line for e in shown) == sorted(line for _, line in loki.entries)


def test_the_late_sweeps_double_from_twice_the_settle_to_the_horizon() -> None:
    assert late_ages(5 * S, 120 * S) == (10 * S, 20 * S, 40 * S, 80 * S, 120 * S)
    assert late_ages(90 * S, 120 * S) == (180 * S,)


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
            while batch.more:
                batch = await f.poll()
                seen += [e.line for e in batch.entries]
            assert not batch.gaps
        return seen

    seen = asyncio.run(run())
    assert sorted(seen) == sorted(line for *_, line in lines) and len(seen) == len(lines)
    if not any(lags[: len(offsets)]):
        assert seen == [line for _, _, line in sorted(lines)]


class StreamsLoki:
    """Loki's `query_range` over several streams whose lines become visible at their arrival time."""

    def __init__(self, lines: list[tuple[int, int, str, str]], clock: list[float]) -> None:
        self.lines = lines  # (ts_ns, arrives_ns, line, pod)
        self.clock = clock
        self.calls = 0

    async def query_logs(self, query: str, start_ns: int, end_ns: int, *, limit: int, direction: str) -> LogPage:
        self.calls += 1
        now = int(self.clock[0] * S)
        got = sorted(
            (t, pod, line) for t, arrives, line, pod in self.lines if arrives <= now and start_ns <= t < end_ns
        )
        picked = got[:limit]
        entries = [LogEntry.of(t, line, {"plugin": "p", "pod": pod}) for t, pod, line in picked]
        return LogPage(entries, len(picked) >= limit, [])


@settings(max_examples=120, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.integers(0, 3_000_000_000), st.integers(0, 8_000_000_000), st.sampled_from("abc"), st.sampled_from("xyz")
        ),
        min_size=1,
        max_size=50,
    ),
    collide=st.integers(0, 6),
    extra=st.integers(1, 4),
    steps=st.lists(st.integers(1, 700_000_000), min_size=1, max_size=40),
)
def test_any_lateness_up_to_the_horizon_every_line_once_late_only_past_the_settle(
    lines: list[tuple[int, int, str, str]], collide: int, extra: int, steps: list[int]
) -> None:
    """Lines in three streams at today's epoch, several sharing a nanosecond (the same text in two streams
    is two lines), each reaching Loki 0-8 s late, polled at any pace with a 1 s settle window and an 8 s
    horizon: every line is shown exactly once across the overlapping reads and sweeps; a line at most the
    settle late is never marked late; a late one says at least its real lateness."""
    import asyncio
    from collections import Counter

    base = time.time_ns() // S * S + 123_456_789
    rows = [
        (base + (o if i >= collide else 0), base + (o if i >= collide else 0) + lag, text, pod)
        for i, (o, lag, text, pod) in enumerate(lines)
    ]
    rows = list(
        {(t, text, pod): (t, a, text, pod) for t, a, text, pod in rows}.values()
    )  # Loki keeps one of exact repeats
    page = max(Counter(t for t, *_ in rows).values()) + extra
    clock = [base / S - 0.5]
    loki = StreamsLoki(rows, clock)
    f = LogFollower(loki, "{}", base - S, page_limit=page, clock=lambda: clock[0], settle=1.0, horizon=8.0)  # type: ignore[arg-type]

    async def run() -> list[LogEntry]:
        seen: list[LogEntry] = []
        t = base
        for step in [*steps, *[500_000_000] * 40]:  # then 20 s more, past every sweep
            t += step
            clock[0] = t / S
            batch = await f.poll(max_pages=1)  # one request a poll, as `follow` does
            seen += batch.entries
            while batch.more:  # the pages of one read, each a little later
                t += 40_000_000
                clock[0] = t / S
                batch = await f.poll(max_pages=1)
                seen += batch.entries
            assert not batch.gaps
        return seen

    seen = asyncio.run(run())
    ids = Counter((e.ts_ns, e.line, e.labels["pod"]) for e in seen)
    assert ids == Counter((t, text, pod) for t, _, text, pod in rows)
    lag = {(t, text, pod): a - t for t, a, text, pod in rows}
    for e in seen:
        real = lag[(e.ts_ns, e.line, e.labels["pod"])]
        if isinstance(e, LateEntry):
            assert real > S and e.late_ns >= real
    assert len(f.seen) == 0  # every identity forgotten once no read reaches back to it


async def test_after_an_outage_the_backlog_is_read_once_and_not_remembered_for_ever() -> None:
    """Loki down for 60 s while 20 lines/s go on (1 s settle, 8 s horizon): once it answers, the backlog is
    shown once after a recovered gap, the sweeps skip what the catch-up already read old enough (no
    re-read of the outage), and only the last horizon's identities are kept."""
    from collections import Counter

    from plugintop.errors import BackendError

    base = time.time_ns() // S * S + 987_654_321
    rows = [(base + i * S // 20, base + i * S // 20 + (i % 5) * S // 10, f"l{i}", "x") for i in range(20 * 85)]
    clock = [base / S]

    class Flaky(StreamsLoki):
        down = False
        read = 0

        async def query_logs(self, query: str, start_ns: int, end_ns: int, *, limit: int, direction: str) -> LogPage:
            if self.down:
                raise BackendError("loki", "unreachable")
            page = await super().query_logs(query, start_ns, end_ns, limit=limit, direction=direction)
            self.read += len(page.entries)
            if clock[0] >= base / S + 74.95:  # after the outage: how often each line in it is read again
                reads.update(e.line for e in page.entries if base + 20 * S <= e.ts_ns < base + 60 * S)
            return page

    reads: Counter[str] = Counter()
    loki = Flaky(rows, clock)
    f = LogFollower(loki, "{}", base, page_limit=500, clock=lambda: clock[0], settle=1.0, horizon=8.0)  # type: ignore[arg-type]
    seen: list[LogEntry] = []
    gaps: list[Any] = []
    for k in range(1, 900):  # 90 s, 0.1 s apart; down from 15 s to 75 s
        clock[0] = base / S + k / 10
        loki.down = 150 <= k < 750
        batch = await f.poll()
        seen += batch.entries
        gaps += batch.gaps
        if k == 780:
            assert len(f.seen) <= 20 * 16  # the last horizon and a quarter, the settle and a little
    assert sorted(e.line for e in seen) == sorted(line for _, _, line, _ in rows) and len(seen) == len(rows)
    assert not any(isinstance(e, LateEntry) for e in seen)
    assert len(gaps) == 1 and gaps[0].recovered
    assert len(reads) == 20 * 40 and max(reads.values()) <= 2  # the catch-up (a page edge twice), no sweep again


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


async def test_tail_marks_a_line_found_past_the_settle_window_in_text_and_jsonl(loki: FakeLoki) -> None:
    """`tail` with a 0.3 s settle: a line 1 s late is printed once, marked `(late by …)` after its time in
    text and with `late_by_s` in jsonl; a line 0.2 s late, within the settle, is printed unmarked; a hostile
    late line stays inert."""
    texts = []
    for fmt in ("text", "jsonl"):
        now = time.time_ns()
        slow = (now + S // 2, "\x1b[2Jslow \u202eevil")
        quick = (now + S // 2 + 1, "quick")
        loki.entries = [slow, quick]
        loki.visible_at = {slow: slow[0] + S, quick: quick[0] + S // 5}
        out = io.StringIO()
        async with httpx.AsyncClient(base_url=loki.url) as http:
            rc = await run_tail(LokiClient(http), "{}", now - S, fmt=fmt, duration=3.5, every=0.1, settle=0.3, out=out)
        assert rc == 0
        texts.append(out.getvalue())
    text, jsonl = texts
    assert text.count("slow") == 1 and text.count("quick") == 1 and "\x1b" not in text
    slow_row = next(x for x in text.splitlines() if "slow" in x)
    assert re.fullmatch(r"\S+Z \(late by \d+\.\d s\) ␛\[2Jslow ⟨U\+202E⟩evil", slow_row), slow_row
    assert "late" not in next(x for x in text.splitlines() if "quick" in x)
    rows = {r["line"]: r for r in map(json.loads, jsonl.splitlines())}
    assert rows.keys() == {slow[1], "quick"} and "late_by_s" not in rows["quick"]
    assert 1.0 <= rows[slow[1]]["late_by_s"] < 3.0


def test_the_screen_marks_a_late_line_and_its_detail_says_why() -> None:
    from plugintop.ui.widgets.loglines import detail_lines, format_line

    e = LateEntry(NOW_NS, '{"level":"info","msg":"\x1b]52;c;x\x07hi"}', stream={"plugin": "p"}, late_ns=7_250_000_000)
    row = format_line(e)
    assert "(late by 7.2 s)" in row.text and "\x1b" not in row.text and "\x07" not in row.text
    assert "(late by 7.2 s) msg" not in row.text  # right after the time, before the fields
    assert format_line(LogEntry.of(NOW_NS, "on time")).text.count("late") == 0
    assert any("late by 7.2 s" in x and "settle" in x for x in detail_lines(e))
    assert "(late by 7.2 s)" in format_line(e, template=("msg",)).text


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
    import plugintop.live.follow as follow_mod

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
