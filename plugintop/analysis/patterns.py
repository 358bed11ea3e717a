"""Provides log message patterns: the window's error lines grouped by message with the variable parts
masked (numbers, ids, hex, IPs, quoted values), against the same grouping of the baseline's, keeping
the patterns that are new or grew; and Loki's own patterns (`/loki/api/v1/patterns`, where the Loki
has the pattern ingester) matched onto them for counts beyond the lines fetched."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

from plugintop.analysis.model import Pattern
from plugintop.models.loki import LogPattern

MASK = "<_>"
_MASKS = (
    re.compile(r'"[^"]*"|\'[^\']*\''),
    re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),
    re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b"),
    re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])"),
)
GROWTH = 2.0
"""A pattern counts as grown when the window has this many times its baseline count, or more."""
MAX_PATTERNS = 5


_NAME_CHARS = re.compile(r"[\w.-]+")
NAME_MAX = 64


def _is_name(word: str) -> bool:
    """A word that holds digits between letters: a model's or a package's name (`llama-3.1-8b-instruct`,
    `gpt-4o-mini`, `text-embedding-3-small`), kept whole; `u-42` or `req-12345` are ids, masked. Plain
    string tests, no backtracking: a log line is anyone's, and can be 10,000 characters of one word."""
    if not 3 < len(word) <= NAME_MAX or not word[:2].isalpha() or not _NAME_CHARS.fullmatch(word):
        return False
    first = next((i for i, c in enumerate(word) if c.isdigit()), -1)
    return first > 0 and any(c in "-_." for c in word[:first]) and any(c.isalpha() for c in word[first:])


def mask(message: str) -> str:
    """The message with its variable parts as `<_>`: "timeout after 3012 ms from 10.2.3.4" and
    "timeout after 2980 ms from 10.2.3.9" give one pattern; names that hold digits stay as written."""
    out = message
    for rx in _MASKS[:-1]:
        out = rx.sub(MASK, out)
    numbers = _MASKS[-1]
    return " ".join(word if _is_name(word) else numbers.sub(MASK, word) for word in out.split())


def message_of(line: str, fields: Sequence[str] = ("msg", "message")) -> str:
    """A JSON line's message field, or the line itself."""
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            return line
        if isinstance(obj, dict):
            for f in fields:
                v = obj.get(f)
                if isinstance(v, str) and v:
                    return v
    return line


def field_of(line: str, name: str) -> str | None:
    """A JSON line's top-level string field, or None."""
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    v = obj.get(name) if isinstance(obj, dict) else None
    return v if isinstance(v, str) and v else None


def _scale(fetched: int, total: int | None) -> float:
    """How many lines each fetched line stands for: 1 unless the fetched lines are a sample of `total`."""
    return total / fetched if total is not None and fetched > 0 and total > fetched else 1.0


def grouped(
    window: Iterable[tuple[str, str | None]],
    baseline: Iterable[str],
    fields: Sequence[str] = ("msg", "message"),
    *,
    window_total: int | None = None,
    baseline_total: int | None = None,
) -> list[Pattern]:
    """Patterns of the window's lines (line, trace id) that are new or grew against the baseline's lines,
    the largest growth first, each with its first line as the example.

    When a side's lines are a page out of more (`window_total`, `baseline_total`: every error line of that
    side, from a LogQL count), each pattern's count is scaled by the share it had of the page, so an error
    storm 50 times the page's size is compared with its baseline as a whole, never as one page against
    another; such a pattern says what it was estimated from (`sampled`)."""
    counts: dict[str, int] = {}
    example: dict[str, tuple[str, str | None]] = {}
    fetched = 0
    for line, trace_id in window:
        fetched += 1
        p = mask(message_of(line, fields))
        counts[p] = counts.get(p, 0) + 1
        example.setdefault(p, (line, trace_id))
    base: dict[str, int] = {}
    base_fetched = 0
    for line in baseline:
        base_fetched += 1
        p = mask(message_of(line, fields))
        base[p] = base.get(p, 0) + 1
    k, bk = _scale(fetched, window_total), _scale(base_fetched, baseline_total)
    sampled = (f"{fetched:,} of {window_total:,}" if k > 1 and window_total else "") + (
        f"{'; baseline ' if k > 1 else 'baseline '}{base_fetched:,} of {baseline_total:,}"
        if bk > 1 and baseline_total
        else ""
    )
    out = []
    for p, n in counts.items():
        now, before = round(n * k), round(base.get(p, 0) * bk)
        if now >= GROWTH * before and now > before:
            out.append(
                Pattern(
                    pattern=p,
                    count=now,
                    baseline_count=before,
                    example=example[p][0],
                    trace_id=example[p][1],
                    sampled=sampled or None,
                )
            )
    out.sort(key=lambda x: (-(x.count - x.baseline_count), x.pattern))
    return out[:MAX_PATTERNS]


def _loki_regex(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in pattern.split(MASK)]
    return re.compile(".*?".join(parts), re.DOTALL)


def with_loki(
    found: list[Pattern],
    loki: list[LogPattern],
    window: tuple[float, float],
    baseline: tuple[float, float],
    fields: Sequence[str] = ("msg", "message"),
) -> list[Pattern]:
    """`found` with the counts of Loki's pattern that matches each one's example message, where Loki's
    counts are higher (they cover every line, not only those fetched)."""
    compiled = [(lp, _loki_regex(lp.pattern)) for lp in loki if MASK in lp.pattern or lp.pattern]
    out = []
    for p in found:
        msg = message_of(p.example, fields)
        hit = next((lp for lp, rx in compiled if rx.fullmatch(msg) or rx.fullmatch(p.example)), None)
        if hit is not None:
            n, b = hit.count(*window), hit.count(*baseline)
            if n > p.count:
                p = Pattern(
                    pattern=p.pattern,
                    count=n,
                    baseline_count=max(b, p.baseline_count),
                    example=p.example,
                    trace_id=p.trace_id,
                )  # Loki's pattern ingester counted every line: no longer an estimate
        out.append(p)
    return out
