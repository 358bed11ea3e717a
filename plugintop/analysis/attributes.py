"""Provides the attribute comparison of a finding: what its calls (slow, failing, costly) have that the
tool's other calls don't (DESIGN §4.2), from counts (Tempo's `compare()`) or from two span samples.

For each attribute value: its share of the finding's calls and of the baseline calls, the lift
(share / baseline share), the sample sizes, and a one-sided p-value (Fisher's exact test; a
two-proportion z-test once the counts are large). A value passes the bar when

- both sets hold `MIN_SAMPLE` calls or more, and `MIN_CALLS` of the finding's calls have it;
- its share is `MIN_DIFF` above the baseline's and its lift `MIN_LIFT` or more;
- its p-value, Bonferroni-corrected over every value tested, is under `ALPHA`;
- its attribute is not one every call shares (the tenant, the tool: `ignore`, or a single value
  across both sets), nor one of the `SHARED` share or more in both sets.

Numeric attributes (prompt tokens, candidates) are compared in bands cut at the baseline's quantiles
(`BAND_QUANTILES`). The values that pass are ranked by share difference × lift; a band counts for
`BAND_WEIGHT` of that, so an exact value that separates as well comes first (a band of cost or tokens
is often the consequence of a model or a prompt). When nothing passes, nothing separates the calls."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from plugintop.analysis.model import AttributeLift

MIN_SAMPLE = 20
MIN_CALLS = 8
MIN_DIFF = 0.15
MIN_LIFT = 1.5
ALPHA = 0.01
SHARED = 0.95
BAND_QUANTILES = (0.25, 0.5, 0.75, 0.95)
BAND_WEIGHT = 0.8
NUMERIC_SHARE = 0.9
"""An attribute whose values are numbers this often (or more) is numeric."""
MAX_VALUES = 200
"""Values per attribute tested at most (a session id has one per call: none can pass anyway)."""
FISHER_MAX = 20000
TOP = 5


@dataclass
class Counts:
    """One set of calls: how many, and how many had each value of each attribute."""

    n: int = 0
    values: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, attribute: str, value: str, count: int = 1) -> None:
        self.values.setdefault(attribute, Counter())[value] += count


Call = Mapping[str, object]
"""One call's attributes (name → value), as a search hit's span carries them."""


def _number(v: object) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(v) else None
    return None


def _text(v: object) -> str | None:
    if v is None or isinstance(v, dict | list):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile (linear interpolation) of sorted values."""
    if not sorted_values:
        return math.nan
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def number_text(v: float) -> str:
    """A band edge: an integer with thousands separators, else three significant digits."""
    if abs(v) >= 100 or float(v).is_integer():
        return f"{round(v):,}"
    return f"{v:.3g}"


def band_edges(baseline: Sequence[float]) -> list[float]:
    """The edges of the bands: the baseline's quantiles `BAND_QUANTILES`, duplicates dropped."""
    vals = sorted(baseline)
    edges: list[float] = []
    for q in BAND_QUANTILES:
        e = quantile(vals, q)
        if math.isfinite(e) and (not edges or e > edges[-1]):
            edges.append(e)
    return edges


def band(v: float, edges: Sequence[float]) -> str:
    """The band `v` falls in: `< e0`, `e0–e1`, ..., `≥ eN`."""
    if not edges:
        return number_text(v)
    if v < edges[0]:
        return f"< {number_text(edges[0])}"
    for lo, hi in zip(edges, edges[1:], strict=False):
        if v < hi:
            return f"{number_text(lo)}–{number_text(hi)}"
    return f"≥ {number_text(edges[-1])}"


