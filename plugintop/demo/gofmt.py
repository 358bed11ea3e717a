"""Provides number formatting exactly as the Go backends write it (Prometheus `MarshalFloat`)."""

from __future__ import annotations

import math
from decimal import Decimal


def go_float(f: float) -> str:
    """`strconv.FormatFloat(f, 'f' or 'e', -1, 64)` as Prometheus marshals sample values."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "0"
    if 1e-6 <= abs(f) < 1e21:
        text = format(Decimal(repr(f)), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    mant, _, exp = repr(f).partition("e")
    e = int(exp)
    return f"{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"


def go_ts(t: float) -> float | int:
    """A timestamp in seconds with at most millisecond precision, an int when whole."""
    ms = round(t * 1000)
    return ms // 1000 if ms % 1000 == 0 else ms / 1000
