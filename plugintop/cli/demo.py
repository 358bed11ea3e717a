"""Provides `plugintop demo serve`: the demo stack alone, its four URLs on stdout, until Ctrl-C or
SIGTERM (exit 0)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from plugintop.cli.common import demo_stack, settled

DESCRIPTION = "Run the demo stack alone and print its four URLs (for curl, logcli or Grafana)."


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="the demo stack alone", description=DESCRIPTION)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = actions.add_parser("serve", help="serve the four demo backends until Ctrl-C", description=DESCRIPTION)
    serve.add_argument("--scenario", metavar="FILE", help="a scenario TOML instead of the built-in one")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    serve.set_defaults(run=run, demo=True)


def run(ns: argparse.Namespace) -> int:
    import plugintop.demo.processes  # noqa: F401  (imported before the collector is back on)

    async def work() -> int:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, done.set)
        async with demo_stack(ns) as stack:
            assert stack is not None
            for name, url in stack.urls.items():
                print(f"{name}={url}")
            sys.stdout.flush()
            flags = " ".join(f"--{name}-url {url}" for name, url in stack.urls.items())
            print(
                f"plugintop: the demo serves until Ctrl-C (stdout: NAME=URL, one per backend). Try it with:\n"
                f"  plugintop {flags} --plugin {ns.plugin} --tenant {ns.tenant}\n"
                f"  plugintop report {flags} --plugin {ns.plugin} --tenant {ns.tenant}\n"
                f"  or a Grafana datasource per URL, or curl, e.g. {stack.urls['prometheus']}/api/v1/query?query=up",
                file=sys.stderr,
                flush=True,
            )
            await done.wait()
        return 0

    settled()
    return asyncio.run(work())
