"""Provides time ranges: `--since 1h`, `--from/--to` (RFC3339, `now-2h`, epoch, anything dateutil
parses), durations, and the query step that keeps a series under the backends' point limits.

Everything inside plugintop is UTC epoch seconds (float); units are converted at the client boundary.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from plugintop.errors import UsageError

Clock = Callable[[], float]
"""Returns "now" as epoch seconds; injected so tests and the demo can freeze time."""

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)")
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)

MAX_POINTS = 11_000
"""Prometheus and Loki reject a range query with more points than this per series."""


def system_clock() -> float:
    """The real clock."""
    return time.time()


def parse_duration(text: str) -> float:
    """Parses `90s`, `5m`, `1h30m`, `1.5h`, `2d`, `500ms` into seconds.

    Raises:
        UsageError: the text is not a positive duration.
    """
    s = text.strip()
    pos = 0
    total = 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s or total <= 0:
        raise UsageError(f"not a duration: {text!r} (examples: 30s, 15m, 1h, 2h30m, 7d)")
    return total


def format_duration(seconds: float) -> str:
    """Formats seconds as the shortest exact Prometheus duration (`5m`, `90s`, `1h30m`); sub-second as ms."""
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    s = int(round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return "".join(parts)


def parse_time(text: str, now: float) -> float:
    """Parses `now`, `now-2h`, an RFC3339 timestamp, epoch seconds, or anything dateutil parses.

    Naive timestamps are taken as UTC.
    """
    s = text.strip()
    if s == "now":
        return now
    m = re.fullmatch(r"now\s*([+-])\s*(\S+)", s)
    if m:
        d = parse_duration(m.group(2))
        return now - d if m.group(1) == "-" else now + d
    if re.fullmatch(r"\d{9,10}(\.\d+)?", s):
        return float(s)
    try:
        from dateutil import parser as dateparser

        dt = dateparser.isoparse(s) if "T" in s else dateparser.parse(s)
    except (ValueError, OverflowError) as e:
        raise UsageError(f"not a time: {text!r} (examples: now-2h, 2026-11-26T13:00:00Z)") from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A closed range [start, end] in epoch seconds."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise UsageError("the range's end must be after its start")

    @property
    def duration(self) -> float:
        return self.end - self.start

    def shifted(self, seconds: float) -> TimeRange:
        """The same range moved by `seconds` (negative = earlier)."""
        return TimeRange(self.start + seconds, self.end + seconds)

    def before(self) -> TimeRange:
        """The range of equal length that ends where this one starts (the baseline)."""
        return TimeRange(self.start - self.duration, self.start)

    def zoomed(self, factor: float) -> TimeRange:
        """The range scaled around its centre (factor < 1 zooms in)."""
        mid = (self.start + self.end) / 2
        half = max(self.duration * factor / 2, 30.0)
        return TimeRange(mid - half, mid + half)

    def contains(self, t: float) -> bool:
        return self.start <= t <= self.end


def to_ns(t: float) -> int:
    """Epoch seconds as integer Unix nanoseconds (a bound of a query; timestamps read from a backend
    stay the integers it sent)."""
    return round(t * 1e9)


_FRACTION = re.compile(r"(?P<whole>.*T\d\d:\d\d:\d\d)\.(?P<frac>\d{1,9})(?P<zone>Z|[+-]\d\d:?\d\d)?", re.I)


def parse_time_ns(text: str, now: float) -> int:
    """`parse_time` to the nanosecond: an RFC3339 time's nine fractional digits, epoch seconds with a
    fraction, and Unix nanoseconds (19 digits, as Loki writes them) are kept exactly (a float near today's
    epoch resolves only ~240 ns)."""
    s = text.strip()
    if re.fullmatch(r"\d{18,19}", s):
        return int(s)
    m = re.fullmatch(r"(\d{9,10})\.(\d{1,9})", s)
    if m:
        return int(m.group(1)) * 1_000_000_000 + int(m.group(2).ljust(9, "0"))
    m = _FRACTION.fullmatch(s)
    if m:
        whole = round(parse_time(m.group("whole") + (m.group("zone") or ""), now))
        return whole * 1_000_000_000 + int(m.group("frac").ljust(9, "0"))
    return to_ns(parse_time(s, now))


def resolve_range_ns(
    since: str | None, start: str | None, end: str | None, clock: Clock = system_clock
) -> tuple[int, int]:
    """`resolve_range` in integer nanoseconds, exact to the nanosecond the user wrote."""
    now = clock()
    if not (start or end):
        rng = resolve_range(since, None, None, lambda: now)
        return to_ns(rng.start), to_ns(rng.end)
    if since:
        raise UsageError("give either --since or --from/--to, not both")
    hi = parse_time_ns(end, now) if end else to_ns(now)
    lo = parse_time_ns(start, now) if start else hi - 3600 * 1_000_000_000
    if hi <= lo:
        raise UsageError("the range's end must be after its start")
    return lo, hi


def to_rfc3339(t: float) -> str:
    """Epoch seconds as RFC3339 UTC with a `Z`."""
    dt = datetime.fromtimestamp(t, tz=UTC)
    if dt.microsecond:
        return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def resolve_range(since: str | None, start: str | None, end: str | None, clock: Clock = system_clock) -> TimeRange:
    """Builds the range from `--since` or `--from/--to` (default: the last hour)."""
    now = clock()
    if since and (start or end):
        raise UsageError("give either --since or --from/--to, not both")
    if start or end:
        t_end = parse_time(end, now) if end else now
        t_start = parse_time(start, now) if start else t_end - 3600
        return TimeRange(t_start, t_end)
    return TimeRange(now - parse_duration(since or "1h"), now)


def choose_step(duration: float, target_points: int = 240, max_points: int = MAX_POINTS) -> float:
    """A round step giving about `target_points` points and never more than `max_points - 1`."""
    floor = math.ceil(duration / (max_points - 1))
    want = duration / max(target_points, 1)
    for s in _NICE_STEPS:
        if s >= want and s >= floor:
            return float(s)
    return float(max(math.ceil(want), floor))
