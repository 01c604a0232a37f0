"""CAP date-times: strict parsing, the 'Z' ban, and a lossless write/read round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cap.errors import CapFormatError
from cap.timefmt import (
    describe_datetime_problem,
    format_cap_datetime,
    parse_cap_datetime,
    parse_lenient_datetime,
)

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
cap_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31), timezones=offsets
).map(lambda d: d.replace(microsecond=0))


@given(cap_datetimes)
def test_format_then_parse_is_identity_including_the_offset(value: datetime) -> None:
    text = format_cap_datetime(value)
    back = parse_cap_datetime(text)
    assert back == value
    assert back.utcoffset() == value.utcoffset()
    assert format_cap_datetime(back) == text


@given(cap_datetimes)
def test_formatted_times_match_the_cap_pattern(value: datetime) -> None:
    text = format_cap_datetime(value)
    assert len(text) == 25
    assert text[19] in "+-" and text[22] == ":"
    assert not text.endswith("Z")


def test_utc_is_written_minus_zero() -> None:
    assert format_cap_datetime(datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) == (
        "2024-05-01T12:00:00-00:00"
    )


def test_plus_zero_is_read_as_utc() -> None:
    assert parse_cap_datetime("2024-05-01T12:00:00+00:00").utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2024-05-01T12:00:00Z", "'Z'"),
        ("2024-05-01T12:00:00", "no time zone"),
        ("2024-05-01T12:00:00.5-05:00", "fractional"),
        ("2024-02-30T12:00:00-05:00", "not a real date"),
        ("2024-05-01 12:00:00-05:00", "YYYY-MM-DDThh:mm:ss"),
        (" 2024-05-01T12:00:00-05:00", "white space"),
        ("", "empty"),
        ("2024-05-01T12:00:00+15:00", "out of range"),
    ],
)
def test_bad_times_are_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(CapFormatError) as info:
        parse_cap_datetime(text)
    assert why in str(info.value)


def test_lenient_parse_accepts_what_old_documents_use() -> None:
    assert parse_lenient_datetime("2024-05-01T12:00:00Z") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_lenient_datetime("2024-05-01T12:00:00.250-05:00") is not None
    assert parse_lenient_datetime("2024-05-01T12:00:00") is None
    assert parse_lenient_datetime("tomorrow") is None


def test_naive_datetimes_cannot_be_written() -> None:
    with pytest.raises(CapFormatError):
        format_cap_datetime(datetime(2024, 5, 1, 12))


@given(st.text(max_size=40))
def test_describe_never_fails(text: str) -> None:
    assert describe_datetime_problem(text)
