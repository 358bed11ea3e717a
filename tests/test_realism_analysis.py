"""Real telemetry's imperfections, in the pure parts: a storm's lines are a sample of more, a model's name
holds digits, a job scrapes at its own interval (and misses a scrape now and then), series go sparse."""

from __future__ import annotations

import json
import time

from plugintop.analysis.patterns import grouped, mask
from plugintop.models.prometheus import QueryResult, Series
from plugintop.triage.probes import _spacing, sparse

NOW = time.time()


def _line(msg: str, i: int) -> str:
    return json.dumps({"ts": NOW - i, "level": "error", "msg": msg})


def test_a_storm_past_one_page_keeps_its_grown_pattern() -> None:
    """5,838 timeouts in the window against 1,386 before, each side read as one page of 1,000 lines: page
    against page they look alike (1,000 and 1,000); scaled by Loki's counts the pattern grew 4.2 times."""
    window = [(_line(f"db.query timed out after {3000 + i} ms", i), None) for i in range(1000)]
    baseline = [_line(f"db.query timed out after {2900 + i} ms", i) for i in range(1000)]
    assert grouped(window, baseline) == []  # what a page against a page says
    found = grouped(window, baseline, window_total=5838, baseline_total=1386)
    assert [(p.pattern, p.count, p.baseline_count) for p in found] == [("db.query timed out after <_> ms", 5838, 1386)]
    assert found[0].sampled == "1,000 of 5,838; baseline 1,000 of 1,386"


def test_a_storm_scales_each_pattern_by_its_share_of_the_page() -> None:
    window = [(_line("grading backend refused connection from 10.0.0.7", i), None) for i in range(900)]
    window += [(_line("db.query timed out after 120 ms", i), None) for i in range(100)]
    baseline = [_line("db.query timed out after 130 ms", i) for i in range(450)]
    found = grouped(window, baseline, window_total=36_000, baseline_total=450)
    by = {p.pattern: (p.count, p.baseline_count) for p in found}
    assert by["grading backend refused connection from <_>"] == (32_400, 0)
    assert by["db.query timed out after <_> ms"] == (3_600, 450)
    assert all(p.sampled == "1,000 of 36,000" for p in found)


def test_a_whole_page_is_not_an_estimate() -> None:
    window = [(_line("quota exceeded", i), None) for i in range(10)]
    (p,) = grouped(window, [], window_total=10, baseline_total=0)
    assert (p.count, p.sampled) == (10, None)


def test_masks_keep_names_that_hold_digits() -> None:
    assert mask("model llama-3.1-8b-instruct answered 503 after 2012 ms") == (
        "model llama-3.1-8b-instruct answered <_> after <_> ms"
    )
    assert mask("gpt-4o-mini and text-embedding-3-small refused") == "gpt-4o-mini and text-embedding-3-small refused"
    assert mask("user u-42 order req-12345 from 10.2.3.4") == "user u-<_> order req-<_> from <_>"
    assert mask("plugin v1.5.0 failed") == "plugin v1.5.0 failed"


def _samples(n: float) -> QueryResult:
    return QueryResult(result_type="vector", series=[Series(metric={}, values=[(NOW, n)])])


def test_the_scrape_interval_is_the_spacing_of_the_plugins_own_samples() -> None:
    assert _spacing(_samples(10)) == 60.0  # a job scraped every minute, whatever the global setting says
    assert _spacing(_samples(9)) == 60.0  # one scrape missed in the ten minutes: still a minute
    assert _spacing(_samples(40)) == 15.0
    assert _spacing(_samples(38)) == 15.0
    assert _spacing(_samples(1)) is None
    assert _spacing(_samples(7)) == 86.0  # nothing people configure is near: as measured


def test_series_far_sparser_than_the_interval_implies_are_no_ground_for_healthy() -> None:
    assert sparse(31, 3600, 30) == "series too sparse: 31 of 120 points"
    assert sparse(110, 3600, 30) is None
    assert sparse(None, 3600, 30) is None
    assert sparse(2, 60, 30) is None  # a range of two points says nothing either way


def test_a_huge_hostile_word_is_masked_in_one_pass() -> None:
    """A log line is anyone's: 10,000 characters of one word (letters, digits, dashes) must not make the
    mask backtrack (it once did, for minutes)."""
    word = "ab" + "-1a" * 3000 + "-"
    assert mask(f"failed {word} after 12 ms") == f"failed {word} after <_> ms"
