"""Provides `World`: deterministic synthetic telemetry for a scenario, a seed and a "now".

Time is cut into slots of the scenario's scrape interval (15 s unless it says otherwise). In each slot a (tenant, tool) pair completes N
calls whose latencies are the N mid-quantiles of a log-normal distribution (stratified, so every
per-slot aggregate — histogram buckets, sums, tokens, cost, CPU — is exact without materialising
the calls). Which call got which quantile, when it ran, its trace, spans and log lines are
materialised on demand from seeded generators. All four signals derive from the same calls.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist

from plugintop.demo import ids
from plugintop.demo.scenario import Incident, Scenario, Tool
from plugintop.timerange import Clock, system_clock

SLOT = 15.0
"""Seconds per slot by default: the scrape interval of the histograms and counters (`World.slot_s`)."""
BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 20.0, math.inf)
"""Histogram bucket upper bounds (`le`), seconds."""
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
def _spread(n: int) -> tuple[float, ...]:
    """`exp(SIGMA * z)` of each mid-quantile: a slot's latencies are its median times these."""
    return tuple(math.exp(SIGMA * z) for z in _z(n))


@lru_cache(maxsize=4096)
def _prompts(n: int, mult: float) -> tuple[int, ...]:
    """The prompt tokens of each of a slot's `n` calls (`World.tokens`): they depend on `n` alone."""
    return tuple(round((600 + 600 * (q + 0.5) / n) * mult) for q in range(n))


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

    @property
    def ok_mult(self) -> float:
        """Latency multiplier of every call of the slot (latency incidents)."""
        return self.factor if self.cause in ("llm", "cpu", "downstream") else 1.0

    def latency(self, q: int) -> float:
        lf = self.incident.latency_factor if self.cause == "errors" and self.incident and q in self.errors else 1.0
        return self.base[q] * self.ok_mult * lf

    @property
    def token_mult(self) -> float:
        return self.factor if self.cause == "cost" else 1.0


@dataclass(frozen=True, slots=True)
class Part:
    """A child span of a call: its name, kind and seconds."""

    name: str
    kind: str
    seconds: float
    role: str
    """`code`, `downstream` or `llm`."""


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

    @property
    def duration(self) -> float:
        return self.end - self.start


