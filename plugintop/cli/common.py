"""Provides what the commands share: the target and backend flags, loading the context, the demo
stack as an async context manager, one-line errors, and the collector's hand-over (`settled`)."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plugintop.config.settings import Loaded
    from plugintop.demo.processes import DemoProcesses
    from plugintop.timerange import TimeRange
    from plugintop.triage import TriageRequest


def add_target(p: argparse.ArgumentParser, since: str = "1h") -> None:
    """--plugin, --tenant, the range (`since`: what --since defaults to) and --p99-target."""
    g = p.add_argument_group("what to look at")
    g.add_argument("--plugin", metavar="X", help="the plugin (e.g. recommender)")
    g.add_argument("--tenant", metavar="Y", help="the plugin's tenant (e.g. acme)")
    g.add_argument("--since", metavar="DUR", help=f"range ending now: 15m, 1h, 6h, 2d (default {since})")
    g.add_argument("--from", dest="start", metavar="T", help="range start: RFC3339, now-2h, epoch seconds")
    g.add_argument("--to", dest="end", metavar="T", help="range end (default now)")
    g.add_argument("--p99-target", metavar="DUR", help="p99 latency target (default: the context's slo)")


def triage_request(ns: argparse.Namespace, rng: TimeRange) -> TriageRequest:
    """What `report` and `bundle save` ask of the triage: the target's flags (after `demo_stack` filled them
    in), `rng`, the p99 target and the deadline."""
    from plugintop.timerange import parse_duration
    from plugintop.triage import TriageRequest

    return TriageRequest(
        plugin=ns.plugin,
        tenant=ns.tenant,
        range=rng,
        p99_target_s=parse_duration(ns.p99_target) if ns.p99_target else None,
        deadline_s=parse_duration(ns.deadline),
    )


def add_backends(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where the backends are (flags > PLUGINTOP_* environment > config file)")
    g.add_argument("--context", metavar="NAME", help="a named context of the config file")
    g.add_argument("--config", metavar="FILE", help="config file (default $XDG_CONFIG_HOME/plugintop/config.toml)")
    g.add_argument("--grafana-url", metavar="URL", help="reach the backends through Grafana's datasource proxy")
    for b in ("prometheus", "loki", "tempo", "pyroscope"):
        g.add_argument(f"--{b}-url", metavar="URL", help=f"{b.capitalize()} base URL")
    g.add_argument("--demo", action="store_true", help="use the built-in demo stack (loopback, synthetic incident)")
    g.add_argument("--scenario", metavar="FILE", help="with --demo: a scenario TOML instead of the built-in one")


def err(msg: str) -> None:
    """One line on stderr, secrets redacted, terminal controls made inert (messages quote backends)."""
    from plugintop.redact import redact
    from plugintop.textsafe import inert

    print(f"plugintop: {inert(redact(msg))}", file=sys.stderr)


def settled() -> None:
    """Called by each command once its imports are done, before its work starts: what start-up made
    is kept out of every later collection (a full one would walk it all: 13-21 ms pauses measured
    in `report`, none since), and the collector is back on. A no-op unless `entry` turned it off."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _flag_overrides(ns: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("grafana", "prometheus", "loki", "tempo", "pyroscope"):
        v = getattr(ns, f"{key}_url", None)
        if v:
            out[f"{key}.url"] = v
    if getattr(ns, "p99_target", None):
        out["slo.p99_target"] = ns.p99_target
    return out


def load(ns: argparse.Namespace, what: str, target: bool = True) -> Loaded:
    """Checks --plugin/--tenant (with `target`) and loads the context (file < environment < flags),
    printing warnings."""
    from plugintop.config.settings import load_context
    from plugintop.errors import UsageError

    if target and (not ns.plugin or not ns.tenant):
        raise UsageError(f"{what} needs --plugin and --tenant (or try --demo); see plugintop --help")
    loaded = load_context(ns.config, ns.context, _flag_overrides(ns), os.environ)
    for w in loaded.warnings:
        err(w)
    return loaded


def start_demo(ns: argparse.Namespace) -> DemoProcesses | None:
    """With `--demo`: the demo's children started at once (they boot while the command imports what it
    needs); `demo_stack` waits for them. Without: None."""
    if not getattr(ns, "demo", False):
        return None
    from plugintop.demo.processes import DemoProcesses

    return DemoProcesses(ns.scenario, host=getattr(ns, "host", "127.0.0.1")).start()


@asynccontextmanager
async def demo_stack(
    ns: argparse.Namespace, started: DemoProcesses | None = None
) -> AsyncIterator[DemoProcesses | None]:
    """With `--demo`: the demo stack (its child processes: `demo.processes`), serving while the
    block runs and stopped after it (whatever way the block ends), with the four backend flags pointed
    at it (plugin and tenant default to the scenario's plugin and first tenant). Without `--demo`:
    nothing."""
    if not getattr(ns, "demo", False):
        yield None
        return
    from plugintop.demo.processes import DemoProcesses
    from plugintop.demo.scenario import load_scenario

    scenario = load_scenario(ns.scenario)  # here first: a mistake in the file is the parent's one line
    async with started or DemoProcesses(ns.scenario, host=getattr(ns, "host", "127.0.0.1")) as stack:
        for name, url in stack.urls.items():
            setattr(ns, f"{name}_url", url)
        ns.grafana_url = None
        ns.plugin = getattr(ns, "plugin", None) or scenario.plugin
        ns.tenant = getattr(ns, "tenant", None) or scenario.tenants[0]
        if scenario.p99_target and not getattr(ns, "p99_target", None):
            ns.p99_target = scenario.p99_target
        yield stack
