"""Provides `plugintop demo serve`: the stack alone, its four URLs on stdout, until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading

from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack


def serve_forever(scenario_path: str | None, host: str = "127.0.0.1") -> int:
    """Serves until interrupted (SIGINT or SIGTERM); exits 0."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())  # Ctrl-C stops cleanly, exit 0
    stack = DemoStack(load_scenario(scenario_path), host=host).start()
    try:
        for name, url in stack.urls.items():
            print(f"{name}={url}")
        sys.stdout.flush()
        while not done.wait(0.5):
            pass
    finally:
        stack.close()
    return 0
