"""Provides the demo's PromQL binary operators: arithmetic, comparison (with and without `bool`)
and set operators, between scalars and instant vectors with one-to-one matching (`on`, `ignoring`)."""

from __future__ import annotations

import math
from collections.abc import Callable

from plugintop.demo.lex import QueryError
from plugintop.demo.promql_parse import Binary
from plugintop.demo.promql_values import Key, Labels, Scalar, Vector, as_vector, drop_name


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


def _mod(a: float, b: float) -> float:
    return math.fmod(a, b) if b != 0 else math.nan


def _pow(a: float, b: float) -> float:
    try:
        return float(a**b) if not isinstance(a**b, complex) else math.nan
    except (OverflowError, ZeroDivisionError):
        return math.inf


ARITH: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
    "%": _mod,
    "^": _pow,
}
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


def binary(node: Binary, lhs: object, rhs: object) -> object:
    """`lhs op rhs` for the evaluated operands of `node`."""
    op = node.op
    if op in ("and", "or", "unless"):
        return _set_op(op, as_vector(lhs), as_vector(rhs), node)
    if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
        if op in COMPARE:
            if not node.bool_mod:
                raise QueryError("comparisons between scalars must use BOOL modifier")
            return Scalar(1.0 if COMPARE[op](lhs.value, rhs.value) else 0.0)
        return Scalar(ARITH[op](lhs.value, rhs.value))
    if isinstance(lhs, Scalar):
        return _with_scalar(node, as_vector(rhs), lhs.value, scalar_left=True)
    if isinstance(rhs, Scalar):
        return _with_scalar(node, as_vector(lhs), rhs.value, scalar_left=False)
    return _vector_op(node, as_vector(lhs), as_vector(rhs))


def _with_scalar(node: Binary, vec: Vector, s: float, scalar_left: bool) -> Vector:
    op = node.op
    out: Vector = []
    for labels, v in vec:
        a, b = (s, v) if scalar_left else (v, s)
        if op in COMPARE:
            hit = COMPARE[op](a, b)
            if node.bool_mod:
                out.append((drop_name(labels), 1.0 if hit else 0.0))
            elif hit:
                out.append((labels, v))
        else:
            out.append((drop_name(labels), ARITH[op](a, b)))
    return out


def _signature(labels: Labels, node: Binary) -> Key:
    if node.on is not None:
        return tuple(sorted((k, v) for k, v in labels.items() if k in node.on))
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__" and k not in node.ignoring))


def _vector_op(node: Binary, lhs: Vector, rhs: Vector) -> Vector:
    right: dict[Key, tuple[Labels, float]] = {}
    for labels, v in rhs:
        sig = _signature(labels, node)
        if sig in right:
            raise QueryError(
                "found duplicate series for the match group on the right hand-side of the operation; "
                "many-to-many matching not allowed: matching labels must be unique on one side"
            )
        right[sig] = (labels, v)
    out: Vector = []
    seen: set[Key] = set()
    for labels, v in lhs:
        sig = _signature(labels, node)
        if sig not in right:
            continue
        if sig in seen:
            raise QueryError(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
            )
        seen.add(sig)
        rv = right[sig][1]
        if node.op in COMPARE:
            hit = COMPARE[node.op](v, rv)
            if node.bool_mod:
                out.append((_result_labels(labels, node, True), 1.0 if hit else 0.0))
            elif hit:
                out.append((_result_labels(labels, node, False), v))
        else:
            out.append((_result_labels(labels, node, True), ARITH[node.op](v, rv)))
    return out


def _result_labels(labels: Labels, node: Binary, drop: bool) -> Labels:
    out = drop_name(labels) if drop else dict(labels)
    if node.on is not None:
        out = {k: v for k, v in out.items() if k in node.on or (k == "__name__" and not drop)}
    elif node.ignoring:
        out = {k: v for k, v in out.items() if k not in node.ignoring}
    return out


def _set_op(op: str, lhs: Vector, rhs: Vector, node: Binary) -> Vector:
    rsigs = {_signature(lb, node) for lb, _ in rhs}
    if op == "and":
        return [(lb, v) for lb, v in lhs if _signature(lb, node) in rsigs]
    if op == "unless":
        return [(lb, v) for lb, v in lhs if _signature(lb, node) not in rsigs]
    lsigs = {_signature(lb, node) for lb, _ in lhs}
    return lhs + [(lb, v) for lb, v in rhs if _signature(lb, node) not in lsigs]
