"""Provides the command line: `plugintop [COMMAND] …`, one module per command (`app` for the screen,
`check`, `report`, `tail`, `demo`), argparse subcommands, and the last guard that turns any failure
into one line and an exit status.

Imports stay light until a command runs, so `--help` and `--version` answer at once.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from plugintop import __version__
from plugintop.cli import alert, app, bundle, check, demo, logs, report, rules, tail, trace
from plugintop.cli.common import add_backends, add_target, err

EXAMPLES = """\
examples:
  plugintop --demo                                   the built-in demo incident, no backends needed
  plugintop --plugin recommender --tenant acme --since 1h
  plugintop --context prod --plugin recommender --tenant acme --from now-3h --to now-1h
  plugintop --grafana-url https://grafana.example.com --plugin recommender --tenant acme
  plugintop check --plugin recommender --tenant acme  is every backend reachable, with data?
  plugintop report --demo --plugin recommender --tenant acme --format json
  plugintop tail --plugin recommender --tenant acme --since 5m
  plugintop logs --plugin recommender --tenant acme --from now-2h --to now-1h --format jsonl
  plugintop trace 4bf92f3577b34da6a3ce929d0e0e4736  a trace by its id (from a ticket)
  plugintop bundle save --plugin recommender --tenant acme --since 2h -o incident.bundle
  plugintop --replay incident.bundle                 the screen of a saved incident, no backends needed
  plugintop alert draft --plugin recommender --tenant acme --signal p99 --when '> 2s' --for 10m
  plugintop demo serve                               serve the demo stack for curl or Grafana

secrets never go on the command line: set PLUGINTOP_GRAFANA_TOKEN (or PLUGINTOP_<BACKEND>_TOKEN), or
name an environment variable or a 0600 file in the config file
($XDG_CONFIG_HOME/plugintop/config.toml).
exit status: 0 ok, 1 no data for that plugin/tenant, 2 usage or configuration error, 3 backends failed.
"""

ENDED_BY_CTRL_C = ("tail", "demo")
"""The commands Ctrl-C is the normal way to end (exit 0); for the others it is an interruption (130)."""


def parser() -> argparse.ArgumentParser:
    """The whole command line: the screen's flags, and one subcommand per command module."""
    p = argparse.ArgumentParser(
        prog="plugintop",
        description="One-screen triage of a slow plugin for a tenant: percentiles, findings, spans,\n"
        "trace waterfall, CPU flame graph, LLM cost and live logs, from Prometheus, Tempo, Loki and\n"
        "Pyroscope.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"plugintop {__version__}")
    add_target(p)
    add_backends(p)
    p.add_argument("--replay", metavar="FILE", help="open the screen on a bundle (`plugintop bundle save`), no network")
    p.set_defaults(run=app.run, command=None)
    sub = p.add_subparsers(
        dest="command", metavar="COMMAND", title="commands (plugintop COMMAND --help)", parser_class=_Sub
    )
    for command in (check, report, tail, logs, trace, alert, rules, bundle, demo):
        command.add_parser(sub)
    return p


class _Sub(argparse.ArgumentParser):
    """A subcommand's parser: examples and exit statuses keep their line breaks."""

    def __init__(self, **kw: object) -> None:
        super().__init__(formatter_class=argparse.RawDescriptionHelpFormatter, **kw)  # type: ignore[arg-type]


def entry() -> None:
    """The `plugintop` command: `main`, its output flushed, then out without the interpreter's
    teardown (freeing every module on the way out takes ~20 ms nobody waits for: the work is done,
    every file written and closed, every backend connection closed)."""
    # Start-up allocates ~60,000 objects (modules, classes, functions) that live to the end; with
    # the collector on it walks them over and over while they pile up (~11 ms of the ~160 ms before
    # `report`'s first request leaves, measured). Off until the command's imports are done (`settled`).
    gc.disable()
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = reader_gone()
    except ValueError:  # stdout closed by the command itself: nothing more to say
        pass
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)


EXIT_PIPE = 141
"""The status of a command whose reader went away (`plugintop logs | head`): 128 + SIGPIPE, as a shell
reports a program the signal ended."""


def reader_gone() -> int:
    """The reader of stdout went away (`| head`): the rest of the output goes to /dev/null (no second
    BrokenPipeError when Python flushes stdout on the way out), nothing is said, `EXIT_PIPE`."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (a test's capture): nothing to redirect
        pass
    return EXIT_PIPE


def _broken_pipe(e: BaseException) -> bool:
    """`e` is a BrokenPipeError, or a group of nothing else (a task group's)."""
    if isinstance(e, BaseExceptionGroup):
        return all(_broken_pipe(x) for x in e.exceptions)
    return isinstance(e, BrokenPipeError)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `plugintop` command (returns the exit status; `entry` exits with it). Every
    command that writes to stdout ends quietly with `EXIT_PIPE` when its reader goes away."""
    try:
        return _run(argv)
    except BrokenPipeError:  # `--help | head` (argparse prints before it exits)
        return reader_gone()


def _run(argv: list[str] | None) -> int:
    ns = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        code: int = ns.run(ns)
        return code
    except KeyboardInterrupt:
        return 0 if ns.command in ENDED_BY_CTRL_C else 130
    except Exception as e:  # the last guard: one line, never a traceback
        from plugintop.errors import ConfigError, PlugintopError, UsageError

        if _broken_pipe(e):
            return reader_gone()
        if isinstance(e, ConfigError | UsageError):
            err(str(e))
            return 2
        if isinstance(e, PlugintopError):
            err(str(e))
            return 3
        if os.environ.get("PLUGINTOP_DEBUG"):
            raise
        err(f"internal error: {type(e).__name__}: {e} (set PLUGINTOP_DEBUG=1 for the traceback)")
        return 70
