"""Provides one escaping function per output format, for every untrusted string (log lines, span names,
attributes, label values, frame names, ids, error bodies):

- text: `inert`. Escape sequences become visible placeholders (`␛[2J`), other control characters their
  Unicode control pictures, bidi and zero-width controls a visible `⟨U+202E⟩`; nothing reaches the
  terminal that it would act on. Never markup: callers wrap the result in `rich.text.Text` / Textual
  `Content`, never parse it.
- markdown: `md` for prose and table cells (every markdown and HTML metacharacter backslash-escaped:
  no link, image, tag, autolink or emphasis can start in it), `md_code` for an inline code span.
- JSON: `json_text` (the encoder escapes; nothing outside ASCII is written raw).
- shell lines: `shlex.quote`, in `present.commands`.
"""

from __future__ import annotations

import json
import re
from typing import Any

# CSI (7- and 8-bit) with parameters; OSC/DCS/APC/PM/SOS strings up to BEL or ST; two-byte ESC sequences.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])(?:[^\x07\x1b\x9c]*)(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
_BIDI_ZW = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_C0 = {i: chr(0x2400 + i) for i in range(0x20) if i != 0x09}
_C0[0x7F] = "\u2421"
_C1 = {i: f"⟨x{i:02X}⟩" for i in range(0x80, 0xA0)}
_TABLE = {**_C0, **_C1}

ELLIPSIS = "…"


def _escape_placeholder(m: re.Match[str]) -> str:
    seq = m.group(0)
    return "␛" + seq[1:].translate(_TABLE) if seq.startswith("\x1b") else "␛" + seq.translate(_TABLE)


def inert(text: str | bytes, limit: int | None = None) -> str:
    """`text` with every terminal control made visible and inert; cut to `limit` characters.

    Invalid UTF-8 becomes U+FFFD; `\\r` is shown as `␍` (it never overwrites); TAB stays.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if text.isprintable():  # no control, format (bidi, zero-width) or surrogate character: nothing to do
        if limit is not None and len(text) > limit:
            return text[: max(0, limit - 1)] + ELLIPSIS
        return text
    if limit is not None and len(text) > limit * 4:
        text = text[: limit * 4]
    out = _ESCAPES.sub(_escape_placeholder, text)
    out = _BIDI_ZW.sub(lambda m: f"⟨U+{ord(m.group(0)):04X}⟩", out)
    out = out.translate(_TABLE)
    try:
        out.encode("utf-8")
    except UnicodeEncodeError:
        out = out.encode("utf-8", "replace").decode("utf-8")
    if limit is not None and len(out) > limit:
        out = out[: max(0, limit - 1)] + ELLIPSIS
    return out


_MD_META = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&:@$=])")
"""Characters that start markdown or HTML somewhere (emphasis, code, links, images, tags, entities,
headings, lists, tables, strikethrough, autolinks, math): all of them ASCII punctuation, which
CommonMark lets a backslash escape."""


def md(text: object, limit: int | None = None) -> str:
    """Untrusted text for markdown prose or a table cell: inert, on one line, every metacharacter
    backslash-escaped, so it renders as the text itself (never a link, image, tag or emphasis)."""
    return _MD_META.sub(r"\\\1", inert(str(text), limit).replace("\t", " "))


def md_code(text: object, limit: int | None = None) -> str:
    """Untrusted text as an inline code span (backticks included): inert, on one line, a backtick
    inside becomes `'` (nothing in a code span is markdown, so nothing else needs escaping). Not for
    a table cell (a `|` would split it): use `md` there."""
    return "`" + (inert(str(text), limit).replace("\t", " ").replace("`", "'") or " ") + "`"


def json_text(doc: Any, indent: int | None = 2) -> str:
    """`doc` as JSON text ending in a newline: every string escaped by the encoder, nothing outside ASCII
    written raw (no C1 control, bidi override or lone surrogate reaches a terminal); NaN refused."""
    return json.dumps(doc, ensure_ascii=True, indent=indent, allow_nan=False) + "\n"
