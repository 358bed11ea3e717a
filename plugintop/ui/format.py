"""Provides the small formatters the panes share (durations, percents, times); untrusted text goes
through `safe`, which returns a `Text` that is never parsed as markup."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from rich.text import Text
from textual.content import Content
from textual.widget import Widget

from plugintop.analysis.wording import duration
from plugintop.errors import BackendError
from plugintop.redact import redact
from plugintop.textsafe import inert


def safe(text: object, limit: int | None = None, style: str = "") -> Text:
    """Untrusted text as inert `Text` (no markup, no terminal control)."""
    return Text(inert(str(text), limit), style=style, no_wrap=True, overflow="ellipsis")


def plain(text: object, limit: int = 200) -> Content:
    """Untrusted text for a border title, subtitle or any place Textual would parse a `str` as markup:
    inert `Content`, never markup (a backend's `[/]` once stopped the triage from inside a title)."""
    return Content(inert(str(text), limit))


def secs(v: float | None) -> str:
    """A duration in the one format the report and the screen share."""
    return duration(v)


def pct(v: float | None, digits: int = 1) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v * 100:.{digits}f}%"


def hhmm(t: float, utc: bool = True) -> str:
    return datetime.fromtimestamp(t, tz=UTC if utc else None).strftime("%H:%M")


def hhmmss(t: float, utc: bool = True) -> str:
    return datetime.fromtimestamp(t, tz=UTC if utc else None).strftime("%H:%M:%S")


def border(widget: Widget, *, title: Content | str | None = None, subtitle: Content | str | None = None) -> None:
    """Sets a widget's border title and/or subtitle (None: leave it) only when it changes: Textual repaints
    the whole widget at every set, changed or not (a landing triage repainted every pane for its titles)."""
    for name, value in (("border_title", title), ("border_subtitle", subtitle)):
        if value is None:
            continue
        shown = getattr(widget, name) or ""
        if shown != (value.markup if isinstance(value, Content) else value):
            setattr(widget, name, value)


def failure(e: BaseException | None) -> str:
    """What stopped a worker, on one line: a backend's own message, or the unexpected exception's type
    and first line (redacted; made inert where it is shown)."""
    if isinstance(e, BackendError):
        return redact(f"{e.backend}: {e.message}")
    text = str(e).strip().splitlines()[0] if e is not None and str(e).strip() else ""
    name = type(e).__name__ if e is not None else "error"
    return redact(f"internal: {name}" + (f": {text}" if text else ""))
