"""Provides `LogFollower` and `follow`: the one follow loop of the tail and the screen's log pane.

It polls Loki `query_range` forward (works through Grafana's proxy and has none of the websocket tail's
limits) in integer nanoseconds, and shows each line once, as soon as Loki has it, however late it got there.

- **Live read, with a settle window.** A shipper batches (Promtail's and Alloy's batch wait, Fluent Bit's
  flush: about 1 s, plus Loki's ingest), so a line is queryable 0.5-3 s after its own timestamp, after
  newer ones. Every poll reads from the cursor up to now, and the cursor trails now by `settle` (default
  5 s, `tail.settle`): a line is shown within a poll of reaching Loki while it is at most `settle` late.
  The cursor only passes what was read at least `settle` after its timestamp (`_live_page`).
- **Once.** An entry's identity is its stream labels, timestamp (ns) and line (lines sharing a nanosecond
  differ by line or stream; Loki itself drops exact repeats). The identities of everything that may be read
  again are kept, by second, and dropped once no read reaches back to them.
- **Late sweeps.** A line that reaches Loki after the settle window has no read left at its timestamp, so
  each stretch of time is read once more at ages 2, 4, 8... times `settle`, up to `horizon` (2 min): a line
  not seen before is shown then, as a `LateEntry` ("late by 12.4 s": how long after its timestamp it was
  shown), within about twice its lateness. It costs one read a line a tier (five by default) and the
  identities of the last `horizon` plus a quarter. A line later than `horizon` is not seen by a tail;
  `plugintop logs` over its range has it. Sweeps run only while the live read is caught up, a page at a
  time between live pages, so they never delay a live line by more than one request.
- **Paging and outages.** A read pages past the entry limit and never skips ahead; after an outage it
  resumes from the cursor and marks the outage as a gap, recovered once caught up. More lines at one
  timestamp than a page holds is the one real loss, marked as a gap."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from plugintop.clients.loki import MAX_ENTRIES, LokiClient
from plugintop.errors import BackendError
from plugintop.models.loki import EntryKey, Gap, LogEntry, LogPage
from plugintop.queries.logql import LogQL
from plugintop.schema import Schema
from plugintop.timerange import system_clock, to_ns

FROZEN_S = 3.0
"""An answer awaited this long: the backend is "not answering" (said at once, not after the timeout)."""
SETTLE_S = 5.0
"""How late (after its own timestamp) a line may reach Loki and still be shown in order of arrival, unmarked:
covers Promtail's, Alloy's and Fluent Bit's ~1 s batching plus ingest, with room for a slow flush."""
HORIZON_S = 120.0
"""How late a line may reach Loki and still be found by a tail (marked late)."""
_BUCKET = 30
"""Identities are kept by 2**30 ns (~1.07 s) of timestamp, dropped a bucket at a time."""
SKIPPED = "more lines share one timestamp than a page holds; some were skipped"


class LateEntry(LogEntry, gc=False):
    """An entry that reached Loki after the settle window had passed, found by a late sweep."""

    late_ns: int = 0
    """How long after its own timestamp it was found (ns)."""


LIVE_SLACK_S = 60.0
"""A range ending less than this before now "ends now": the log pane follows it."""
TAIL_SINCE_S = 300.0
"""How far back the log pane starts when it follows."""


def pane_read(
    rng: tuple[float, float],
    window: tuple[float, float] | None,
    now: float,
    live: bool = False,
    tail_since: float = TAIL_SINCE_S,
) -> tuple[int, int | None]:
    """Where the screen's log pane reads (nanoseconds; no end: follow): asked to follow, from `tail_since`
    ago; a window in the past, whole; a range that ends now, followed from `tail_since` ago at most (the
    buffer is bounded); a range in the past, whole."""
    if live:
        return to_ns(now - tail_since), None
    if window is not None and window[1] < now - LIVE_SLACK_S:
        return to_ns(window[0]), to_ns(window[1])
    if rng[1] >= now - LIVE_SLACK_S:
        return to_ns(max(rng[0], now - tail_since)), None
    return to_ns(rng[0]), to_ns(rng[1])


def saved_read(rng: tuple[float, float], window: tuple[float, float] | None, now: float) -> tuple[int, int]:
    """The log pane's read at a saved moment (a bundle's): `pane_read`, a followed range read as one that
    ends at that moment (nothing is live)."""
    start_ns, end_ns = pane_read(rng, window, now)
    return start_ns, to_ns(now) if end_ns is None else end_ns


