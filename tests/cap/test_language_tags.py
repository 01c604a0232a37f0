"""Language tag syntax: RFC 3066 as CAP cites it, RFC 5646 as receivers implement it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cap.language_tags import is_bcp47_tag, is_rfc3066_tag


@pytest.mark.parametrize(
    "tag",
    ["en", "en-US", "fr-CA", "es-419", "zh-Hant-TW", "sr-Latn-RS", "de-CH-1996", "x-whatever",
     "en-US-x-twain", "i-klingon", "zh-min-nan", "EN-us"],
)  # fmt: skip
def test_well_formed_tags_fit_both_grammars(tag: str) -> None:
    assert is_bcp47_tag(tag)
    assert is_rfc3066_tag(tag)


@pytest.mark.parametrize("tag", ["en-a", "en-US-a", "abcdefgh-1", "e", "en-x"])
def test_rfc3066_is_looser_than_rfc5646(tag: str) -> None:
    assert is_rfc3066_tag(tag)
    assert not is_bcp47_tag(tag)


@pytest.mark.parametrize(
    "tag", ["", "en_US", "en-", "-en", "en--US", "1en", "en-US-waytoolongsubtag"]
)
def test_malformed_tags_fit_neither(tag: str) -> None:
    assert not is_rfc3066_tag(tag)
    assert not is_bcp47_tag(tag)


LETTERS = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)


@given(
    language=st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=3),
    region=st.one_of(
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
        st.text("0123456789", min_size=3, max_size=3),
    ),
)
def test_language_region_tags_are_always_accepted(language: str, region: str) -> None:
    tag = f"{language}-{region}"
    assert is_bcp47_tag(tag)
    assert is_rfc3066_tag(tag)


@given(LETTERS, st.sampled_from(["_", " ", ".", "\n", "--"]), LETTERS)
def test_separators_other_than_one_hyphen_are_refused(a: str, sep: str, b: str) -> None:
    assert not is_rfc3066_tag(f"{a}{sep}{b}")
    assert not is_bcp47_tag(f"{a}{sep}{b}")
