"""Provides the one key table. The app's, the lists', the log pane's and the flame's bindings are made
from it, and so are `?` and the README's key table (a test holds the README to it): a key can't be
bound without being listed."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class Key:
    """One binding: Textual's key names, the action, what the footer calls it, how it is typed, and what
    `?` and the README add."""

    keys: str
    action: str
    label: str
    typed: str
    footer: bool = False
    """Shown in the footer (where the binding is active)."""
    priority: bool = False
    more: str = ""

    @property
    def says(self) -> str:
        return f"{self.label}: {self.more}" if self.more else self.label


PANES = ("percentiles", "spans", "trace", "flame", "cost", "business")
"""The panes by number (the business table is in the cost pane)."""

SCREEN = (
    Key("q", "quit", "quit", "q", footer=True),
    Key("ctrl+c", "quit", "quit", "ctrl+c", priority=True),
    Key("question_mark", "help", "help", "?", footer=True, more="every key, and the queries the screen ran"),
    Key("tab", "focus_next", "next", "tab", footer=True, priority=True, more="the next pane"),
    Key(
        "F",
        "detail('findings')",
        "findings",
        "F",
        footer=True,
        more="enter on one re-targets every pane; tab to what separates its calls, enter holds spans and logs to it",
    ),
    Key("f", "detail('flame')", "flame", "f", footer=True, more="the window's CPU against the baseline"),
    Key("t", "window_trace", "trace", "t", footer=True, more="the waterfall of the window's slowest trace"),
    Key("o,colon,T", "trace_by_id", "trace by id", "o : T", more="paste one from a ticket"),
    Key("escape", "go_back", "back", "esc", more="closes a search or filter, zooms out, then undoes the last move"),
    Key("left_square_bracket", "shift(-1)", "earlier", "[", footer=True, more="the range half its length back"),
    Key("right_square_bracket", "shift(1)", "later", "]", footer=True, more="the range half its length on"),
    Key("plus", "zoom(0.5)", "zoom in", "+", more="the range half as long"),
    Key("minus", "zoom(2)", "zoom out", "-", more="the range twice as long"),
    Key(
        "R",
        "reproduce",
        "reproduce",
        "R",
        footer=True,
        more="the range to now, following; opens the first new slow span",
    ),
    Key("r", "refresh_all", "refresh", "r", more="the triage again"),
    Key(
        "y",
        "copy",
        "copy",
        "y",
        footer=True,
        more="the log line, else the trace id on screen, else the queries (OSC 52)",
    ),
    Key("u", "utc", "UTC", "u", more="times in UTC or local time"),
    Key("Q", "query_log", "query log", "Q", more="every request of the session; y copies one as a command"),
    Key(
        "slash",
        "filter",
        "filter",
        "/",
        footer=True,
        more="the log lines (regex, ! inverts); in the flame graph, search",
    ),
    Key("p", "pause", "pause", "p", more="the tail (new lines counted, none lost)"),
    *(
        Key(str(i + 1), f"pane('{name}')", name, str(i + 1), more="that pane (the one shown at 80 columns)")
        for i, name in enumerate(PANES)
    ),
)
LISTS = (
    Key("up,k", "move(-1)", "up", "↑ k"),
    Key("down,j", "move(1)", "down", "↓ j"),
    Key("pageup", "page(-1)", "page up", "pgup"),
    Key("pagedown", "page(1)", "page down", "pgdn"),
    Key("home,g", "first", "first", "g"),
    Key("end,G", "last", "last", "G", more="the log pane follows again"),
    Key("enter", "choose", "open", "enter", footer=True, more="a tool, span, finding, or a log line's trace"),
)
LOGS = (
    Key("space,v", "detail", "line", "space v", footer=True, more="the whole line, paged (enter its trace, y copies)"),
    Key("equals_sign", "pivot", "keep", "=", more="only lines with this line's value of a field"),
    Key("backspace", "unpivot", "unkeep", "⌫", more="drop the last field filter"),
)
FLAME = (
    Key("left,h", "sibling(-1)", "previous", "← h", more="sibling frame"),
    Key("right,l", "sibling(1)", "next", "→ l", more="sibling frame"),
    Key("enter", "zoom", "zoom", "enter", footer=True, more="into the selected frame"),
    Key("backspace", "unzoom", "unzoom", "⌫", footer=True, more="back up one frame"),
    Key("n", "next_match", "next match", "n", more="of the search"),
)
QUERIES = (
    Key("y", "copy", "copy", "y", footer=True, more="the request as a promtool, logcli, tempo-cli or curl command"),
    Key("r", "reload", "refresh", "r", more="the list again"),
    Key("escape,q,Q", "dismiss", "close", "esc q Q"),
)
GROUPS = {"screen": SCREEN, "lists and tables": LISTS, "log pane": LOGS, "flame graph": FLAME, "query log (Q)": QUERIES}


def bindings(keys: tuple[Key, ...], skip: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> list[BindingType]:
    """Textual bindings for `keys` (leaving out the actions in `skip`, or keeping those in `only`); an
    action is named without its arguments."""
    return [
        Binding(k.keys, k.action, k.label, show=k.footer, priority=k.priority)
        for k in keys
        if k.action.split("(")[0] not in skip and (not only or k.action.split("(")[0] in only)
    ]


def help_lines() -> list[str]:
    """The keys as `?` lists them."""
    out = []
    for group, keys in GROUPS.items():
        out.append(group)
        out += [f"  {k.typed:<8} {k.says}" for k in keys]
    return out


def markdown_table() -> str:
    """The keys as the README lists them."""
    rows = ["| where | key | does |", "|---|---|---|"]
    for group, keys in GROUPS.items():
        rows += [f"| {group} | `{k.typed}` | {k.says} |" for k in keys]
    return "\n".join(rows)
