"""Provides `Exchange` and `QueryLog`: every request a session made to a backend, with what came back.
The query log pane (`Q`), the report's `requests` and a bundle read it; the clients' transports
(`clients.taps`) write it. Nothing in it is a secret: headers are never kept, URLs and queries are
redacted when an exchange is made."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from urllib.parse import urlencode

import msgspec

from plugintop.redact import redact


class Exchange(msgspec.Struct, frozen=True, kw_only=True):
    """One request to one backend and its outcome."""

    backend: str
    method: str
    path: str
    """Below the backend's base URL, e.g. `/api/v1/query_range`."""
    query: list[tuple[str, str]] = []
    body: str = ""
    """The request body (a JSON query for some endpoints), empty for a GET."""
    status: int = 0
    """The HTTP status; 0 when no answer came (the error says why)."""
    error: str = ""
    started: float = 0.0
    """Epoch seconds."""
    elapsed_s: float = 0.0
    size: int = 0
    """Bytes of the answer's body (decoded)."""
    content_type: str = ""

    def key(self) -> str:
        """What identifies the request whatever the host: method, path, query and body."""
        return f"{self.method} {self.path}?{urlencode(sorted(self.query))}\n{self.body}"

    @property
    def target(self) -> str:
        """The path and query as one line to read (not to paste: values are not encoded)."""
        return "  ".join([self.path, *(f"{k}={v}" for k, v in self.query)])


def exchange(
    backend: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    body: str,
    **outcome: object,
) -> Exchange:
    """An `Exchange` with every text redacted (a token can sit in a query parameter or a body)."""
    return Exchange(
        backend=backend,
        method=method,
        path=redact(path),
        query=[(redact(k), redact(v)) for k, v in query],
        body=redact(body),
        **outcome,  # type: ignore[arg-type]
    )


class QueryLog:
    """The session's exchanges in the order they ended; with `keep_answers`, each answer's body too
    (a bundle is being saved). Bounded: past `limit` the oldest rows are dropped (and counted)."""

    def __init__(self, keep_answers: bool = False, limit: int = 5_000) -> None:
        self.keep_answers = keep_answers
        self.limit = limit
        self.rows: deque[Exchange] = deque(maxlen=None if keep_answers else limit)
        """The exchanges, oldest first (a bundle keeps every one: its answers are indexed by position)."""
        self.answers: dict[int, bytes] = {}
        """Index into `rows` → the answer's body, with `keep_answers`."""
        self.dropped = 0

    def add(self, row: Exchange, answer: bytes | None = None) -> None:
        if len(self.rows) == self.rows.maxlen:
            self.dropped += 1  # the append drops the oldest
        if answer is not None and self.keep_answers:
            self.answers[len(self.rows)] = answer
        self.rows.append(row)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.rows)

    def newest_first(self) -> list[Exchange]:
        return list(reversed(self.rows))


def as_json(row: Exchange) -> dict[str, object]:
    """One row of the report's `requests`."""
    out: dict[str, object] = {
        "backend": row.backend,
        "method": row.method,
        "path": row.path,
        "query": [[k, v] for k, v in row.query],
        "status": row.status,
        "elapsed_s": round(row.elapsed_s, 4),
        "bytes": row.size,
    }
    if row.error:
        out["error"] = row.error
    return out
