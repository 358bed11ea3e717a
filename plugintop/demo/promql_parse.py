"""Provides the demo's PromQL parser: vector and range selectors (`=`, `!=`, `=~`, `!~`, quoted
UTF-8 names), `offset`, function calls, aggregations with `by`/`without`, `topk`/`bottomk`,
arithmetic and comparison with `bool`, `on`/`ignoring`, and parentheses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plugintop.demo.lex import Cursor, QueryError, Tok, tokenize

OPS = (
    "==",
    "!=",
    ">=",
    "<=",
    "=~",
    "!~",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "=",
    ">",
    "<",
)
AGGREGATIONS = {"sum", "avg", "min", "max", "count", "topk", "bottomk", "stddev", "stdvar", "group", "quantile"}
PRECEDENCE = {
    "or": 1,
    "and": 2,
    "unless": 2,
    "==": 3,
    "!=": 3,
    ">": 3,
    "<": 3,
    ">=": 3,
    "<=": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
    "atan2": 5,
    "^": 6,
}


@dataclass(frozen=True)
class LabelMatcher:
    name: str
    op: str
    value: str
    regex: re.Pattern[str] | None = None

    def matches(self, v: str) -> bool:
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        assert self.regex is not None
        hit = self.regex.fullmatch(v) is not None
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Selector:
    matchers: tuple[LabelMatcher, ...]
    range: float | None = None
    offset: float = 0.0


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[object, ...]


@dataclass(frozen=True)
class Agg:
    op: str
    expr: object
    param: object | None = None
    grouping: tuple[str, ...] = ()
    without: bool = False


@dataclass(frozen=True)
class Binary:
    op: str
    lhs: object
    rhs: object
    bool_mod: bool = False
    on: tuple[str, ...] | None = None
    ignoring: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Unary:
    op: str
    expr: object


def matcher(name: str, op: str, value: str) -> LabelMatcher:
    if op in ("=~", "!~"):
        try:
            return LabelMatcher(name, op, value, re.compile(value, re.DOTALL))
        except re.error as e:
            raise QueryError(f"parse error: invalid regular expression {value!r}: {e}") from None
    return LabelMatcher(name, op, value)


def parse(text: str) -> object:
    """The AST of a PromQL expression.

    Raises:
        QueryError: with Prometheus' `line:col: parse error: ...` form.
    """
    cur = Cursor(tokenize(text, OPS))
    expr = _expr(cur, 1)
    if cur.tok.kind != "eof":
        cur.fail(f"unexpected {cur.describe()}")
    return expr


def _expr(cur: Cursor, min_prec: int) -> object:
    """Precedence climbing; `^` is right-associative, the rest left-associative."""
    lhs = _unary(cur)
    while True:
        t = cur.tok
        op = t.text if t.kind in ("op", "ident") else ""
        prec = PRECEDENCE.get(op, 0)
        if prec == 0 or prec < min_prec:
            return lhs
        cur.next()
        bool_mod = bool(cur.accept("bool"))
        on: tuple[str, ...] | None = None
        ignoring: tuple[str, ...] = ()
        if cur.accept("on"):
            on = _labels(cur)
        elif cur.accept("ignoring"):
            ignoring = _labels(cur)
        if cur.at("group_left", "group_right"):
            cur.fail("group_left/group_right are not supported by the demo backend")
        rhs = _expr(cur, prec if op == "^" else prec + 1)
        lhs = Binary(op, lhs, rhs, bool_mod, on, ignoring)


def _unary(cur: Cursor) -> object:
    if cur.at("-", "+"):
        op = cur.next().text
        inner = _unary(cur)
        return inner if op == "+" else Unary("-", inner)
    return _postfix(cur, _primary(cur))


def _postfix(cur: Cursor, node: object) -> object:
    if cur.at("["):
        if not isinstance(node, Selector) or node.range is not None:
            cur.fail("ranges only allowed for vector selectors")
        assert isinstance(node, Selector)
        cur.next()
        rng = cur.expect_kind("dur", "duration").value
        cur.expect("]")
        node = Selector(node.matchers, float(rng), node.offset)
    if cur.accept("offset"):
        neg = bool(cur.accept("-"))
        d = float(cur.expect_kind("dur", "duration").value)
        if not isinstance(node, Selector):
            cur.fail("offset modifier must be preceded by a selector")
        assert isinstance(node, Selector)
        node = Selector(node.matchers, node.range, -d if neg else d)
    return node


def _primary(cur: Cursor) -> object:
    t = cur.tok
    if t.kind == "num":
        cur.next()
        return Num(float(t.value))
    if t.kind == "str":
        cur.next()
        return Str(str(t.value))
    if cur.accept("("):
        e = _expr(cur, 1)
        cur.expect(")")
        return e
    if cur.at("{"):
        return _selector(cur, None)
    if t.kind == "ident":
        if t.text in ("Inf", "inf", "NaN", "nan"):
            cur.next()
            return Num(float(t.text))
        if t.text in AGGREGATIONS and (cur.peek().text in ("(", "by", "without")):
            return _aggregation(cur)
        if cur.peek().text == "(" and cur.peek().kind == "op":
            return _call(cur)
        return _selector(cur, cur.next().text)
    cur.fail(f"unexpected {cur.describe()}")
    raise AssertionError


def _labels(cur: Cursor) -> tuple[str, ...]:
    cur.expect("(")
    out: list[str] = []
    while not cur.at(")"):
        t = cur.next()
        if t.kind not in ("ident", "str"):
            cur.fail("unexpected token in grouping opts, expected label")
        out.append(str(t.value) if t.kind == "str" else t.text)
        if not cur.accept(","):
            break
    cur.expect(")")
    return tuple(out)


def _selector(cur: Cursor, name: str | None) -> Selector:
    matchers: list[LabelMatcher] = []
    if name is not None:
        matchers.append(LabelMatcher("__name__", "=", name))
    if cur.accept("{"):
        while not cur.at("}"):
            t: Tok = cur.next()
            if t.kind == "str" and (cur.at(",", "}")):
                if name is not None:
                    cur.fail("metric name must not be set twice")
                matchers.append(LabelMatcher("__name__", "=", str(t.value)))
            else:
                if t.kind not in ("ident", "str"):
                    cur.fail(f'unexpected "{t.text}" in label matching, expected label')
                label = str(t.value) if t.kind == "str" else t.text
                if not cur.at("=", "!=", "=~", "!~"):
                    cur.fail(f"unexpected {cur.describe()} in label matching, expected label matching operator")
                op = cur.next().text
                v = cur.expect_kind("str", "string")
                matchers.append(matcher(label, op, str(v.value)))
            if not cur.accept(","):
                break
        cur.expect("}")
    if not any(m.op in ("=", "=~") and not m.matches("") for m in matchers):
        cur.fail("vector selector must contain at least one non-empty matcher")
    return Selector(tuple(matchers))


def _call(cur: Cursor) -> Call:
    name = cur.next().text
    cur.expect("(")
    args = []
    while not cur.at(")"):
        args.append(_expr(cur, 1))
        if not cur.accept(","):
            break
    cur.expect(")")
    return Call(name, tuple(args))


def _aggregation(cur: Cursor) -> Agg:
    op = cur.next().text
    grouping: tuple[str, ...] = ()
    without = False
    if cur.at("by", "without"):
        without = cur.next().text == "without"
        grouping = _labels(cur)
    cur.expect("(")
    param = None
    if op in ("topk", "bottomk", "quantile"):
        param = _expr(cur, 1)
        cur.expect(",")
    expr = _expr(cur, 1)
    cur.expect(")")
    if cur.at("by", "without"):
        without = cur.next().text == "without"
        grouping = _labels(cur)
    return Agg(op, expr, param, grouping, without)
