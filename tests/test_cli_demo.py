"""`plugintop demo serve` and `check --demo` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from urllib.request import urlopen


def test_demo_serve_prints_four_urls_and_exits_0_on_ctrl_c() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "plugintop", "demo", "serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as p:
        try:
            assert p.stdout is not None and p.stderr is not None
            lines = [p.stdout.readline().strip() for _ in range(4)]
            names = [line.split("=", 1)[0] for line in lines]
            assert names == ["prometheus", "loki", "tempo", "pyroscope"]
            urls = dict(line.split("=", 1) for line in lines)
            assert all(u.startswith("http://127.0.0.1:") for u in urls.values())
            with urlopen(f"{urls['prometheus']}/api/v1/status/buildinfo", timeout=10) as r:
                assert json.load(r)["status"] == "success"
            p.send_signal(signal.SIGINT)
            assert p.wait(timeout=10) == 0
            said = p.stderr.read()
            assert "Traceback" not in said
            hint = f"plugintop --prometheus-url {urls['prometheus']} --loki-url {urls['loki']}"
            assert hint in said and "--plugin recommender --tenant acme" in said, said  # how to use them
        finally:
            if p.poll() is None:
                p.kill()


def test_check_demo() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGINTOP_")}
    r = subprocess.run(
        [sys.executable, "-m", "plugintop", "check", "--demo"], capture_output=True, text=True, timeout=60, env=env
    )
    assert r.returncode == 0, r.stdout + r.stderr
    backends = [
        x
        for x in r.stdout.splitlines()
        if x.split()[:1] and x.split()[0] in ("prometheus", "loki", "tempo", "pyroscope")
    ]
    pillars = [x.split() for x in r.stdout.splitlines() if x.startswith("  ")]
    assert len(backends) == 4 and all(" OK " in x for x in backends) and "3 tool(s) for recommender/acme" in r.stdout
    assert [p[:2] for p in pillars] == [["metrics", "OK"], ["traces", "OK"], ["logs", "OK"], ["profiles", "OK"]]
    assert all("ago" in " ".join(p) for p in pillars)
