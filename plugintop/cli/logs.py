"""Provides `plugintop logs`: a past range of the tenant's logs printed whole, then exit (like
`logcli query`): paged past Loki's entry limit by a cursor of integer nanoseconds, each line once."""

from __future__ import annotations

import argparse
import asyncio
import sys

from plugintop.cli.common import add_backends, add_target, demo_stack, load, settled
from plugintop.cli.common import err as say
from plugintop.cli.lines import lines
from plugintop.cli.tail import add_log_options, output_format, pattern_of

DESCRIPTION = "Print the tenant's log lines of a range (default the last hour) and exit."
EPILOG = """\
examples:
  plugintop logs --plugin recommender --tenant acme --from 2026-12-02T10:00:00Z --to 2026-12-02T11:00:00Z
  plugintop logs --plugin recommender --tenant acme --since 15m --pipeline '| json | level="error"' --format raw
exit status: 0 lines printed, 1 no line in the range, 2 usage, 3 Loki failed."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("logs", help="print a range of the tenant's logs", description=DESCRIPTION, epilog=EPILOG)
    add_target(p)
    add_backends(p)
    add_log_options(p)
    p.add_argument("--limit", type=int, metavar="N", help="at most N lines (default: the whole range)")
    p.add_argument(
        "--direction", choices=["forward", "backward"], default="forward", help="oldest first (default) or newest"
    )
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from plugintop.connect.backends import open_backends
    from plugintop.errors import ConfigError, UsageError
    from plugintop.live.follow import TenantLogs, tenant_range, unknown_tenant
    from plugintop.timerange import resolve_range_ns

    pattern = pattern_of(ns)
    start_ns, end_ns = resolve_range_ns(ns.since, ns.start, ns.end)
    limit: int | None = getattr(ns, "limit", None)
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    fmt = output_format(ns.format)
    direction = getattr(ns, "direction", "forward")

    async def work() -> int:
        async with demo_stack(ns):
            loaded = load(ns, "logs")
            printed = 0
            async with await open_backends(loaded.context, only=("loki",)) as backends:
                if backends.loki is None:
                    raise ConfigError(f"loki: {backends.setup_errors['loki'].message}")
                chosen = TenantLogs(loaded.context.telemetry, ns.plugin, ns.tenant, ns.pipeline)
                pages = tenant_range(backends.loki, chosen, start_ns, end_ns, direction=direction)
                async for batch in pages:
                    entries = batch.entries if limit is None else batch.entries[: limit - printed]
                    out = lines(entries, batch.gaps, fmt, pattern, ns.invert)
                    if out:
                        sys.stdout.write("\n".join(out) + "\n")
                    printed += len(entries)
                    if limit is not None and printed >= limit:
                        break
                if not printed and (
                    why := await unknown_tenant(
                        backends.loki, loaded.context.telemetry, ns.plugin, ns.tenant, start_ns / 1e9, end_ns / 1e9
                    )
                ):
                    say(why)
            sys.stdout.flush()
            return 0 if printed else 1

    settled()
    return asyncio.run(work())
