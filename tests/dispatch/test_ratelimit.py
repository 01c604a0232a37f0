"""Token bucket: bursts up to the limit, then the configured rate; time is passed in."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.errors import PolicyError
from dispatch.ratelimit import TokenBucket


def test_a_full_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    bucket = TokenBucket(rate_per_second=2.0, burst=3)
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take(100.0)
    assert wait == pytest.approx(0.5, abs=1e-5)
    assert bucket.take(100.0) == pytest.approx(0.5, abs=1e-5)  # nothing was taken by asking


def test_waiting_the_returned_time_is_enough_even_on_a_large_clock() -> None:
    bucket = TokenBucket(rate_per_second=3.0, burst=1)
    now = 1_700_000_000.123  # an epoch-scale clock, where float rounding bites
    assert bucket.take(now) == 0.0
    for _ in range(100):
        wait = bucket.take(now)
        assert wait > 0
        now += wait
        assert bucket.take(now) == 0.0


def test_idle_time_never_saves_up_more_than_the_burst() -> None:
    bucket = TokenBucket(rate_per_second=10.0, burst=2)
    bucket.take(0.0)
    granted = sum(bucket.take(3600.0) == 0.0 for _ in range(10))
    assert granted == 2


def test_a_clock_stepping_back_adds_no_tokens() -> None:
    bucket = TokenBucket(rate_per_second=1.0, burst=1)
    assert bucket.take(50.0) == 0.0
    assert bucket.take(10.0) > 0  # earlier than before: still empty
    assert bucket.take(50.5) == pytest.approx(0.5, abs=1e-5)
    assert bucket.take(51.0) == 0.0


def test_available_reports_the_refill() -> None:
    bucket = TokenBucket(rate_per_second=4.0, burst=4)
    for _ in range(4):
        bucket.take(0.0)
    assert bucket.available(0.5) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("rate", "burst", "setting"),
    [
        (0.0, 1, "rate_per_second"),
        (-1.0, 1, "rate_per_second"),
        (float("inf"), 1, "rate_per_second"),
        (1.0, 0, "burst"),
        (1.0, True, "burst"),
    ],
)
def test_bad_settings_are_refused(rate: float, burst: int, setting: str) -> None:
    with pytest.raises(PolicyError, match=setting):
        TokenBucket(rate, burst)


@given(
    rate=st.floats(min_value=0.01, max_value=1000.0),
    burst=st.integers(min_value=1, max_value=20),
    gaps=st.lists(st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=5.0)), max_size=120),
)
def test_grants_in_any_window_never_exceed_burst_plus_rate_times_window(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate, burst)
    granted: list[float] = []
    for now in itertools.accumulate(gaps, initial=0.0):
        wait = bucket.take(now)
        assert wait >= 0.0
        if wait == 0.0:
            granted.append(now)
    for i, start in enumerate(granted):
        for j in range(i, len(granted)):
            window = granted[j] - start
            assert j - i + 1 <= burst + rate * window + 1e-6


@given(
    rate=st.floats(min_value=0.1, max_value=100.0),
    burst=st.integers(min_value=1, max_value=10),
    calls=st.integers(min_value=1, max_value=60),
)
def test_a_caller_that_waits_as_told_gets_the_long_run_rate(
    rate: float, burst: int, calls: int
) -> None:
    bucket = TokenBucket(rate, burst)
    now = 0.0
    for _ in range(calls):
        while (wait := bucket.take(now)) > 0:
            now += wait
    # The first `burst` go at once; every further one needs 1/rate seconds (plus the margin).
    expected = max(0, calls - burst) / rate
    assert now == pytest.approx(expected, rel=1e-6, abs=1e-4)
