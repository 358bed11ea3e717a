"""Provides `LogFollower` and `follow`: the one follow loop of the tail and the screen's log pane.

It polls Loki `query_range` forward (works through Grafana's proxy and has none of the websocket tail's
limits) from a cursor of integer nanoseconds. It reads up to now, so a line shows within one poll, and it
reads the last `settle` seconds again at every poll: a line that reaches Loki late (up to `settle` after its
own timestamp) is still shown, and every line is shown once (the keys of the lines in that window are
kept). It pages past the entry limit and never skips ahead: after an outage it resumes from the cursor and
marks the outage as a gap, recovered once caught up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from plugintop.clients.loki import MAX_ENTRIES, LokiClient
from plugintop.errors import BackendError
from plugintop.models.loki import EntryKey, Gap, LogEntry
from plugintop.queries.logql import LogQL
from plugintop.schema import Schema
from plugintop.timerange import system_clock

FROZEN_S = 3.0
"""An answer awaited this long: the backend is "not answering" (said at once, not after the timeout)."""


@dataclass
class Batch:
    """What one poll brought: new entries in order, and any gap to mark."""

    entries: list[LogEntry] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    error: BackendError | None = None
    behind: bool = False
    """The page cap was hit: more entries wait for the next poll."""


class LogFollower:
    """Follows one LogQL query from `start_ns`, in order, each entry exactly once."""

    def __init__(
        self,
        loki: LokiClient,
        query: str,
        start_ns: int,
        *,
        page_limit: int = 2000,
        max_pages: int = 10,
        clock: Callable[[], float] = system_clock,
        settle: float = 1.0,
    ) -> None:
        self.loki = loki
        self.query = query
        self.cursor_ns = start_ns
        """Everything before it has been read and shown; from it on, `recent` holds what was shown."""
        self.recent: dict[EntryKey, int] = {}
        self.resume_ns: int | None = None
        """Where the next poll goes on from when this one stopped behind (None: from the cursor)."""
        self.page_limit = min(page_limit, MAX_ENTRIES)
        self.max_pages = max_pages
        self.clock = clock
        self.settle_ns = int(settle * 1e9)
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self.waiting_since: float | None = None
        """Monotonic time the request in flight was sent (None: none in flight)."""

    def waited(self) -> float:
        """Seconds the request in flight has waited (0: none)."""
        return time.monotonic() - self.waiting_since if self.waiting_since is not None else 0.0

    async def poll(self, max_pages: int | None = None) -> Batch:
        """Fetches what arrived since the last poll (up to `max_pages` pages). Cancelling it loses
        nothing: the cursor moves only once a page is in, with its entries in the batch returned."""
        batch = Batch()
        end_ns = int(self.clock() * 1e9) + 1
        start_ns = self.cursor_ns if self.resume_ns is None else self.resume_ns
        recent = self.recent
        for _ in range(max_pages or self.max_pages):
            if end_ns <= start_ns:
                break
            self.waiting_since = sent = time.monotonic()
            try:
                page = await self.loki.query_logs(
                    self.query, start_ns, end_ns, limit=self.page_limit, direction="forward"
                )
            except BackendError as e:
                if self.failing_since is None:
                    self.failing_since = start_ns / 1e9
                self.last_error = f"{e.kind}: {e.message}"
                batch.error = e
                return batch  # the cursor stays: the next poll asks again from it
            finally:
                self.waiting_since = None
            if self.failing_since is not None or time.monotonic() - sent >= FROZEN_S:
                reason = self.last_error or f"no answer for {time.monotonic() - sent:.0f} s"
                batch.gaps.append(Gap(self.failing_since or start_ns / 1e9, self.clock(), reason, recovered=True))
                self.failing_since, self.last_error = None, None
            for entry in page.entries:
                k = entry.key
                if k not in recent:
                    recent[k] = entry.ts_ns
                    batch.entries.append(entry)
            if not page.limit_reached or not page.entries:
                self.resume_ns = None
                self._commit(end_ns, end_ns)
                return batch
            last = page.entries[-1].ts_ns
            if last == start_ns:  # a page of one timestamp: more share it than a page holds
                at = last / 1e9
                batch.gaps.append(Gap(at, at, "more lines share one timestamp than a page holds; some were skipped"))
                last += 1
            start_ns = self.resume_ns = last
            self._commit(start_ns, end_ns)
        batch.behind = batch.error is None
        return batch

    def _commit(self, read_to: int, end_ns: int) -> None:
        """Moves the cursor to what is read for good: up to `read_to`, but the last `settle` seconds
        are read again next time (a line can reach Loki after newer ones)."""
        to = min(read_to, end_ns - self.settle_ns)
        if to > self.cursor_ns:
            self.cursor_ns = to
            recent = self.recent  # pruned in place: `poll` holds it
            for k in [k for k, ts in recent.items() if ts < to]:
                del recent[k]


async def follow(follower: LogFollower, every: float = 1.0, busy: float = 0.2) -> AsyncIterator[Batch]:
    """The one follow loop: polls for ever, at once again while behind, `busy` seconds apart while lines
    flow, backing off to `every` when quiet or failing. Each poll reads one page, so stopping the loop
    (cancelling it) loses nothing that was not said."""
    wait = busy
    while True:
        batch = await follower.poll(max_pages=1)
        yield batch
        if batch.behind:
            continue
        wait = every if batch.error is not None else busy if batch.entries else min(every, wait * 2)
        await asyncio.sleep(wait)


def tenant_follower(
    loki: LokiClient,
    schema: Schema,
    plugin: str,
    tenant: str,
    start_ns: int,
    pipeline: str = "",
    pivots: Sequence[tuple[str, str]] = (),
    **kw: object,
) -> LogFollower:
    """The follower of `{plugin="X", tenant_id="Y"}` (plus the user's own LogQL pipeline and pivots)."""
    query = LogQL(schema).logs(plugin, tenant, pipeline, pivots=pivots)
    return LogFollower(loki, query, start_ns, **kw)  # type: ignore[arg-type]


async def tenant_range(
    loki: LokiClient,
    schema: Schema,
    plugin: str,
    tenant: str,
    start_ns: int,
    end_ns: int,
    pipeline: str = "",
    pivots: Sequence[tuple[str, str]] = (),
    direction: str = "forward",
) -> AsyncIterator[Batch]:
    """The tenant's lines of a past range, page by page, each once, in `direction`; a timestamp shared
    by more lines than a page holds is a gap (some were skipped)."""
    query = LogQL(schema).logs(plugin, tenant, pipeline, pivots=pivots)
    async for page in loki.log_pages(query, start_ns, end_ns, page=MAX_ENTRIES, direction=direction):
        gaps = []
        if page.limit_reached:
            at = (page.entries[-1].ts_ns if page.entries else start_ns) / 1e9
            gaps.append(Gap(at, at, "more lines share one timestamp than a page holds; some were skipped"))
        yield Batch(page.entries, gaps)
