"""Provides the demo's LogQL: stream selectors, line filters (`|=`, `!=`, `|~`, `!~`), `| json`,
`| logfmt`, label filters (string and numeric, `and`/`or`), and the metric forms
`count_over_time`, `rate`, `bytes_over_time`, `bytes_rate` under `sum`/`avg`/`min`/`max`/`count`
`by`/`without`, times or divided by a number."""

from __future__ import annotations

import functools
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from plugintop.demo.lex import Cursor, QueryError, tokenize
from plugintop.demo.logs import LogLine
from plugintop.demo.promql_parse import LabelMatcher, matcher

OPS = (
    "|=",
    "|~",
    "!=",
    "!~",
    "=~",
    "==",
    ">=",
    "<=",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    "|",
    "=",
    ">",
    "<",
    "*",
    "/",
    "+",
    "-",
)
RANGE_FUNCS = {"count_over_time", "rate", "bytes_over_time", "bytes_rate"}
AGGS = {"sum", "avg", "min", "max", "count"}

Labels = dict[str, str]


@dataclass(frozen=True)
class LogQuery:
    selector: tuple[LabelMatcher, ...]
    stages: tuple[Callable[[Labels, str], bool | None], ...]
    parsers: tuple[str, ...]
    """`json` / `logfmt`: in order, so extracted labels exist for later filters."""
    stage_kinds: tuple[str, ...]


@dataclass(frozen=True)
class RangeAgg:
    func: str
    query: LogQuery
    range: float


@dataclass(frozen=True)
class VectorAgg:
    op: str
    inner: object
    grouping: tuple[str, ...] | None
    without: bool


@dataclass(frozen=True)
class Scaled:
    inner: object
    op: str
    number: float


def parse(text: str) -> LogQuery | RangeAgg | VectorAgg | Scaled:
    """The AST of a LogQL query; errors read like Loki's (`parse error at line 1, col N: ...`)."""
    try:
        cur = Cursor(tokenize(text, OPS, r"[A-Za-z_][A-Za-z0-9_.]*"))
        node = _expr(cur)
        if cur.tok.kind != "eof":
            cur.fail(f"syntax error: unexpected {cur.describe()}")
        return node
    except QueryError as e:
        msg = str(e)
        m = re.match(r"1:(\d+): parse error: (.*)", msg)
        raise QueryError(f"parse error at line 1, col {m.group(1)}: {m.group(2)}" if m else msg) from None


def _expr(cur: Cursor) -> LogQuery | RangeAgg | VectorAgg | Scaled:
    node = _term(cur)
    while cur.at("*", "/", "+", "-"):
        op = cur.next().text
        num = cur.expect_kind("num", "number")
        node = Scaled(node, op, float(num.value))
    return node


def _term(cur: Cursor) -> LogQuery | RangeAgg | VectorAgg | Scaled:
    if cur.accept("("):
        inner = _expr(cur)
        cur.expect(")")
        return inner
    if cur.at("{"):
        return _log_query(cur)
    t = cur.tok
    if t.kind == "ident" and t.text in AGGS:
        cur.next()
        grouping, without = _grouping(cur)
        cur.expect("(")
        inner = _expr(cur)
        cur.expect(")")
        if grouping is None:
            grouping, without = _grouping(cur)
        return VectorAgg(t.text, inner, grouping, without)
    if t.kind == "ident" and t.text in RANGE_FUNCS:
        cur.next()
        cur.expect("(")
        q = _log_query(cur)
        cur.expect("[")
        rng = float(cur.expect_kind("dur", "duration").value)
        cur.expect("]")
        cur.expect(")")
        return RangeAgg(t.text, q, rng)
    cur.fail(f"syntax error: unexpected {cur.describe()}")
    raise AssertionError


def _grouping(cur: Cursor) -> tuple[tuple[str, ...] | None, bool]:
    if not cur.at("by", "without"):
        return None, False
    without = cur.next().text == "without"
    cur.expect("(")
    names = []
    while not cur.at(")"):
        names.append(cur.expect_kind("ident", "label").text)
        if not cur.accept(","):
            break
    cur.expect(")")
    return tuple(names), without


