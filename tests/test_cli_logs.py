"""`plugintop logs` (and `tail --from --to`) as a user runs them: a past range printed whole and exit, each
line once across pages, in order either way, with `--limit`, and the three output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from plugintop.cli.lines import rfc3339_ns
from tests.servers import Answer, Backend, Request, serve

S = 1_000_000_000
T0 = 1_796_000_000_000_000_000
"""The range's start: today's epoch in nanoseconds."""
LINES = [(T0 + i * (S // 10) + (i % 7), json.dumps({"seq": i, "msg": f"line {i}"})) for i in range(12_000)]
LINES += [(T0 + 5 * S, json.dumps({"seq": 20_000 + i, "msg": "shared nanosecond"})) for i in range(3)]
LINES.sort()
HOSTILE = (T0 + 7 * S + 1, "\x1b]52;c;ZXZpbA==\x07 [bold]x[/] \u202eevil")


class PastLoki(Backend):
    """Loki's `query_range` over fixed lines: start inclusive, end exclusive, limit, both directions."""

    def answer(self, req: Request) -> Answer:
        if req.path == "/loki/api/v1/label/tenant_id/values":
            return Answer(200, {"status": "success", "data": ["acme", "globex"]})
        if req.path != "/loki/api/v1/query_range":
            return Answer(404, "404 page not found\n", "text/plain")
        p = dict(req.params)
        lo, hi, limit = int(p["start"]), int(p["end"]), int(p["limit"])
        rows = sorted(e for e in [*LINES, HOSTILE] if lo <= e[0] < hi)
        if p["direction"] == "backward":
            rows.reverse()
        values = [[str(t), line] for t, line in rows[:limit]]
        body = {"status": "success", "data": {"resultType": "streams", "result": [{"stream": {}, "values": values}]}}
        return Answer(200, body)


@pytest.fixture(scope="module")
def loki() -> Iterator[str]:
    with serve(PastLoki()) as srv:
        yield srv.url


def plugintop(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "plugintop", *args, "--loki-url", url, "--plugin", "p", "--tenant", "t"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def seqs(out: str) -> list[int]:
    """The `seq` of each JSON line printed (`jsonl`), the hostile line left out."""
    lines = [json.loads(x)["line"] for x in out.splitlines()]
    return [json.loads(x)["seq"] for x in lines if x != HOSTILE[1]]


def test_a_past_range_is_printed_whole_each_line_once_and_exits_0(loki: str) -> None:
    r = plugintop(loki, "logs", "--from", rfc3339_ns(T0), "--to", rfc3339_ns(T0 + 1300 * S), "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    got = seqs(r.stdout)
    assert sorted(got) == sorted([*range(12_000), 20_000, 20_001, 20_002]) and len(got) == len(set(got))
    stamps = [int(json.loads(x)["ts_ns"]) for x in r.stdout.splitlines()]
    assert stamps == sorted(stamps) and stamps[1] == T0 + S // 10 + 1  # nanoseconds as Loki sent them
    assert len(stamps) == 12_004  # the hostile line too


def test_backward_with_a_limit_gives_the_newest_first(loki: str) -> None:
    r = plugintop(
        loki, "logs", "--from", rfc3339_ns(T0), "--to", rfc3339_ns(T0 + 1300 * S), "--format", "jsonl",
        "--direction", "backward", "--limit", "25",
    )  # fmt: skip
    assert r.returncode == 0 and seqs(r.stdout) == list(range(11_999, 11_974, -1))


def test_tail_with_from_and_to_prints_the_range_and_exits(loki: str) -> None:
    r = plugintop(loki, "tail", "--from", rfc3339_ns(T0), "--to", rfc3339_ns(T0 + S), "--format", "jsonl")
    assert r.returncode == 0 and seqs(r.stdout) == list(range(10))


def test_text_is_sanitised_raw_is_the_line_as_stored(loki: str) -> None:
    rng = ("--from", rfc3339_ns(T0 + 7 * S), "--to", rfc3339_ns(T0 + 7 * S + 2))
    text = plugintop(loki, "logs", *rng).stdout
    raw = plugintop(loki, "logs", *rng, "--format", "raw").stdout
    assert "\x1b" not in text and "\x07" not in text and "[bold]x[/]" in text and "⟨U+202E⟩evil" in text
    assert raw.splitlines()[-1] == HOSTILE[1]  # for a file or a program: byte for byte (never a terminal)


def test_an_empty_range_exits_1_and_a_bad_limit_2(loki: str) -> None:
    empty = plugintop(loki, "logs", "--from", rfc3339_ns(T0 - 10 * S), "--to", rfc3339_ns(T0 - 5 * S))
    assert empty.returncode == 1 and empty.stdout == ""
    bad = plugintop(loki, "logs", "--limit", "0")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--limit" in bad.stderr


def test_a_tenant_with_no_lines_is_named_with_the_tenants_that_have_some(loki: str) -> None:
    empty = plugintop(loki, "logs", "--from", rfc3339_ns(T0 - 10 * S), "--to", rfc3339_ns(T0 - 5 * S))
    assert empty.returncode == 1 and empty.stdout == ""
    assert empty.stderr.count("\n") == 1, empty.stderr
    assert "no lines of tenant 't'" in empty.stderr and "tenants with lines: acme, globex" in empty.stderr


def test_tail_help_says_what_the_settle_window_is() -> None:
    out = subprocess.run([sys.executable, "-m", "plugintop", "tail", "--help"], capture_output=True, text=True).stdout
    flat = " ".join(out.split())
    assert "--settle" in flat and "tail.settle, 5s" in flat and "nothing skipped" in flat
    assert "every poll reads the last --settle again" in flat and "(late by 12.4 s)" in flat and "late_by_s" in flat


def test_a_bad_settle_is_a_one_line_usage_error_naming_the_flag(loki: str) -> None:
    for bad in ("soon", "11m"):
        r = plugintop(loki, "tail", "--settle", bad, "--for", "1s")
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--settle" in r.stderr, r.stderr


def test_the_settle_window_is_a_context_key_validated_like_the_others() -> None:
    from plugintop.config.context import context_from
    from plugintop.structs import InvalidValue

    assert context_from({}).tail.settle_s == 5.0
    assert context_from({"tail": {"settle": "2500ms"}}).tail.settle_s == 2.5
    for bad in ("0s", "soon", "11m"):
        with pytest.raises(InvalidValue) as e:
            context_from({"tail": {"settle": bad}})
        assert e.value.key == "tail.settle"
