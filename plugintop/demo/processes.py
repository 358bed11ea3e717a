"""Provides `DemoProcesses`: the demo stack as two child processes, as `--demo` runs it. Its data is
made on other cores than the screen's, and the backends answer in parallel instead of taking turns
with the screen for one interpreter. Also the child's entry point:

    python -m plugintop.demo.processes BACKEND[,BACKEND...] NOW [SCENARIO [HOST]]

A child prints `{"urls": {backend: url}}` once it serves, and stops when its stdin closes: when the
parent closes it, or dies."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from types import TracebackType
from typing import IO

from plugintop.errors import PlugintopError

BACKENDS = ("prometheus", "loki", "tempo", "pyroscope")
"""Every backend (defined here: the parent imports no more of the demo than this module)."""
CHILDREN = (("prometheus", "tempo", "pyroscope"), ("loki",))
"""The backends of each child. An interpreter for each of the two heavy loads: the metrics, which a
triage asks for first, and the logs, asked for at once by the log pane and then by the triage's
second phase. Traces and profiles are light and come once the metrics are done, so they share the
metrics' child. Measured on 2 cores: a full first screen in ~1.05 s against ~1.2 s with a child per
backend (each child is an interpreter to start while the screen starts too)."""

START_S = 30.0
"""How long a child may take to serve."""
STOP_S = 5.0
"""How long a child may take to stop once asked, before it is killed."""


class DemoProcesses:
    """The four demo backends in `CHILDREN`' processes over one `now` (an async context manager).
    `start` may be called early (before the screen's imports), `__aenter__` waits for them to serve."""

    def __init__(self, scenario: str | None = None, host: str = "127.0.0.1", now: float | None = None) -> None:
        self.scenario, self.host = scenario, host
        self.now = time.time() if now is None else now
        self.urls: dict[str, str] = {}
        self._children: dict[tuple[str, ...], tuple[subprocess.Popen[bytes], IO[bytes]]] = {}

    def start(self) -> DemoProcesses:
        """Starts the children (at once: they boot while the caller goes on)."""
        for backends in CHILDREN:
            if backends in self._children:
                continue
            err = tempfile.TemporaryFile()  # not a pipe: a chatty child must never block on it
            args = [",".join(backends), repr(self.now), self.scenario or "", self.host]
            self._children[backends] = (
                subprocess.Popen(
                    [sys.executable, "-m", "plugintop.demo.processes", *args],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                ),
                err,
            )
        return self

    def _urls(self, backends: tuple[str, ...]) -> dict[str, str]:
        child, err = self._children[backends]
        assert child.stdout is not None
        line = child.stdout.readline()  # the child's first line, or "" if it died
        try:
            urls = json.loads(line)["urls"]
            return {b: str(urls[b]) for b in backends}
        except (ValueError, KeyError, TypeError):
            err.seek(0)
            said = err.read().decode("utf-8", "replace").strip().splitlines()
            names = "/".join(backends)
            raise PlugintopError(f"the demo's {names} did not start: {said[-1] if said else 'no answer'}") from None

    async def __aenter__(self) -> DemoProcesses:
        self.start()
        try:
            got = asyncio.gather(*(asyncio.to_thread(self._urls, b) for b in CHILDREN))
            urls = {b: u for part in await asyncio.wait_for(got, START_S) for b, u in part.items()}
            self.urls = {b: urls[b] for b in BACKENDS}
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Asks every child to stop (its stdin closed), and kills one that doesn't within `STOP_S`."""
        children, self._children = list(self._children.values()), {}
        await asyncio.to_thread(_stop, children)


def _stop(children: list[tuple[subprocess.Popen[bytes], IO[bytes]]]) -> None:
    for child, _ in children:
        if child.stdin is not None:
            child.stdin.close()
    for child, err in children:
        try:
            child.wait(STOP_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
        err.close()


def child(argv: list[str]) -> int:
    """Some backends of the demo stack (comma-separated) until stdin closes."""
    from plugintop.demo.scenario import load_scenario
    from plugintop.demo.stack import DemoStack

    backends, now = argv[0].split(","), float(argv[1])
    scenario = argv[2] if len(argv) > 2 and argv[2] else None
    host = argv[3] if len(argv) > 3 else "127.0.0.1"
    stack = DemoStack(load_scenario(scenario), host=host, now=now, only=backends).start()
    try:
        print(json.dumps({"urls": stack.urls}), flush=True)
        sys.stdin.buffer.read()  # until the parent closes it, or dies
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the parent stops us
        pass
    finally:
        stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
