"""Provides Pyroscope flame graphs in their level encoding (decoded by `analysis.flame`), as `msgspec`
structs like the Tempo models."""

from __future__ import annotations

import msgspec


class FlameGraph(msgspec.Struct, frozen=True):
    """A flame graph as Pyroscope sends it.

    `levels[d]` holds 4 ints per node (`x_offset_delta, total, self, name_index`), or 7 for a diff
    (`l_off, l_total, l_self, r_off, r_total, r_self, name_index`). Names are untrusted text.
    """

    names: list[str]
    levels: list[list[int]]
    total: int
    max_self: int = 0
    units: str = "samples"
    sample_rate: int = 1_000_000_000
    left_ticks: int = 0
    right_ticks: int = 0
    diff: bool = False
    max_nodes: int = 0
    """The `maxNodes` the request asked for (0 = the server's default)."""


class ProfileType(msgspec.Struct, frozen=True):
    id: str
    name: str = ""
    sample_type: str = ""
    sample_unit: str = ""


class Timeline(msgspec.Struct, frozen=True):
    start: float
    step: float
    samples: list[int] = msgspec.field(default_factory=list)
