"""Provides the tokenizer shared by the demo's PromQL, LogQL and TraceQL parsers, with Go string
literals (`strconv.Unquote`) and durations, and `QueryError` positioned like the real parsers'."""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugintop.timerange import parse_duration


class QueryError(Exception):
    """A query the demo backend cannot parse or evaluate; rendered in the backend's own error shape."""


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str
    """`str`, `num`, `dur`, `ident`, `op` or `eof`."""
    text: str
    pos: int
    value: str | float = ""


_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"'}
_DUR = re.compile(r"(\d+(?:ms|us|µs|ns|[smhdwy]))+")
_NUM = re.compile(r"0x[0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def go_unquote(text: str, i: int, quote: str) -> tuple[str, int]:
    """Reads a Go literal that starts with `quote` at `i`; returns (value, index after it)."""
    if quote == "`":
        j = text.find("`", i + 1)
        if j < 0:
            raise QueryError(f"1:{i + 1}: parse error: unterminated raw string")
        return text[i + 1 : j], j + 1
    out = bytearray()
    j = i + 1
    while True:
        if j >= len(text):
            raise QueryError(f"1:{i + 1}: parse error: unterminated quoted string")
        c = text[j]
        if c == quote:
            return out.decode("utf-8", "replace"), j + 1
        if c == "\n":
            raise QueryError(f"1:{j + 1}: parse error: unterminated quoted string")
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            j += 1
            continue
        e = text[j + 1 : j + 2]
        try:
            if e in _SIMPLE:
                out += _SIMPLE[e].encode()
                j += 2
            elif e == "x":
                out.append(int(text[j + 2 : j + 4], 16))
                j += 4
            elif e and e in "01234567":
                out.append(int(text[j + 1 : j + 4], 8))
                j += 4
            elif e == "u":
                out += chr(int(text[j + 2 : j + 6], 16)).encode()
                j += 6
            elif e == "U":
                out += chr(int(text[j + 2 : j + 10], 16)).encode()
                j += 10
            else:
                raise ValueError
        except ValueError:
            raise QueryError(f"1:{j + 1}: parse error: invalid escape sequence in string") from None


def tokenize(text: str, ops: tuple[str, ...], ident: str = r"[A-Za-z_:][A-Za-z0-9_:]*") -> list[Tok]:
    """Tokens of `text`; `ops` are the operators, longest first."""
    ident_re = re.compile(ident)
    out: list[Tok] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "\"'`":
            value, j = go_unquote(text, i, c)
            out.append(Tok("str", text[i:j], i, value))
            i = j
            continue
        m = _DUR.match(text, i)
        if m and not (m.end() < n and (text[m.end()].isalnum() or text[m.end()] in "._")):
            out.append(Tok("dur", m.group(0), i, parse_duration(m.group(0).replace("y", "d"))))
            i = m.end()
            continue
        m = _NUM.match(text, i)
        if m and (c.isdigit() or (c == "." and text[i + 1 : i + 2].isdigit())):
            word = m.group(0)
            out.append(Tok("num", word, i, float(int(word, 16)) if word.startswith("0x") else float(word)))
            i = m.end()
            continue
        for op in ops:
            if text.startswith(op, i):
                out.append(Tok("op", op, i))
                i += len(op)
                break
        else:
            m = ident_re.match(text, i)
            if not m:
                raise QueryError(f"1:{i + 1}: parse error: unexpected character: {c!r}")
            out.append(Tok("ident", m.group(0), i))
            i = m.end()
    out.append(Tok("eof", "", n))
    return out


class Cursor:
    """A position in a token list with the small helpers recursive-descent parsers need."""

    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0

    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Tok:
        t = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return t

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "ident") and self.tok.text in texts

    def accept(self, *texts: str) -> Tok | None:
        return self.next() if self.at(*texts) else None

    def expect(self, text: str) -> Tok:
        if not self.at(text):
            self.fail(f'unexpected {self.describe()}, expected "{text}"')
        return self.next()

    def expect_kind(self, kind: str, what: str) -> Tok:
        if self.tok.kind != kind:
            self.fail(f"unexpected {self.describe()}, expected {what}")
        return self.next()

    def describe(self) -> str:
        t = self.tok
        return "end of input" if t.kind == "eof" else f'"{t.text}"'

    def fail(self, msg: str) -> None:
        raise QueryError(f"1:{self.tok.pos + 1}: parse error: {msg}")
