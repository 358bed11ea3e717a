"""Provides the demo's TraceQL: spanset filters `{ ... }` with `&&`/`||` and parentheses over
`name`, `duration`, `status`, `kind`, `statusMessage`, `span.*`, `resource.*` and unscoped `.x`
attributes (`=`, `!=`, `=~`, `!~`, `>`, `>=`, `<`, `<=`), spansets joined by `&&`/`||`, and
`| select(...)`; and one TraceQL metrics stage at the end: `| rate()` or `| count_over_time()`, optionally
`by (...)`, or `| compare({filter}, topN?, startNanos?, endNanos?)`. Anything else is a parse error, worded like
Tempo's."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from plugintop.demo.lex import Cursor, QueryError, Tok, tokenize

AttrValue = str | int | float | bool | list["AttrValue"] | dict[str, "AttrValue"] | None
"""An attribute value as OTLP carries it (the demo's own: it imports nothing of the product's models)."""

OPS = ("&&", "||", "=~", "!~", "!=", ">=", "<=", "{", "}", "(", ")", ",", "|", "=", ">", "<")
_IDENT = r"(span|resource|event|link|instrumentation|trace)?[.:](\"(?:[^\"\\]|\\.)*\"|[^\s{}()=~!<>&|^,\"]+)|[A-Za-z_][A-Za-z0-9_]*"
INTRINSICS = {
    "name",
    "duration",
    "status",
    "kind",
    "statusMessage",
    "rootName",
    "rootServiceName",
    "traceDuration",
    "span:name",
    "span:duration",
    "span:status",
    "span:kind",
    "span:statusMessage",
    "trace:rootName",
    "trace:rootService",
    "trace:duration",
}
ENUMS = {"error", "ok", "unset", "server", "client", "producer", "consumer", "internal", "unspecified"}


@dataclass(frozen=True, slots=True)
class DemoSpan:
    """The view of a span the filters read."""

    name: str
    duration: float
    status: str
    kind: str
    attributes: dict[str, AttrValue]
    resource: dict[str, AttrValue]
    status_message: str = ""


@dataclass(frozen=True, slots=True)
class TraceView:
    root_name: str
    root_service: str
    duration: float


Pred = Callable[[DemoSpan, TraceView], bool]


@dataclass(frozen=True, slots=True)
class Compare:
    """`| compare({filter}, topN, start, end)`: the matched spans split into a selection and a baseline."""

    selection: object
    """A spanset tree (`("set", pred, conds)`) the selected spans satisfy."""
    top_n: int = 10
    start_ns: int = 0
    end_ns: int = 0
    """With both set, only spans starting in [start_ns, end_ns) can be selected."""


@dataclass(frozen=True, slots=True)
class OverTime:
    """`| rate()` or `| count_over_time()`, optionally `by (...)`."""

    fn: str
    by: tuple[tuple[str, str], ...] = ()
    labels: tuple[str, ...] = ()
    """The `by` attributes as Tempo names them in series labels (`span.tenant.id`, `name`, `.x`)."""


Metrics = Compare | OverTime


@dataclass
class Query:
    """A parsed TraceQL search: a boolean tree of spansets and the attributes to return."""

    tree: object
    select: list[tuple[str, str]] = field(default_factory=list)
    referenced: list[tuple[str, str]] = field(default_factory=list)
    """(scope, name) of attributes the filters use: returned with the matched spans, like Tempo."""
    must_equal: dict[str, str] = field(default_factory=dict)
    """`attr -> value` that every matching span must have (top-level `&&` of one spanset)."""
    min_duration: float | None = None
    """Every matching span lasts longer than this (top-level `&&` of one spanset)."""
    used: list[tuple[str, str]] = field(default_factory=list)
    """(scope, name) of every attribute the filters read, intrinsics too (in order of appearance)."""
    metrics: Metrics | None = None
    """The TraceQL metrics stage, when the query ends in one."""


def _err(cur: Cursor, msg: str) -> None:
    raise QueryError(f"invalid TraceQL query: parse error at line 1, col {cur.tok.pos + 1}: syntax error: {msg}")


def parse(text: str, metrics: bool = False) -> Query:
    """A search query; with `metrics`, one that may end in a metrics stage (`/api/metrics/query_range`)."""
    try:
        cur = Cursor(tokenize(text, OPS, _IDENT))
    except QueryError as e:
        raise QueryError(f"invalid TraceQL query: {e}") from None
    q = Query(tree=None)
    q.tree = _spansets(cur, q)
    while q.metrics is None and cur.accept("|"):
        if not metrics and cur.at("compare", "rate", "count_over_time"):
            _err(cur, f"unexpected {cur.tok.text}: a metrics query is answered at /api/metrics/query_range")
        if cur.at("compare"):
            q.metrics = _compare(cur)
            continue
        if cur.at("rate", "count_over_time"):
            q.metrics = _over_time(cur)
            continue
        if not cur.accept("select"):
            _err(
                cur,
                f"unexpected {cur.tok.text or 'end of input'}: the demo backend supports only select(), "
                "rate(), count_over_time() and compare()",
            )
        cur.expect("(")
        while not cur.at(")"):
            q.select.append(_attr_name(cur.next(), cur))
            if not cur.accept(","):
                break
        cur.expect(")")
    if cur.tok.kind != "eof":
        _err(cur, f"unexpected {cur.tok.text}")
    return q


def _compare(cur: Cursor) -> Compare:
    cur.next()
    cur.expect("(")
    if not cur.at("{"):
        _err(cur, f"unexpected {cur.tok.text or 'end of input'}: compare() takes a spanset filter {{...}}")
    selection = _spanset(cur, Query(tree=None))
    nums: list[int] = []
    while cur.accept(","):
        t = cur.next()
        if t.kind != "num" or not re.fullmatch(r"-?\d+", t.text):
            _err(cur, f"unexpected {t.text or 'end of input'}")
        nums.append(int(t.text))
    cur.expect(")")
    if len(nums) not in (0, 1, 3):
        raise QueryError("invalid TraceQL query: compare() takes a filter, a top number, and an optional start and end")
    top_n = nums[0] if nums else 10
    start, end = (nums[1], nums[2]) if len(nums) == 3 else (0, 0)
    if top_n <= 0:
        raise QueryError("invalid TraceQL query: compare() top number of values must be integer greater than 0")
    if (start or end) and (start <= 0 or end <= 0):
        raise QueryError("invalid TraceQL query: compare() timestamps must be positive integer unix nanoseconds")
    if (start or end) and end <= start:
        raise QueryError("invalid TraceQL query: compare() end timestamp must be greater than start timestamp")
    return Compare(selection, top_n, start, end)


def _over_time(cur: Cursor) -> OverTime:
    fn = cur.next().text
    cur.expect("(")
    cur.expect(")")
    by: list[tuple[str, str]] = []
    if cur.accept("by"):
        cur.expect("(")
        while not cur.at(")"):
            by.append(_attr_name(cur.next(), cur))
            if not cur.accept(","):
                break
        cur.expect(")")
        if not by:
            _err(cur, "unexpected ): by() needs an attribute")
    return OverTime(fn, tuple(by), tuple(label_of(a) for a in by))


def label_of(attr: tuple[str, str]) -> str:
    """How Tempo names an attribute in series labels: `span.x`, `resource.x`, `.x`, or the intrinsic."""
    scope, name = attr
    if scope == "intrinsic":
        return name
    return f".{name}" if scope == "any" else f"{scope}.{name}"


def _spansets(cur: Cursor, q: Query) -> object:
    left = _spanset(cur, q)
    while cur.at("&&", "||"):
        op = cur.next().text
        left = (op, left, _spanset(cur, q))
    return left


def _spanset(cur: Cursor, q: Query) -> object:
    if cur.accept("("):
        inner = _spansets(cur, q)
        cur.expect(")")
        return inner
    if not cur.at("{"):
        _err(cur, f"unexpected {cur.tok.text or 'end of input'}")
    cur.next()
    if cur.accept("}"):
        return ("set", lambda s, t: True, [])
    conds: list[tuple[str, object, object]] = []
    pred = _or(cur, q, conds)
    if not cur.at("}"):
        _err(cur, f"unexpected {cur.tok.text or 'end of input'}")
    cur.next()
    return ("set", pred, conds)


def _or(cur: Cursor, q: Query, conds: list[tuple[str, object, object]]) -> Pred:
    left = _and(cur, q, conds)
    while cur.accept("||"):
        right = _and(cur, q, [])
        conds.clear()
        conds.append(("or", None, None))
        left = (lambda a, b: lambda s, t: a(s, t) or b(s, t))(left, right)
    return left


def _and(cur: Cursor, q: Query, conds: list[tuple[str, object, object]]) -> Pred:
    left = _cond(cur, q, conds)
    while cur.accept("&&"):
        right = _cond(cur, q, conds)
        left = (lambda a, b: lambda s, t: a(s, t) and b(s, t))(left, right)
    return left


def _attr_name(tok: Tok, cur: Cursor) -> tuple[str, str]:
    text = tok.text
    if tok.kind != "ident":
        _err(cur, f"unexpected {text}")
    if text in INTRINSICS:
        return ("intrinsic", text.split(":")[-1])
    m = re.fullmatch(r"(span|resource|event|link|instrumentation|trace)?([.:])(.*)", text, re.DOTALL)
    if not m:
        _err(cur, f"unexpected IDENTIFIER {text}")
    assert m is not None
    scope, sep, name = m.group(1) or "", m.group(2), m.group(3)
    if sep == ":" or scope in ("event", "link", "instrumentation", "trace"):
        _err(cur, f"the demo backend does not support {text}")
    if name.startswith('"'):
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return (scope or "any", name)


def _cond(cur: Cursor, q: Query, conds: list[tuple[str, object, object]]) -> Pred:
    if cur.accept("("):
        inner = _or(cur, q, [])
        conds.append(("group", None, None))
        cur.expect(")")
        return inner
    attr = _attr_name(cur.next(), cur)
    if not cur.at("=", "!=", "=~", "!~", ">", ">=", "<", "<="):
        _err(cur, f"unexpected {cur.tok.text or 'end of input'}")
    op = cur.next().text
    t = cur.next()
    value: object
    if t.kind == "str":
        value = str(t.value)
    elif t.kind in ("num", "dur"):
        value = float(t.value)
    elif t.kind == "ident" and t.text in ENUMS | {"true", "false", "nil"}:
        value = {"true": True, "false": False, "nil": None}.get(t.text, t.text)
    else:
        _err(cur, f"unexpected {t.text or 'end of input'}")
        raise AssertionError
    if attr[0] != "intrinsic" and attr not in q.referenced:
        q.referenced.append(attr)
    if attr not in q.used:
        q.used.append(attr)
    conds.append((op, attr, value))
    return _predicate(attr, op, value, cur)


def get(attr: tuple[str, str], s: DemoSpan, t: TraceView) -> AttrValue:
    """The value of (scope, name) on a span (None when it has none)."""
    return _get(attr, s, t)


def _get(attr: tuple[str, str], s: DemoSpan, t: TraceView) -> AttrValue:
    scope, name = attr
    if scope == "intrinsic":
        intrinsics: dict[str, AttrValue] = {
            "name": s.name,
            "duration": s.duration,
            "status": s.status,
            "kind": s.kind,
            "statusMessage": s.status_message,
            "rootName": t.root_name,
            "rootServiceName": t.root_service,
            "rootService": t.root_service,
            "traceDuration": t.duration,
        }
        return intrinsics.get(name)
    if scope == "span":
        return s.attributes.get(name)
    if scope == "resource":
        return s.resource.get(name)
    return s.attributes.get(name, s.resource.get(name))


def _predicate(attr: tuple[str, str], op: str, value: object, cur: Cursor) -> Pred:
    rx = None
    if op in ("=~", "!~"):
        if not isinstance(value, str):
            _err(cur, "regular expressions need a string")
        try:
            rx = re.compile(str(value), re.DOTALL)
        except re.error as e:
            raise QueryError(f"invalid TraceQL query: error parsing regexp: {e}") from None

    def pred(s: DemoSpan, t: TraceView) -> bool:
        got = _get(attr, s, t)
        if value is None:
            return (got is None) == (op == "=")
        if got is None:
            return False
        if rx is not None:
            hit = isinstance(got, str) and rx.fullmatch(got) is not None
            return hit if op == "=~" else not hit
        if isinstance(value, float) and isinstance(got, int | float) and not isinstance(got, bool):
            a, b = float(got), value
        elif isinstance(value, str) and isinstance(got, str):
            a2, b2 = got, value
            return {"=": a2 == b2, "!=": a2 != b2, ">": a2 > b2, ">=": a2 >= b2, "<": a2 < b2, "<=": a2 <= b2}[op]
        elif isinstance(value, bool) and isinstance(got, bool):
            return (got == value) if op == "=" else (got != value) if op == "!=" else False
        else:
            return op == "!="
        return {"=": a == b, "!=": a != b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]

    return pred


def plan(q: Query) -> Query:
    """Fills the necessary conditions used to skip traces that cannot match (a single spanset
    whose top level is an `&&` chain)."""
    tree = q.tree
    if isinstance(tree, tuple) and tree[0] == "set":
        conds = tree[2]
        if conds and all(c[0] not in ("or", "group") for c in conds):
            for op, attr, value in conds:
                assert isinstance(attr, tuple)
                if op == "=" and isinstance(value, str) and attr[0] in ("span", "any"):
                    q.must_equal[attr[1]] = value
                if op == "=" and attr == ("intrinsic", "name") and isinstance(value, str):
                    q.must_equal[":name"] = value
                if op in (">", ">=") and attr == ("intrinsic", "duration") and isinstance(value, float):
                    q.min_duration = max(q.min_duration or 0.0, value - (1e-9 if op == ">=" else 0.0))
    return q


def match(tree: object, spans: list[DemoSpan], trace: TraceView) -> list[int] | None:
    """Indices of the spans that satisfy the query, or None when the trace does not match."""
    assert isinstance(tree, tuple)
    if tree[0] == "set":
        pred = tree[1]
        hits = [i for i, s in enumerate(spans) if pred(s, trace)]
        return hits or None
    op, a, b = tree
    left, right = match(a, spans, trace), match(b, spans, trace)
    if op == "&&":
        return sorted(set(left) | set(right)) if left is not None and right is not None else None
    if left is None and right is None:
        return None
    return sorted(set(left or []) | set(right or []))
