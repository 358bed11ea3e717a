"""Provides Go double-quoted string literals, the string syntax PromQL, LogQL and TraceQL share
(all three unquote with Go's `strconv.Unquote`)."""

from __future__ import annotations

from plugintop.errors import QueryValueError

_RE2_META = set("\\.+*?()|[]{}^$")


def go_quote(value: str) -> str:
    """`value` as a Go double-quoted literal that unquotes to exactly `value`.

    `\\` → `\\\\`, `"` → `\\"`, newline → `\\n`, other C0 and DEL → `\\xNN`; everything else as is.

    Raises:
        QueryValueError: `value` holds a lone surrogate (not encodable as UTF-8).
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryValueError(f"{value!r} is not valid Unicode text") from None
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch < " " or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def re2_escape(value: str) -> str:
    """`value` as an RE2 pattern matching exactly itself (before string quoting)."""
    return "".join("\\" + c if c in _RE2_META else c for c in value)
