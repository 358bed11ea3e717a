"""Provides the command line: arguments → settings → clients → app | report | tail | demo | check.

Imports stay light until a command runs, so `--help` and `--version` answer at once.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
from typing import Any

from plugintop import __version__

EXAMPLES = """\
examples:
  plugintop --demo                                   the built-in demo incident, no backends needed
  plugintop --plugin recommender --tenant acme --since 1h
  plugintop --context prod --plugin recommender --tenant acme --from now-3h --to now-1h
  plugintop --grafana-url https://grafana.example.com --plugin recommender --tenant acme
  plugintop check --plugin recommender --tenant acme  is every backend reachable, with data?
  plugintop report --demo --plugin recommender --tenant acme --format json
  plugintop tail --plugin recommender --tenant acme --since 5m
  plugintop demo serve                               serve the demo stack for curl or Grafana

secrets never go on the command line: set PLUGINTOP_GRAFANA_TOKEN (or PLUGINTOP_<BACKEND>_TOKEN), or
name an environment variable or a 0600 file in the config file
($XDG_CONFIG_HOME/plugintop/config.toml).
exit status: 0 ok, 1 no data for that plugin/tenant, 2 usage or configuration error, 3 backends failed.
"""

COMMANDS = ("check", "report", "tail", "demo")


def _add_target(p: argparse.ArgumentParser, required: bool = False) -> None:
    g = p.add_argument_group("what to look at")
    g.add_argument("--plugin", metavar="X", required=required, help="the plugin (e.g. recommender)")
    g.add_argument("--tenant", metavar="Y", required=required, help="the plugin's tenant (e.g. acme)")
    g.add_argument("--since", metavar="DUR", help="range ending now: 15m, 1h (default), 6h, 2d")
    g.add_argument("--from", dest="start", metavar="T", help="range start: RFC3339, now-2h, epoch seconds")
    g.add_argument("--to", dest="end", metavar="T", help="range end (default now)")
    g.add_argument("--p99-target", metavar="DUR", help="p99 latency target (default: the context's slo)")


def _add_backends(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where the backends are (flags > PLUGINTOP_* environment > config file)")
    g.add_argument("--context", metavar="NAME", help="a named context of the config file")
    g.add_argument("--config", metavar="FILE", help="config file (default $XDG_CONFIG_HOME/plugintop/config.toml)")
    g.add_argument("--grafana-url", metavar="URL", help="reach the backends through Grafana's datasource proxy")
    for b in ("prometheus", "loki", "tempo", "pyroscope"):
        g.add_argument(f"--{b}-url", metavar="URL", help=f"{b.capitalize()} base URL")
    g.add_argument("--demo", action="store_true", help="use the built-in demo stack (loopback, synthetic incident)")
    g.add_argument("--scenario", metavar="FILE", help="with --demo: a scenario TOML instead of the built-in one")


def _main_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="plugintop",
        description="One-screen triage of a slow plugin for a tenant: percentiles, slow window, spans, "
        "trace waterfall, CPU flame graph, LLM cost and live logs, from Prometheus, Tempo, Loki and "
        "Pyroscope.\n\ncommands: check, report, tail, demo serve  (plugintop COMMAND --help)",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"plugintop {__version__}")
    _add_target(p)
    _add_backends(p)
    return p


def _command_parser(cmd: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"plugintop {cmd}", formatter_class=argparse.RawDescriptionHelpFormatter)
    if cmd == "check":
        p.description = "Check each backend: reachable, auth accepted, version, round-trip time, data present."
        _add_target(p)
        _add_backends(p)
    elif cmd == "demo":
        p.description = "Run the demo stack alone and print its four URLs."
        p.add_argument("action", choices=["serve"])
        p.add_argument("--scenario", metavar="FILE")
        p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    elif cmd == "tail":
        p.description = "Follow the tenant's logs (Loki query_range from a cursor: nothing twice, nothing skipped)."
        _add_target(p)
        _add_backends(p)
        p.add_argument("--filter", metavar="RE", help="only lines matching this regex")
        p.add_argument("--invert", action="store_true", help="with --filter: lines that do not match")
        p.add_argument(
            "--pipeline", metavar="LOGQL", default="", help="a LogQL pipeline, e.g. '| json | level=\"error\"'"
        )
        p.add_argument("--format", choices=["text", "jsonl"], default="text")
        p.add_argument("--for", dest="duration", metavar="DURATION", help="stop after this long (default: Ctrl-C)")
        p.add_argument("--every", metavar="DURATION", default="1s", help="poll interval (default 1s)")
    elif cmd == "report":
        p.description = "Print the triage (percentiles, slow window, spans, trace, profile, cost, SLO, verdict)."
        p.epilog = "exit status: 0 report made, 1 no data for that plugin/tenant, 2 usage, 3 every backend failed"
        _add_target(p)
        _add_backends(p)
        p.add_argument(
            "--format", choices=["text", "markdown", "json"], help="default: text on a terminal, json otherwise"
        )
        p.add_argument(
            "--deadline",
            metavar="DUR",
            default="30s",
            help="stop waiting for backends after this long and report what is in (default 30s)",
        )
    else:
        p.description = f"plugintop {cmd}"
        _add_target(p)
        _add_backends(p)
    return p


def _flag_overrides(ns: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("grafana", "prometheus", "loki", "tempo", "pyroscope"):
        v = getattr(ns, f"{key}_url", None)
        if v:
            out[f"{key}.url"] = v
    if getattr(ns, "p99_target", None):
        out["slo.p99_target"] = ns.p99_target
    return out


def _err(msg: str) -> None:
    from plugintop.redact import redact

    print(f"plugintop: {redact(msg)}", file=sys.stderr)


def entry() -> None:
    """The `plugintop` command: `main`, its output flushed, then out without the interpreter's
    teardown (freeing every module on the way out takes ~20 ms nobody waits for: the work is done,
    every file written and closed, every backend connection closed)."""
    # Start-up allocates ~60,000 objects (modules, classes, functions) that live to the end; with
    # the collector on it walks them over and over while they pile up (~11 ms of the ~160 ms before
    # `report`'s first request leaves, measured). Off until the command's imports are done (`_settled`).
    gc.disable()
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away (`| head`): nothing more to say
        pass
    os._exit(code)


def _settled() -> None:
    """Called by each command once its imports are done, before its work starts: what start-up made
    is kept out of every later collection (a full one would walk it all: 13-21 ms pauses measured
    in `report`, none since), and the collector is back on. A no-op unless `entry` turned it off."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `plugintop` command (returns the exit status; `entry` exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    cmd = next((a for a in args if not a.startswith("-")), None)
    if cmd in COMMANDS and args.index(cmd) == 0:
        ns = _command_parser(cmd).parse_args(args[1:])
    else:
        cmd = None
        ns = _main_parser().parse_args(args)
    try:
        return _run(cmd, ns)
    except KeyboardInterrupt:
        return 0 if cmd in ("tail", "demo") else 130  # Ctrl-C is how tail and demo serve end
    except Exception as e:  # the last guard: one line, never a traceback
        from plugintop.errors import ConfigError, PlugintopError, UsageError

        if isinstance(e, ConfigError | UsageError):
            _err(str(e))
            return 2
        if isinstance(e, PlugintopError):
            _err(str(e))
            return 3
        if os.environ.get("PLUGINTOP_DEBUG"):
            raise
        _err(f"internal error: {type(e).__name__}: {e} (set PLUGINTOP_DEBUG=1 for the traceback)")
        return 70


