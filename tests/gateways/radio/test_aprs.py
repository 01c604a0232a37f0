"""APRS bulletins, cancellations and NWS-style messages built from CAP alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cap.authoring import alert_from_description, cancel_alert
from cap.model import Alert
from cap.parsing import parse_alert
from gateways.base import CannotCarryError
from gateways.radio.aprs import (
    APRS_TOCALL,
    DEFAULT_PATH,
    FORBIDDEN,
    MESSAGE_TEXT_MAX,
    AprsCannotCarryError,
    AprsError,
    AprsMessage,
    announcement_addressee,
    aprs_bulletins_for,
    aprs_cancellation_for,
    aprs_nws_messages_for,
    bulletin_addressee,
    fold_text,
    nws_event_tag,
    nws_zones,
    split_text,
)
from gateways.radio.ax25 import Ax25Address, Ax25Frame, parse_path, to_tnc2

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
SOURCE = Ax25Address("N0CALL", 10)


def _alert(**changes: Any) -> Alert:
    info: dict[str, Any] = {
        "category": ["Met"],
        "event": "Flood Warning",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "headline": "Flood warning for the Lower Valley",
        "instruction": "Move to higher ground now. Do not drive through flood water.",
        "description": "The river is expected to rise above the banks by noon.",
        "expires": NOW + timedelta(hours=6),
        "areas": [{"area_desc": "Lower Valley", "geocodes": {"SAME": "048439"}}],
    }
    info.update(changes.pop("info", {}))
    desc: dict[str, Any] = {"sender": "alerts@met.example.gov", "status": "Actual"}
    desc.update(changes)
    desc["info"] = [info]
    return alert_from_description(desc, now=NOW, identifier="FLOOD-1")


def _messages(frames: list[Ax25Frame]) -> list[AprsMessage]:
    return [AprsMessage.parse(frame.info) for frame in frames]


def test_message_field_layout_per_aprs_chapter_14() -> None:
    assert AprsMessage("BLN3", "Snow expected").info() == b":BLN3     :Snow expected"
    assert AprsMessage("BLN4WX", "Stand by").info() == b":BLN4WX   :Stand by"
    assert AprsMessage("N0CALL-7", "hi", "001").info() == b":N0CALL-7 :hi{001"
    assert AprsMessage.parse(b":N0CALL-7 :hi{001") == AprsMessage("N0CALL-7", "hi", "001")
    assert bulletin_addressee(1) == "BLN1"
    assert bulletin_addressee(9, "ARES") == "BLN9ARES"
    assert announcement_addressee("C") == "BLNC"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: AprsMessage("BLN1", "x" * 68), "limit is 67"),
        (lambda: AprsMessage("BLN1", "a|b"), "'\\|'"),
        (lambda: AprsMessage("BLN1", "a~b"), "'~'"),
        (lambda: AprsMessage("BLN1", "a{b"), "'\\{'"),
        (lambda: AprsMessage("BLN1", "café"), "'é'"),
        (lambda: AprsMessage("TOOLONGNAME", "x"), "1 to 9"),
        (lambda: AprsMessage("A:B", "x"), "without ':'"),
        (lambda: AprsMessage("N0CALL", "x", "123456"), "1 to 5"),
        (lambda: bulletin_addressee(10), "BLN0 to BLN9"),
        (lambda: bulletin_addressee(1, "toolong"), "up to 5"),
        (lambda: announcement_addressee("1"), "A to Z"),
    ],
)
def test_invalid_fields_are_refused(build: Any, message: str) -> None:
    with pytest.raises(AprsError, match=message):
        build()


def test_fold_text_makes_ascii_without_forbidden_characters() -> None:
    text, unreadable = fold_text("Évacuez «maintenant» – 5 °C | ~ {x} Straße\n\tnow")
    assert text == 'Evacuez "maintenant" - 5 deg C / - (x) Strasse now'
    assert unreadable == 0
    assert fold_text("تحذير") == ("?????", 5)


def test_split_text_cuts_at_spaces_and_marks_truncation() -> None:
    text = "word " * 40
    parts = split_text(text)
    assert all(len(p) <= MESSAGE_TEXT_MAX for p in parts)
    assert " ".join(parts) == " ".join(text.split())
    short = split_text(text, max_parts=2)
    assert len(short) == 2 and short[-1].endswith("...") and len(short[-1]) <= MESSAGE_TEXT_MAX
    assert split_text("x" * 150, width=67) == ["x" * 67, "x" * 67, "x" * 16]


_WORDS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=90)


@given(st.lists(_WORDS, max_size=60), st.integers(4, 67))
def test_split_never_exceeds_the_width_and_reassembles(words: list[str], width: int) -> None:
    text = " ".join(words)
    parts = split_text(text, width)
    assert all(0 < len(p) <= width for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    if all(len(w) <= width for w in words):
        assert " ".join(parts) == text


@given(st.lists(_WORDS, min_size=1, max_size=60), st.integers(4, 67), st.integers(1, 9))
def test_truncated_split_stays_within_limits(words: list[str], width: int, most: int) -> None:
    parts = split_text(" ".join(words), width, most)
    assert len(parts) <= most
    assert all(len(p) <= width for p in parts)


def test_bulletins_for_an_alert() -> None:
    frames = aprs_bulletins_for(_alert(), source=SOURCE)
    head = "N0CALL-10>APZTOC,WIDE2-2::"
    assert [to_tnc2(f) for f in frames] == [
        head + "BLN1     :Flood warning for the Lower Valley. Area: Lower Valley. Until 14Mar",
        head + "BLN2     :15:30Z. Move to higher ground now. Do not drive through flood",
        head + "BLN3     :water. The river is expected to rise above the banks by noon.",
    ]
    assert all(f.destination == APRS_TOCALL and f.path == DEFAULT_PATH for f in frames)


def test_group_bulletin_path_and_line_limit() -> None:
    frames = aprs_bulletins_for(
        _alert(),
        source=SOURCE,
        bulletin_id="WX",
        path=parse_path("WIDE1-1,WIDE2-2"),
        max_lines=2,
    )
    messages = _messages(frames)
    assert [m.addressee for m in messages] == ["BLN1WX", "BLN2WX"]
    assert messages[-1].text.endswith("...")
    assert frames[0].path == (Ax25Address("WIDE1", 1), Ax25Address("WIDE2", 2))
    with pytest.raises(AprsError, match="1 to 9"):
        aprs_bulletins_for(_alert(), source=SOURCE, max_lines=10)


@pytest.mark.parametrize(
    ("changes", "prefix"),
    [
        ({"status": "Test"}, "TEST: Flood warning"),
        ({"status": "Exercise"}, "EXERCISE: Flood warning"),
    ],
)
def test_tests_and_exercises_say_so_first(changes: dict[str, Any], prefix: str) -> None:
    (first, *_) = _messages(aprs_bulletins_for(_alert(**changes), source=SOURCE))
    assert first.text.startswith(prefix)


def test_cancellation_replaces_every_line_of_the_cancelled_alert() -> None:
    original = _alert()
    sent = _messages(aprs_bulletins_for(original, source=SOURCE, bulletin_id="WX"))
    cancel = cancel_alert(original, now=NOW + timedelta(hours=1), note="The river has fallen.")
    replaced = _messages(
        aprs_cancellation_for(original, cancel=cancel, source=SOURCE, bulletin_id="WX")
    )
    assert [m.addressee for m in replaced] == [m.addressee for m in sent]
    assert replaced[0].text.startswith("CANCELLED: Flood warning for the Lower Valley.")
    assert "The river has fallen." in " ".join(m.text for m in replaced)
    assert replaced[-1].text == "(cancelled)"


def test_cancel_alert_itself_reads_as_cancelled_once() -> None:
    cancel = cancel_alert(_alert(), now=NOW + timedelta(hours=1))
    (first, *_) = _messages(aprs_bulletins_for(cancel, source=SOURCE))
    assert first.text.startswith("CANCELLED: Flood warning")
    assert "CANCELLED" not in first.text[10:]


def test_non_latin_text_is_refused_as_cannot_carry() -> None:
    arabic = _alert(
        info={
            "language": "ar",
            "headline": "تحذير من الفيضانات في الوادي",
            "instruction": "انتقلوا إلى أماكن مرتفعة",
            "description": "",
            "areas": [{"area_desc": "الوادي"}],
        }
    )
    with pytest.raises(AprsCannotCarryError, match=r"\(ar\).*info_index") as caught:
        aprs_bulletins_for(arabic, source=SOURCE)
    assert isinstance(caught.value, CannotCarryError)
    assert not caught.value.retryable


def test_missing_info_block_is_refused() -> None:
    with pytest.raises(AprsCannotCarryError, match="no info_index 3"):
        aprs_bulletins_for(_alert(), source=SOURCE, info_index=3)


_TEXT = st.text(
    st.characters(exclude_categories=["Cs"], max_codepoint=0x2FFF), min_size=1, max_size=400
)


@given(_TEXT, _TEXT, st.sampled_from(["", "WX", "ARES"]), st.integers(1, 9))
def test_every_bulletin_obeys_the_aprs_limits(
    headline: str, instruction: str, group: str, lines: int
) -> None:
    base = _alert()
    info = replace(base.infos[0], headline=headline, instruction=instruction)
    alert = replace(base, infos=(info,))
    try:
        frames = aprs_bulletins_for(alert, source=SOURCE, bulletin_id=group, max_lines=lines)
    except AprsCannotCarryError:
        return  # mostly non-Latin text, or nothing readable
    assert 1 <= len(frames) <= lines
    for number, message in enumerate(_messages(frames), start=1):
        assert message.addressee == f"BLN{number}{group}"
        assert len(message.text) <= MESSAGE_TEXT_MAX
        assert not set(message.text) & set(FORBIDDEN)
        assert all(" " <= c <= "~" for c in message.text)


# --- NWS-style messages ------------------------------------------------------------------


def test_nws_messages_for_a_real_nws_alert(shared_data: Path) -> None:
    # NWS Albuquerque wind advisory (CAP 1.1 from alerts.weather.gov, 2014), 30 UGC zones,
    # VTEC significance Y (advisory), expires 2014-05-11T19:00-06:00 = 12th 01:00Z,
    # sent 2014-05-10T22:00-06:00 = 11th 04:00Z -> base-60 stamp "B40".
    path = shared_data / "cap" / "alerts" / "kelvinn__capparselib" / "weather.cap"
    alert = parse_alert(path.read_bytes()).alert
    lines = [to_tnc2(f) for f in aprs_nws_messages_for(alert, source=SOURCE)]
    head = "N0CALL-10>APZTOC,WIDE2-2::NWS-ADVIS:120100z,WIND,"
    assert lines == [
        head + "NMZ501,NMZ502,NMZ503,NMZ504,NMZ505,NMZ506,NMZ507{B40AA",
        head + "NMZ509,NMZ510,NMZ511,NMZ512,NMZ513,NMZ514,NMZ515{B40AB",
        head + "NMZ516,NMZ517,NMZ518,NMZ519,NMZ520,NMZ522,NMZ528{B40AC",
        head + "NMZ531,NMZ532,NMZ533,NMZ534,NMZ535,NMZ536,NMZ537{B40AD",
        head + "NMZ538,NMZ539,NMZ540{B40AE",
    ]
    cancelled = aprs_nws_messages_for(alert, source=SOURCE, cancelled=True)
    assert {AprsMessage.parse(f.info).addressee for f in cancelled} == {"NWS-CANCL"}


def test_nws_zones_from_same_codes_and_kind_from_the_event() -> None:
    alert = _alert()
    (message,) = _messages(aprs_nws_messages_for(alert, source=SOURCE))
    assert message.addressee == "NWS-WARN"
    assert message.text == "141530z,FLOOD,TXC439"
    assert message.message_id == "E9UAA"  # 14th, 09h, 30min in base 60
    assert nws_zones(alert.infos[0]) == ["TXC439"]


@pytest.mark.parametrize(
    ("event", "tag"),
    [
        ("Flash Flood Warning", "FLASH_FLOOD"),
        ("Severe Thunderstorm Watch", "SEVERE_THUNDERSTORM"),
        ("Wind Advisory", "WIND"),
        ("Tsunami", "TSUNAMI"),
        ("Avalanche-Warnung", "AVALANCHE_WARNUNG"),
    ],
)
def test_nws_event_tags(event: str, tag: str) -> None:
    assert nws_event_tag(event) == tag


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "Exercise"}, "no test marker"),
        ({"info": {"expires": None}}, "no <expires>"),
        ({"info": {"areas": [{"area_desc": "Somewhere"}]}}, "no UGC, SAME or FIPS6"),
    ],
)
def test_nws_refusals(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(AprsCannotCarryError, match=message):
        aprs_nws_messages_for(_alert(**changes), source=SOURCE)
