from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cap.errors import CapAuthoringError
from cap.identifiers import identifier_problem, new_identifier, sender_prefix

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
_FORBIDDEN_RE = re.compile(r"[\s,<&]")


def test_ten_thousand_draws_from_secrets_are_unique_and_clean() -> None:
    ids = [new_identifier("alerts@met.example.gov", NOW) for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert not any(_FORBIDDEN_RE.search(i) for i in ids)


def test_ten_thousand_draws_from_one_seeded_source_are_unique() -> None:
    rand = random.Random(7)
    ids = {new_identifier("alerts@met.example.gov", NOW, rand) for _ in range(10_000)}
    assert len(ids) == 10_000


def test_seeded_source_makes_identifiers_reproducible() -> None:
    first = new_identifier("a@b.example", NOW, random.Random(42))
    again = new_identifier("a@b.example", NOW, random.Random(42))
    other = new_identifier("a@b.example", NOW, random.Random(43))
    assert first == again
    assert first != other


def test_identifier_names_the_sender_and_the_utc_time() -> None:
    kolkata = NOW.astimezone(timezone(timedelta(hours=5, minutes=30)))
    ident = new_identifier("alerts@met.example.gov", kolkata, random.Random(1))
    assert ident.startswith("alerts.met.example.gov-20240501T120000Z-")


def test_naive_time_is_refused() -> None:
    with pytest.raises(CapAuthoringError, match="time zone"):
        new_identifier("a@b.example", datetime(2024, 5, 1, 12, 0))


@pytest.mark.parametrize(
    ("sender", "prefix"),
    [
        ("alerts@met.example.gov", "alerts.met.example.gov"),
        ("urn:oid:2.49.0.1.840.0", "urn-oid-2.49.0.1.840.0"),
        ("Météo <France> & co", "M-t-o-France-co"),
        ("", "cap"),
        ("&&&", "cap"),
    ],
)
def test_sender_prefix_keeps_only_safe_characters(sender: str, prefix: str) -> None:
    assert sender_prefix(sender) == prefix


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("a b", "a space"), ("a,b", "','"), ("a<b", "'<'"), ("a&b", "'&'"), ("", "empty")],
)
def test_identifier_problem_names_the_forbidden_character(text: str, fragment: str) -> None:
    problem = identifier_problem(text)
    assert problem is not None
    assert fragment in problem


def test_identifier_problem_accepts_real_identifiers() -> None:
    assert identifier_problem("NOAA-NWS-ALERTS-AR1253BA3B00A4.FloodWarning.1253BA3CC") is None
    assert identifier_problem("2.49.0.1.124.07b3f6f4.2014") is None


_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@given(
    sender=st.text(max_size=80),
    now=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30), timezones=_offsets
    ),
    rand=st.randoms(use_true_random=False),
)
def test_any_sender_and_time_give_a_cap_safe_identifier(
    sender: str, now: datetime, rand: random.Random
) -> None:
    ident = new_identifier(sender, now, rand)
    assert identifier_problem(ident) is None
    assert re.fullmatch(r"[A-Za-z0-9._-]+", ident)
    assert now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") in ident