def counts_of(
    selection: Sequence[Call], baseline: Sequence[Call], ignore: Iterable[str] = ()
) -> tuple[Counts, Counts, set[str]]:
    """The two samples as counts, numeric attributes in bands of the baseline's quantiles; and the
    names of the numeric attributes."""
    skip = set(ignore)
    names = {k for c in [*selection, *baseline] for k in c if k not in skip}
    numeric: set[str] = set()
    edges: dict[str, list[float]] = {}
    for name in names:
        vals = [c[name] for c in [*selection, *baseline] if c.get(name) is not None]
        nums = [x for v in vals if (x := _number(v)) is not None]
        if vals and len(nums) >= NUMERIC_SHARE * len(vals) and len(set(nums)) > len(BAND_QUANTILES) + 1:
            numeric.add(name)
            base = [x for c in baseline if (x := _number(c.get(name))) is not None]
            edges[name] = band_edges(base if len(base) >= MIN_SAMPLE else nums)
    out = []
    for calls in (selection, baseline):
        counts = Counts(n=len(calls))
        for c in calls:
            for name in names:
                v = c.get(name)
                if name in numeric:
                    x = _number(v)
                    if x is not None:
                        counts.add(name, band(x, edges[name]))
                elif (t := _text(v)) is not None:
                    counts.add(name, t)
        out.append(counts)
    return out[0], out[1], numeric


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_greater(k1: int, n1: int, k0: int, n0: int) -> float:
    """P(X ≥ k1) for X hypergeometric: of k1 + k0 calls with the value among n1 + n0, how likely at least
    k1 fall in the first set by chance (Fisher's exact test, one-sided)."""
    total, with_it = n1 + n0, k1 + k0
    lo, hi = max(0, n1 - (total - with_it)), min(n1, with_it)
    if k1 <= lo:
        return 1.0
    denom = _log_choose(total, n1)
    p = 0.0
    for x in range(k1, hi + 1):
        p += math.exp(_log_choose(with_it, x) + _log_choose(total - with_it, n1 - x) - denom)
    return min(1.0, p)


def z_greater(k1: int, n1: int, k0: int, n0: int) -> float:
    """The two-proportion z-test, one-sided (the first share is the larger), pooled variance."""
    p1, p0 = k1 / n1, k0 / n0
    pooled = (k1 + k0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    if se <= 0:
        return 1.0 if p1 <= p0 else 0.0
    z = (p1 - p0) / se
    return 0.5 * math.erfc(z / math.sqrt(2))


def p_value(k1: int, n1: int, k0: int, n0: int) -> float:
    """One-sided: the first set has the value no more often than the second."""
    if n1 + n0 > FISHER_MAX:
        return z_greater(k1, n1, k0, n0)
    return fisher_greater(k1, n1, k0, n0)


def compare(
    selection: Counts, baseline: Counts, *, numeric: Iterable[str] = (), ignore: Iterable[str] = ()
) -> list[AttributeLift]:
    """The attribute values that separate the selection from the baseline, best first (empty: none)."""
    skip, nums = set(ignore), set(numeric)
    n1, n0 = selection.n, baseline.n
    if n1 < MIN_SAMPLE or n0 < MIN_SAMPLE:
        return []
    tested: list[tuple[str, str, int, int]] = []
    for name in sorted(set(selection.values) | set(baseline.values)):
        if name in skip:
            continue
        sel, base = selection.values.get(name, Counter()), baseline.values.get(name, Counter())
        if len(set(sel) | set(base)) <= 1:
            continue  # one value on every call: the tenant, the tool
        for value, k1 in sel.most_common(MAX_VALUES):
            tested.append((name, value, k1, base.get(value, 0)))
    if not tested:
        return []
    m = len(tested)
    out = []
    for name, value, k1, k0 in tested:
        share, base_share = k1 / n1, k0 / n0
        if k1 < MIN_CALLS or share - base_share < MIN_DIFF:
            continue
        if share >= SHARED and base_share >= SHARED:
            continue
        lift = share / max(base_share, 0.5 / n0)
        if lift < MIN_LIFT:
            continue
        p = p_value(k1, n1, k0, n0)
        if p * m >= ALPHA:
            continue
        out.append(
            AttributeLift(
                attribute=name,
                value=value,
                share=share,
                baseline_share=base_share,
                lift=lift,
                n=n1,
                baseline_n=n0,
                p_value=p,
                numeric=name in nums,
            )
        )
    out.sort(key=lambda a: -a.score * (BAND_WEIGHT if a.numeric else 1.0))
    return out[:TOP]
