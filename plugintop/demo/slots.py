"""Provides what the demo's world is made of: a slot's statistics (`SlotStats`: its calls' latency
quantiles, incident and model mix), a call's child spans (`Part`) and a materialised call (`Call`), with
the constants every signal shares (the slot length, the histogram's default buckets, model prices)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist

from plugintop.demo import ids
from plugintop.demo.scenario import Incident, Tool

SLOT = 15.0
"""Seconds per slot by default: the scrape interval of the histograms and counters (`World.slot_s`)."""
BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 20.0, math.inf)
"""Histogram bucket upper bounds (`le`), seconds."""
LATENCY_CAUSES = frozenset({"llm", "cpu", "downstream", "neighbour", "throttling"})
"""Causes that make the affected calls slower by the slot's factor."""
SIGMA = 0.45
"""Spread of the log-normal latency distribution."""
PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.0),
    "text-embedding-3-small": (0.02, 0.0),
}
"""USD per million (prompt, completion) tokens; other models cost (1, 2)."""


@lru_cache(maxsize=256)
def _z(n: int) -> tuple[float, ...]:
    """Standard-normal mid-quantiles (k + 0.5) / n, ascending."""
    nd = NormalDist()
    return tuple(nd.inv_cdf((k + 0.5) / n) for k in range(n))


@lru_cache(maxsize=256)
def spread(n: int) -> tuple[float, ...]:
    """`exp(SIGMA * z)` of each mid-quantile: a slot's latencies are its median times these."""
    return tuple(math.exp(SIGMA * z) for z in _z(n))


@lru_cache(maxsize=4096)
def prompt_tokens(n: int, mult: float) -> tuple[int, ...]:
    """The prompt tokens of each of a slot's `n` calls (`World.tokens`): they depend on `n` alone."""
    return tuple(round((600 + 600 * (q + 0.5) / n) * mult) for q in range(n))


def grow(a: float, b: float, share: float) -> float:
    """From `a` toward `b` by `share` (0..1): `b` itself once grown."""
    return b if share >= 1.0 else a + (b - a) * share


@dataclass(frozen=True, slots=True)
class SlotStats:
    """Everything aggregate about one (tenant, tool, slot), computed from the quantiles alone."""

    n: int
    base: tuple[float, ...]
    """Healthy latencies (s), ascending, one per quantile."""
    factor: float
    cause: str | None
    errors: frozenset[int]
    """Quantile indices whose call failed."""
    incident: Incident | None
    version: str = ""
    """The plugin version that served this slot's calls."""
    affected: frozenset[int] | None = None
    """Quantile indices the incident touches (its `where`); None: every call of the slot."""
    prompt_mult: float = 1.0
    """Prompt tokens per affected call × this (a prompt that grew)."""
    models: tuple[str, ...] = ()
    """The model of each quantile's call, when the tool has a mix; empty: the tool's `llm_model`."""
    k: int = 0
    """The slot's number."""

    @property
    def ok_mult(self) -> float:
        """Latency multiplier of the affected calls of the slot (latency incidents)."""
        return self.factor if self.cause in LATENCY_CAUSES else 1.0

    def hit(self, q: int) -> bool:
        """Whether the incident touches the call at quantile `q`."""
        return self.affected is None or q in self.affected

    def latency(self, q: int) -> float:
        lf = self.incident.latency_factor if self.cause == "errors" and self.incident and q in self.errors else 1.0
        if self.affected is not None and q not in self.affected:
            return self.base[q] * lf
        return self.base[q] * self.ok_mult * lf

    @property
    def token_mult(self) -> float:
        return self.factor if self.cause == "cost" else 1.0

    @property
    def slowest(self) -> float:
        """The slot's longest call (errors' timeouts aside)."""
        if self.affected is None:
            return self.latency(self.n - 1)
        return max(self.latency(q) for q in range(self.n))

    @property
    def plain(self) -> bool:
        """Whether every call of the slot is alike but for its quantile (the aggregates' fast paths)."""
        return self.affected is None and not self.models and self.prompt_mult == 1.0


@dataclass(frozen=True, slots=True)
class Part:
    """A child span of a call: its name, kind and seconds."""

    name: str
    kind: str
    seconds: float
    role: str
    """`code`, `downstream` or `llm`."""
    error: str | None = None
    """A failed child call's status message (a throttled model attempt)."""


@dataclass(frozen=True, slots=True)
class Call:
    """One materialised tool call."""

    tenant: str
    tool: Tool
    key: ids.CallKey
    trace_id: str
    start: float
    end: float
    ok: bool
    parts: tuple[Part, ...]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    user: str
    attrs: dict[str, str] = field(default_factory=dict)
    version: str = ""
    error: str | None = None
    """The failure's message (failed calls only)."""
    model: str = ""
    """The model the call used (the tool's `llm_model` unless it has a mix)."""
    pod: int = 0
    """The pod (replica) that served the call."""
    tags: dict[str, str | int | float] = field(default_factory=dict)
    """The plugin's own span attributes (`tools.attributes`)."""

    @property
    def duration(self) -> float:
        return self.end - self.start


def error_message(tool: Tool, s: SlotStats, parts: tuple[Part, ...], seconds: float, rng: random.Random) -> str:
    """A failed call's message: the incident's, one of the tool's, or a default naming the culprit."""
    if s.incident is not None and s.cause == "errors" and s.incident.message:
        template = s.incident.message
    elif tool.error_messages:
        template = tool.error_messages[rng.randrange(len(tool.error_messages))]
    else:
        culprit = next((p.name for p in parts if p.role == "downstream"), parts[-1].name)
        template = f"tool {tool.name} failed: {culprit} returned 503"
    values = {
        "{ms}": str(max(1, round(seconds * 1000 * rng.uniform(0.9, 1.1)))),
        "{id}": f"{rng.getrandbits(32):08x}" if rng.random() < 0.5 else str(rng.randrange(10_000, 999_999)),
        "{ip}": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "{model}": tool.llm_model,
    }
    for k, v in values.items():
        template = template.replace(k, v)
    return template
