"""Provides `Session`: what the screen looks at (context, plugin, tenant, range, clock, tail pacing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from plugintop.config.context import Context
from plugintop.live.follow import TAIL_SINCE_S
from plugintop.querylog import Exchange
from plugintop.timerange import Clock, TimeRange, system_clock


@dataclass
class Session:
    """What the screen looks at."""

    ctx: Context
    context_name: str
    plugin: str
    tenant: str
    range: TimeRange
    p99_target_s: float | None = None
    clock: Clock = system_clock
    tail_every: float = 2.0
    tail_since: float = TAIL_SINCE_S
    reproduce_every: float = 5.0
    urls: dict[str, str] = field(default_factory=dict)
    utc: bool = False
    """Times in UTC at start (`u` toggles), else local time."""
    replay: list[tuple[Exchange, bytes]] | None = None
    """A bundle's exchanges: every answer comes from them, the clock stands at `saved_at`."""
    saved_at: float = 0.0