def _run(cmd: str | None, ns: argparse.Namespace) -> int:
    from plugintop.errors import UsageError

    if cmd == "check":
        return _check(ns)
    if cmd == "report":
        return _report(ns)
    if cmd == "tail":
        return _tail(ns)
    if cmd == "demo":
        from plugintop.demo.serve import serve_forever

        _settled()
        return serve_forever(ns.scenario, ns.host)
    if cmd is None:
        return _app(ns)
    raise UsageError(f"unknown command {cmd!r}; see plugintop --help")


def _start_demo(ns: argparse.Namespace) -> Any:
    """Starts the embedded demo stack and points the four backend flags at it (plugin and tenant
    default to the scenario's plugin and first tenant)."""
    from plugintop.demo.scenario import load_scenario
    from plugintop.demo.stack import DemoStack

    scenario = load_scenario(ns.scenario)
    stack = DemoStack(scenario).start()
    for name, url in stack.urls.items():
        setattr(ns, f"{name}_url", url)
    ns.grafana_url = None
    ns.plugin = ns.plugin or scenario.plugin
    ns.tenant = ns.tenant or scenario.tenants[0]
    if scenario.p99_target and not getattr(ns, "p99_target", None):
        ns.p99_target = scenario.p99_target
    return stack


def _load(ns: argparse.Namespace, what: str) -> Any:
    """Checks --plugin/--tenant and loads the context (file < environment < flags), printing warnings."""
    from plugintop.errors import UsageError
    from plugintop.settings import load_context

    if not ns.plugin or not ns.tenant:
        raise UsageError(f"{what} needs --plugin and --tenant (or try --demo); see plugintop --help")
    loaded = load_context(ns.config, ns.context, _flag_overrides(ns), os.environ)
    for w in loaded.warnings:
        _err(w)
    return loaded


