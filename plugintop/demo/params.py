"""Provides request-parameter parsing as the real backends do it (time units differ per API)."""

from __future__ import annotations

import re

from plugintop.demo.lex import QueryError
from plugintop.timerange import parse_duration


def prom_time(text: str | None, default: float) -> float:
    """Prometheus: RFC3339 or float unix seconds."""
    if text is None or text == "":
        return default
    try:
        return float(text)
    except ValueError:
        pass
    from dateutil import parser as dateparser

    try:
        return dateparser.isoparse(text).timestamp()
    except ValueError:
        raise QueryError(f'cannot parse "{text}" to a valid timestamp') from None


def prom_duration(text: str | None) -> float:
    """A step: a duration (`15s`) or float seconds."""
    if not text:
        raise QueryError("zero or negative query resolution step widths are not accepted. Try a positive integer")
    try:
        v = float(text)
    except ValueError:
        try:
            v = parse_duration(text)
        except Exception:
            raise QueryError(f'cannot parse "{text}" to a valid duration') from None
    if v <= 0:
        raise QueryError("zero or negative query resolution step widths are not accepted. Try a positive integer")
    return v


def loki_time(text: str | None, default: float) -> float:
    """Loki `parseTimestamp`: <= 10 digits seconds, more digits nanoseconds, a `.` float seconds, or RFC3339."""
    if text is None or text == "":
        return default
    if re.fullmatch(r"-?\d+", text):
        return int(text) / 1e9 if len(text.lstrip("-")) > 10 else float(text)
    try:
        return float(text)
    except ValueError:
        return prom_time(text, default)


def uint32_seconds(name: str, text: str | None) -> int | None:
    """Tempo search `start`/`end`: a uint32 of seconds, or the error Tempo gives."""
    if text is None or text == "":
        return None
    if not re.fullmatch(r"\d+", text) or int(text) > 2**32 - 1:
        reason = "value out of range" if text.isdigit() else "invalid syntax"
        raise QueryError(f'invalid {name}: strconv.ParseUint: parsing "{text}": {reason}')
    return int(text)
