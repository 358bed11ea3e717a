"""Provides how log lines and gaps are written to a pipe, for `tail` and `logs`: `text` (time and the
line, sanitised: no control byte reaches the terminal), `jsonl` (one JSON object a line; `json.dumps`
escapes every control character) and `raw` (the line as stored, for a file or another program; on a
terminal it is written as `text`). A line the tail found late (`follow.LateEntry`) says so: `(late by
12.4 s)` after its time in `text`, `"late_by_s"` in `jsonl`, nothing in `raw` (the line as stored)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from plugintop.textsafe import inert
from plugintop.timerange import to_rfc3339

if TYPE_CHECKING:
    from plugintop.models.loki import Gap, LogEntry

FORMATS = ("text", "jsonl", "raw")


def rfc3339_ns(ts_ns: int) -> str:
    """Integer nanoseconds as RFC3339 with all nine digits (a float would round them)."""
    sec, frac = divmod(ts_ns, 1_000_000_000)
    return f"{to_rfc3339(sec)[:-1]}.{frac:09d}Z"


def entry_line(e: LogEntry, fmt: str, late_ns: int = 0) -> str:
    """One output line for an entry (`late_ns`: found that long after its timestamp, past the settle
    window; 0: not late)."""
    if fmt == "raw":
        return e.line
    if fmt == "jsonl":
        obj: dict[str, object] = {"ts": rfc3339_ns(e.ts_ns), "ts_ns": str(e.ts_ns), "labels": e.labels}
        if late_ns:
            obj["late_by_s"] = round(late_ns / 1e9, 3)
        obj["line"] = e.line
        if e.metadata:
            obj["metadata"] = e.metadata
        return json.dumps(obj, ensure_ascii=False)
    if not late_ns:
        return f"{rfc3339_ns(e.ts_ns)} {inert(e.line)}"
    from plugintop.live.follow import late_by

    return f"{rfc3339_ns(e.ts_ns)} ({late_by(late_ns)}) {inert(e.line)}"


def gap_line(g: Gap, fmt: str) -> str:
    """One output line for a gap (in `raw`, as in `text`: a marker a reader can grep for)."""
    from plugintop.analysis import wording

    if fmt == "jsonl":
        gap = {"start": to_rfc3339(g.start), "end": to_rfc3339(g.end), "reason": g.reason, "recovered": g.recovered}
        return json.dumps({"gap": gap})
    return f"-- {inert(wording.gap(g, to_rfc3339))} --"


def lines(
    entries: Iterable[LogEntry], gaps: Iterable[Gap], fmt: str, pattern: re.Pattern[str] | None, invert: bool
) -> list[str]:
    """The gaps, then the entries that pass the filter, as output lines."""
    from plugintop.live.follow import LateEntry  # not at import: `--help` stays light

    out = [gap_line(g, fmt) for g in gaps]
    for e in entries:
        if pattern is not None and (pattern.search(e.line) is None) != invert:
            continue
        out.append(entry_line(e, fmt, e.late_ns if isinstance(e, LateEntry) else 0))
    return out
