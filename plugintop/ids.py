"""Provides `TraceId` and `SpanId`: the only forms in which an id from a backend, a log line, a prompt, the
command line or a bundle travels further. Each is lowercase hex of its W3C length, never all zeros; a
string that is not one is refused where it enters (`parse` gives None), so it is never put in a URL, a
query or a shell line."""

from __future__ import annotations

import re

_HEX = re.compile(r"[0-9a-f]+")


class _HexId(str):
    """Lowercase hex of a fixed length (`LENGTH`); shorter ids (64-bit trace ids) are left-padded."""

    __slots__ = ()
    LENGTH = 0
    SHORT = 0

    def __new__(cls, value: str) -> _HexId:
        v = value.strip().lower() if isinstance(value, str) else ""
        if len(v) == cls.SHORT and cls.SHORT:
            v = v.rjust(cls.LENGTH, "0")
        if len(v) != cls.LENGTH or not _HEX.fullmatch(v) or not v.strip("0"):
            raise ValueError(f"not a {cls.__name__}: expected {cls.LENGTH} hex digits")
        return super().__new__(cls, v)

    @classmethod
    def parse(cls, value: object) -> _HexId | None:
        """The id, or None when `value` is not one (wrong length, not hex, all zeros, not a string)."""
        if not isinstance(value, str) or len(value) > 4 * cls.LENGTH:
            return None
        try:
            return cls(value)
        except ValueError:
            return None


class TraceId(_HexId):
    """A W3C trace id: 32 lowercase hex digits (a 16-digit 64-bit id is left-padded with zeros)."""

    __slots__ = ()
    LENGTH = 32
    SHORT = 16

    @classmethod
    def parse(cls, value: object) -> TraceId | None:
        out = super().parse(value)
        return out if isinstance(out, TraceId) else None


class SpanId(_HexId):
    """A W3C span id: 16 lowercase hex digits."""

    __slots__ = ()
    LENGTH = 16

    @classmethod
    def parse(cls, value: object) -> SpanId | None:
        out = super().parse(value)
        return out if isinstance(out, SpanId) else None