def late_by(late_ns: int) -> str:
    """How late a line was found, in the text output and on the screen: `late by 12.4 s`."""
    return f"late by {late_ns / 1e9:.1f} s"


def late_ages(settle_ns: int, horizon_ns: int) -> tuple[int, ...]:
    """The ages (ns) at which each stretch of time is read again: 2, 4, 8... times `settle`, then `horizon`."""
    ages = []
    age = 2 * settle_ns
    while age < horizon_ns:
        ages.append(age)
        age *= 2
    ages.append(max(horizon_ns, 2 * settle_ns))
    return tuple(ages)


@dataclass
class Batch:
    """What one poll brought: new entries (late ones as `LateEntry`), and any gap to mark."""

    entries: list[LogEntry] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    error: BackendError | None = None
    behind: bool = False
    """The page cap was hit past everything read before: a backlog waits for the next polls."""
    more: bool = False
    """Another request is due at once (the rest of a read, or a late sweep): poll again without waiting."""


class _Seen:
    """The identities of the entries shown, by bucket of timestamp."""

    def __init__(self) -> None:
        self.buckets: dict[int, set[EntryKey]] = {}
        self.streams: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
        """Each stream's labels once (the keys share them)."""

    def fresh(self, entries: list[LogEntry]) -> list[LogEntry]:
        """The entries not seen before (now seen)."""
        out = []
        labels_of: dict[int, tuple[tuple[str, str], ...]] = {}  # the page's streams, by identity
        buckets, streams = self.buckets, self.streams
        for e in entries:
            s = e.stream
            labels = labels_of.get(id(s))
            if labels is None:
                t = tuple(sorted(s.items())) if s else ()
                if len(streams) > 10_000:
                    streams.clear()
                labels = labels_of[id(s)] = streams.setdefault(t, t)
            key = (e.ts_ns, e.line, labels)
            b = e.ts_ns >> _BUCKET
            keys = buckets.get(b)
            if keys is None:
                keys = buckets[b] = set()
            elif key in keys:
                continue
            keys.add(key)
            out.append(e)
        return out

    def forget(self, below_ns: int) -> None:
        """Drops the identities of buckets wholly below `below_ns` (no read reaches back to them)."""
        low = int(below_ns) >> _BUCKET
        for b in [b for b in self.buckets if b < low]:
            del self.buckets[b]

    def __len__(self) -> int:
        return sum(map(len, self.buckets.values()))