def _log_query(cur: Cursor) -> LogQuery:
    cur.expect("{")
    matchers: list[LabelMatcher] = []
    while not cur.at("}"):
        name = cur.expect_kind("ident", "label").text
        if not cur.at("=", "!=", "=~", "!~"):
            cur.fail(f"syntax error: unexpected {cur.describe()}, expecting = or != or =~ or !~")
        op = cur.next().text
        value = cur.expect_kind("str", "string").value
        matchers.append(matcher(name, op, str(value)))
        if not cur.accept(","):
            break
    cur.expect("}")
    if not any(m.op in ("=", "=~") and not m.matches("") for m in matchers):
        cur.fail("queries require at least one regexp or equality matcher that does not have an empty-compatible value")
    stages: list[Callable[[Labels, str], bool | None]] = []
    kinds: list[str] = []
    parsers: list[str] = []
    while cur.at("|=", "|~", "!=", "!~", "|"):
        op = cur.next().text
        if op != "|":
            needle = str(cur.expect_kind("str", "string").value)
            stages.append(_line_filter(op, needle))
            kinds.append("line")
            continue
        t = cur.tok
        if t.kind == "ident" and t.text in ("json", "logfmt"):
            cur.next()
            stages.append(lambda lb, line: None)
            kinds.append(t.text)
            parsers.append(t.text)
            continue
        stages.append(_label_filter(cur))
        kinds.append("label")
    return LogQuery(tuple(matchers), tuple(stages), tuple(parsers), tuple(kinds))


def _line_filter(op: str, needle: str) -> Callable[[Labels, str], bool]:
    if op in ("|=", "!="):
        return (lambda lb, line: needle in line) if op == "|=" else (lambda lb, line: needle not in line)
    try:
        rx = re.compile(needle)
    except re.error as e:
        raise QueryError(f"parse error: invalid regex {needle!r}: {e}") from None
    if op == "|~":
        return lambda lb, line: rx.search(line) is not None
    return lambda lb, line: rx.search(line) is None


def _label_filter(cur: Cursor) -> Callable[[Labels, str], bool]:
    left = _label_predicate(cur)
    while cur.at("and", "or", ","):
        conj = cur.next().text
        right = _label_predicate(cur)
        if conj == "or":
            left = (lambda a, b: lambda lb, line: a(lb, line) or b(lb, line))(left, right)
        else:
            left = (lambda a, b: lambda lb, line: a(lb, line) and b(lb, line))(left, right)
    return left


def _label_predicate(cur: Cursor) -> Callable[[Labels, str], bool]:
    if cur.accept("("):
        inner = _label_filter(cur)
        cur.expect(")")
        return inner
    name = cur.expect_kind("ident", "label").text
    if not cur.at("=", "!=", "=~", "!~", "==", ">", ">=", "<", "<="):
        cur.fail(f"syntax error: unexpected {cur.describe()}")
    op = cur.next().text
    t = cur.next()
    if t.kind == "str" and op in ("=", "!=", "=~", "!~"):
        m = matcher(name, op, str(t.value))
        return lambda lb, line: m.matches(lb.get(name, ""))
    if t.kind in ("num", "dur"):
        bound = float(t.value)
        cmps: dict[str, Callable[[float], bool]] = {
            "==": lambda a: a == bound,
            "=": lambda a: a == bound,
            "!=": lambda a: a != bound,
            ">": lambda a: a > bound,
            ">=": lambda a: a >= bound,
            "<": lambda a: a < bound,
            "<=": lambda a: a <= bound,
        }
        cmp = cmps[op]

        def numeric(lb: Labels, line: str) -> bool:
            try:
                return bool(cmp(float(lb.get(name, "nan"))))
            except ValueError:
                return False

        return numeric
    cur.fail(f"syntax error: unexpected {t.text!r}")
    raise AssertionError


def _logfmt(line: str) -> dict[str, str]:
    return {
        m.group(1): m.group(3) if m.group(3) is not None else m.group(2) or ""
        for m in re.finditer(r'([A-Za-z_][A-Za-z0-9_.]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))', line)
    }


