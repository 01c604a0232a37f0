"""Instants and intervals as ``--at`` and OGC ``datetime`` take them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outage_map.instants import InstantError, format_instant, parse_instant, parse_interval

NOW = datetime(2024, 10, 1, 12, 30, tzinfo=UTC)

aware = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.builds(
        timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m))
    ),
)


@given(aware)
def test_format_then_parse_is_the_same_instant(at: datetime) -> None:
    text = format_instant(at)
    assert text is not None and text.endswith("Z")
    assert parse_instant(text, now=NOW) == at


@given(aware, aware)
def test_an_interval_contains_what_lies_between_its_ends(a: datetime, b: datetime) -> None:
    start, end = sorted((a, b))
    interval = parse_interval(f"{format_instant(start)}/{format_instant(end)}", now=NOW)
    assert interval.contains(start) and interval.contains(end)
    assert not interval.contains(start - timedelta(microseconds=1))
    assert not interval.contains(end + timedelta(microseconds=1))


def test_the_forms_people_write() -> None:
    assert parse_instant("now", now=NOW) == NOW
    assert parse_instant("2017-10-20T12:00-04:00", now=NOW) == datetime(
        2017, 10, 20, 16, tzinfo=UTC
    )
    assert parse_instant("2017-10-20", now=NOW) == datetime(2017, 10, 20, 23, 59, 59, tzinfo=UTC)
    day = parse_interval("2017-10-20", now=NOW)
    assert day.start == datetime(2017, 10, 20, tzinfo=UTC)
    assert day.end == datetime(2017, 10, 20, 23, 59, 59, tzinfo=UTC)
    open_start = parse_interval("../2017-10-20T00:00Z", now=NOW)
    assert open_start.start is None and open_start.contains(datetime(1900, 1, 1, tzinfo=UTC))
    since = parse_interval("2017-10-20/", now=NOW)
    assert since.start == datetime(2017, 10, 20, tzinfo=UTC) and since.end is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2017-10-20T12:00", "has no offset"),
        ("yesterday", "is not a time"),
        ("2017-02-30", "not a calendar date"),
        ("../..", "at least one end"),
        ("2017-10-21/2017-10-20", "ends before it starts"),
    ],
)
def test_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(InstantError, match=message):
        parse_interval(text, now=NOW)
