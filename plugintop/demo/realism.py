"""Provides the deterministic draws behind the `[realism]` table (DESIGN §5.2) and the v3 per-call facts:
a cheap integer hash to a uniform number, head sampling as OpenTelemetry's `TraceIdRatioBased` decides it,
lags, lost scrapes, the pods and their names."""

from __future__ import annotations

import zlib
from collections.abc import Mapping

_MASK = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): fast, deterministic, well spread."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (p & _MASK)) + 0x9E3779B97F4A7C15 & _MASK
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
        h = (h ^ (h >> 27)) * 0x94D049BB133111EB & _MASK
        h ^= h >> 31
    return h


def unit(*parts: int) -> float:
    """A uniform number in [0, 1) from the hash of `parts` (Python's tuple hash of integers: the same in
    every process, unlike a string's; multiplied through to spread its bits)."""
    h = (hash(parts) & _MASK) * 0x9E3779B97F4A7C15 & _MASK
    h ^= h >> 29
    return ((h * 0xBF58476D1CE4E5B9 & _MASK) >> 11) / float(1 << 53)


def name_key(name: str) -> int:
    """A stable integer for a name, to mix into a hash."""
    return zlib.crc32(name.encode())


def pick(shares: Mapping[str, float], u: float) -> str:
    """The key whose cumulative share passes `u` (shares need not sum to 1)."""
    total = sum(shares.values())
    acc = 0.0
    last = ""
    for k, w in shares.items():
        acc += w / total
        last = k
        if u < acc:
            return k
    return last


def sampled(trace_id: str, ratio: float) -> bool:
    """Whether head sampling keeps the trace: OpenTelemetry's `TraceIdRatioBased` compares the trace id's
    low 8 bytes (shifted right by one) with `ratio` × 2^63."""
    if ratio >= 1.0:
        return True
    return int(trace_id[16:32], 16) >> 1 < int(ratio * (1 << 63))


def lag(lo: float, hi: float, *parts: int) -> float:
    """A delay in [lo, hi] drawn from the hash of `parts`."""
    return lo if hi <= lo else lo + (hi - lo) * unit(*parts)


def user_index(n_users: int, u: float) -> int:
    """A user number 1..N, log-uniform: a few heavy users (u-1 the heaviest), a long tail."""
    return max(1, min(n_users, int((n_users + 1) ** u)))


def pod_name(plugin: str, seed: int, p: int) -> str:
    """A Kubernetes-looking pod name of a Deployment's replica."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    h = mix(seed, name_key(plugin))
    rs = "".join(alphabet[(h >> (5 * i)) % len(alphabet)] for i in range(9))
    g = mix(seed, name_key(plugin), p + 1)
    suffix = "".join(alphabet[(g >> (5 * i)) % len(alphabet)] for i in range(5))
    return f"{plugin}-{rs}-{suffix}"


def pod_address(seed: int, p: int) -> str:
    """The pod's `instance`: its IP and the metrics port."""
    return f"10.42.{p % 250}.{2 + mix(seed, 0x1D, p) % 250}:9464"
