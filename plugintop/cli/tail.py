"""Provides `plugintop tail`: the tenant's logs followed to stdout for pipes and scripts (like
`logcli query --tail`). Text is sanitised always (no control byte reaches stdout); `jsonl` writes one
JSON object a line (`json.dumps` escapes every control character)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from typing import TYPE_CHECKING, TextIO

from plugintop.cli.common import add_backends, add_target, demo_stack, load, settled
from plugintop.textsafe import inert
from plugintop.timerange import Clock, system_clock, to_rfc3339

if TYPE_CHECKING:
    from plugintop.clients.loki import LokiClient
    from plugintop.models.loki import LogEntry
    from plugintop.triage.follow import Batch

DESCRIPTION = "Follow the tenant's logs (Loki query_range from a cursor: nothing twice, nothing skipped)."


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tail", help="follow the tenant's logs", description=DESCRIPTION)
    add_target(p, since="5m")
    add_backends(p)
    p.add_argument("--filter", metavar="RE", help="only lines matching this regex")
    p.add_argument("--invert", action="store_true", help="with --filter: lines that do not match")
    p.add_argument("--pipeline", metavar="LOGQL", default="", help="a LogQL pipeline, e.g. '| json | level=\"error\"'")
    p.add_argument("--format", choices=["text", "jsonl"], default="text")
    p.add_argument("--for", dest="duration", metavar="DURATION", help="stop after this long (default: Ctrl-C)")
    p.add_argument("--every", metavar="DURATION", default="1s", help="poll interval (default 1s)")
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from plugintop.errors import ConfigError, UsageError
    from plugintop.queries.logql import LogQL
    from plugintop.timerange import parse_duration
    from plugintop.triage.connections import open_backends

    if ns.filter:
        try:
            re.compile(ns.filter)
        except re.error as e:
            raise UsageError(f"--filter is not a regular expression: {e}") from None
    since = parse_duration(ns.since or "5m")
    duration = parse_duration(ns.duration) if ns.duration else None
    every = parse_duration(ns.every)

    async def work() -> int:
        async with demo_stack(ns):
            loaded = load(ns, "tail")
            query = LogQL(loaded.context.telemetry).logs(ns.plugin, ns.tenant, ns.pipeline)
            async with await open_backends(loaded.context, only=("loki",)) as backends:
                if backends.loki is None:
                    raise ConfigError(f"loki: {backends.setup_errors['loki'].message}")
                return await run_tail(
                    backends.loki,
                    query,
                    system_clock() - since,
                    fmt=ns.format,
                    filter_re=ns.filter,
                    invert=ns.invert,
                    duration=duration,
                    every=every,
                )

    settled()
    return asyncio.run(work())


def format_entry(e: LogEntry, fmt: str) -> str:
    """One output line for an entry."""
    if fmt == "jsonl":
        obj = {"ts": to_rfc3339(e.ts_ns / 1e9), "ts_ns": str(e.ts_ns), "labels": e.labels, "line": e.line}
        if e.metadata:
            obj["metadata"] = e.metadata
        return json.dumps(obj, ensure_ascii=False)
    return f"{to_rfc3339(e.ts_ns / 1e9)} {inert(e.line)}"


def format_batch(batch: Batch, fmt: str, pattern: re.Pattern[str] | None, invert: bool) -> list[str]:
    out = []
    for g in batch.gaps:
        if fmt == "jsonl":
            out.append(
                json.dumps(
                    {
                        "gap": {
                            "start": to_rfc3339(g.start),
                            "end": to_rfc3339(g.end),
                            "reason": g.reason,
                            "recovered": g.recovered,
                        }
                    }
                )
            )
        else:
            state = "recovered, nothing lost" if g.recovered else "lines may be missing"
            out.append(f"-- gap {to_rfc3339(g.start)} .. {to_rfc3339(g.end)}: {inert(g.reason)} ({state}) --")
    for e in batch.entries:
        if pattern is not None and (pattern.search(e.line) is None) != invert:
            continue
        out.append(format_entry(e, fmt))
    return out


async def run_tail(
    loki: LokiClient,
    query: str,
    start: float,
    *,
    fmt: str = "text",
    filter_re: str | None = None,
    invert: bool = False,
    duration: float | None = None,
    every: float = 1.0,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    clock: Clock = system_clock,
) -> int:
    """Follows `query` from `start` until `duration` passes (or forever); returns the exit status."""
    from plugintop.triage.follow import LogFollower

    pattern = re.compile(filter_re) if filter_re else None
    follower = LogFollower(loki, query, start, clock=clock)
    deadline = time.monotonic() + duration if duration is not None else None
    last_error = None
    while True:
        batch = await follower.poll()
        lines = format_batch(batch, fmt, pattern, invert)
        if lines:
            out.write("\n".join(lines) + "\n")
            out.flush()
        if batch.error is not None:
            e = batch.error
            msg = f"plugintop tail: {e.backend}: {e.kind}: {e.message} (retrying every {every:g}s)"
            if msg != last_error:
                err.write(inert(msg) + "\n")
                err.flush()
            last_error = msg
        else:
            last_error = None
        if deadline is not None and time.monotonic() >= deadline:
            return 0
        if batch.behind and batch.error is None:
            continue
        wait = every if deadline is None else max(0.0, min(every, deadline - time.monotonic()))
        await asyncio.sleep(wait)
