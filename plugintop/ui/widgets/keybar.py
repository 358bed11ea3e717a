"""Provides `KeyBar`: the footer's key hints as one line of text.

Textual's `Footer` is a container of one widget per key, recomposed (new widgets, a new layout of the
whole screen) at every change of focus: measured, the screen's worst frame. Here a change of focus is
one line redrawn. The hints are whole or absent: a line too narrow for all of them ends after the last
hint that fits, never in the middle of a word."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

GAP = "  "


class KeyBar(Static):
    """The active bindings that ask to be shown, key then description, on one line at the bottom."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        self.refresh()

    def hints(self) -> list[tuple[Binding, bool]]:
        """(binding, enabled) for each action shown, in the order the bindings are declared."""
        seen: set[str] = set()
        out = []
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                out.append((binding, enabled))
        return out

    def fitted(self, width: int) -> tuple[Text, list[str]]:
        """The line for `width` columns and the keys (Textual's names) of the hints on it."""
        line, keys = Text(no_wrap=True, overflow="crop"), []
        for binding, enabled in self.hints():
            hint = Text.assemble((f" {self.app.get_key_display(binding)} ", "bold reverse"), f" {binding.description}")
            if not enabled:
                hint.stylize("dim")
            if line and line.cell_len + len(GAP) + hint.cell_len > width:
                break
            if line:
                line.append(GAP)
            line.append_text(hint)
            keys.append(binding.key)
        return line, keys

    @property
    def keys(self) -> list[str]:
        """The keys of the hints on the line as wide as the bar is now."""
        return self.fitted(self.size.width)[1]

    def render(self) -> Text:
        return self.fitted(self.size.width)[0]