class LogFollower:
    """Follows one LogQL query from `start_ns`, each entry exactly once (see the module's docstring)."""

    def __init__(
        self,
        loki: LokiClient,
        query: str,
        start_ns: int,
        *,
        page_limit: int = 2000,
        max_pages: int = 10,
        clock: Callable[[], float] = system_clock,
        settle: float = SETTLE_S,
        horizon: float = HORIZON_S,
    ) -> None:
        self.loki = loki
        self.query = query
        self.cursor_ns = start_ns
        """Settled: everything before it was read at least `settle` after its timestamp."""
        self.read_ns = start_ns
        """Everything before it was read at least once."""
        self.resume_ns: int | None = None
        """Where the live read goes on (None: it starts again from the cursor at the next poll)."""
        self._contiguous = True
        """Whether the current live read has settled all it read so far (the cursor may follow it)."""
        self.page_limit = min(page_limit, MAX_ENTRIES)
        self.max_pages = max_pages
        self.clock = clock
        self.settle_ns = int(settle * 1e9)
        self.ages = late_ages(self.settle_ns, int(horizon * 1e9))
        self.swept = [start_ns for _ in self.ages]
        """Per age: everything from `start_ns` to it was read at least that long after its timestamp."""
        self.jump: list[tuple[int, int] | None] = [None for _ in self.ages]
        """Per age: a stretch past `swept` that a live read already read that old (after an outage, say),
        which the sweep skips once it gets there."""
        self._sweep: tuple[int, int, int] | None = None
        """The sweep under way: (tier, from, to)."""
        self._sweep_turn = False
        self.seen = _Seen()
        self.late = 0
        """Entries shown late so far."""
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self.waiting_since: float | None = None
        """Monotonic time the request in flight was sent (None: none in flight)."""

    def waited(self) -> float:
        """Seconds the request in flight has waited (0: none)."""
        return time.monotonic() - self.waiting_since if self.waiting_since is not None else 0.0

    async def poll(self, max_pages: int | None = None) -> Batch:
        """Fetches what reached Loki since the last poll, in up to `max_pages` requests: the live read
        first, then, once it is caught up, a due late sweep, a page of each in turn. Cancelling it loses
        nothing: what a page changes is changed once it is in, with its entries in the batch returned."""
        batch = Batch()
        for _ in range(max_pages or self.max_pages):
            if self._sweep_turn and self._sweep is not None:
                self._sweep_turn = False
                if not await self._sweep_page(batch):
                    break
                if self._sweep is None and not self._next_sweep():
                    break
            elif await self._live_page(batch):
                if self._sweep is None and not self._next_sweep():
                    break
                self._sweep_turn = True
            elif batch.error is not None:
                break
        ok = batch.error is None
        batch.behind = ok and self.resume_ns is not None and self.resume_ns >= self.read_ns
        batch.more = ok and (self.resume_ns is not None or self._sweep is not None)
        return batch

    async def _query(self, start_ns: int, end_ns: int, batch: Batch) -> LogPage | None:
        self.waiting_since = time.monotonic()
        try:
            return await self.loki.query_logs(self.query, start_ns, end_ns, limit=self.page_limit, direction="forward")
        except BackendError as e:
            batch.error = e
            return None
        finally:
            self.waiting_since = None

    async def _live_page(self, batch: Batch) -> bool:
        """One page of the live read, from the cursor (or where it stopped) to now; True once it
        reached now."""
        now_ns = int(self.clock() * 1e9)
        end_ns = now_ns + 1
        if self.resume_ns is None:
            start_ns, self._contiguous = self.cursor_ns, True
        else:
            start_ns = self.resume_ns
        if end_ns <= start_ns:
            return True
        sent = time.monotonic()
        page = await self._query(start_ns, end_ns, batch)
        if page is None:
            assert batch.error is not None
            if self.failing_since is None:
                self.failing_since = start_ns / 1e9
            self.last_error = f"{batch.error.kind}: {batch.error.message}"
            return False  # the cursor stays: the next poll asks again from it
        if self.failing_since is not None or time.monotonic() - sent >= FROZEN_S:
            reason = self.last_error or f"no answer for {time.monotonic() - sent:.0f} s"
            batch.gaps.append(Gap(self.failing_since or start_ns / 1e9, self.clock(), reason, recovered=True))
            self.failing_since, self.last_error = None, None
        batch.entries += self.seen.fresh(page.entries)
        if not page.limit_reached or not page.entries:
            next_ns, self.resume_ns = end_ns, None
        else:
            next_ns = page.entries[-1].ts_ns
            if next_ns == start_ns:  # a page of one timestamp: more share it than a page holds
                batch.gaps.append(Gap(next_ns / 1e9, next_ns / 1e9, SKIPPED))
                next_ns += 1
            self.resume_ns = next_ns
        self.read_ns = max(self.read_ns, next_ns)
        self._aged(start_ns, next_ns, now_ns)
        # what this page read at least `settle` after its timestamp; the cursor follows while all did
        settled = min(next_ns, now_ns - self.settle_ns)
        if self._contiguous:
            self.cursor_ns = max(self.cursor_ns, settled)
            self._contiguous = settled >= next_ns
        self._forget()
        return self.resume_ns is None

    def _aged(self, start_ns: int, next_ns: int, now_ns: int) -> None:
        """A live page read [start, next) at `now`: the part at least an age old needs no sweep of that
        age (a backlog: the start, or catching up after an outage)."""
        for k, age in enumerate(self.ages):
            to = min(next_ns, now_ns - age)
            if to <= start_ns:
                continue
            if start_ns <= self.swept[k]:
                self._advance(k, to)
            elif (j := self.jump[k]) is None:
                self.jump[k] = (start_ns, to)
            elif j[0] <= start_ns <= j[1]:
                self.jump[k] = (j[0], max(j[1], to))

    def _advance(self, k: int, to: int) -> None:
        self.swept[k] = max(self.swept[k], to)
        j = self.jump[k]
        if j is not None and j[0] <= self.swept[k]:
            self.swept[k], self.jump[k] = max(self.swept[k], j[1]), None

    def _next_sweep(self) -> bool:
        """Starts the first due sweep: a tier whose next quarter-age of settled time has reached its age."""
        now_ns = int(self.clock() * 1e9)
        for k, age in enumerate(self.ages):
            j = self.jump[k]
            to = min(self.cursor_ns, now_ns - age, j[0] if j is not None else self.cursor_ns)
            if to - self.swept[k] >= age // 4 or (j is not None and to - self.swept[k] > 0):
                self._sweep = (k, self.swept[k], to)
                return True
        return False

    async def _sweep_page(self, batch: Batch) -> bool:
        """One page of the sweep under way: entries not seen before are shown as late. False on error
        (the sweep is asked again)."""
        assert self._sweep is not None
        k, start_ns, end_ns = self._sweep
        now_ns = int(self.clock() * 1e9)
        page = await self._query(start_ns, end_ns, batch)
        if page is None:
            return False
        for e in self.seen.fresh(page.entries):
            batch.entries.append(LateEntry(e.ts_ns, e.line, e.extra, e.stream, now_ns - e.ts_ns))
            self.late += 1
        if not page.limit_reached or not page.entries:
            self._advance(k, end_ns)
            self._sweep = None
        else:
            last = page.entries[-1].ts_ns
            if last == start_ns:
                batch.gaps.append(Gap(last / 1e9, last / 1e9, SKIPPED))
                last += 1
            self._advance(k, last)
            self._sweep = (k, last, end_ns)
        self._forget()
        return True

    def _forget(self) -> None:
        self.seen.forget(min(self.cursor_ns, *self.swept))


