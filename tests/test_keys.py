"""One key table: the README's table is the table's, every binding of the screen comes from it, and no two
keys of one group collide."""

from __future__ import annotations

from pathlib import Path

from plugintop.ui.keys import FLAME, GROUPS, LISTS, LOGS, QUERIES, SCREEN, markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_lists_the_same_keys() -> None:
    text = README.read_text()
    table = text.split("<!-- keys:start -->\n", 1)[1].split("\n<!-- keys:end -->", 1)[0]
    assert table == markdown_table()


def test_every_binding_of_the_screen_comes_from_the_table() -> None:
    from plugintop.ui.app import PlugintopApp
    from plugintop.ui.help import HelpScreen
    from plugintop.ui.pivot import PivotScreen
    from plugintop.ui.querylog import QueryLogScreen
    from plugintop.ui.widgets.flame import Icicle
    from plugintop.ui.widgets.logview import LogView
    from plugintop.ui.widgets.table import Table
    from plugintop.ui.widgets.waterfall import Waterfall

    listed = {(k.keys, k.action) for keys in GROUPS.values() for k in keys}
    for cls in (PlugintopApp, Icicle, LogView, Table, Waterfall, QueryLogScreen):
        for b in cls.BINDINGS:
            assert not isinstance(b, tuple)
            assert (b.key, b.action) in listed, (cls.__name__, b.key)
    for screen in (HelpScreen, PivotScreen):  # the modal screens: their list keys too (j/k where arrows move)
        keys = {b.key for b in screen.BINDINGS if not isinstance(b, tuple) and (b.key, b.action) in listed}
        assert "down,j" in keys and "up,k" in keys


def test_no_key_is_bound_twice_where_it_is_active() -> None:
    for keys in (SCREEN, LISTS + LOGS, FLAME, LISTS + QUERIES):
        names = [name for k in keys for name in k.keys.split(",")]
        assert len(names) == len(set(names))
