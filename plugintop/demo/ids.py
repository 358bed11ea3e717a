"""Provides deterministic trace and span ids that encode which synthetic call they belong to, so a
trace can be rebuilt from its id alone (and an id that was never generated is "not found")."""

from __future__ import annotations

import hashlib
import struct

CallKey = tuple[int, int, int, int]
"""(tenant index, tool index, slot, call index within the slot)."""


def _hash(seed: int, data: bytes, size: int = 8) -> bytes:
    return hashlib.blake2b(data, digest_size=size, key=seed.to_bytes(8, "big", signed=True)).digest()


def trace_id(seed: int, key: CallKey) -> str:
    """The 32-hex trace id of a call."""
    ti, tj, slot, i = key
    payload = struct.pack(">BBHi", ti, tj, i, slot)
    head = _hash(seed, payload)
    mask = _hash(seed, head)
    return (head + bytes(a ^ b for a, b in zip(payload, mask, strict=True))).hex()


def decode_trace_id(seed: int, tid: str) -> CallKey | None:
    """The call a trace id names, or None when this seed never generated it."""
    try:
        raw = bytes.fromhex(tid.rjust(32, "0"))
    except ValueError:
        return None
    if len(raw) != 16:
        return None
    head, body = raw[:8], raw[8:]
    payload = bytes(a ^ b for a, b in zip(body, _hash(seed, head), strict=True))
    if _hash(seed, payload) != head:
        return None
    ti, tj, i, slot = struct.unpack(">BBHi", payload)
    return (ti, tj, slot, i)


def span_id(tid: str, index: int) -> str:
    """The 16-hex id of the `index`-th span of a trace."""
    return hashlib.blake2b(f"{tid}:{index}".encode(), digest_size=8).hexdigest()
