"""Provides the values the demo's PromQL evaluator works with: sampled series, the lazy window of a
range selector, instant vectors, range rows and scalars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from plugintop.demo.lex import QueryError
from plugintop.demo.promql_parse import LabelMatcher

Labels = dict[str, str]
Vector = list[tuple[Labels, float]]
Matrix = list[tuple[Labels, list[tuple[float, float]]]]
Key = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SeriesData:
    """A series sampled every `step` seconds from `t0`; `monotonic` when it never decreases; `gaps` when
    some samples are staleness markers (NaN: a lost scrape), which selectors skip."""

    labels: Labels
    t0: float
    step: float
    values: Sequence[float]
    monotonic: bool = True
    gaps: bool = False

    def points(self, j0: int, j1: int) -> Sequence[tuple[float, float]]:
        """Samples `j0`..`j1` (inclusive), the staleness markers left out."""
        if not self.gaps:
            return Window(self, j0, j1)
        t0, step, vals = self.t0, self.step, self.values
        return [(t0 + j * step, v) for j in range(j0, j1 + 1) if (v := vals[j]) == v]


class Storage(Protocol):
    def select(self, matchers: Sequence[LabelMatcher]) -> list[SeriesData]: ...


class Window(Sequence[tuple[float, float]]):
    """The samples of one series inside a range selector, read lazily (no copies)."""

    __slots__ = ("s", "j0", "n")

    def __init__(self, s: SeriesData, j0: int, j1: int) -> None:
        self.s, self.j0, self.n = s, j0, j1 - j0 + 1

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[float, float]:  # type: ignore[override]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        j = self.j0 + i
        return (self.s.t0 + j * self.s.step, self.s.values[j])


class RangeRows(list):  # type: ignore[type-arg]
    """A range vector: (labels, points, series) rows; never a valid operand of an operator."""


@dataclass(frozen=True)
class Scalar:
    value: float


def key(labels: Labels) -> Key:
    """A label set's identity, for grouping and matching."""
    return tuple(sorted(labels.items()))


def drop_name(labels: Labels) -> Labels:
    """The labels without `__name__` (what every function and arithmetic operator returns)."""
    return {k: v for k, v in labels.items() if k != "__name__"}


def as_vector(v: object) -> Vector:
    """`v` as an instant vector, or the error Prometheus gives for anything else."""
    if not isinstance(v, list) or isinstance(v, RangeRows):
        raise QueryError("expected type instant vector")
    return v