def _app(ns: argparse.Namespace) -> int:
    from plugintop.connections import preflight
    from plugintop.timerange import parse_duration, resolve_range

    stack = _start_demo(ns) if ns.demo else None
    try:
        loaded = _load(ns, "plugintop")
        preflight(loaded.context)
        rng = resolve_range(ns.since, ns.start, ns.end)
        from plugintop.ui.app import PlugintopApp, Session

        session = Session(
            loaded.context,
            loaded.name,
            ns.plugin,
            ns.tenant,
            rng,
            parse_duration(ns.p99_target) if ns.p99_target else None,
        )
        app = PlugintopApp(session)
        _settled()
        code = app.run()
    finally:
        if stack is not None:
            stack.close()
    return code or 0


def _tail(ns: argparse.Namespace) -> int:
    import asyncio
    import re

    from plugintop.clients._http import make_client
    from plugintop.clients.loki import LokiClient
    from plugintop.credentials import resolve
    from plugintop.errors import ConfigError, UsageError
    from plugintop.queries.logql import LogQL
    from plugintop.tail import run_tail
    from plugintop.timerange import parse_duration, system_clock

    stack = _start_demo(ns) if ns.demo else None
    try:
        loaded = _load(ns, "tail")
        if ns.filter:
            try:
                re.compile(ns.filter)
            except re.error as e:
                raise UsageError(f"--filter is not a regular expression: {e}") from None
        ctx = loaded.context
        cfg = ctx.loki
        if not cfg.url and not (ctx.grafana and ctx.grafana.url):
            raise ConfigError("no URL for loki: give --loki-url, PLUGINTOP_LOKI_URL, a context, or --grafana-url")
        since = parse_duration(ns.since or "5m")
        duration = parse_duration(ns.duration) if ns.duration else None
        every = parse_duration(ns.every)
        query = LogQL(ctx.telemetry).logs(ns.plugin, ns.tenant, ns.pipeline)

        async def go() -> int:
            from contextlib import AsyncExitStack

            from plugintop.connections import open_backends

            async with AsyncExitStack() as stack:
                if cfg.url:  # only Loki is needed: do not ask for the other backends' URLs
                    headers = {"X-Scope-OrgID": cfg.tenant} if cfg.tenant else {}
                    http = make_client(
                        cfg.url,
                        credentials=resolve(cfg.auth, "loki.auth"),
                        tls=cfg.tls,
                        timeouts=cfg.timeout,
                        headers=headers,
                    )
                    loki = LokiClient(await stack.enter_async_context(http))
                else:
                    b = await stack.enter_async_context(await open_backends(ctx))
                    if b.loki is None:
                        raise ConfigError(f"loki: {b.setup_errors['loki'].message}")
                    loki = b.loki
                return await run_tail(
                    loki,
                    query,
                    system_clock() - since,
                    fmt=ns.format,
                    filter_re=ns.filter,
                    invert=ns.invert,
                    duration=duration,
                    every=every,
                )

        _settled()
        try:
            return asyncio.run(go())
        except KeyboardInterrupt:
            return 0
    finally:
        if stack is not None:
            stack.close()


