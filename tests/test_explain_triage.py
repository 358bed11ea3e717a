"""The explanation phase end to end: a v3 scenario served by the demo stack, the triage run as `report`
runs it, then `explain_all`; and `compare()`'s real answer (Tempo 3.0.3) read into counts; and the "why"
block rendered with untrusted names made inert."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from plugintop.analysis.model import AttributeLift, Change, Explain, Finding, Impact
from plugintop.clients.tempo_metrics import parse_metrics, parse_tags
from plugintop.config.context import context_from
from plugintop.connect.backends import open_backends
from plugintop.demo.scenario import scenario_from
from plugintop.demo.stack import DemoStack
from plugintop.present.why import NOTHING
from plugintop.report import why
from plugintop.timerange import TimeRange
from plugintop.triage import Triage, TriageRequest
from plugintop.triage.explain import explain_all, from_compare
from tests.fixtures import REAL

SCENARIO: dict[str, Any] = {
    "plugin": "coach",
    "version": "2.0.0",
    "seed": 31,
    "history": "4h",
    "tenants": ["acme", "globex", "initech"],
    "tools": [
        {
            "name": "give_feedback",
            "calls_per_min": 60,
            "median_ms": 350,
            "llm_model": "gpt-4o-mini",
            "models": {"gpt-4o-mini": 0.75, "gpt-4o": 0.25},
            "llm_share": 0.5,
            "functions": ["parse_submission"],
            "downstream": ["db.query"],
            "attributes": [{"name": "course_type", "values": {"video": 0.2, "text": 0.7, "quiz": 0.1}}],
        }
    ],
}


def run(incident: dict[str, Any], tenant: str) -> list[Finding]:
    now = float(int(time.time()))  # one moment for the demo and the triage: a clock that moves mid-triage
    sc = scenario_from({**SCENARIO, "incidents": [incident]})  # made the verdict depend on when it ran
    with DemoStack(sc, now=now, clock=lambda: now) as st:
        ctx = context_from({k: {"url": u} for k, u in st.urls.items()})

        async def go() -> list[Finding]:
            async with await open_backends(ctx) as b:
                req = TriageRequest(plugin="coach", tenant=tenant, range=TimeRange(now - 7200, now), p99_target_s=2.0)
                t = Triage(b, ctx, req, clock=lambda: now)
                r = await t.run()
                return await explain_all(
                    t.asker, t.schema, r, signals=t.wave.signals, frame=t.frame, scrape_s=t.scrape_s
                )

        return asyncio.run(go())


@pytest.mark.parametrize(
    ("where", "attribute"), [({"course_type": "video"}, ("course_type", "video")), ({"llm.model": "gpt-4o"}, None)]
)
def test_the_attribute_that_separates_the_slow_calls_and_the_onset(
    where: dict[str, str], attribute: tuple[str, str] | None
) -> None:
    inc = {
        "tenant": "globex",
        "tool": "give_feedback",
        "start": "-50m",
        "duration": "30m",
        "cause": "llm",
        "factor": 6.0,
        "where": where,
    }
    findings = run(inc, "globex")
    now = time.time()
    x = findings[0].explain
    assert x is not None and x.separates, x
    top = x.attributes[0]
    want = attribute or ("llm.model", "gpt-4o")
    assert (top.attribute.split(".")[-1], top.value) == (want[0].split(".")[-1], want[1]), x.attributes
    assert x.onset is not None and abs(x.onset - (now - 50 * 60)) <= 180
    assert x.corroboration["prometheus"] == "confirms" and x.corroboration["tempo"] == "confirms"
    assert x.impact is not None and x.impact.calls > 0


def test_nothing_separates_calls_slowed_alike() -> None:
    inc = {
        "tenant": "initech",
        "tool": "give_feedback",
        "start": "-45m",
        "duration": "25m",
        "cause": "downstream",
        "span": "db.query",
        "factor": 8.0,
    }
    x = run(inc, "initech")[0].explain
    assert x is not None and not x.separates and x.compared
    assert any(NOTHING in line for line in why.text(x))


def test_compare_answer_of_a_real_tempo_is_read_into_counts() -> None:
    body = json.loads((REAL / "tempo_metrics_compare_tenant.json").read_text())["body"]
    got = from_compare(parse_metrics(body), ignore=set())
    assert got is not None and got.how == "tempo compare()"
    assert got.selection.n > 0 and got.baseline.n > got.selection.n
    assert got.selection.values["tenant.id"]["globex"] == got.selection.n  # the selection is globex's spans
    assert "llm.tokens.prompt" in got.numeric
    tags = parse_tags(json.loads((REAL / "tempo_search_tags_v2_span_scoped.json").read_text())["body"])
    assert "llm.model" in tags.of("span")


def test_the_why_block_makes_untrusted_names_inert() -> None:
    x = Explain(
        onset=1_796_000_000.0,
        onset_kind="step",
        separates=True,
        attributes=[
            AttributeLift(
                attribute="course\x1b[2J",
                value="[x](http://e)",
                share=0.9,
                baseline_share=0.2,
                lift=4.5,
                n=100,
                baseline_n=300,
                p_value=1e-9,
            )
        ],
        changes=[Change(at=1_796_000_000.0, kind="neighbour_traffic", what="ev\x1bil's calls surged ×6.0")],
        impact=Impact(calls=120, share=0.3, users=7, users_seen_of=80, error_budget_used=0.02, extra_cost_usd=1.5),
        corroboration={"prometheus": "confirms", "tempo": "silent", "loki": "silent", "pyroscope": "missing"},
    )
    text = "\n".join(why.text(x))
    assert "\x1b" not in text and "course␛[2J" in text and "only prometheus supports it" in text
    markdown = "\n".join(why.markdown(x))
    assert "\\[x\\]\\(http" in markdown and "\x1b" not in markdown
    doc = why.to_json(x)
    assert doc["attributes"][0]["p_value"] == 1e-9 and doc["onset"].endswith("Z") and doc["separates"] is True
