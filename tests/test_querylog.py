"""The session's query log is bounded (the oldest rows go, counted) unless a bundle keeps every answer."""

from __future__ import annotations

import time

from plugintop.querylog import Exchange, QueryLog

NOW = time.time()


def row(i: int) -> Exchange:
    return Exchange(backend="prometheus", method="GET", path=f"/api/v1/query?{i}", status=200, started=NOW + i)


def test_past_its_limit_the_oldest_rows_go_and_are_counted() -> None:
    log = QueryLog(limit=3)
    for i in range(5):
        log.add(row(i))
    assert [r.started for r in log.newest_first()] == [NOW + 4, NOW + 3, NOW + 2]
    assert len(log) == 3 and log.dropped == 2


def test_a_bundle_keeps_every_row_and_its_answer() -> None:
    log = QueryLog(keep_answers=True, limit=3)
    for i in range(5):
        log.add(row(i), f"answer {i}".encode())
    assert len(log) == 5 and log.dropped == 0
    assert [log.answers[i] for i, _ in enumerate(log)] == [f"answer {i}".encode() for i in range(5)]
