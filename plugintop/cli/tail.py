"""Provides `plugintop tail`: the tenant's logs followed to stdout for pipes and scripts (like `logcli query
--tail`), every line once, live within a poll of reaching Loki, a line later than the settle window marked
late (see `live.follow`); with `--to`, the range is printed and it exits (`logs`)."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from plugintop.cli.common import add_backends, add_target, demo_stack, load, settled
from plugintop.cli.common import err as say
from plugintop.cli.lines import FORMATS, lines, rfc3339_ns
from plugintop.textsafe import inert
from plugintop.timerange import Clock, system_clock

if TYPE_CHECKING:
    from plugintop.clients.loki import LokiClient
    from plugintop.live.follow import Batch, LogFollower

DESCRIPTION = (
    "Follow the tenant's logs (Loki query_range, re-reading the settle window: each line once, as soon as Loki"
    " has it; nothing skipped, a late line marked)."
)
EPILOG = """\
--since/--from say where to start (default 5 minutes ago); with --to, the range is printed and tail
exits, as `plugintop logs` does.
the settle window (--settle, default the context's tail.settle, 5s): a shipper makes a line queryable
seconds after its own timestamp (Promtail, Alloy and Fluent Bit batch for ~1 s), after newer lines, so
every poll reads the last --settle again; a line is shown once, within a poll of reaching Loki. A line
that reaches Loki later still is found by re-reading each stretch at 2, 4, 8... times --settle (up to
2 minutes) and shown then, marked: "(late by 12.4 s)" after its time in text, "late_by_s" in jsonl,
nothing in raw. A line later than 2 minutes reaches only `plugintop logs`.
exit status: 0 ok (Ctrl-C, or --for ran out caught up), 2 usage, 3 Loki failed,
4 --for ran out while still behind (stderr says how far it got)."""
EXIT_BEHIND = 4


def add_log_options(p: argparse.ArgumentParser) -> None:
    """What `tail` and `logs` share: the filter, the pipeline and the output format."""
    p.add_argument("--filter", metavar="RE", help="only lines matching this regex")
    p.add_argument("--invert", action="store_true", help="with --filter: lines that do not match")
    p.add_argument("--pipeline", metavar="LOGQL", default="", help="a LogQL pipeline, e.g. '| json | level=\"error\"'")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (sanitised, default), jsonl, or raw (the line as stored; text on a terminal)",
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tail", help="follow the tenant's logs", description=DESCRIPTION, epilog=EPILOG)
    add_target(p, since="5m")
    add_backends(p)
    add_log_options(p)
    p.add_argument("--for", dest="duration", metavar="DURATION", help="stop after this long (default: Ctrl-C)")
    p.add_argument("--every", metavar="DURATION", default="1s", help="poll interval when quiet (default 1s)")
    p.add_argument(
        "--settle",
        metavar="DURATION",
        help="how late a line may reach Loki and be shown unmarked: re-read at every poll (default 5s, tail.settle)",
    )
    p.set_defaults(run=run)


def pattern_of(ns: argparse.Namespace) -> re.Pattern[str] | None:
    """The --filter regex, or a usage error naming what is wrong with it."""
    from plugintop.errors import UsageError

    if not ns.filter:
        return None
    try:
        return re.compile(ns.filter)
    except re.error as e:
        raise UsageError(f"--filter is not a regular expression: {e}") from None


def output_format(fmt: str, out: TextIO = sys.stdout) -> str:
    """`raw` is for files and programs: on a terminal, lines are written sanitised (`text`)."""
    if fmt == "raw" and out.isatty():
        print("plugintop: --format raw on a terminal: writing sanitised text", file=sys.stderr)
        return "text"
    return fmt


def run(ns: argparse.Namespace) -> int:
    if ns.end:
        from plugintop.cli import logs

        return logs.run(ns)
    from plugintop.config.context import apply_overrides
    from plugintop.connect.backends import open_backends
    from plugintop.errors import ConfigError
    from plugintop.live.follow import TenantLogs, unknown_tenant
    from plugintop.timerange import parse_duration, parse_time_ns, to_ns

    pattern = pattern_of(ns)
    now = system_clock()
    start_ns = parse_time_ns(ns.start, now) if ns.start else to_ns(now - parse_duration(ns.since or "5m"))
    duration = parse_duration(ns.duration) if ns.duration else None
    every = parse_duration(ns.every)
    fmt = output_format(ns.format)

    async def work() -> int:
        async with demo_stack(ns):
            loaded = load(ns, "tail")
            ctx = loaded.context
            if ns.settle:
                ctx = apply_overrides(ctx, {"tail.settle": ns.settle}, "--settle")
            query = TenantLogs(ctx.telemetry, ns.plugin, ns.tenant, ns.pipeline).query
            async with await open_backends(ctx, only=("loki",)) as backends:
                if backends.loki is None:
                    raise ConfigError(f"loki: {backends.setup_errors['loki'].message}")
                now = system_clock()
                if why := await unknown_tenant(
                    backends.loki, ctx.telemetry, ns.plugin, ns.tenant, min(start_ns / 1e9, now - 3600), now
                ):
                    say(f"{why} (following anyway)")
                return await run_tail(
                    backends.loki,
                    query,
                    start_ns,
                    fmt=fmt,
                    pattern=pattern,
                    invert=ns.invert,
                    duration=duration,
                    every=every,
                    settle=ctx.tail.settle_s,
                )

    settled()
    return asyncio.run(work())


async def run_tail(
    loki: LokiClient,
    query: str,
    start_ns: int,
    *,
    fmt: str = "text",
    pattern: re.Pattern[str] | None = None,
    invert: bool = False,
    duration: float | None = None,
    every: float = 1.0,
    settle: float | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    clock: Clock = system_clock,
) -> int:
    """Follows `query` from `start_ns` until `duration` passes (or for ever), re-reading the last `settle`
    seconds at every poll (None: `follow.SETTLE_S`); returns the exit status: `EXIT_BEHIND` when
    `duration` ran out before the tail caught up (stderr says how far it got)."""
    from plugintop.live.follow import SETTLE_S, LogFollower, follow

    follower = LogFollower(loki, query, start_ns, clock=clock, settle=SETTLE_S if settle is None else settle)
    said: list[str | None] = [None]
    last: list[Batch | None] = [None]
    printed = [0]

    def say(msg: str | None) -> None:
        if msg is not None and msg != said[0]:
            err.write(inert(msg) + "\n")
            err.flush()
        said[0] = msg

    async def loop() -> None:
        async for batch in follow(follower, every):
            last[0] = batch
            written = lines(batch.entries, batch.gaps, fmt, pattern, invert)
            if written:
                out.write("\n".join(written) + "\n")
                out.flush()
                printed[0] += len(batch.entries)
            e = batch.error
            say(f"plugintop tail: {e.backend}: {e.kind}: {e.message} (retrying every {every:g}s)" if e else None)

    watch = asyncio.create_task(_frozen(follower, say))
    started = time.monotonic()
    try:
        await asyncio.wait_for(loop(), duration)
    except TimeoutError:
        pass
    finally:
        watch.cancel()
    b = last[0]
    if b is None or b.behind or b.error is not None:
        took = time.monotonic() - started
        err.write(
            f"plugintop tail: stopped after {took:.1f} s (--for) while still behind: printed {printed[0]:,} lines, "
            f"read up to {rfc3339_ns(follower.cursor_ns)}; continue with --from {rfc3339_ns(follower.cursor_ns)}\n"
        )
        err.flush()
        return EXIT_BEHIND
    return 0


async def _frozen(follower: LogFollower, say: Callable[[str | None], None]) -> None:
    """Says once when Loki stops answering (after `FROZEN_S`), not only when the timeout gives up."""
    from plugintop.live.follow import FROZEN_S
    from plugintop.timerange import to_rfc3339

    while True:
        await asyncio.sleep(0.5)
        waited = follower.waited()
        if waited >= FROZEN_S:
            since = to_rfc3339(time.time() - waited)
            say(f"plugintop tail: loki not answering since {since}")
