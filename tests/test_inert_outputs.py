"""Every output is inert (issue 28): one escaping function per format, used for every string that came
from a backend. Text (`inert`): no terminal control; markdown (`md`, `md_code`): no link, image, tag or
autolink; shell lines (`shlex.quote`): every value one word; JSON: ASCII, escaped by the encoder. Fuzzed
with the hostile strings of tests/hostile.py (and the issue's) through every field."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from plugintop.analysis.model import (
    BackendProblem,
    BusinessMetric,
    CostSummary,
    Evidence,
    Finding,
    FunctionShare,
    LogsSummary,
    ModelCost,
    Pattern,
    ProfileSummary,
    SLOStatus,
    SlowWindow,
    SpanNode,
    SpanSample,
    ToolStats,
    TraceAnalysis,
    TriageResult,
    Verdict,
)
from plugintop.present.commands import commands
from plugintop.report import render
from plugintop.report import trace as trace_report
from tests.hostile import HOSTILE

PHISH = "[re-authenticate here](https://evil.example/sso) ![](https://evil.example/p.png) <img src=x onerror=alert(1)>"
MORE = [
    PHISH,
    "\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\u202e4bf92f35\x9b31mPWNED",
    "../../../../api/admin/users?perpage=1000#",
    "4bf92f35\x0077b34da6",
    "a`b``c```d",
    "<script>alert(1)</script>",
    "**bold** _em_ ~~s~~ # h | cell | \\| `x`",
    "see https://evil.example and www.evil.example or mail@evil.example",
    "line\nbreak\r\n# heading\n- item\n```\nfence",
    "$(rm -rf ~) `id` ; ls | sh && x > /tmp/y '\"",
    "&lt;img src=x onerror=alert(1)&gt; &#x3C;b&#x3E;",
    "\ud800 lone surrogate",
]
STRINGS = st.sampled_from(HOSTILE + MORE) | st.text(max_size=40)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
NOW = 1_800_000_000.0


def hostile_result(h: str) -> TriageResult:
    """A triage whose every string that a backend (or a plugin) writes is `h`."""
    s, e = NOW - 3600, NOW
    r = TriageResult("recommender", "acme", s, e)
    pts = [(s + i * 60, 1.0 + i % 7) for i in range(60)]
    r.tools = [
        ToolStats(
            tool=h, p50_s=0.1, p90_s=0.5, p99_s=3.0, rate_per_s=1.0, success_ratio=0.99, fleet_p99_s=1.0, p99_series=pts
        )
    ]
    r.slow_window = SlowWindow(start=s + 600, end=s + 1800, tool=h, p99_s=4.0, target_s=2.0)
    r.spans = [SpanSample(h, h, h, 4.2, h, s + 700)]  # type: ignore[arg-type]  # as if a bad id got through
    node = SpanNode(h, h, h, h, 0, 10**9, 0, 10**9, True, True, h, {h: h})
    r.trace = TraceAnalysis(
        trace_id=h,
        spans=[node],
        critical_path=[h],
        critical_path_ns=[(h, 10**9)],
        llm_share=0.5,
        tool_span=h,
        tool_duration_s=1.0,
        slowest_child=h,
        slowest_child_share=0.4,
        llm_model=h,
    )
    share = [FunctionShare(h, 0.3)]
    r.profile = ProfileSummary(share, share, share, 1.0, 1.0, False, (s, e), (s - 3600, s))
    r.cost = CostSummary(1.0, 0.5, 100.0, 50.0, 10.0, 10.0, [ModelCost(h, 1.0, 0.5, 100.0, 50.0)])
    r.logs = LogsSummary(3, 1, [h, h])
    r.slo = SLOStatus(0.99, {"5m": 2.0}, [h])
    r.business = [BusinessMetric(name=h, kind="counter", window=1.0, baseline=2.0)]
    r.verdict = Verdict(
        state="incident",
        cause="downstream",
        scope="tenant",
        tool=h,
        summary=f"{h}: p99 4s, {h} took 80% of it",
        evidence=[h, f"span {h}"],
        unchecked=[h],
        version=h,
    )
    r.findings = [
        Finding(
            kind="latency",
            tool=h,
            start=s + 600,
            end=s + 1800,
            severity=2.0,
            rank=1.0,
            cause="downstream",
            version=h,
            evidence=[Evidence(signal="tempo", what="failing_spans", value=3, unit="count", detail=h)],
            patterns=[Pattern(pattern=h, count=3, baseline_count=0, example=h, trace_id=h)],
        )
    ]
    r.errors = [BackendProblem("tempo", h)]
    r.queries = {b: [f'q{{tenant="{h}"}}'] for b in ("prometheus", "loki", "tempo", "pyroscope")}
    r.notes = [h]
    r.known_tenants = [h]
    return r


def live_markup(text: str) -> list[str]:
    """What a markdown renderer (CommonMark with tables, raw HTML on) makes live in `text`: links,
    images, HTML; and what GFM would autolink outside code (a scheme, `www.`, an address)."""
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    live = []
    for tok in parser.parse(text):
        if tok.type == "html_block":
            live.append(tok.content)
        if tok.type == "inline":  # its source: GFM autolinks what is left outside code and escapes
            source = re.sub(r"\\.", "", re.sub(r"(`+).*?\1", "", tok.content))
            live += [f"autolink {m}" for m in re.findall(r"\S*(?:://|www\.|\w@\w)\S*", source)]
        for child in tok.children or []:
            if child.type in ("link_open", "image", "html_inline", "autolink_open"):
                live.append(f"{child.type} {child.attrs} {child.content}")
    return live


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=STRINGS)
def test_text_report_prints_no_terminal_control(h: str) -> None:
    out = render(hostile_result(h), "text")
    assert not CONTROL.search(out.replace("\n", "").replace("\t", "")), repr(out)
    out = trace_report.to_text(hostile_result(h).trace, h, h, [h])  # type: ignore[arg-type]
    assert not CONTROL.search(out.replace("\n", "").replace("\t", "")), repr(out)


@pytest.mark.parametrize("h", HOSTILE + MORE)
def test_text_report_shows_the_slow_spans_and_trace_ids_inert(h: str) -> None:
    """SLOW SPANS and TRACE printed exemplar trace ids raw (C1 CSI, bidi overrides reached the terminal)."""
    out = render(hostile_result(h), "text")
    spans = out.split("SLOW SPANS", 1)[1].split("\n\n", 1)[0]
    trace = out.split("\nTRACE ", 1)[1].split("\n", 1)[0]
    for part in (spans, trace):
        assert not CONTROL.search(part), repr(part)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=STRINGS)
def test_markdown_report_carries_no_live_markup(h: str) -> None:
    r = hostile_result(h)
    for out in (render(r, "markdown"), trace_report.to_markdown(r.trace, h, h, [h])):  # type: ignore[arg-type]
        assert not CONTROL.search(out.replace("\n", "").replace("\t", "")), repr(out)
        assert live_markup(out) == [], out


def test_a_phishing_span_name_stays_text_in_the_verdict_and_the_evidence() -> None:
    out = render(hostile_result(PHISH), "markdown")
    verdict = next(line for line in out.splitlines() if line.startswith("**Verdict"))
    assert live_markup(verdict) == [] and re.search(r"(?<!\\)<img", verdict) is None
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(out)
    assert "<a " not in html and "<img" not in html and "re-authenticate here" in html


@pytest.mark.parametrize("h", HOSTILE + MORE)
def test_md_renders_as_the_text_itself(h: str) -> None:
    """`md` escapes, it does not rewrite: the rendered paragraph is the (inert) text."""
    from plugintop.textsafe import inert, md, md_code  # (here: new in issue 28)

    html = MarkdownIt("commonmark", {"html": True}).render(f"x {md(h)} y")
    want = inert(h).replace("\t", " ")
    import html as htmllib

    got = htmllib.unescape(re.sub(r"</?p>\n?", "", html)).rstrip("\n")
    assert got == f"x {want} y".strip() or got == f"x {want} y", (h, got)
    assert live_markup(md_code(h)) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=STRINGS)
def test_every_value_in_a_shell_line_is_one_word(h: str) -> None:
    r = hostile_result(h)
    urls = {b: f"http://{b}.example:1" for b in ("prometheus", "loki", "tempo", "pyroscope")}
    lines = commands(r, urls)
    assert lines
    for line in lines:
        words = shlex.split(line)  # a quote never left open
        if line.startswith("tempo-cli query api trace-id"):
            assert words[-1] == h
        elif "pyroscope" not in line:
            assert words[-1 if not line.startswith("tempo-cli") else -3] == f'q{{tenant="{h}"}}', words


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=STRINGS)
def test_json_outputs_are_ascii_and_round_trip(h: str) -> None:
    r = hostile_result(h)
    for out in (render(r, "json"), trace_report.to_json(r.trace, h, h, [h])):  # type: ignore[arg-type]
        assert out.isascii()
        json.loads(out)
