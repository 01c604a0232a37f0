from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cap.authoring import alert_from_description
from cap.model import Alert
from gateways.sms.gsm7 import DataCoding, NationalLanguage
from gateways.sms.text import CUT_MARKER, choose_info, compose

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def alert(infos: list[dict[str, Any]], **extra: Any) -> Alert:
    base = {
        "category": "Met",
        "event": "Flood",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "expires": NOW + timedelta(hours=6),
        "areas": [{"area_desc": "Lower Valley", "geocodes": [["SAME", "006109"]]}],
    }
    return alert_from_description(
        {"sender": "met@example.gov", "info": [{**base, **i} for i in infos], **extra}, now=NOW
    )


def test_headline_then_instruction_then_link() -> None:
    a = alert(
        [
            {
                "headline": "Flood warning for the Lower Valley",
                "instruction": "Move to higher ground now.",
                "web": "https://met.example.gov/w/1",
            }
        ]
    )
    text = compose(a, 0, max_segments=3)
    assert text.text == (
        "Flood warning for the Lower Valley. Move to higher ground now. https://met.example.gov/w/1"
    )
    assert not text.truncated and text.plan.count == 1
    assert text.plan.encoding.coding is DataCoding.GSM7


def test_long_instruction_is_cut_at_a_word_with_a_marker_and_the_link_kept() -> None:
    instruction = ("Leave low ground immediately and do not drive through water. " * 20).strip()
    a = alert(
        [
            {
                "headline": "Flood warning",
                "instruction": instruction,
                "web": "https://met.example.gov/w/1",
            }
        ]
    )
    text = compose(a, 0, max_segments=2)
    assert text.truncated and text.plan.count == 2
    assert text.text.startswith("Flood warning. Leave low ground")
    tail = CUT_MARKER + " https://met.example.gov/w/1"
    assert text.text.endswith(tail)
    kept = text.text.removeprefix("Flood warning. ").removesuffix(tail)
    assert instruction.startswith(kept) and instruction[len(kept)] == " "  # cut between words
    # the longest cut that fits: one more word would need a third segment
    next_word = instruction[len(kept) + 1 :].split(" ", 1)[0]
    longer = f"Flood warning. {kept} {next_word}{tail}"
    assert len(longer) > 2 * 153


def test_exercise_and_cancel_say_so() -> None:
    exercise = alert([{"headline": "Tsunami drill"}], status="Exercise")
    assert compose(exercise, 0, max_segments=1).text == "EXERCISE: Tsunami drill"


def test_language_choice_exact_primary_default_first() -> None:
    a = alert(
        [
            {"language": "en-KE", "headline": "Flood"},
            {"language": "fr-CA", "headline": "Inondation"},
            {"language": "ar", "headline": "فيضان"},
        ]
    )
    assert choose_info(a.infos, "fr-CA", "en") == 1
    assert choose_info(a.infos, "fr", "en") == 1
    assert choose_info(a.infos, "ar-SA", "en") == 2
    assert choose_info(a.infos, "sw", "en") == 0  # default language by primary subtag
    assert choose_info(a.infos, "sw", "ar") == 2
    assert choose_info(a.infos, "", "de") == 0


def test_arabic_goes_as_ucs2_and_bengali_with_its_national_table() -> None:
    a = alert(
        [
            {"language": "ar", "headline": "تحذير من الفيضانات", "instruction": "انتقلوا الآن"},
            {"language": "bn", "headline": "বন্যা সতর্কতা", "instruction": "এখনই উঁচু জায়গায় যান"},
        ]
    )
    arabic, bengali = compose(a, 0, max_segments=3), compose(a, 1, max_segments=3)
    assert arabic.plan.encoding.coding is DataCoding.UCS2
    assert bengali.plan.encoding.coding is DataCoding.GSM7
    assert bengali.plan.encoding.locking_shift is not None


XML_TEXT = st.characters(blacklist_categories=("Cs", "Cc"))


@settings(max_examples=60, deadline=None)
@given(
    headline=st.text(XML_TEXT, min_size=1, max_size=200).filter(str.strip),
    instruction=st.text(XML_TEXT, max_size=2000),
    segments=st.integers(1, 5),
)
def test_never_more_segments_than_allowed(headline: str, instruction: str, segments: int) -> None:
    a = alert([{"headline": headline, "instruction": instruction or None}])
    text = compose(a, 0, max_segments=segments)
    assert text.plan.count <= segments
    assert text.truncated == (CUT_MARKER in text.text and CUT_MARKER not in headline + instruction)


def test_national_tables_only_for_their_own_language() -> None:
    # Urdu's locking shift table holds Arabic letters, but an Arabic reader's phone will not
    # render it: Arabic goes as UCS-2 however many segments that costs.
    long_arabic = "انتقلوا إلى مكان مرتفع فورا " * 6
    long_urdu = "فوری طور پر اونچی جگہ پر جاو " * 6
    a = alert(
        [
            {"language": "ar", "headline": "فيضان", "instruction": long_arabic},
            {"language": "ur", "headline": "سیلاب", "instruction": long_urdu},
            {"language": "tr", "headline": "Sel uyarısı", "instruction": "Yüksek yerlere çıkın"},
        ]
    )
    arabic, urdu, turkish = (compose(a, n, max_segments=15) for n in range(3))
    assert arabic.plan.encoding.coding is DataCoding.UCS2
    assert urdu.plan.encoding.coding is DataCoding.GSM7
    assert urdu.plan.count < arabic.plan.count
    assert turkish.plan.encoding.single_shift is NationalLanguage.TURKISH
