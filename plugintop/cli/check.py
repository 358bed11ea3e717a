"""Provides `plugintop check`: is each backend reachable, with our credentials, and holding data?"""

from __future__ import annotations

import argparse
import asyncio

from plugintop.cli.common import add_backends, add_target, demo_stack, load, settled

DESCRIPTION = (
    "Check each backend (reachable, auth accepted, version, round-trip time, data present) and the\n"
    "plugin's telemetry per pillar (metrics, traces, logs, profiles: the age of the newest datum, and\n"
    "which collector of the pod to suspect when it is stale or missing)."
)
EPILOG = """\
exit status: 0 every backend usable and every pillar fresh, 1 the plugin has no telemetry at all,
2 usage or configuration error, 3 some backend not usable or a pillar that had data has gone stale"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="is every backend reachable, with data?", description=DESCRIPTION, epilog=EPILOG)
    add_target(p)
    add_backends(p)
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from plugintop.connect.backends import open_backends
    from plugintop.connect.check import format_results, run_checks
    from plugintop.live.health import pillar_health
    from plugintop.redact import redact
    from plugintop.textsafe import inert
    from plugintop.timerange import resolve_range, system_clock

    async def work() -> int:
        async with demo_stack(ns):
            loaded = load(ns, "check")
            rng = resolve_range(ns.since, ns.start, ns.end)
            async with await open_backends(loaded.context) as backends:
                results, health = await asyncio.gather(
                    run_checks(backends, loaded.context, ns.plugin, ns.tenant, rng),
                    pillar_health(backends, loaded.context, ns.plugin, system_clock()),
                )
        usable = all(r.usable for r in results)
        for line in format_results(results):
            print(redact(line))
        print("all backends usable" if usable else "some backends are not usable")
        print(f"telemetry of {inert(ns.plugin, 80)} (every tenant), per pillar:")
        for h in health:
            print("  " + redact(inert(h.line())))
        stale = [h.pillar for h in health if h.state == "stale"]
        if all(h.state == "missing" for h in health):
            print(f"no telemetry at all for {inert(ns.plugin, 80)} in the last hour: is it deployed, and named so?")
            return 1
        if stale:
            print(f"stale: {', '.join(stale)}")
        return 3 if not usable or stale else 0

    settled()
    return asyncio.run(work())