async def _progress(triage: Any, after: float = 2.0) -> None:
    """One line on stderr for each backend that keeps the report waiting longer than `after` seconds."""
    import asyncio

    said: set[str] = set()
    while True:
        await asyncio.sleep(0.25)
        for backend, waited in sorted(triage.waiting().items()):
            if waited >= after and backend not in said:
                said.add(backend)
                print(f"plugintop: waiting for {backend} ({waited:.0f} s so far)…", file=sys.stderr, flush=True)


def _report(ns: argparse.Namespace) -> int:
    import asyncio

    from plugintop.connections import open_backends
    from plugintop.report import exit_code, render
    from plugintop.timerange import parse_duration, resolve_range
    from plugintop.triage import Triage, TriageRequest

    stack = _start_demo(ns) if ns.demo else None
    try:
        loaded = _load(ns, "report")
        rng = resolve_range(ns.since, ns.start, ns.end)
        target = parse_duration(ns.p99_target) if ns.p99_target else None
        deadline = parse_duration(ns.deadline)
        fmt = ns.format or ("text" if sys.stdout.isatty() else "json")
        width = shutil.get_terminal_size((80, 24)).columns if sys.stdout.isatty() else 80

        async def go() -> tuple[str, int]:
            backends = await open_backends(loaded.context)
            async with backends:
                req = TriageRequest(
                    plugin=ns.plugin, tenant=ns.tenant, range=rng, p99_target_s=target, deadline_s=deadline
                )
                triage = Triage(backends, loaded.context, req)
                watch = asyncio.create_task(_progress(triage))
                try:
                    result = await triage.run()
                finally:
                    watch.cancel()
                grafana = loaded.context.grafana.url if loaded.context.grafana else None
                return render(result, fmt, backends.urls, grafana, width), exit_code(result)

        _settled()
        text, code = asyncio.run(go())
    finally:
        if stack is not None:
            stack.close()
    sys.stdout.write(text)
    return code


def _check(ns: argparse.Namespace) -> int:
    import asyncio

    from plugintop.check import format_results, run_checks
    from plugintop.connections import open_backends
    from plugintop.timerange import resolve_range

    stack = _start_demo(ns) if ns.demo else None
    loaded = _load(ns, "check")
    rng = resolve_range(ns.since, ns.start, ns.end)

    async def go() -> list[str]:
        backends = await open_backends(loaded.context)
        async with backends:
            results = await run_checks(backends, loaded.context, ns.plugin, ns.tenant, rng)
        lines = format_results(results)
        lines.append("all backends usable" if all(r.usable for r in results) else "some backends are not usable")
        return lines if all(r.usable for r in results) else [*lines, "__fail__"]

    _settled()
    try:
        lines = asyncio.run(go())
    finally:
        if stack is not None:
            stack.close()
    failed = lines[-1] == "__fail__"
    from plugintop.redact import redact

    for line in lines[:-1] if failed else lines:
        print(redact(line))
    return 3 if failed else 0
