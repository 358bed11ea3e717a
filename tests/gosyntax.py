"""An independent reader of the query syntax the escapers write: Go's strconv.Unquote, and the
selectors/spansets of PromQL, LogQL and TraceQL as tokens. Used to prove the escapers exact."""

from __future__ import annotations

import re

_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "'": 39, '"': 34}


class SyntaxFault(Exception):
    pass


def go_unquote(text: str, i: int) -> tuple[str, int]:
    """Reads the Go double-quoted literal starting at text[i]; returns (value, index after it)."""
    if text[i] != '"':
        raise SyntaxFault(f"no string at {i}")
    out = bytearray()
    j = i + 1
    while True:
        if j >= len(text):
            raise SyntaxFault("unterminated string")
        c = text[j]
        if c == '"':
            return out.decode("utf-8"), j + 1
        if c == "\n":
            raise SyntaxFault("raw newline in string")
        if c != "\\":
            out += c.encode("utf-8")
            j += 1
            continue
        e = text[j + 1]
        if e in _SIMPLE:
            out.append(_SIMPLE[e])
            j += 2
        elif e == "x":
            out.append(int(text[j + 2 : j + 4], 16))
            j += 4
        elif e in "01234567":
            out.append(int(text[j + 1 : j + 4], 8))
            j += 4
        elif e == "u":
            out += chr(int(text[j + 2 : j + 6], 16)).encode("utf-8")
            j += 6
        elif e == "U":
            out += chr(int(text[j + 2 : j + 10], 16)).encode("utf-8")
            j += 10
        else:
            raise SyntaxFault(f"unknown escape \\{e}")


_TOKEN = re.compile(r"\s*(&&|=~|!~|!=|>=|<=|[{}=,<>()|\[\]*/+-]|[0-9][0-9.a-z]*|[A-Za-z_:.][A-Za-z0-9_:.]*)")


def tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value) tokens: STR (unquoted value), OP/PUNCT/IDENT (as written)."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] == '"':
            value, i = go_unquote(text, i)
            out.append(("STR", value))
            continue
        m = _TOKEN.match(text, i)
        if not m:
            raise SyntaxFault(f"unexpected {text[i]!r} at {i}")
        out.append(("TOK", m.group(1)))
        i = m.end()
    return out


def selector_matchers(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Parses `metric{a="x", b=~"y"}` or `{a="x"}` into (metric, [(name, op, value)])."""
    toks = tokens(text)
    metric = ""
    k = 0
    if toks[0][0] == "TOK" and toks[0][1] != "{":
        metric = toks[0][1]
        k = 1
    if toks[k] != ("TOK", "{") or toks[-1] != ("TOK", "}"):
        raise SyntaxFault("not a selector")
    body = toks[k + 1 : -1]
    matchers = []
    while body:
        name, op, value = body[0], body[1], body[2]
        if name[0] != "TOK" or op[0] != "TOK" or value[0] != "STR":
            raise SyntaxFault(f"bad matcher {body[:3]}")
        matchers.append((name[1], op[1], value[1]))
        body = body[3:]
        if body:
            if body[0] != ("TOK", ","):
                raise SyntaxFault("matchers not separated by ','")
            body = body[1:]
    return metric, matchers
