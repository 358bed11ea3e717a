"""Provides reproduce mode (`R`): the range's end pinned to now, and Tempo asked every few seconds for
the tenant's new slow spans while the user reproduces the bug; the first one found is opened."""

from __future__ import annotations

import asyncio

from textual import work

from plugintop.analysis.model import SpanSample
from plugintop.errors import BackendError
from plugintop.live.reproduce import new_slow_spans
from plugintop.timerange import TimeRange
from plugintop.ui.format import border, hhmm, plain
from plugintop.ui.navigation import Navigation
from plugintop.ui.state import SlowSpansFound
from plugintop.ui.widgets.spans import Spans


class Reproduce(Navigation):
    """Reproduce mode's part of `PlugintopApp`."""

    def open_checked(self, raw: str, whose: str) -> None:
        """Opens `raw` if it is a trace id (`PlugintopApp`'s)."""
        raise NotImplementedError

    def action_reproduce(self) -> None:
        """Pins the range's end to now and watches for new slow spans; a second press stops."""
        if self.view.reproducing:
            self.look(reproducing=False, repro_note="")
            return
        now = self.session.clock()
        note = f"● reproducing since {hhmm(now, self.view.utc)}"
        self.look(
            range=TimeRange(now - self.view.range.duration, now),
            window=None,
            reproducing=True,
            repro_note=note,
            new_spans=(),
        )

    @work(exclusive=True, group="reproduce", exit_on_error=False)
    async def watch_slow_spans(self, since: float) -> None:
        assert self.backends is not None
        s = self.session
        while True:
            r, v = self.result, self.view
            tool = v.tool or (r.slow_window.tool if r and r.slow_window else None)
            ts = next((t for t in r.tools if t.tool == tool), None) if r else None
            threshold = s.p99_target_s or (ts.p99_s if ts else None) or 1.0
            note = f"● reproducing since {hhmm(since, v.utc)}: watching for spans > {threshold:.2f}s"
            try:
                found = await new_slow_spans(
                    self.backends, s.ctx, s.plugin, s.tenant, tool, threshold, since, s.clock()
                )
                self.post_message(SlowSpansFound(found, note))
            except BackendError as e:
                self.post_message(SlowSpansFound([], note, f"tempo: {e.message}"))
            await asyncio.sleep(s.reproduce_every)

    def on_slow_spans_found(self, message: SlowSpansFound) -> None:
        if not self.view.reproducing or not self.is_running:
            return
        if message.error:
            border(self.query_one("#spans"), subtitle=plain(message.error, 100))
        v = self.view
        seen = {f.trace_id for f in v.new_spans}
        fresh: list[SpanSample] = []
        for span in message.spans:
            if span.trace_id not in seen:
                seen.add(span.trace_id)
                fresh.append(span)
        if fresh:
            self.look(new_spans=(*fresh, *v.new_spans))
            if self.result is not None:
                self.query_one(Spans).show(self.result, v.utc, v.attribute_text, self.view.new_spans)
            if not v.new_spans:
                self.open_checked(fresh[0].trace_id, "the new slow span")
        found = len(self.view.new_spans)
        self.look(repro_note=message.note + (f" · {found} new" if found else ""))
