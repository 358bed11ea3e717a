"""Times the user writes, read to the nanosecond where they say one (a float near today's epoch
resolves only ~240 ns)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugintop.errors import UsageError
from plugintop.timerange import parse_time_ns, resolve_range_ns

NOW = 1_796_000_000.5
T = 1_796_000_000_123_456_789


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2026-11-30T00:53:20.123456789Z", T),
        ("2026-11-30T01:53:20.123456789+01:00", T),
        ("2026-11-30T00:53:20.1234Z", T - 56_789),
        ("1796000000.123456789", T),
        ("1796000000123456789", T),
        ("2026-11-30T00:53:20Z", T - 123_456_789),
        ("now-1s", 1_795_999_999_500_000_000),
    ],
)
def test_times_to_the_nanosecond(text: str, want: int) -> None:
    assert parse_time_ns(text, NOW) == want


@given(st.integers(1_700_000_000 * 10**9, 1_900_000_000 * 10**9))
def test_any_loki_timestamp_written_back_reads_the_same(ns: int) -> None:
    from plugintop.cli.lines import rfc3339_ns

    assert parse_time_ns(rfc3339_ns(ns), NOW) == ns == parse_time_ns(str(ns), NOW)


def test_a_range_two_nanoseconds_long_is_a_range() -> None:
    a = "2026-11-30T00:53:20.123456789Z"
    b = "2026-11-30T00:53:20.123456791Z"
    assert resolve_range_ns(None, a, b, lambda: NOW) == (T, T + 2)
    with pytest.raises(UsageError):
        resolve_range_ns(None, b, a, lambda: NOW)
    with pytest.raises(UsageError):
        resolve_range_ns("1h", a, None, lambda: NOW)
