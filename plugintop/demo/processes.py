"""Provides `DemoProcesses`: the demo stack as one child process per backend, as `--demo` runs it. Its data
is made on other cores than the screen's, and the four backends answer in parallel (an interpreter
each) instead of taking turns with the screen for one. Also the child's entry point:

    python -m plugintop.demo.processes BACKEND NOW [SCENARIO [HOST]]

A child prints `{"url": ...}` once it serves, and stops when its stdin closes: when the parent closes
it, or dies."""

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
"""Every backend, a child each (defined here: the parent imports no more of the demo than this module)."""

START_S = 30.0
"""How long a child may take to serve."""
STOP_S = 5.0
"""How long a child may take to stop once asked, before it is killed."""


class DemoProcesses:
    """The four demo backends, a child process each, over one `now` (an async context manager).
    `start` may be called early (before the screen's imports), `__aenter__` waits for them to serve."""

    def __init__(self, scenario: str | None = None, host: str = "127.0.0.1", now: float | None = None) -> None:
        self.scenario, self.host = scenario, host
        self.now = time.time() if now is None else now
        self.urls: dict[str, str] = {}
        self._children: dict[str, tuple[subprocess.Popen[bytes], IO[bytes]]] = {}

    def start(self) -> DemoProcesses:
        """Starts the children (at once: they boot while the caller goes on)."""
        for backend in BACKENDS:
            if backend in self._children:
                continue
            err = tempfile.TemporaryFile()  # not a pipe: a chatty child must never block on it
            args = [backend, repr(self.now), self.scenario or "", self.host]
            self._children[backend] = (
                subprocess.Popen(
                    [sys.executable, "-m", "plugintop.demo.processes", *args],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                ),
                err,
            )
        return self

    def _url(self, backend: str) -> str:
        child, err = self._children[backend]
        assert child.stdout is not None
        line = child.stdout.readline()  # the child's first line, or "" if it died
        try:
            return str(json.loads(line)["url"])
        except (ValueError, KeyError):
            err.seek(0)
            said = err.read().decode("utf-8", "replace").strip().splitlines()
            raise PlugintopError(f"the demo's {backend} did not start: {said[-1] if said else 'no answer'}") from None

    async def __aenter__(self) -> DemoProcesses:
        self.start()
        try:
            got = asyncio.gather(*(asyncio.to_thread(self._url, b) for b in BACKENDS))
            self.urls = dict(zip(BACKENDS, await asyncio.wait_for(got, START_S), strict=True))
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
    """One backend of the demo stack until stdin closes."""
    from plugintop.demo.scenario import load_scenario
    from plugintop.demo.stack import DemoStack

    backend, now = argv[0], float(argv[1])
    scenario = argv[2] if len(argv) > 2 and argv[2] else None
    host = argv[3] if len(argv) > 3 else "127.0.0.1"
    stack = DemoStack(load_scenario(scenario), host=host, now=now, only=(backend,)).start()
    try:
        print(json.dumps({"url": stack.urls[backend]}), flush=True)
        sys.stdin.buffer.read()  # until the parent closes it, or dies
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the parent stops us
        pass
    finally:
        stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
