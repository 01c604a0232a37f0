"""Retry backoff: exponential, capped at the maximum, jittered within documented bounds."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.backoff import BackoffPolicy
from dispatch.errors import DispatchError, PolicyError

policies = st.builds(
    BackoffPolicy,
    initial=st.timedeltas(min_value=timedelta(milliseconds=1), max_value=timedelta(minutes=10)),
    maximum=st.timedeltas(min_value=timedelta(minutes=10), max_value=timedelta(days=2)),
    multiplier=st.floats(min_value=1.0, max_value=10.0),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
attempts = st.integers(min_value=1, max_value=10_000)


def test_doubles_from_the_initial_delay_until_the_cap() -> None:
    policy = BackoffPolicy(timedelta(seconds=10), timedelta(minutes=1), jitter=0.0)
    delays = [policy.delay(n, random.Random(0)) for n in range(1, 7)]
    assert delays == [
        timedelta(seconds=10),
        timedelta(seconds=20),
        timedelta(seconds=40),
        timedelta(minutes=1),
        timedelta(minutes=1),
        timedelta(minutes=1),
    ]


def test_huge_attempt_counts_stay_at_the_cap() -> None:
    policy = BackoffPolicy(timedelta(seconds=1), timedelta(hours=1), multiplier=3.0)
    assert policy.base_delay(10**9) == timedelta(hours=1)


def test_jitter_spreads_retries_of_deliveries_that_failed_together() -> None:
    policy = BackoffPolicy(timedelta(seconds=30), timedelta(minutes=10))
    rng = random.Random(7)
    delays = {policy.delay(1, rng) for _ in range(50)}
    assert len(delays) > 40
    assert all(timedelta(seconds=15) <= d <= timedelta(seconds=30) for d in delays)


@given(policies, attempts)
def test_base_delay_is_monotone_and_capped(policy: BackoffPolicy, attempt: int) -> None:
    here, after = policy.base_delay(attempt), policy.base_delay(attempt + 1)
    assert policy.initial <= here <= after <= policy.maximum


@given(policies, attempts, st.integers(min_value=0, max_value=2**32))
def test_delay_within_jitter_bounds(policy: BackoffPolicy, attempt: int, seed: int) -> None:
    base = policy.base_delay(attempt)
    d = policy.delay(attempt, random.Random(seed))
    assert timedelta(0) <= base * (1 - policy.jitter) <= d <= base <= policy.maximum


@given(policies, st.lists(attempts, min_size=1, max_size=20), st.integers(0, 2**32))
def test_seeded_rng_replays_the_same_delays(
    policy: BackoffPolicy, counts: list[int], seed: int
) -> None:
    first = [policy.delay(n, random.Random(seed)) for n in counts]
    again = [policy.delay(n, random.Random(seed)) for n in counts]
    assert first == again


def test_no_jitter_is_deterministic_whatever_the_rng() -> None:
    policy = BackoffPolicy(timedelta(seconds=5), timedelta(minutes=5), jitter=0.0)
    assert {policy.delay(3, random.Random(s)) for s in range(20)} == {timedelta(seconds=20)}


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"initial": timedelta(0), "maximum": timedelta(seconds=1)}, "initial"),
        ({"initial": timedelta(seconds=-1), "maximum": timedelta(seconds=1)}, "initial"),
        ({"initial": timedelta(minutes=5), "maximum": timedelta(minutes=1)}, "maximum"),
        ({"initial": timedelta(1), "maximum": timedelta(2), "multiplier": 0.5}, "multiplier"),
        (
            {"initial": timedelta(1), "maximum": timedelta(2), "multiplier": float("nan")},
            "multiplier",
        ),
        ({"initial": timedelta(1), "maximum": timedelta(2), "jitter": 1.5}, "jitter"),
        ({"initial": timedelta(1), "maximum": timedelta(2), "jitter": -0.1}, "jitter"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(
    kwargs: dict[str, object], setting: str
) -> None:
    with pytest.raises(PolicyError, match=setting) as info:
        BackoffPolicy(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, DispatchError)


def test_attempts_count_from_one() -> None:
    policy = BackoffPolicy(timedelta(seconds=1), timedelta(seconds=2))
    with pytest.raises(ValueError, match="from 1"):
        policy.delay(0, random.Random(0))
