"""The attribute comparison's statistics (DESIGN §4.2): minimum sample, significance, shared attributes
ignored, numeric bands, ranking."""

from __future__ import annotations

import random

from plugintop.analysis import attributes as at


def calls(n: int, **shares: dict[str, float]) -> list[dict[str, object]]:
    """n calls whose attributes take each value in proportion (deterministic)."""
    out: list[dict[str, object]] = [{} for _ in range(n)]
    for name, values in shares.items():
        i = 0
        for value, share in values.items():
            for _ in range(round(share * n)):
                if i < n:
                    out[i][name] = value
                    i += 1
    return out


def test_a_value_most_slow_calls_have_separates_them() -> None:
    slow = calls(100, model={"gpt-4o": 0.95, "mini": 0.05})
    rest = calls(300, model={"gpt-4o": 0.2, "mini": 0.8})
    s, b, _ = at.counts_of(slow, rest)
    got = at.compare(s, b)
    assert [(a.attribute, a.value) for a in got] == [("model", "gpt-4o")]
    a = got[0]
    assert (a.n, a.baseline_n) == (100, 300) and abs(a.share - 0.95) < 1e-9 and abs(a.lift - 4.75) < 1e-9
    assert a.p_value < 1e-20


def test_below_the_minimum_sample_nothing_counts() -> None:
    slow = calls(at.MIN_SAMPLE - 1, model={"gpt-4o": 1.0})
    rest = calls(300, model={"gpt-4o": 0.1, "mini": 0.9})
    assert at.compare(*at.counts_of(slow, rest)[:2]) == []


def test_a_difference_chance_explains_is_not_significant() -> None:
    # 14 of 25 against 10 of 25: a lift of 1.4 and a share difference of 0.16, p ≈ 0.13
    slow = calls(25, kind={"video": 14 / 25, "text": 11 / 25})
    rest = calls(25, kind={"video": 10 / 25, "text": 15 / 25})
    assert at.compare(*at.counts_of(slow, rest)[:2]) == []
    assert 0.05 < at.fisher_greater(14, 25, 10, 25) < 0.3


def test_fisher_and_z_agree_on_large_counts() -> None:
    f, z = at.fisher_greater(300, 1000, 200, 1000), at.z_greater(300, 1000, 200, 1000)
    assert f < 1e-6 and z < 1e-6
    assert at.fisher_greater(10, 100, 10, 100) > 0.5


def test_an_attribute_every_call_shares_never_counts() -> None:
    slow = calls(100, tenant={"acme": 1.0}, tool={"t": 1.0})
    rest = calls(300, tenant={"acme": 1.0}, tool={"t": 1.0})
    assert at.compare(*at.counts_of(slow, rest)[:2]) == []
    # an attribute named to ignore (the tenant) never counts, however it is spread
    slow = calls(100, tenant={"acme": 1.0})
    rest = calls(300, tenant={"acme": 0.2, "globex": 0.8})
    s, b, _ = at.counts_of(slow, rest, ignore={"tenant"})
    assert at.compare(s, b, ignore={"tenant"}) == []


def test_nothing_separates_calls_drawn_alike() -> None:
    rng = random.Random(3)
    mix = {"video": 0.2, "text": 0.7, "quiz": 0.1}

    def draw(n: int) -> list[dict[str, object]]:
        return [
            {
                "kind": rng.choices(list(mix), list(mix.values()))[0],
                "user": f"u-{rng.randint(1, 20)}",
                "tokens": rng.randint(500, 1500),
            }
            for _ in range(n)
        ]

    for _ in range(20):
        assert at.compare(*at.counts_of(draw(150), draw(400))[:2]) == []


def test_numbers_are_compared_in_bands_of_the_baseline() -> None:
    rng = random.Random(1)
    rest = [{"prompt_tokens": rng.randint(500, 1500)} for _ in range(400)]
    slow = [{"prompt_tokens": rng.randint(4000, 6000)} for _ in range(100)]
    s, b, numeric = at.counts_of(slow, rest)
    assert numeric == {"prompt_tokens"}
    got = at.compare(s, b, numeric=numeric)
    assert got and got[0].numeric and got[0].value.startswith("≥ ") and got[0].share == 1.0
    assert abs(got[0].baseline_share - 0.05) < 0.02  # the top band holds the baseline's top 5 %


def test_band_edges_and_labels() -> None:
    edges = at.band_edges([float(v) for v in range(1, 101)])
    assert edges == [25.75, 50.5, 75.25, 95.05]
    assert at.band(10, edges) == "< 25.8" and at.band(60, edges) == "50.5–75.2" and at.band(99, edges) == "≥ 95"
    assert at.band(2000, at.band_edges([1000.0, 1200.0, 1500.0, 1800.0, 2200.0])) == "1,800–2,120"


def test_an_exact_value_outranks_a_band_that_separates_as_well() -> None:
    """A band of cost or tokens is often the consequence of a model: with the same figures, the value first."""
    s, b = at.Counts(n=100), at.Counts(n=300)
    s.add("model", "gpt-4o", 100)
    b.add("model", "gpt-4o", 75)
    b.add("model", "mini", 225)
    s.add("cost", "≥ 100", 100)
    b.add("cost", "≥ 100", 75)
    b.add("cost", "< 100", 225)
    got = at.compare(s, b, numeric={"cost"})
    assert [a.attribute for a in got] == ["model", "cost"]
