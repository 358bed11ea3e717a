"""Provides `LogFollower`: the tail's follow logic. It polls Loki `query_range` forward from a
timestamp cursor (works through Grafana's proxy and has none of the websocket tail's limits),
de-duplicates the entries that share the cursor's timestamp, pages past the entry limit, and never
skips ahead: after an outage it resumes from the cursor, and reports the outage as a gap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from plugintop.clients.loki import MAX_ENTRIES, Cursor, LokiClient
from plugintop.errors import BackendError
from plugintop.models.loki import Gap, LogEntry
from plugintop.queries.logql import LogQL
from plugintop.schema import Schema
from plugintop.timerange import system_clock


@dataclass
class Batch:
    """What one poll brought: new entries in order, and any gap to mark."""

    entries: list[LogEntry] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    error: BackendError | None = None
    behind: bool = False
    """The page cap was hit: more entries wait for the next poll."""


class LogFollower:
    """Follows one LogQL query from `start`, in order, each entry exactly once."""

    def __init__(
        self,
        loki: LokiClient,
        query: str,
        start: float,
        *,
        page_limit: int = 1000,
        max_pages: int = 10,
        clock: Callable[[], float] = system_clock,
        delay: float = 1.0,
    ) -> None:
        self.loki = loki
        self.query = query
        self.cursor = Cursor(int(start * 1e9))
        self.page_limit = min(page_limit, MAX_ENTRIES)
        self.max_pages = max_pages
        self.clock = clock
        self.delay = delay
        """Seconds behind now to read up to: Loki's ingesters may still be receiving the newest entries."""
        self.failing_since: float | None = None
        self.last_error: str | None = None

    async def poll(self) -> Batch:
        """Fetches what arrived since the last poll (up to `max_pages` pages)."""
        batch = Batch()
        end_ns = int((self.clock() - self.delay) * 1e9)
        for _ in range(self.max_pages):
            if end_ns <= self.cursor.ns:
                break
            try:
                page = await self.loki.query_logs(
                    self.query, self.cursor.ns / 1e9, end_ns / 1e9, limit=self.page_limit, direction="forward"
                )
            except BackendError as e:
                if self.failing_since is None:
                    self.failing_since = self.cursor.ns / 1e9
                self.last_error = f"{e.kind}: {e.message}"
                batch.error = e
                return batch
            if self.failing_since is not None:
                batch.gaps.append(
                    Gap(self.failing_since, self.clock(), self.last_error or "backend failed", recovered=True)
                )
                self.failing_since = None
            fresh = self.cursor.take(page)
            batch.entries.extend(fresh)
            if not page.limit_reached:
                return batch
            if self.cursor.stepped:
                at = (self.cursor.ns - 1) / 1e9
                batch.gaps.append(Gap(at, at, "more lines share one timestamp than a page holds; some were skipped"))
        batch.behind = True
        return batch


def tenant_follower(
    loki: LokiClient, schema: Schema, plugin: str, tenant: str, start: float, pipeline: str = "", **kw: object
) -> LogFollower:
    """The follower of `{plugin="X", tenant_id="Y"}` (plus the user's own LogQL pipeline)."""
    return LogFollower(loki, LogQL(schema).logs(plugin, tenant, pipeline), start, **kw)  # type: ignore[arg-type]
