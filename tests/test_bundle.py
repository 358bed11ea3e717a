"""Hand-off: a bundle holds no secret of any kind the config knows, a damaged or foreign one is one line and
exit 2, and the query log's rows copy as commands that ask the demo the same."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import msgspec
import pytest

from plugintop.cli.main import main
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import load_scenario
from plugintop.demo.stack import DemoStack
from plugintop.handoff import bundle as bundle_file
from plugintop.handoff.replay import replay, save
from plugintop.present.commands import as_command
from plugintop.querylog import Exchange, QueryLog
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest
from tests.bundle_cases import summary

NOW = 1_796_000_000.0
TOKEN = "glsa_" + "B" * 32 + "_89abcdef"
PASSWORD = "hunter2-basic-pass"
URL_PASSWORD = "urlpass-9f8e7d"
TOKEN_FILE_VALUE = "file-token-0a1b2c3d4e"


def _request() -> TriageRequest:
    return TriageRequest(plugin="recommender", tenant="acme", range=TimeRange(NOW - 3600, NOW))


@pytest.fixture(scope="module")
def demo() -> Any:
    with DemoStack(load_scenario(None), now=NOW, clock=lambda: NOW) as st:
        yield st


def _secret_context(urls: dict[str, str], token_file: Path) -> Any:
    """Every kind of secret the config knows: a bearer token from the environment and from a file, a basic
    password from the environment, a password inside a URL."""
    loki = urls["loki"].replace("http://", f"http://someone:{URL_PASSWORD}@")
    return context_from(
        {
            "prometheus": {"url": urls["prometheus"], "auth": {"type": "bearer", "token_env": "T_PROM"}},
            "loki": {"url": loki},
            "tempo": {"url": urls["tempo"], "auth": {"type": "basic", "username": "u", "password_env": "T_PASS"}},
            "pyroscope": {"url": urls["pyroscope"], "auth": {"type": "bearer", "token_file": str(token_file)}},
        }
    )


def _blobs(raw: bytes) -> list[bytes]:
    out = [raw, gzip.decompress(raw)]
    with tarfile.open(fileobj=io.BytesIO(out[1])) as t:
        out += [t.extractfile(m).read() for m in t.getmembers() if m.isfile()]  # type: ignore[union-attr]
    return out


def test_a_saved_bundle_holds_no_secret_and_replays_to_the_live_triage(demo: Any, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN_FILE_VALUE)
    token_file.chmod(0o600)
    ctx = _secret_context(demo.urls, token_file)
    env = {"T_PROM": TOKEN, "T_PASS": PASSWORD}
    bundle, live = asyncio.run(save(ctx, _request(), NOW, env))
    path = tmp_path / "inc.bundle"
    size = bundle_file.save(path, bundle)
    assert 0 < size <= bundle_file.MAX_BYTES
    for blob in _blobs(path.read_bytes()):
        for secret in (TOKEN, PASSWORD, URL_PASSWORD, TOKEN_FILE_VALUE):
            assert secret.encode() not in blob
        assert b"authorization" not in blob.lower()
    replayed, log = asyncio.run(replay(bundle_file.load(path)))
    assert live.verdict is not None and live.verdict.state == "incident"
    assert summary(replayed) == summary(live)
    assert not [r for r in log if r.error]


def test_an_answer_that_echoes_a_secret_is_redacted_in_the_bundle(tmp_path: Path) -> None:
    from plugintop.redact import register_secret

    register_secret(PASSWORD)
    row = Exchange(backend="loki", method="GET", path="/x", status=200, content_type="application/json")
    b = bundle_file.Bundle(
        bundle_file.Manifest(saved_at=NOW, plugin="p", tenant="t", start=NOW - 60, end=NOW),
        [(row, f'{{"echo": "Authorization: Bearer {TOKEN}", "p": "{PASSWORD}"}}'.encode())],
    )
    path = tmp_path / "b.bundle"
    bundle_file.save(path, b)
    for blob in _blobs(path.read_bytes()):
        assert TOKEN.encode() not in blob and PASSWORD.encode() not in blob


def _bad_bundles(tmp_path: Path, good: bytes) -> dict[str, Path]:
    def tar_gz(members: dict[str, bytes]) -> bytes:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as t:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        return gzip.compress(raw.getvalue())

    newer = json.dumps({"format": "plugintop-bundle", "version": 99, "plugintop": "9.0"}).encode()
    out = {
        "truncated": good[: len(good) // 2],
        "foreign": tar_gz({"manifest.json": b'{"format": "something-else"}'}),
        "newer": tar_gz({"manifest.json": newer}),
        "not gzip": b"PK\x03\x04 a zip, or anything",
        "empty": b"",
        "no answers": tar_gz({"manifest.json": bundle_file._json(_manifest())}),
    }
    paths = {}
    for name, data in out.items():
        paths[name] = tmp_path / f"{name.replace(' ', '-')}.bundle"
        paths[name].write_bytes(data)
    paths["missing"] = tmp_path / "nowhere.bundle"
    return paths


def _manifest() -> bundle_file.Manifest:
    return bundle_file.Manifest(saved_at=NOW, plugin="p", tenant="t", start=NOW - 60, end=NOW)


def test_a_damaged_foreign_or_newer_bundle_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = bundle_file.encode(bundle_file.Bundle(_manifest()))
    for name, path in _bad_bundles(tmp_path, good).items():
        for argv in (["report", "--replay", str(path), "--format", "json"], ["--replay", str(path)]):
            assert main(argv) == 2, (name, argv)
            out, err = capsys.readouterr()
            assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (name, err)
    assert main(["report", "--replay", str(tmp_path / "newer.bundle")]) == 2
    assert "saved by a newer plugintop" in capsys.readouterr().err


def test_a_bundle_over_the_limit_is_refused_with_what_to_do(tmp_path: Path) -> None:
    import base64
    import os

    row = Exchange(backend="loki", method="GET", path="/x", status=200)
    b = bundle_file.Bundle(_manifest(), [(row, base64.b64encode(os.urandom(bundle_file.MAX_BYTES)))])
    with pytest.raises(bundle_file.BundleError, match="over the 5 MB limit: save a shorter range"):
        bundle_file.save(tmp_path / "big.bundle", b)
    assert not (tmp_path / "big.bundle").exists()


def _log_of_a_triage(demo: Any) -> tuple[QueryLog, dict[str, str]]:
    ctx = context_from({k: {"url": u} for k, u in demo.urls.items()})
    log = QueryLog(keep_answers=True)

    async def go() -> dict[str, str]:
        async with await open_backends(ctx, log=log) as b:
            await Triage(b, ctx, _request(), clock=lambda: NOW).run()
            return b.urls

    return log, asyncio.run(go())


def test_every_row_of_the_query_log_copies_as_a_command_that_asks_the_demo_the_same(demo: Any) -> None:
    log, urls = _log_of_a_triage(demo)
    assert len(log) > 20
    kinds = set()
    for i, row in enumerate(log.rows):
        cmd = as_command(row, urls[row.backend])
        argv = shlex.split(cmd)
        kinds.add(argv[0])
        assert "authorization" not in cmd.lower()
        if argv[0] == "curl":
            if shutil.which("curl") is None:
                continue
            got = subprocess.run(argv, capture_output=True, timeout=30, check=True).stdout
            if row.status == 200 and "/traces/" not in row.path:
                assert msgspec.json.decode(got) == msgspec.json.decode(log.answers[i]), cmd
        elif argv[0] == "promtool" and shutil.which("promtool"):
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            assert done.returncode == 0 or row.status >= 400, (cmd, done.stderr)
        elif argv[0] == "logcli":
            assert argv[-1] == dict(row.query)["query"]
    assert {"curl", "promtool", "logcli"} <= kinds