_NOT_LABEL = re.compile(r"[^A-Za-z0-9_]")


@functools.lru_cache(maxsize=4096)
def _label_name(key: str) -> str:
    """A JSON key as Loki sanitises it into a label name."""
    return _NOT_LABEL.sub("_", key)


def run_pipeline(q: LogQuery, entry: LogLine) -> tuple[Labels, Labels] | None:
    """Applies the stages; returns (stream labels + metadata, parsed labels) or None when filtered out."""
    labels: Labels = {**entry.stream, **entry.metadata}
    parsed: Labels = {}
    for kind, stage in zip(q.stage_kinds, q.stages, strict=True):
        if kind in ("json", "logfmt"):
            extracted = entry.fields if kind == "json" else _logfmt(entry.line)
            for k, v in extracted.items():
                key = _label_name(k)
                if key in labels and key not in parsed:
                    key = f"{key}_extracted"
                parsed[key] = v
            continue
        if not stage({**labels, **parsed}, entry.line):
            return None
    return labels, parsed


def stream_matches(q: LogQuery, stream: Labels) -> bool:
    return all(m.matches(stream.get(m.name, "")) for m in q.selector)


def count_series(
    func: str, q: LogQuery, rng: float, entries: list[tuple[float, Labels, int]], steps: list[float]
) -> dict[tuple[tuple[str, str], ...], tuple[Labels, list[tuple[float, float]]]]:
    """`func(q [rng])` evaluated at each step over (ts, labels, bytes) entries (sorted by ts)."""
    by_series: dict[tuple[tuple[str, str], ...], tuple[Labels, list[float], list[int]]] = {}
    for ts, labels, size in entries:
        key = tuple(sorted(labels.items()))
        row = by_series.setdefault(key, (labels, [], []))
        row[1].append(ts)
        row[2].append(size)
    out: dict[tuple[tuple[str, str], ...], tuple[Labels, list[tuple[float, float]]]] = {}
    for key, (labels, times, sizes) in by_series.items():
        prefix = [0]
        for s in sizes:
            prefix.append(prefix[-1] + s)
        points = []
        for t in steps:
            lo, hi = bisect_right(times, t - rng), bisect_right(times, t)
            n = hi - lo
            if n == 0:
                continue
            v = float(n) if func in ("count_over_time", "rate") else float(prefix[hi] - prefix[lo])
            points.append((t, v / rng if func in ("rate", "bytes_rate") else v))
        if points:
            out[key] = (labels, points)
    _ = bisect_left
    return out


def aggregate(
    op: str,
    grouping: tuple[str, ...] | None,
    without: bool,
    series: dict[tuple[tuple[str, str], ...], tuple[Labels, list[tuple[float, float]]]],
) -> dict[tuple[tuple[str, str], ...], tuple[Labels, list[tuple[float, float]]]]:
    """A vector aggregation applied per step."""
    groups: dict[tuple[tuple[str, str], ...], tuple[Labels, dict[float, list[float]]]] = {}
    for labels, points in series.values():
        if grouping is None:
            g: Labels = {}
        elif without:
            g = {k: v for k, v in labels.items() if k not in grouping}
        else:
            g = {k: labels[k] for k in grouping if k in labels}
        slot = groups.setdefault(tuple(sorted(g.items())), (g, {}))[1]
        for t, v in points:
            slot.setdefault(t, []).append(v)
    out = {}
    for key, (g, per_t) in groups.items():
        pts = []
        for t in sorted(per_t):
            vals = per_t[t]
            v = {
                "sum": sum(vals),
                "avg": sum(vals) / len(vals),
                "min": min(vals),
                "max": max(vals),
                "count": float(len(vals)),
            }[op]
            pts.append((t, v))
        out[key] = (g, pts)
    return out


def scale(op: str, n: float, v: float) -> float:
    if op == "*":
        return v * n
    if op == "/":
        return v / n if n else math.nan
    return v + n if op == "+" else v - n
