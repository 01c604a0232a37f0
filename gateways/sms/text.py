"""The words of an SMS alert: one text per language, from the CAP info blocks.

A text is the headline (or the event when there is none), then the instruction, then a link
where people can read the whole warning. Test and exercise alerts say so first, a Cancel says
it is one. When the text needs more segments than the channel allows, the instruction is cut at
a word boundary and marked with " [...]"; the headline and the link are kept whole as long as
they fit, because they are what a reader needs to act and to learn more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cap.model import Alert, Info
from gateways.sms.gsm7 import NationalLanguage, SegmentPlan, plan_segments

CUT_MARKER = " [...]"

_STATUS_PREFIX = {"Exercise": "EXERCISE: ", "Test": "TEST: "}

# TS 23.038's national tables are for their own languages: a phone set up for Turkish renders
# the Turkish tables, but an Arabic reader's phone will not render Urdu ones, so a text may use
# only the tables of the language it is written in.
_NATIONAL_TABLES = {
    "tr": NationalLanguage.TURKISH,
    "es": NationalLanguage.SPANISH,
    "pt": NationalLanguage.PORTUGUESE,
    "bn": NationalLanguage.BENGALI,
    "gu": NationalLanguage.GUJARATI,
    "hi": NationalLanguage.HINDI,
    "kn": NationalLanguage.KANNADA,
    "ml": NationalLanguage.MALAYALAM,
    "or": NationalLanguage.ORIYA,
    "pa": NationalLanguage.PUNJABI,
    "ta": NationalLanguage.TAMIL,
    "te": NationalLanguage.TELUGU,
    "ur": NationalLanguage.URDU,
}


def national_languages_for(language: str) -> tuple[NationalLanguage, ...]:
    """The national shift tables a text in ``language`` (a BCP 47 tag) may use."""
    table = _NATIONAL_TABLES.get(language.split("-", 1)[0].lower())
    return (table,) if table is not None else ()


def plan_for_language(text: str, language: str, reference_bits: int = 8) -> SegmentPlan:
    return plan_segments(
        text,
        languages=national_languages_for(language),
        reference_bits=8 if reference_bits == 8 else 16,
    )


@dataclass(frozen=True, slots=True)
class SmsText:
    """One language's message and how it travels."""

    language: str
    text: str
    plan: SegmentPlan
    truncated: bool
    info_index: int  # which info block it was built from (0-based)


def compose(
    alert: Alert,
    info_index: int,
    *,
    max_segments: int,
    link: str | None = None,
    reference_bits: int = 8,
) -> SmsText:
    """The SMS text for one info block, within ``max_segments``."""
    info = alert.infos[info_index]
    prefix = _STATUS_PREFIX.get(alert.status, "")
    if alert.msg_type == "Cancel":
        prefix += "CANCELLED: "
    headline = " ".join((info.headline or info.event or "").split())
    instruction = " ".join((info.instruction or "").split())
    url = (link if link is not None else info.web or "").strip()
    head = prefix + headline
    if instruction and head and head[-1].isalnum():
        head += "."  # the headline ends where the instruction starts
    tail = f" {url}" if url else ""

    language = info.effective_language

    def plan(text: str) -> SegmentPlan:
        return plan_for_language(text, language, reference_bits)

    full = head + (f" {instruction}" if instruction else "") + tail
    whole = plan(full)
    if whole.count <= max_segments:
        return SmsText(info.effective_language, full, whole, False, info_index)
    # Keep as much of the instruction as fits: the longest word-boundary cut that does.
    words = instruction.split(" ") if instruction else []
    best: tuple[str, SegmentPlan] | None = None
    low, high = 0, len(words) - 1
    while low <= high:
        middle = (low + high) // 2
        kept = " ".join(words[:middle])
        candidate = head + (f" {kept}" if kept else "") + CUT_MARKER + tail
        candidate_plan = plan(candidate)
        if candidate_plan.count <= max_segments:
            best = (candidate, candidate_plan)
            low = middle + 1
        else:
            high = middle - 1
    if best is None:
        best = _cut_characters(head + tail, max_segments, plan)
    return SmsText(info.effective_language, best[0], best[1], True, info_index)


def _cut_characters(
    text: str, max_segments: int, plan: Callable[[str], SegmentPlan]
) -> tuple[str, SegmentPlan]:
    """Even the headline and link do not fit: the longest prefix that does, marked."""
    low, high = 0, len(text)
    best = (CUT_MARKER.strip(), plan(CUT_MARKER.strip()))
    while low <= high:
        middle = (low + high) // 2
        candidate = text[:middle].rstrip() + CUT_MARKER
        candidate_plan = plan(candidate)
        if candidate_plan.count <= max_segments:
            best = (candidate, candidate_plan)
            low = middle + 1
        else:
            high = middle - 1
    return best


def choose_info(infos: Sequence[Info], language: str, default_language: str) -> int | None:
    """The info block to send a reader of ``language``: the same tag, else the same primary
    language (``fr`` for ``fr-CA``), else the channel's default language, else the first."""
    if not infos:
        return None
    for wanted in (language, default_language):
        if not wanted:
            continue
        tag = wanted.lower()
        for n, info in enumerate(infos):
            if info.effective_language.lower() == tag:
                return n
        primary = tag.split("-", 1)[0]
        for n, info in enumerate(infos):
            if info.effective_language.lower().split("-", 1)[0] == primary:
                return n
    return 0