async def follow(follower: LogFollower, every: float = 1.0, busy: float = 0.2) -> AsyncIterator[Batch]:
    """The one follow loop: polls for ever, at once again while more is due, `busy` seconds apart while lines
    flow, backing off to `every` when quiet or failing. Each poll reads one page, so stopping the loop
    (cancelling it) loses nothing that was not said."""
    wait = busy
    while True:
        batch = await follower.poll(max_pages=1)
        yield batch
        if batch.more:
            continue
        wait = every if batch.error is not None else busy if batch.entries else min(every, wait * 2)
        await asyncio.sleep(wait)


@dataclass(frozen=True, slots=True)
class TenantLogs:
    """What a tail or a range reads: `{plugin="X", tenant_id="Y"}`, the user's own LogQL pipeline, and the
    fields a line must have (pivots)."""

    schema: Schema
    plugin: str
    tenant: str
    pipeline: str = ""
    pivots: tuple[tuple[str, str], ...] = ()

    @property
    def query(self) -> str:
        """The LogQL of these lines."""
        return LogQL(self.schema).logs(self.plugin, self.tenant, self.pipeline, pivots=self.pivots)


def tenant_follower(loki: LokiClient, logs: TenantLogs, start_ns: int, **kw: object) -> LogFollower:
    """The follower of `logs` from `start_ns` (`kw`: `LogFollower`'s)."""
    return LogFollower(loki, logs.query, start_ns, **kw)  # type: ignore[arg-type]


async def tenant_range(
    loki: LokiClient, logs: TenantLogs, start_ns: int, end_ns: int, direction: str = "forward"
) -> AsyncIterator[Batch]:
    """The lines of `logs` in a past range, page by page, each once, in `direction`; a timestamp shared by
    more lines than a page holds is a gap (some were skipped)."""
    async for page in loki.log_pages(logs.query, start_ns, end_ns, page=MAX_ENTRIES, direction=direction):
        gaps = []
        if page.limit_reached:
            at = (page.entries[-1].ts_ns if page.entries else start_ns) / 1e9
            gaps.append(Gap(at, at, SKIPPED))
        yield Batch(page.entries, gaps)


async def unknown_tenant(loki: LokiClient, schema: Schema, plugin: str, tenant: str, start: float, end: float) -> str:
    """ "" when `tenant` has lines of `plugin` in [start, end] (or Loki cannot say), else one line saying it
    has none and naming the tenants that do: a typo in a tenant is otherwise an empty output."""
    try:
        known = await loki.label_values(
            schema.log_tenant_label, start, end, query=LogQL(schema).plugin_selector(plugin)
        )
    except BackendError:
        return ""
    if tenant in known:
        return ""
    close = ", ".join(sorted(known)[:12]) if known else f"none: no lines of plugin {plugin!r} at all"
    return f"no lines of tenant {tenant!r} for plugin {plugin!r} in that range; tenants with lines: {close}"
