"""The hostile strings of RELIABILITY §1 that every display path is tested with (one list for all tests)."""

from __future__ import annotations

HOSTILE = [
    "\x1b[2J\x1b[3J\x1b[1;1HFAKE",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b]8;;https://evil/\x1b\\ok\x1b]8;;\x1b\\",
    "\x9b2J",
    "\x1b",
    "\x1bP...\x1b\\",
    "status=ok\rstatus=FAIL",
    "\x1b[1A\x1b[2K[OK] auth success",
    "[/]",
    "[/b] plan",
    "[bold red]x",
    "[TODO] x",
    "[link=https://evil]x[/link]",
    "[@click=app.quit]x[/]",
    "\u202eevil",
    "a\u200bb",
    "e" + "\u0301" * 50,
    b"\xff\xfe invalid utf-8".decode("utf-8", "replace"),
    "{not json",
]
