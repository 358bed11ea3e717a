"""`plugintop check` as a user runs it: the real command in a subprocess against loopback backends."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from plugintop.clients.grafana import proxy_path
from tests.fixtures import real, replay
from tests.servers import Answer, Backend, serve

RECORDED = {
    "prometheus": ["prom_buildinfo", "prom_series"],
    "loki": ["loki_buildinfo", "loki_series"],
    "tempo": ["tempo_buildinfo", "tempo_search_traceql"],
    "pyroscope": ["pyroscope_buildinfo", "pyroscope_label_values_service_name"],
}


def plugintop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGINTOP_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "plugintop", *args], capture_output=True, text=True, timeout=60, env=full_env
    )


@pytest.fixture
def four() -> Iterator[dict[str, Backend]]:
    with ExitStack() as stack:
        out = {}
        for name, recs in RECORDED.items():
            b = Backend()
            for r in recs:
                replay(b, real(r))
            out[name] = stack.enter_context(serve(b))
        yield out


def url_args(four: dict[str, Backend]) -> list[str]:
    return [a for name, b in four.items() for a in (f"--{name}-url", b.url)]


TARGET = ["--plugin", "recommender", "--tenant", "initech", "--from", "1795690185", "--to", "1795700985"]


def test_four_ok_lines(four: dict[str, Backend]) -> None:
    r = plugintop("check", *url_args(four), *TARGET)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    for name, version in [
        ("prometheus", "2.42.0+ds"),
        ("loki", "v3.7.6"),
        ("tempo", "v3.0.3"),
        ("pyroscope", "v1.1.0-dev-256a79cc"),
    ]:
        line = next(x for x in lines if x.startswith(name))
        assert " OK " in line and version in line and " ms" in line and four[name].url in line
    assert "1 tool(s) for recommender/initech" in r.stdout
    assert "profiles for recommender" in r.stdout


def test_closed_port_is_one_line_and_exit_3(four: dict[str, Backend]) -> None:
    args = url_args(four)
    args[args.index("--tempo-url") + 1] = "http://127.0.0.1:9"
    r = plugintop("check", *args, *TARGET)
    assert r.returncode == 3
    assert "Traceback" not in r.stdout + r.stderr
    tempo = [x for x in r.stdout.splitlines() if x.startswith("tempo")]
    assert len(tempo) == 1 and "FAIL" in tempo[0] and "unreachable" in tempo[0] and "refused" in tempo[0]
    assert sum(" OK " in x for x in r.stdout.splitlines()) == 3


def test_auth_refused_is_reported(four: dict[str, Backend]) -> None:
    four["loki"].routes.clear()
    four["loki"].route("GET", "/loki/api/v1/status/buildinfo", Answer(401, "no org id\n", "text/plain"))
    r = plugintop("check", *url_args(four), *TARGET)
    assert r.returncode == 3
    assert "unauthorized" in next(x for x in r.stdout.splitlines() if x.startswith("loki"))


def test_through_grafana(four: dict[str, Backend]) -> None:
    grafana = Backend()
    uids = {
        "prometheus": ("p", "prometheus"),
        "loki": ("l", "loki"),
        "tempo": ("t", "tempo"),
        "pyroscope": ("y", "grafana-pyroscope-datasource"),
    }
    for name, (uid, _) in uids.items():
        grafana.prefixes[proxy_path(uid)] = four[name]
    grafana.route(
        "GET",
        "/api/datasources",
        Answer(200, [{"uid": uid, "name": f"{n} ds", "type": t} for n, (uid, t) in uids.items()]),
    )
    with serve(grafana):
        r = plugintop(
            "check", "--grafana-url", grafana.url, *TARGET, env={"PLUGINTOP_GRAFANA_TOKEN": "glsa_secret_value_1"}
        )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(" OK ") == 4 and "/api/datasources/proxy/uid/" in r.stdout
    assert all(req.headers.get("Authorization") == "Bearer glsa_secret_value_1" for req in grafana.requests)
    assert "glsa_secret_value_1" not in r.stdout + r.stderr


def test_config_mistake_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[contexts.x.loki]\nurl = 5\n")
    r = plugintop("check", "--config", str(cfg), *TARGET)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and str(cfg) in r.stderr and "contexts.x.loki.url" in r.stderr


def test_missing_backend_url_is_a_usage_error(tmp_path: Path) -> None:
    r = plugintop("check", *TARGET, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert r.returncode == 2 and "no URL for prometheus" in r.stderr and "Traceback" not in r.stderr


def test_version_and_help() -> None:
    r = plugintop("--version")
    assert r.returncode == 0 and r.stdout.startswith("plugintop ")
    r = plugintop("--help")
    for opt in ("--plugin", "--tenant", "--since", "--context", "--grafana-url", "examples:"):
        assert opt in r.stdout
