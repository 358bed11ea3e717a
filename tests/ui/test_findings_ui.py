"""Findings on screen: `F` lists every finding with the highlighted one's evidence; `enter` re-targets the
screen to its tool and window, and the log pane reads that window; `esc` goes back."""

from __future__ import annotations

import asyncio

from textual.widgets import Static

from plugintop.ui.widgets.findings import FindingsView
from plugintop.ui.widgets.logview import LogView
from tests.ui.harness import demo_app


async def test_the_findings_list_shows_evidence_and_enter_retargets_every_pane() -> None:
    with demo_app() as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await asyncio.wait_for(app.triage_done.wait(), 60)
            r = app.result
            assert r is not None and [f.kind for f in r.findings][:2] == ["latency", "cost"]
            await pilot.press("F")
            await pilot.pause()
            view = app.query_one(FindingsView)
            assert app.query_one("#findingtable").row_count == len(r.findings)  # type: ignore[attr-defined]
            assert "Findings (3) · verdict incident" in str(app.query_one("#detail").border_title)
            await pilot.press("j")  # the cost finding
            await pilot.pause()
            evidence = str(app.query_one("#evidence", Static).render())
            assert "LLM cost per call" in evidence
            cost = view.findings[1]
            app.triage_done.clear()
            await pilot.press("enter")
            await asyncio.wait_for(app.triage_done.wait(), 60)
            assert app.view.tool == cost.tool and app.view.window == (cost.start, cost.end)
            logs = app.query_one(LogView)
            for _ in range(200):
                if "range" in str(logs.border_title) and "reading" not in str(logs.border_title):
                    break
                await asyncio.sleep(0.05)
            stamps = [item.ts_ns for i in range(logs.count) if (item := logs.item(i)) is not None]
            assert stamps and cost.start * 1e9 <= min(stamps) and max(stamps) < cost.end * 1e9
            await pilot.press("escape")  # undoes what enter did: the finding's tool and window
            after = app.view
            assert (after.tool, after.window) == (None, None)
            assert app.query_one("#detail").current == "findings"  # type: ignore[attr-defined]
            await pilot.press("escape")  # then what F did
            assert app.query_one("#detail").current == "trace"  # type: ignore[attr-defined]


async def test_the_findings_view_shows_each_findings_why_inert() -> None:
    """`F` shows the highlighted finding's "why" under its evidence, its untrusted parts (an attribute
    value is the plugin's) shown as written, never markup or terminal control."""
    import msgspec

    from plugintop.analysis.model import AttributeLift, Explain, TriageResult

    hostile = "[bold]video[/bold]\x1b[2J\u202e"
    explain = Explain(
        onset=1_800_000_000.0 - 1800,
        separates=True,
        attributes=[
            AttributeLift(
                attribute="span.course_type",
                value=hostile,
                share=0.9,
                baseline_share=0.2,
                lift=4.5,
                n=180,
                baseline_n=1200,
                p_value=1e-9,
            )
        ],
    )
    with demo_app() as app:
        async with app.run_test(size=(160, 48)) as pilot:
            await asyncio.wait_for(app.triage_done.wait(), 60)
            r = app.result
            assert r is not None and r.findings
            top = r.findings[0]
            fake = TriageResult(r.plugin, r.tenant, r.start, r.end)
            fake.verdict, fake.findings = r.verdict, [msgspec.structs.replace(top, explain=explain)]
            await pilot.press("F")
            app.query_one(FindingsView).show(fake)
            await pilot.pause()
            text = str(app.query_one("#evidence", Static).render())
            assert "why" in text and "which calls: span.course_type=[bold]video[/bold]" in text, text
            assert "\x1b" not in text and "\u202e" not in text
