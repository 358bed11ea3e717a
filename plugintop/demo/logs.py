"""Provides the demo's log lines: JSON events of each call (`plugin.tool.invoked`, `.completed`,
`.failed`, slow model or downstream warnings) plus ordinary lines, as Loki would store them."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import msgspec

from plugintop.demo import ids
from plugintop.demo.realism import lag, name_key
from plugintop.demo.slots import Call
from plugintop.demo.world import World
from plugintop.schema import Schema
from plugintop.timerange import to_rfc3339


def id_of(stream: dict[str, str]) -> int:
    """A stable integer for a stream (its tenant's), to mix into a line's lag."""
    return name_key("\x00".join(stream.values()))


@dataclass(frozen=True, slots=True)
class LogLine:
    """A stored line: stream labels, structured metadata, and the fields `| json` extracts."""

    ts_ns: int
    line: str
    stream: dict[str, str]
    metadata: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)


_MEMO_SLOTS = 4096
"""(tenant, tool, slot) keys whose lines are remembered: a few hours of one tenant's calls."""
PREFETCH_S = 7200.0
"""How far back the lines of a tenant just asked about are made ahead: a range and its baseline."""


_ENCODE = msgspec.json.Encoder().encode


def _json_value(v: object) -> str:
    """A field's value as `| json` extracts it: strings as they are, anything else as its JSON."""
    return v if type(v) is str else _ENCODE(v).decode()


def _json_line(obj: dict[str, object]) -> str:
    """`obj` as `json.dumps` writes it compactly (non-ASCII escaped), through msgspec: 5 times as fast."""
    text = _ENCODE(obj).decode()
    if not text.isascii() or "\x7f" in text:  # msgspec writes these raw, json escapes them
        text = json.dumps(obj, separators=(",", ":"))
    return text


class LogStore:
    """Lines of every tenant's stream, generated from the `World`'s calls."""

    def __init__(self, world: World, schema: Schema | None = None) -> None:
        self.world = world
        self.s = schema or Schema()
        sc = world.scenario
        worst = max(
            (
                inc.latency_factor if inc.cause == "errors" else max(inc.factor, inc.contention)
                for inc in sc.incidents
                if inc.cause != "cost"
            ),
            default=1.0,
        )
        self.horizon = max(t.median_ms for t in sc.tools) / 1000 * 8 * max(worst, 1.0) + world.slot_s
        """No call lasts longer than this: how far past a range to look for calls that began in it."""
        self._memo: dict[tuple[int, int, int], list[tuple[Call, list[LogLine]]]] = {}
        self._making = threading.Lock()
        """Held while a slot's lines are made and remembered (the memo's only writer)."""
        self._prefetched: set[int] = set()
        self._serving = 0
        self._idle = threading.Condition()
        self.streams = [
            {self.s.log_plugin_label: sc.plugin, "service_name": "unknown_service", self.s.log_tenant_label: t}
            for t in sc.tenants
        ]

    def _line(self, ts: float, tenant_i: int, obj: dict[str, object], trace: str | None) -> LogLine:
        level = str(obj.get("level", "info"))
        ordered = {"ts": to_rfc3339(ts), **obj}
        meta = {"detected_level": level}
        if trace:
            meta[self.s.log_trace_field] = trace
        return LogLine(
            ts_ns=int(round(ts * 1e9)),
            line=_json_line(ordered),
            stream=self.streams[tenant_i],
            metadata=meta,
            fields={k: _json_value(v) for k, v in ordered.items()},
        )

    def call_lines(self, c: Call) -> list[LogLine]:
        """The lines one call writes."""
        ti = c.key[0]
        tid = c.trace_id
        sid = ids.span_id(tid, 0)
        s = self.s
        base = {
            s.log_tool_field: c.tool.name,
            s.log_tenant_label: c.tenant,
            s.log_version_field: c.version,
            s.log_trace_field: tid,
            s.log_span_field: sid,
            # the call's context, bound to every line it logs (as structlog's bind does): the model and
            # the plugin's own attributes, the same as on its span
            s.llm_model_attrs[0]: c.model or c.tool.llm_model,
            **c.tags,
        }
        out = [
            self._line(
                c.start,
                ti,
                {
                    "level": "info",
                    "event": "plugin.tool.invoked",
                    **base,
                    "user_id": c.user,
                    "msg": f"tool {c.tool.name} invoked",
                },
                tid,
            )
        ]
        t = c.start
        attempt = 0
        for p in c.parts:
            t += p.seconds
            slow = 1.0 if p.role == "llm" else 0.5
            if p.error is not None:  # a throttled model attempt: the plugin logs the 429 and retries
                attempt += 1
                out.append(
                    self._line(
                        t,
                        ti,
                        {
                            "level": "warn",
                            "event": "llm.rate_limited",
                            **base,
                            "attempt": attempt,
                            "span": p.name,
                            "msg": f"model {c.model} answered 429 Too Many Requests, retrying",
                        },
                        tid,
                    )
                )
            elif p.role != "code" and p.seconds > slow:
                event = "llm.slow_response" if p.role == "llm" else "downstream.slow"
                out.append(
                    self._line(
                        t,
                        ti,
                        {
                            "level": "warn",
                            "event": event,
                            **base,
                            "duration_ms": round(p.seconds * 1000, 1),
                            "span": p.name,
                            "msg": f"{p.name} took {p.seconds * 1000:.0f} ms",
                        },
                        tid,
                    )
                )
        if not c.ok:
            volume = self.world.realism.error_line_volume
            msg = c.error or f"tool {c.tool.name} failed"
            if volume == 1:
                obj: dict[str, object] = {"level": "error", "event": "plugin.tool.failed", **base, "msg": msg}
                out.append(self._line(c.end - 0.0005, ti, obj, tid))
            else:  # a storm: the failure logged again at every retry, the same message and trace
                gap = min(0.002, c.duration * 0.5 / volume)
                for i in range(volume):
                    obj = {"level": "error", "event": "plugin.tool.failed", **base, "retry": i, "msg": msg}
                    out.append(self._line(c.end - 0.0005 - (volume - 1 - i) * gap, ti, obj, tid))
        out.append(
            self._line(
                c.end,
                ti,
                {
                    "level": "info",
                    "event": "plugin.tool.completed",
                    **base,
                    "outcome": "success" if c.ok else "error",
                    "duration_ms": round(c.duration * 1000, 1),
                    "msg": f"tool {c.tool.name} completed",
                },
                tid,
            )
        )
        return out

    def ordinary_lines(self, ti: int, k: int) -> list[LogLine]:
        """Lines that belong to no call: cache statistics once per slot."""
        rng = random.Random(f"{self.world.seed}:log:{ti}:{k}")
        ts = k * self.world.slot_s + rng.uniform(0, self.world.slot_s)
        obj = {
            "level": "debug",
            "event": "cache.stats",
            "hit_ratio": round(rng.uniform(0.7, 0.99), 3),
            "entries": rng.randrange(900, 1100),
            "msg": "cache statistics",
        }
        return [self._line(ts, ti, obj, None)]

    def lines(self, tenants: list[int], start: float, end: float) -> list[LogLine]:
        """Every line of these tenants with start <= ts < end (unsorted) that has reached Loki by now: a
        line becomes queryable its `log_lag` after its timestamp."""
        w = self.world
        now = w.now()
        end = min(end, now + 1e-9)
        lo, hi = int(start * 1e9), int(end * 1e9)
        lag_lo, lag_hi = w.log_lag
        # each line arrives on its own (at its timestamp, or its lag after it), as a shipper sends it: the
        # calls of the slots still running are read too, never a whole slot at once when it completes
        upto = now + self.horizon + w.slot_s
        out: list[LogLine] = []
        for ti in tenants:
            for k in w.slots(start - w.slot_s, end + self.horizon, upto):
                if start - w.slot_s <= k * w.slot_s < end:
                    out.extend(x for x in self.ordinary_lines(ti, k) if lo <= x.ts_ns < hi)
                for tj in range(len(w.scenario.tools)):
                    for c, lines in self._slot_calls(ti, tj, k):
                        if c.start >= end or c.end + 1 < start:
                            continue
                        out.extend(x for x in lines if lo <= x.ts_ns < hi)
        if lag_hi > 0:  # the newest lines may not have reached Loki yet
            fresh = int((now - lag_hi) * 1e9)
            seed = w.seed
            out = [
                x
                for x in out
                if x.ts_ns <= fresh or x.ts_ns / 1e9 + lag(lag_lo, lag_hi, seed, x.ts_ns, id_of(x.stream)) <= now
            ]
        return out

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Marks a query being answered: the prefetch waits meanwhile."""
        with self._idle:
            self._serving += 1
        try:
            yield
        finally:
            with self._idle:
                self._serving -= 1
                self._idle.notify_all()

    def prefetch(self, tenants: list[int]) -> None:
        """Makes the last `PREFETCH_S` of a tenant's lines in the background, newest first, the first
        time a query asks for that tenant alone: a triage asks for its windows next, and the
        process is idle while the triage waits on Prometheus."""
        if len(tenants) != 1 or tenants[0] in self._prefetched:
            return
        ti = tenants[0]
        self._prefetched.add(ti)
        w = self.world
        now = w.now()
        slots = w.slots(now - PREFETCH_S, now)

        def run() -> None:
            for k in reversed(slots):
                for tj in range(len(w.scenario.tools)):
                    with self._idle:  # a query being answered goes first (they would share the GIL)
                        self._idle.wait_for(lambda: self._serving == 0)
                    self._slot_calls(ti, tj, k)

        threading.Thread(target=run, daemon=True, name=f"prefetch-{ti}").start()

    def _slot_calls(self, ti: int, tj: int, k: int) -> list[tuple[Call, list[LogLine]]]:
        """The calls of one slot with their lines, remembered (a window is queried several times)."""
        key = (ti, tj, k)
        got = self._memo.get(key)
        if got is not None:
            return got
        with self._making:  # concurrent queries over one range: each slot's lines made once, not by each
            got = self._memo.get(key)
            if got is None:
                got = [(c, self.call_lines(c)) for c in self.world.calls(ti, tj, k)]
                if len(self._memo) >= _MEMO_SLOTS:
                    self._memo.pop(next(iter(self._memo)))
                self._memo[key] = got
        return got
