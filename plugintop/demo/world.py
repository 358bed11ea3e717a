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
from collections.abc import Iterable, Iterator
from functools import lru_cache

from plugintop.demo import ids
from plugintop.demo.realism import lag, name_key, pick, sampled, unit, user_index
from plugintop.demo.scenario import Incident, Scenario, Tool
from plugintop.demo.slots import BUCKETS, PRICES, Call, Part, SlotStats, error_message, grow, prompt_tokens, spread
from plugintop.timerange import Clock, system_clock


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
        self.mixes = [t.model_mix for t in scenario.tools]
        """Each tool's model mix (model → share)."""
        r = self.realism = scenario.realism
        self.buckets: tuple[float, ...] = (*r.buckets, math.inf) if r.buckets else BUCKETS
        """The histogram's `le` bounds, +Inf last."""
        self.pods = r.pods
        self.restart_slots = frozenset(int(x // self.slot_s) for x in r.restart_times(self.now0))
        """Slots in which the pods restarted: the counters count from 0 in them."""
        self.log_lag = r.log_lag_s
        self.trace_lag = r.trace_lag_s

    # ----- realism ------------------------------------------------------------------------------
    def sampled(self, trace_id: str) -> bool:
        """Whether head sampling kept the call's trace (its spans and exemplars)."""
        return sampled(trace_id, self.realism.trace_sampling)

    def trace_ready(self, c: Call, now: float) -> bool:
        """Whether the call's trace is searchable at `now` (it ended at least its lag ago)."""
        lo, hi = self.trace_lag
        return hi <= 0 or c.end + lag(lo, hi, self.seed, int(c.trace_id[:16], 16)) <= now

    def missed(self, pod: int, k: int) -> bool:
        """Whether the scrape of `pod` at the end of slot `k` was lost."""
        share = self.realism.missed_scrapes
        return share > 0 and unit(self.seed, 0x5C4A9E, pod, k) < share

    # ----- time ---------------------------------------------------------------------------------
    def now(self) -> float:
        """The stack's current time: data exists up to here (it keeps growing while it runs)."""
        return max(self.clock(), self.now0)

    def last_slot(self, now: float | None = None) -> int:
        """The newest slot whose calls have all completed."""
        return int((self.now() if now is None else now) // self.slot_s) - 1

    def slots(self, start: float, end: float, upto: float | None = None) -> range:
        """Slots whose end lies in (start, end], clipped to the data that exists (the slots complete by
        `upto`, by now unless told)."""
        lo = max(self.first_slot, int(math.floor(start / self.slot_s)))
        hi = min(self.last_slot(upto), int(math.floor(end / self.slot_s)) - 1)
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
        got = self.active(tenant, tool, t, version)
        return got[0] if got else None

    def active(self, tenant: str, tool: str, t: float, version: str | None = None) -> tuple[Incident, float] | None:
        """The incident acting on the tenant's calls of the tool at `t` and how far it has grown (0..1, 1 at
        once for a step onset). A neighbour incident, and a cpu incident with `contention`, act on every tenant
        of the tool: a surge (or dearer calls) for its own, contention for the others."""
        for inc, a, b in self.incidents:
            if inc.tool == tool and (inc.tenant in ("*", tenant) or inc.contends) and a <= t < b:
                if inc.version is None or inc.version == (version or self.version_at(tenant, t)):
                    ramp = inc.ramp_s()
                    return inc, min(1.0, (t - a) / ramp) if ramp > 0 else 1.0
        return None

    def facts(self, ti: int, tj: int, k: int, q: int) -> dict[str, str | int | float]:
        """What the call at quantile `q` of a slot is about: `user.id`, `llm.model` and the plugin's own
        attributes, drawn from a hash (so the slot's aggregates can tell the calls apart)."""
        tool = self.scenario.tools[tj]
        h = (self.seed, ti, tj, k, q)
        out: dict[str, str | int | float] = {"user.id": f"u-{user_index(tool.users, unit(*h, 1))}"}
        mix_ = self.mixes[tj]
        out["llm.model"] = pick(mix_, unit(*h, 2)) if len(mix_) > 1 else tool.llm_model
        for a in tool.attributes:
            u = unit(*h, name_key(a.name))
            if a.values:
                out[a.name] = pick(a.values, u)
            else:
                lo, hi = a.range
                x = lo + (hi - lo) * u
                out[a.name] = int(x) if lo.is_integer() and hi.is_integer() else round(x, 3)
        return out

    @lru_cache(maxsize=200_000)  # noqa: B019 - the world lives as long as the stack
    def slot(self, ti: int, tj: int, k: int) -> SlotStats:
        """The aggregate facts of one slot."""
        tenant, tool = self.scenario.tenants[ti], self.scenario.tools[tj]
        rng = random.Random(f"{self.seed}:slot:{ti}:{tj}:{k}")
        t = (k + 1) * self.slot_s
        wave = 1 + 0.15 * math.sin(2 * math.pi * t / 5400 + ti)
        version = self.version_at(tenant, t)
        got = self.active(tenant, tool.name, t, version)
        inc, grown = got if got else (None, 0.0)
        own = inc is not None and inc.tenant in ("*", tenant)
        surge = inc is not None and inc.cause == "neighbour" and own
        cpm = tool.calls_per_min * (grow(1.0, inc.factor, grown) if inc is not None and surge else 1.0)
        n = max(1, round(cpm * self.slot_s / 60 * wave + rng.uniform(-1, 1)))
        median = tool.median_ms / 1000 * (1 + 0.08 * math.sin(2 * math.pi * t / 3600 + tj)) * rng.uniform(0.95, 1.05)
        base = tuple(median * e for e in spread(n))
        models = self._models(ti, tj, k, n) if len(self.mixes[tj]) > 1 else ()
        affected = None
        if inc is not None and inc.where and own:
            affected = frozenset(
                q for q in range(n) if all(str(v) == inc.where.get(a) for a, v in self._where(ti, tj, k, q, inc))
            )
        ratio = tool.error_ratio
        if inc is not None and inc.cause == "errors":
            ratio = grow(tool.error_ratio, inc.factor, grown)
        pool = range(n) if affected is None else sorted(affected)
        expected = len(pool) * ratio
        n_err = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        # (no sample when there is no failure: it draws nothing then, and its Sequence check is slow)
        errors = frozenset(rng.sample(pool, min(len(pool), n_err))) if n_err else frozenset()
        factor = 1.0
        if inc is not None and (inc.cause == "neighbour" or not own):  # not own: another tenant's contention
            factor = 1.0 if surge else grow(1.0, inc.contention, grown)
        elif inc is not None and inc.cause != "errors":
            factor = grow(1.0, inc.factor, grown)
        prompt_mult = 1.0
        if inc is not None and inc.cause in ("llm", "cost"):
            prompt_mult = grow(1.0, inc.prompt_tokens_factor, grown)
        cause = None if inc is None else inc.cause if own else "neighbour"  # (its awaits stretch)
        return SlotStats(n, base, factor, cause, errors, inc, version, affected, prompt_mult, models, k)

    def _models(self, ti: int, tj: int, k: int, n: int) -> tuple[str, ...]:
        mix_ = self.mixes[tj]
        return tuple(pick(mix_, unit(self.seed, ti, tj, k, q, 2)) for q in range(n))

    def _where(self, ti: int, tj: int, k: int, q: int, inc: Incident) -> list[tuple[str, str | int | float]]:
        facts = self.facts(ti, tj, k, q)
        return [(a, facts.get(a, "")) for a in inc.where]

    def model(self, tool: Tool, stats: SlotStats, q: int) -> str:
        """The model of the call at quantile `q`."""
        return stats.models[q] if stats.models else tool.llm_model

    def bucket_counts(self, ti: int, tj: int, k: int, ok: bool) -> list[int]:
        """Observations per `le` bucket (cumulative) of one slot, successes or failures."""
        s = self.slot(ti, tj, k)
        buckets = self.buckets
        if s.affected is not None:
            return self.subset_buckets(s, range(s.n), ok)
        if not s.errors:  # most slots: no failure to count or take out
            if not ok:
                return [0] * len(buckets)
            mult, base = s.ok_mult, s.base
            return [bisect.bisect_right(base, le / mult) for le in buckets]
        if not ok:
            return [sum(1 for q in s.errors if s.latency(q) <= le) for le in buckets]
        mult = s.ok_mult
        # the calls that would have succeeded at these bounds, less the failed ones among them
        err = [sum(1 for q in s.errors if s.base[q] * mult <= le) for le in buckets]
        return [bisect.bisect_right(s.base, le / mult) - e for le, e in zip(buckets, err, strict=True)]

    def latency_sum(self, ti: int, tj: int, k: int, ok: bool) -> float:
        s = self.slot(ti, tj, k)
        if s.affected is not None:
            return sum(s.latency(q) for q in range(s.n) if (q in s.errors) != ok)
        if not ok:
            return sum(s.latency(q) for q in s.errors)
        return sum(s.base) * s.ok_mult - sum(s.base[q] * s.ok_mult for q in s.errors)

    def subset_buckets(self, s: SlotStats, qs: Iterable[int], ok: bool) -> list[int]:
        """Observations per `le` bucket (cumulative) of some of a slot's calls, successes or failures."""
        lat = sorted(s.latency(q) for q in qs if (q not in s.errors) == ok)
        return [bisect.bisect_right(lat, le) for le in self.buckets]

    def pod_of(self, s: SlotStats, q: int) -> int:
        """The pod that served the call at quantile `q` (round robin over the quantiles)."""
        return (q + s.k) % self.pods

    def pod_quantiles(self, s: SlotStats) -> list[range]:
        """Each pod's quantile indices in a slot."""
        return [range((p - s.k) % self.pods, s.n, self.pods) for p in range(self.pods)]

    def parts(self, tool: Tool, stats: SlotStats, q: int) -> tuple[Part, ...]:
        """The child spans of the call at quantile `q`, in order; they add up to its latency. A throttled
        model call is several attempts: the failed ones (429) carry the extra time, the last succeeds."""
        extra = stats.latency(q) - stats.base[q]
        parts = self._split(tool, stats.base[q], extra, stats, self.model(tool, stats, q))
        if stats.cause != "throttling" or extra <= 0:
            return parts
        retries = max(1, round(stats.factor - 1))
        out: list[Part] = []
        for p in parts:
            if p.role == "llm":
                each = extra / retries
                msg = "Error code: 429 - Rate limit reached, please retry after a moment"
                out += [Part(p.name, p.kind, each, "llm", msg) for _ in range(retries)]
                out.append(Part(p.name, p.kind, p.seconds - extra, "llm"))
            else:
                out.append(p)
        return tuple(out)

    def _split(
        self, tool: Tool, d0: float, extra: float, stats: SlotStats | None, model: str | None = None
    ) -> tuple[Part, ...]:
        """The child spans of `d0` healthy seconds plus the incident's `extra` (linear in both, so the
        spans of a sum of calls are the sum of their spans), where the slot's cause puts it."""
        inc, cause = (stats.incident, stats.cause) if stats is not None else (None, None)
        llm = d0 * tool.llm_share
        rest = d0 - llm
        down_total = rest * 0.5 if tool.downstream else 0.0
        code_total = rest - down_total
        weights = self._fn_weights[tool.name]
        code = [code_total * w for w in weights]
        down = [down_total / len(tool.downstream)] * len(tool.downstream) if tool.downstream else []
        if extra > 0 and inc is not None:
            if cause in ("llm", "errors", "throttling"):
                llm += extra
            elif cause == "neighbour":  # a busy event loop stretches every await: the model's and the DB's
                waits = llm + down_total
                share = llm / waits if waits > 0 else 1.0
                llm += extra * share
                down = [d + extra * (1 - share) / len(down) for d in down]
            elif cause == "cpu" and inc.function in tool.functions:
                code[tool.functions.index(inc.function)] += extra
            elif cause == "downstream" and inc.span in tool.downstream:
                down[tool.downstream.index(inc.span)] += extra
        out = [Part(tool.functions[0], "internal", code[0], "code")]
        out += [Part(name, "client", sec, "downstream") for name, sec in zip(tool.downstream, down, strict=True)]
        out.append(Part(f"chat {model or tool.llm_model}", "client", llm, "llm"))
        out += [Part(f, "internal", c, "code") for f, c in zip(tool.functions[1:], code[1:], strict=True)]
        return tuple(out)

    def llm_seconds(self, tool: Tool, stats: SlotStats, q: int) -> float:
        """Seconds in the model call of the call at quantile `q` (as `parts` has it)."""
        llm = stats.base[q] * tool.llm_share
        if stats.cause in ("llm", "errors"):  # (a throttled call's extra time is in failed attempts: no tokens)
            llm += stats.latency(q) - stats.base[q]
        return llm

    def tokens(self, tool: Tool, stats: SlotStats, q: int) -> tuple[int, int, float]:
        """(prompt, completion, cost USD) of the call at quantile `q`."""
        llm = self.llm_seconds(tool, stats, q)
        hit = stats.hit(q)
        m = stats.token_mult if hit else 1.0
        pm = m * stats.prompt_mult if hit and stats.prompt_mult != 1.0 else m
        model = self.model(tool, stats, q)
        prompt = round((600 + 600 * (q + 0.5) / stats.n) * pm)
        completion = 0 if model.startswith("text-embedding") else max(8, round(llm * 1000 * 1.4 * m))
        pin, pout = PRICES.get(model, (1.0, 2.0))
        return prompt, completion, (prompt * pin + completion * pout) / 1e6

    def model_token_sums(self, ti: int, tj: int, k: int, qs: Iterable[int] | None = None) -> dict[str, list[float]]:
        """Model → [prompt, completion, cost] of some of a slot's calls (all of them by default)."""
        tool, s = self.scenario.tools[tj], self.slot(ti, tj, k)
        if qs is None and s.plain:
            return {tool.llm_model: list(self.token_sums(ti, tj, k))}
        out = {m: [0.0, 0.0, 0.0] for m in self.mixes[tj]}
        for q in range(s.n) if qs is None else qs:
            a, b, usd = self.tokens(tool, s, q)
            acc = out[self.model(tool, s, q)]
            acc[0] += a
            acc[1] += b
            acc[2] += usd
        return out

    def token_sums(self, ti: int, tj: int, k: int) -> tuple[int, int, float]:
        tool, s = self.scenario.tools[tj], self.slot(ti, tj, k)
        if s.cause in ("llm", "errors") or not s.plain:  # the calls differ in more than their quantile
            p = c = 0
            cost = 0.0
            for q in range(s.n):
                a, b, usd = self.tokens(tool, s, q)
                p, c, cost = p + a, c + b, cost + usd
            return p, c, cost
        # otherwise `tokens` inlined (the same arithmetic, term by term): the warm-up's hot loop
        m, n, share = s.token_mult, s.n, tool.llm_share
        embed = tool.llm_model.startswith("text-embedding")
        prompts = prompt_tokens(n, m)
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
        # a wait burns CPU for the answer it reads (parsing, TLS), not for how long it waited: a slower
        # model or database, or a busy event loop, leaves these frames as they were
        waits = {(w.name, w.role): w.seconds for w in self._split(tool, sum(stats.base), 0.0, None)}
        for p in self._split(tool, sum(stats.base), extra, stats):  # the slot's calls at once
            if p.role == "code":
                stack = (*root, p.name)
                sec = p.seconds
            elif p.role == "downstream":
                stack = (*root, p.name.replace(".", "_") + "_client.request", "json.loads")
                sec = waits.get((p.name, p.role), p.seconds) * 0.1
            else:
                stack = (*root, "httpx.AsyncClient.send", "ssl.SSLSocket.read")
                sec = waits.get((p.name, p.role), p.seconds) * 0.03
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
            facts = self.facts(ti, tj, k, q)
            rng.randrange(1, 60)  # (the draw a user number once took: the session ids stay as they were)
            model = str(facts.pop("llm.model"))
            user = str(facts.pop("user.id"))
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
                    user=user,
                    attrs={"session": f"sess-{rng.getrandbits(48):012x}"},
                    version=s.version,
                    error=None
                    if q not in s.errors
                    else error_message(tool, s, parts, s.latency(q), random.Random(f"{self.seed}:err:{key}")),
                    model=model,
                    pod=self.pod_of(s, q),
                    tags=facts,
                )
            )
        return tuple(out)

    def call(self, trace_id: str, upto: float | None = None) -> Call | None:
        """The call behind a trace id, if it exists (and its slot has completed by `upto`, by now unless
        told: a caller that checks each call's own end may look into the current slot)."""
        key = ids.decode_trace_id(self.seed, trace_id)
        if key is None:
            return None
        ti, tj, k, i = key
        if not (0 <= ti < len(self.scenario.tenants) and 0 <= tj < len(self.scenario.tools)):
            return None
        if not (self.first_slot <= k <= self.last_slot(upto)):
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
        upto: float | None = None,
    ) -> Iterator[Call]:
        """Calls that completed in [start, end], slot by slot, of the slots complete by `upto` (now unless
        told); slots whose slowest call is not longer than `min_duration` are skipped without materialising
        them."""
        slots = self.slots(start - self.slot_s, end + self.slot_s, upto)
        order = reversed(slots) if newest_first else iter(slots)
        tis = tenants if tenants is not None else range(len(self.scenario.tenants))
        tjs = tools if tools is not None else range(len(self.scenario.tools))
        for k in order:
            pairs = [(ti, tj) for ti in tis for tj in tjs]
            if min_duration is not None:
                pairs = [(ti, tj) for ti, tj in pairs if self.slot(ti, tj, k).slowest > min_duration]
            batch = [c for ti, tj in pairs for c in self.calls(ti, tj, k) if start <= c.end <= end]
            batch.sort(key=lambda c: c.end, reverse=newest_first)
            yield from batch

    def _weights(self, tool: Tool) -> list[float]:
        rng = random.Random(f"{self.seed}:fn:{tool.name}")
        raw = [rng.uniform(0.5, 1.5) for _ in tool.functions]
        total = sum(raw)
        return [r / total for r in raw]
