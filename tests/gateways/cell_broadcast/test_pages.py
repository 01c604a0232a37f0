"""CBS pages (TS 23.041 9.4.1.2, requirement row CB-15) and their data coding scheme (TS 23.038
section 5, requirement table E): the DCS octet for each language and alphabet, the 88-octet
layout, CR padding, the language prefix on every page, the 15-page limit, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.cell_broadcast.pages import (
    CONTENT_OCTETS,
    DCS_LANGUAGES,
    GSM7_COSTS,
    PAGE_OCTETS,
    CbsAlphabet,
    CbsEncodingError,
    CbsPage,
    choose_coding,
    coding_for,
    coding_of_dcs,
    decode_message,
    decode_page,
    encode_pages,
    plan_pages,
)
from gateways.cell_broadcast.serial import GeoScope, SerialNumber
from gateways.sms.gsm7 import DEFAULT_ALPHABET

SERIAL = SerialNumber(GeoScope.PLMN_WIDE, 123, 4)

# TS 23.038 section 5, coding groups 0000 and 0010: the language in bits 3..0.
SPEC_DCS = {
    "de": 0x00,
    "en": 0x01,
    "it": 0x02,
    "fr": 0x03,
    "es": 0x04,
    "nl": 0x05,
    "sv": 0x06,
    "da": 0x07,
    "pt": 0x08,
    "fi": 0x09,
    "no": 0x0A,
    "el": 0x0B,
    "tr": 0x0C,
    "hu": 0x0D,
    "pl": 0x0E,
    "cs": 0x20,
    "he": 0x21,
    "ar": 0x22,
    "ru": 0x23,
    "is": 0x24,
}


def _reference_pack(septets: list[int]) -> bytes:
    """TS 23.038 6.1.2.1.1 packing, written plainly: septet i at bit 7i, little-endian."""
    value = 0
    for index, septet in enumerate(septets):
        value |= septet << (7 * index)
    return value.to_bytes((7 * len(septets) + 7) // 8, "little")


# --- DCS --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "dcs"), sorted(SPEC_DCS.items()))
def test_gsm7_dcs_carries_the_languages_the_table_names(language: str, dcs: int) -> None:
    assert DCS_LANGUAGES[language] == dcs
    coding = coding_for(CbsAlphabet.GSM7, f"{language}-XX")
    assert (coding.dcs, coding.prefixed, coding.language) == (dcs, False, language)
    assert coding.page_capacity == 93
    assert coding_of_dcs(dcs).language == language


def test_other_languages_use_group_0001_with_a_prefix() -> None:
    gsm7 = coding_for(CbsAlphabet.GSM7, "cy-GB")
    assert (gsm7.dcs, gsm7.prefixed, gsm7.language, gsm7.page_capacity) == (0x10, True, "cy", 90)
    ucs2 = coding_for(CbsAlphabet.UCS2, "en")  # UCS-2 always names the language as a prefix
    assert (ucs2.dcs, ucs2.prefixed, ucs2.language, ucs2.page_capacity) == (0x11, True, "en", 40)


def test_no_two_letter_code_or_no_prefix_means_unspecified() -> None:
    assert coding_for(CbsAlphabet.GSM7, "haw").dcs == 0x0F
    assert coding_for(CbsAlphabet.UCS2, "haw").dcs == 0x48
    assert coding_for(CbsAlphabet.UCS2, None).page_capacity == 41
    # a profile without prefixes keeps the DCS languages and drops the others
    assert coding_for(CbsAlphabet.GSM7, "en", language_prefix=False).dcs == 0x01
    assert coding_for(CbsAlphabet.GSM7, "cy", language_prefix=False).dcs == 0x0F
    assert coding_for(CbsAlphabet.UCS2, "cy", language_prefix=False).dcs == 0x48


def test_alphabet_is_gsm7_unless_a_character_is_missing() -> None:
    assert choose_coding("Évacuez {vite}", "fr").alphabet is CbsAlphabet.GSM7
    assert choose_coding("Ewakuacja ą", "pl").alphabet is CbsAlphabet.UCS2
    assert choose_coding("Ewakuacja ą", "pl").dcs == 0x11


@pytest.mark.parametrize(
    ("dcs", "alphabet"),
    [
        (0x0F, CbsAlphabet.GSM7),
        (0x12, CbsAlphabet.GSM7),  # group 0001 reserved: read as GSM 7-bit
        (0x30, CbsAlphabet.GSM7),  # group 0011: reserved languages, GSM 7-bit
        (0x40, CbsAlphabet.GSM7),
        (0x44, CbsAlphabet.DATA),
        (0x48, CbsAlphabet.UCS2),
        (0x59, CbsAlphabet.UCS2),  # message class given
        (0x80, CbsAlphabet.GSM7),  # reserved group
        (0xF0, CbsAlphabet.GSM7),
        (0xF4, CbsAlphabet.DATA),
    ],
)
def test_receiver_reading_of_dcs(dcs: int, alphabet: CbsAlphabet) -> None:
    assert coding_of_dcs(dcs).alphabet is alphabet


@pytest.mark.parametrize("dcs", [0x60, 0x90, 0xE0])
def test_unsupported_dcs_is_refused(dcs: int) -> None:
    with pytest.raises(CbsEncodingError, match=f"0x{dcs:02X}"):
        coding_of_dcs(dcs)


# --- the page layout --------------------------------------------------------------------------


def test_page_layout_and_cr_padding() -> None:
    (raw,) = encode_pages("Hi", language="en", message_id=4371, serial=SERIAL)
    assert len(raw) == PAGE_OCTETS == 88
    assert raw[:6] == bytes([0x47, 0xB4, 0x11, 0x13, 0x01, 0x11])
    septets = [0x48, 0x69] + [0x0D] * 91  # "Hi" then 91 CR: 93 septets fill 82 octets
    assert raw[6:] == _reference_pack(septets)
    page = decode_page(raw)
    assert (page.serial_number, page.message_id, page.dcs) == (SERIAL, 4371, 0x01)
    assert (page.page, page.pages, page.language, page.text) == (1, 1, "en", "Hi")


def test_page_parameter_numbers_pages_in_the_high_nibble() -> None:
    pages = encode_pages("x" * 200, language="en", message_id=4370, serial=SERIAL)
    assert [p[5] for p in pages] == [0x13, 0x23, 0x33]


def test_language_prefix_starts_every_page() -> None:
    text = "Rhybudd llifogydd. " * 12
    pages = encode_pages(text, language="cy", message_id=4384, serial=SERIAL)
    assert len(pages) == 3  # 228 septets at 90 a page
    for raw in pages:
        septets = [(int.from_bytes(raw[6:], "little") >> (7 * i)) & 0x7F for i in range(3)]
        assert septets == [ord("c"), ord("y"), 0x0D]
        assert decode_page(raw).language == "cy"
    assert decode_message(pages) == text


def test_ucs2_prefix_is_two_packed_septets_then_big_endian_units() -> None:
    (raw,) = encode_pages("ŵ", language="cy", message_id=4384, serial=SERIAL)
    assert raw[4] == 0x11
    assert raw[6:8] == _reference_pack([ord("c"), ord("y")])  # 14 bits, 2 zero bits
    assert raw[8:10] == "ŵ".encode("utf-16-be")
    assert raw[10:] == b"\x00\x0d" * 39  # the rest padded with CR as UCS-2
    assert decode_page(raw).text == "ŵ"


def test_unspecified_ucs2_fills_41_characters_a_page() -> None:
    text = "Привет" * 7  # 42 characters: 41 on the first page
    pages = encode_pages(text, language="und", message_id=4396, serial=SERIAL)
    assert [decode_page(p).dcs for p in pages] == [0x48, 0x48]
    assert decode_page(pages[0]).text == text[:41]
    assert decode_message(pages) == text


def test_fifteen_pages_at_most() -> None:
    fits = "a" * (93 * 15)
    assert len(encode_pages(fits, language="en", message_id=4370, serial=SERIAL)) == 15
    with pytest.raises(CbsEncodingError, match=r"16 pages .*1396 septets.*at most 15"):
        encode_pages(fits + "a", language="en", message_id=4370, serial=SERIAL)
    with pytest.raises(CbsEncodingError, match="at most 2"):
        encode_pages("a" * 200, language="en", message_id=4370, serial=SERIAL, max_pages=2)


def test_escape_pairs_and_surrogate_pairs_stay_on_one_page() -> None:
    plan = plan_pages("a" * 92 + "{", language="en")
    assert plan.pages == ("a" * 92, "{")
    assert plan.units == 94
    plan = plan_pages("a" * 39 + "😀", language="und")  # ucs2, unspecified: 41 units a page
    assert plan.pages == ("a" * 39 + "😀",)
    plan = plan_pages("a" * 40 + "😀", language="und")
    assert plan.pages == ("a" * 40, "😀")


def test_carriage_returns_are_normalised() -> None:
    pages = encode_pages("one\r\ntwo\rthree\r", language="en", message_id=1, serial=0)
    assert decode_message(pages) == "one\ntwo\nthree\n"


def test_bad_pages_are_refused_saying_why() -> None:
    with pytest.raises(CbsEncodingError, match="88 octets, not 87"):
        decode_page(bytes(87))
    bad = bytearray(encode_pages("x", language="en", message_id=1, serial=0)[0])
    bad[5] = 0x32  # page 3 of 2
    with pytest.raises(CbsEncodingError, match=r"octet 6 .*page 3 of 2"):
        decode_page(bytes(bad))
    bad[5] = 0x00  # TS 23.041: 0000 0000 is read as page 1 of 1
    assert (decode_page(bytes(bad)).page, decode_page(bytes(bad)).pages) == (1, 1)
    with pytest.raises(CbsEncodingError, match="exactly 82"):
        CbsPage(0, 1, 1, 1, 1, bytes(81))
    with pytest.raises(CbsEncodingError, match="lone surrogate"):
        encode_pages("\ud800", language="en", message_id=1, serial=0)
    with pytest.raises(CbsEncodingError, match="do not make a message"):
        pages = encode_pages("x" * 200, language="en", message_id=1, serial=0)
        decode_message(pages[:2])


# --- round trips ------------------------------------------------------------------------------

gsm7_text = st.text(
    alphabet=st.sampled_from(sorted(set(GSM7_COSTS) - {"\r"})), max_size=93 * 15 // 2
)
any_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r"),
    max_size=300,
)
languages = st.sampled_from(["en", "de-DE", "cy", "pt-BR", "haw", "ru", None])


@settings(max_examples=200)
@given(st.one_of(gsm7_text, any_text), languages, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_encode_decode_round_trip(
    text: str, language: str | None, message_id: int, serial: int
) -> None:
    try:
        pages = encode_pages(text, language=language, message_id=message_id, serial=serial)
    except CbsEncodingError as error:
        assert "at most 15" in str(error)
        return
    assert all(len(p) == 88 and len(p[6:]) == CONTENT_OCTETS for p in pages)
    decoded = [decode_page(p) for p in pages]
    assert {(d.serial, d.message_id, d.pages) for d in decoded} == {
        (serial, message_id, len(pages))
    }
    assert [d.page for d in decoded] == list(range(1, len(pages) + 1))
    assert decode_message(reversed(pages)) == text
    coding = choose_coding(text, language)
    assert {d.dcs for d in decoded} == {coding.dcs}
    if coding.language is not None:
        assert {d.language for d in decoded} == {coding.language}


@given(st.text(alphabet=st.sampled_from(DEFAULT_ALPHABET.replace("\r", "")), max_size=93))
def test_one_page_of_default_alphabet_is_93_septets(text: str) -> None:
    plan = plan_pages(text, language="en")
    assert plan.count == 1
    assert plan.units == len(text)
