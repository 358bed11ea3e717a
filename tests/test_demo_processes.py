"""The demo as child processes (`--demo`): each backend answers, all stop with the block, none outlives
a parent killed outright, and one that can't start is one line naming it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from plugintop.demo.processes import CHILDREN, DemoProcesses
from plugintop.errors import PlugintopError


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_each_backend_answers_and_every_child_stops_with_the_block() -> None:
    async with DemoProcesses() as stack:
        assert sorted(stack.urls) == ["loki", "prometheus", "pyroscope", "tempo"]
        children = [c.pid for c, _ in stack._children.values()]
        async with httpx.AsyncClient() as http:
            r = await http.get(stack.urls["prometheus"] + "/api/v1/query", params={"query": "up"})
            assert r.status_code == 200 and r.json()["status"] == "success"
            r = await http.get(stack.urls["loki"] + "/loki/api/v1/labels")
            assert r.status_code == 200
            for backend in ("tempo", "pyroscope"):
                assert (await http.get(stack.urls[backend] + "/ready")).status_code == 200
        assert len(set(stack.urls.values())) == 4 and len(children) == len(CHILDREN)
    assert not any(alive(pid) for pid in children)


def test_no_child_outlives_a_parent_killed_outright() -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import asyncio\n"
            "from plugintop.demo.processes import DemoProcesses\n"
            "async def main():\n"
            "    async with DemoProcesses() as s:\n"
            "        print(*[c.pid for c, _ in s._children.values()], flush=True)\n"
            "        await asyncio.sleep(60)\n"
            "asyncio.run(main())\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == len(CHILDREN) and all(alive(p) for p in pids)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    for _ in range(100):
        if not any(alive(p) for p in pids):
            break
        time.sleep(0.05)
    assert not any(alive(p) for p in pids)


async def test_a_child_that_cannot_start_is_one_line_naming_it() -> None:
    with pytest.raises(PlugintopError) as e:
        async with DemoProcesses(scenario="/nonexistent/scenario.toml"):
            pass
    assert "did not start" in str(e.value) and "\n" not in str(e.value)