class World:
    """The synthetic telemetry of a scenario."""

    def __init__(self, scenario: Scenario, now: float | None = None, clock: Clock = system_clock) -> None:
        self.scenario = scenario
        self.clock = clock
        self.now0 = clock() if now is None else now
        self.seed = scenario.seed
        self.slot_s = scenario.scrape_s
        self.first_slot = int((self.now0 - scenario.history_s) // self.slot_s)
        self.incidents = [(inc, *inc.window(self.now0)) for inc in scenario.incidents]
        self.rollouts = sorted(((r.begins(self.now0), r) for r in scenario.rollouts), key=lambda x: x[0])
        self._fn_weights = {t.name: self._weights(t) for t in scenario.tools}

    # ----- time ---------------------------------------------------------------------------------
    def now(self) -> float:
        """The stack's current time: data exists up to here (it keeps growing while it runs)."""
        return max(self.clock(), self.now0)

    def last_slot(self, now: float | None = None) -> int:
        """The newest slot whose calls have all completed."""
        return int((self.now() if now is None else now) // self.slot_s) - 1

    def slots(self, start: float, end: float) -> range:
        """Slots whose end lies in (start, end], clipped to the data that exists."""
        lo = max(self.first_slot, int(math.floor(start / self.slot_s)))
        hi = min(self.last_slot(), int(math.floor(end / self.slot_s)) - 1)
        return range(lo, hi + 1)

    # ----- aggregates ---------------------------------------------------------------------------
    def version_at(self, tenant: str, t: float) -> str:
        """The version serving the tenant's calls at `t` (the latest rollout that began and covers it)."""
        version = self.scenario.version
        for begins, r in self.rollouts:
            if begins <= t and r.covers(tenant):
                version = r.version
        return version

    def incident_for(self, tenant: str, tool: str, t: float, version: str | None = None) -> Incident | None:
        for inc, a, b in self.incidents:
            if inc.tool == tool and inc.tenant in ("*", tenant) and a <= t < b:
                if inc.version is None or inc.version == (version or self.version_at(tenant, t)):
                    return inc
        return None

    @lru_cache(maxsize=200_000)  # noqa: B019 - the world lives as long as the stack
    def slot(self, ti: int, tj: int, k: int) -> SlotStats:
        """The aggregate facts of one slot."""
        tenant, tool = self.scenario.tenants[ti], self.scenario.tools[tj]
        rng = random.Random(f"{self.seed}:slot:{ti}:{tj}:{k}")
        t = (k + 1) * self.slot_s
        wave = 1 + 0.15 * math.sin(2 * math.pi * t / 5400 + ti)
        n = max(1, round(tool.calls_per_min * self.slot_s / 60 * wave + rng.uniform(-1, 1)))
        median = tool.median_ms / 1000 * (1 + 0.08 * math.sin(2 * math.pi * t / 3600 + tj)) * rng.uniform(0.95, 1.05)
        base = tuple(median * e for e in _spread(n))
        version = self.version_at(tenant, t)
        inc = self.incident_for(tenant, tool.name, t, version)
        ratio = inc.factor if inc and inc.cause == "errors" else tool.error_ratio
        expected = n * ratio
        n_err = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        # (no sample when there is no failure: it draws nothing then, and its Sequence check is slow)
        errors = frozenset(rng.sample(range(n), min(n, n_err))) if n_err else frozenset()
        factor = inc.factor if inc and inc.cause != "errors" else 1.0
        return SlotStats(n, base, factor, inc.cause if inc else None, errors, inc, version)

    def bucket_counts(self, ti: int, tj: int, k: int, ok: bool) -> list[int]:
        """Observations per `le` bucket (cumulative) of one slot, successes or failures."""
        s = self.slot(ti, tj, k)
        if not s.errors:  # most slots: no failure to count or take out
            if not ok:
                return [0] * len(BUCKETS)
            mult, base = s.ok_mult, s.base
            return [bisect.bisect_right(base, le / mult) for le in BUCKETS]
        if not ok:
            return [sum(1 for q in s.errors if s.latency(q) <= le) for le in BUCKETS]
        mult = s.ok_mult
        # the calls that would have succeeded at these bounds, less the failed ones among them
        err = [sum(1 for q in s.errors if s.base[q] * mult <= le) for le in BUCKETS]
        return [bisect.bisect_right(s.base, le / mult) - e for le, e in zip(BUCKETS, err, strict=True)]

    def latency_sum(self, ti: int, tj: int, k: int, ok: bool) -> float:
        s = self.slot(ti, tj, k)
        if not ok:
            return sum(s.latency(q) for q in s.errors)
        return sum(s.base) * s.ok_mult - sum(s.base[q] * s.ok_mult for q in s.errors)

    def parts(self, tool: Tool, stats: SlotStats, q: int) -> tuple[Part, ...]:
        """The child spans of the call at quantile `q`, in order; they add up to its latency."""
        return self._split(tool, stats.base[q], stats.latency(q) - stats.base[q], stats.incident)

    def _split(self, tool: Tool, d0: float, extra: float, inc: Incident | None) -> tuple[Part, ...]:
        """The child spans of `d0` healthy seconds plus the incident's `extra` (linear in both, so the
        spans of a sum of calls are the sum of their spans)."""
        llm = d0 * tool.llm_share
        rest = d0 - llm
        down_total = rest * 0.5 if tool.downstream else 0.0
        code_total = rest - down_total
        weights = self._fn_weights[tool.name]
        code = [code_total * w for w in weights]
        down = [down_total / len(tool.downstream)] * len(tool.downstream) if tool.downstream else []
        if extra > 0 and inc is not None:
            if inc.cause in ("llm", "errors"):
                llm += extra
            elif inc.cause == "cpu" and inc.function in tool.functions:
                code[tool.functions.index(inc.function)] += extra
            elif inc.cause == "downstream" and inc.span in tool.downstream:
                down[tool.downstream.index(inc.span)] += extra
        out = [Part(tool.functions[0], "internal", code[0], "code")]
        out += [Part(name, "client", sec, "downstream") for name, sec in zip(tool.downstream, down, strict=True)]
        out.append(Part(f"chat {tool.llm_model}", "client", llm, "llm"))
        out += [Part(f, "internal", c, "code") for f, c in zip(tool.functions[1:], code[1:], strict=True)]
        return tuple(out)

    def llm_seconds(self, tool: Tool, stats: SlotStats, q: int) -> float:
        """Seconds in the model call of the call at quantile `q` (as `parts` has it)."""
        llm = stats.base[q] * tool.llm_share
        if stats.cause in ("llm", "errors"):
            llm += stats.latency(q) - stats.base[q]
        return llm

    def tokens(self, tool: Tool, stats: SlotStats, q: int) -> tuple[int, int, float]:
        """(prompt, completion, cost USD) of the call at quantile `q`."""
        llm = self.llm_seconds(tool, stats, q)
        m = stats.token_mult
        prompt = round((600 + 600 * (q + 0.5) / stats.n) * m)
        completion = 0 if tool.llm_model.startswith("text-embedding") else max(8, round(llm * 1000 * 1.4 * m))
        pin, pout = PRICES.get(tool.llm_model, (1.0, 2.0))
        return prompt, completion, (prompt * pin + completion * pout) / 1e6

    def token_sums(self, ti: int, tj: int, k: int) -> tuple[int, int, float]:
        tool, s = self.scenario.tools[tj], self.slot(ti, tj, k)
        if s.cause in ("llm", "errors"):  # the model call's seconds vary per call: call by call
            p = c = 0
            cost = 0.0
            for q in range(s.n):
                a, b, usd = self.tokens(tool, s, q)
                p, c, cost = p + a, c + b, cost + usd
            return p, c, cost
        # otherwise `tokens` inlined (the same arithmetic, term by term): the warm-up's hot loop
        m, n, share = s.token_mult, s.n, tool.llm_share
        embed = tool.llm_model.startswith("text-embedding")
        prompts = _prompts(n, m)
        completions = [0] * n if embed else [max(8, round(b * share * 1000 * 1.4 * m)) for b in s.base]
        pin, pout = PRICES.get(tool.llm_model, (1.0, 2.0))
        p, c = sum(prompts), sum(completions)
        cost = 0.0
        for a, b in zip(prompts, completions, strict=True):
            cost += (a * pin + b * pout) / 1e6
        return p, c, cost

    def cpu(self, tj: int, stats: SlotStats) -> dict[tuple[str, ...], float]:
        """CPU seconds by stack for one slot of one (tenant, tool): code spans burn CPU, waits a little."""
        tool = self.scenario.tools[tj]
        root = ("python", "asyncio.run", "mcp.server.serve", "mcp.server.dispatch", tool.name)
        out: dict[tuple[str, ...], float] = {}
        stack: tuple[str, ...]
        extra = 0.0
        if stats.incident is not None:  # the calls' slowdowns, where they are slower (as `parts` has them)
            extra = sum(x for q in range(stats.n) if (x := stats.latency(q) - stats.base[q]) > 0)
        for p in self._split(tool, sum(stats.base), extra, stats.incident):  # the slot's calls at once
            if p.role == "code":
                stack = (*root, p.name)
                sec = p.seconds
            elif p.role == "downstream":
                stack = (*root, p.name.replace(".", "_") + "_client.request", "json.loads")
                sec = p.seconds * 0.1
            else:
                stack = (*root, "httpx.AsyncClient.send", "ssl.SSLSocket.read")
                sec = p.seconds * 0.03
            out[stack] = out.get(stack, 0.0) + sec
        return out

    # ----- materialised calls --------------------------------------------------------------------
    @lru_cache(maxsize=4096)  # noqa: B019
    def calls(self, ti: int, tj: int, k: int) -> tuple[Call, ...]:
        """The calls that completed in one slot, in completion order."""
        s = self.slot(ti, tj, k)
        tenant, tool = self.scenario.tenants[ti], self.scenario.tools[tj]
        rng = random.Random(f"{self.seed}:calls:{ti}:{tj}:{k}")
        order = list(range(s.n))
        rng.shuffle(order)
        out = []
        for i, q in enumerate(order):
            end = k * self.slot_s + (i + rng.uniform(0.1, 0.9)) * self.slot_s / s.n
            end = round(end, 6)
            parts = self.parts(tool, s, q)
            prompt, completion, cost = self.tokens(tool, s, q)
            key = (ti, tj, k, i)
            out.append(
                Call(
                    tenant=tenant,
                    tool=tool,
                    key=key,
                    trace_id=ids.trace_id(self.seed, key),
                    start=end - s.latency(q),
                    end=end,
                    ok=q not in s.errors,
                    parts=parts,
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    cost_usd=cost,
                    user=f"user-{rng.randrange(1, 60):03d}",
                    attrs={"session": f"sess-{rng.getrandbits(48):012x}"},
                    version=s.version,
                    error=None
                    if q not in s.errors
                    else self._error_message(tool, s, parts, s.latency(q), random.Random(f"{self.seed}:err:{key}")),
                )
            )
        return tuple(out)

    def call(self, trace_id: str) -> Call | None:
        """The call behind a trace id, if it exists (and has completed)."""
        key = ids.decode_trace_id(self.seed, trace_id)
        if key is None:
            return None
        ti, tj, k, i = key
        if not (0 <= ti < len(self.scenario.tenants) and 0 <= tj < len(self.scenario.tools)):
            return None
        if not (self.first_slot <= k <= self.last_slot()):
            return None
        calls = self.calls(ti, tj, k)
        return calls[i] if i < len(calls) else None

    def iter_calls(
        self,
        start: float,
        end: float,
        tenants: list[int] | None = None,
        tools: list[int] | None = None,
        newest_first: bool = False,
        min_duration: float | None = None,
    ) -> Iterator[Call]:
        """Calls that completed in [start, end], slot by slot; slots whose slowest call is not
        longer than `min_duration` are skipped without materialising them."""
        slots = self.slots(start - self.slot_s, end + self.slot_s)
        order = reversed(slots) if newest_first else iter(slots)
        tis = tenants if tenants is not None else range(len(self.scenario.tenants))
        tjs = tools if tools is not None else range(len(self.scenario.tools))
        for k in order:
            pairs = [(ti, tj) for ti in tis for tj in tjs]
            if min_duration is not None:
                pairs = [(ti, tj) for ti, tj in pairs if (s := self.slot(ti, tj, k)).latency(s.n - 1) > min_duration]
            batch = [c for ti, tj in pairs for c in self.calls(ti, tj, k) if start <= c.end <= end]
            batch.sort(key=lambda c: c.end, reverse=newest_first)
            yield from batch

    @staticmethod
    def _error_message(tool: Tool, s: SlotStats, parts: tuple[Part, ...], seconds: float, rng: random.Random) -> str:
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

    def _weights(self, tool: Tool) -> list[float]:
        rng = random.Random(f"{self.seed}:fn:{tool.name}")
        raw = [rng.uniform(0.5, 1.5) for _ in tool.functions]
        total = sum(raw)
        return [r / total for r in raw]
