"""Provides `plugintop trace ID`: a trace opened by its id (pasted from a ticket): the waterfall, the
critical path, the LLM share and the trace's log lines, as text, markdown or JSON."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys

from plugintop.cli.common import add_backends, demo_stack, load, settled

DESCRIPTION = "Open a trace by its id: the waterfall, the critical path, the LLM share and its log lines."
EPILOG = "exit status: 0 trace shown, 1 Tempo has no such trace, 2 usage, 3 Tempo failed"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("trace", help="a trace by its id", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("trace_id", metavar="ID", help="the trace id (hex, as Tempo and the logs write it)")
    p.add_argument("--plugin", metavar="X", help="whose trace (default: read off its tool span)")
    p.add_argument("--format", choices=["text", "markdown", "json"], help="default: text on a terminal, json otherwise")
    add_backends(p)
    p.set_defaults(run=run, tenant=None, p99_target=None)


def run(ns: argparse.Namespace) -> int:
    from plugintop.connect.backends import open_backends
    from plugintop.errors import NotFound, UsageError
    from plugintop.models.tempo import parse_trace_id
    from plugintop.report import trace as out
    from plugintop.textsafe import inert
    from plugintop.triage.calls import trace_by_id

    trace_id = parse_trace_id(ns.trace_id)
    if trace_id is None:
        raise UsageError(f"not a trace id: {inert(ns.trace_id, 40)!r} (up to 32 hex digits, not all zeros)")
    fmt = ns.format or ("text" if sys.stdout.isatty() else "json")
    width = shutil.get_terminal_size((80, 24)).columns if sys.stdout.isatty() else 80

    async def work() -> int:
        async with demo_stack(ns):
            loaded = load(ns, "trace", target=False)  # whose it is comes from the trace itself
            async with await open_backends(loaded.context, only=("tempo", "loki")) as backends:
                try:
                    got = await trace_by_id(backends, loaded.context, trace_id, ns.plugin)
                except NotFound:
                    print(f"plugintop: trace {trace_id} not found in Tempo", file=sys.stderr)
                    return 1
        a, who = got.analysis, (got.plugin, got.tenant)
        if got.log_error:
            print(f"plugintop: loki: {inert(got.log_error, 200)} (log lines left out)", file=sys.stderr)
        if fmt == "json":
            sys.stdout.write(out.to_json(a, *who, got.log_lines))
        elif fmt == "markdown":
            sys.stdout.write(out.to_markdown(a, *who, got.log_lines))
        else:
            sys.stdout.write(out.to_text(a, *who, got.log_lines, width))
        return 0

    settled()
    return asyncio.run(work())
