"""Field parsers: every value a reader accepts round-trips, everything else is a FieldError
with a reason (never another exception, never a silent wrong value)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outage_map.model import Cause, Status, Technology
from outage_map.readers.fields import (
    FieldError,
    parse_cause,
    parse_count,
    parse_number,
    parse_percent,
    parse_status,
    parse_technologies,
    parse_time,
    share_from_percent,
    status_for_share_out,
)

aware_times = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.builds(
        timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m))
    ),
)


@given(aware_times)
def test_an_aware_iso_time_round_trips_to_the_same_instant(moment: datetime) -> None:
    parsed = parse_time(moment.isoformat())
    assert parsed == moment
    assert parsed.utcoffset() == moment.utcoffset()


@given(aware_times)
def test_z_means_utc(moment: datetime) -> None:
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    assert parse_time(text) == moment


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)))
def test_a_naive_time_is_refused_without_a_default_zone(moment: datetime) -> None:
    with pytest.raises(FieldError, match="has no time zone"):
        parse_time(moment.isoformat())


def test_a_naive_time_takes_the_default_zone_with_its_summer_offset() -> None:
    zone = ZoneInfo("America/New_York")
    assert parse_time("2017-09-21T11:00", zone).utcoffset() == timedelta(hours=-4)
    assert parse_time("2017-12-21 11:00", zone).utcoffset() == timedelta(hours=-5)


@given(st.text(max_size=40))
def test_any_text_is_a_time_or_a_field_error(text: str) -> None:
    try:
        moment = parse_time(text)
    except FieldError as exc:
        assert exc.reason
    else:
        assert moment.utcoffset() is not None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is empty"),
        ("2017-10-02", "is not a date and time"),
        ("yesterday", "is not a date and time"),
        ("2017-02-30T10:00Z", "is not a date and time"),
        ("2017-10-02T10:00", "has no time zone"),
    ],
)
def test_bad_times_say_why(text: str, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        parse_time(text)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_written_by_python_reads_back_exactly(value: float) -> None:
    assert parse_number(repr(value)) == value


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-1e9, max_value=1e9))
def test_plain_decimals_read_as_the_nearest_float(value: Decimal) -> None:
    assert parse_number(f" {value:f} ") == float(value)


@given(st.text(max_size=20))
def test_any_text_is_a_finite_number_or_a_field_error(text: str) -> None:
    try:
        number = parse_number(text)
    except FieldError as exc:
        assert exc.reason
    else:
        assert math.isfinite(number)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("n/a", "is not a number"),
        ("", "is empty"),
        ("nan", "is not a number"),
        ("inf", "is not a number"),
        ("1_000", "is not a number"),
        ("1,789", "without thousands separators"),
        ("30,5", "decimal point"),
        ("1e999", "too large"),
    ],
)
def test_numbers_spreadsheets_corrupt_are_refused(text: str, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        parse_number(text)


@given(st.integers(min_value=0, max_value=10**12))
def test_counts_round_trip(value: int) -> None:
    assert parse_count(str(value)) == value


@pytest.mark.parametrize("text", ["-1", "1.5", "12a", ""])
def test_a_count_is_a_whole_number(text: str) -> None:
    with pytest.raises(FieldError):
        parse_count(text)


@given(st.decimals(min_value=0, max_value=100, places=2, allow_nan=False))
def test_a_percentage_becomes_the_share_as_written(percent: Decimal) -> None:
    share = share_from_percent(parse_percent(f"{percent:f}"))
    assert share == float(percent / 100)
    assert share_from_percent(float(percent), percent_is_up=True) == float((100 - percent) / 100)


def test_shares_are_exact_decimal_fractions() -> None:
    assert share_from_percent(4.1) == 0.041
    assert share_from_percent(30.5, percent_is_up=True) == 0.695
    assert share_from_percent(40, percent_is_up=True) == 0.6


@pytest.mark.parametrize("text", ["-0.1", "100.5", "101"])
def test_a_percentage_is_between_0_and_100(text: str) -> None:
    with pytest.raises(FieldError, match="between 0 and 100"):
        parse_percent(text)


@pytest.mark.parametrize(
    ("text", "status"),
    [("up", Status.UP), ("DOWN", Status.DOWN), (" Degraded ", Status.DEGRADED),
     ("out of service", Status.DOWN), ("out-of-service", Status.DOWN), ("unknown", Status.UNKNOWN)],
)  # fmt: skip
def test_statuses(text: str, status: Status) -> None:
    assert parse_status(text) == status


def test_a_status_must_be_one_of_ours() -> None:
    with pytest.raises(FieldError, match="write up, degraded, down or unknown"):
        parse_status("broken")
    with pytest.raises(FieldError, match="is empty"):
        parse_status("")


def test_causes() -> None:
    assert parse_cause("Power") is Cause.POWER
    assert parse_cause("backhaul") is Cause.TRANSPORT
    assert parse_cause("") is None
    with pytest.raises(FieldError, match="not a cause"):
        parse_cause("flood")


@given(st.sets(st.sampled_from(list(Technology))), st.sampled_from([";", "|", " ", "/", "+"]))
def test_technologies_round_trip_with_any_separator(techs: set[Technology], sep: str) -> None:
    text = sep.join(t.value.upper() for t in sorted(techs))
    assert parse_technologies(text) == frozenset(techs)


def test_technology_aliases_and_all() -> None:
    assert parse_technologies("4G;5g") == {Technology.LTE, Technology.NR}
    assert parse_technologies("all") == frozenset()
    with pytest.raises(FieldError, match="'wifi', not a radio technology"):
        parse_technologies("gsm;wifi")


@given(st.floats(min_value=0, max_value=1))
def test_status_for_share_out(share: float) -> None:
    status = status_for_share_out(share)
    assert (status is Status.UP) == (share == 0)
    assert (status is Status.DOWN) == (share == 1)
