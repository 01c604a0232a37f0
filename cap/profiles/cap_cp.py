"""Canadian Profile of CAP (CAP-CP), rules as numbered in "Introduction and Rule Set Beta 0.4"
(Public Safety Canada / CAP-CP working group, 2010; updated for CAP 1.2).

The Event and Location References (the code lists behind rules 7 to 9) are not shipped, so the
profile checks that a CAP-CP event code and CAP-CP location geocodes are used, not which values
they hold. Layer codes and parameters (``layer:SOREM:...``, ``layer:EC-MSC-SMC:...``) are
accepted without being required.
"""

from __future__ import annotations

from collections.abc import Iterator

from cap.findings import Finding, error, warning
from cap.model import Alert
from cap.parsing import ParsedAlert
from cap.profiles.base import Profile
from cap.profiles.shared_rules import (
    area_in_every_info,
    expires_recommended,
    geometry_encouraged,
    info_for_public_messages,
    info_path,
    is_blank,
    response_type_with_instruction,
    same_event_codes,
    sender_name_recommended,
)

NAME = "cap-cp"
CODE_PREFIX = "profile:CAP-CP:"
EVENT_PREFIX = "profile:CAP-CP:Event:"
LOCATION_PREFIX = "profile:CAP-CP:Location"


def check(parsed: ParsedAlert) -> Iterator[Finding]:
    alert = parsed.alert
    yield from same_event_codes(alert, "cap-cp.event_code.mismatch", "CP-01, rule 2")
    yield from _declaration(alert)
    yield from info_for_public_messages(alert, "cap-cp.info.missing", "CP-03, rule 5")
    yield from _languages(alert)
    yield from _event_codes(alert)
    yield from _location_geocodes(alert)
    yield from area_in_every_info(alert, "cap-cp.area.missing", "CP-08, rule 10")
    yield from expires_recommended(parsed, "cap-cp.expires.recommended", "CP-10, rule 13")
    yield from sender_name_recommended(alert, "cap-cp.sender_name.recommended", "CP-11, rule 14")
    yield from response_type_with_instruction(
        alert,
        "cap-cp.response_type.recommended",
        "cap-cp.instruction.recommended",
        "CP-12, rule 15",
    )
    yield from geometry_encouraged(alert, "cap-cp.area.geometry_recommended", "CP-15, rule 18")


def _declaration(alert: Alert) -> Iterator[Finding]:
    codes = [c.strip() for c in alert.codes]
    if any(c.startswith(CODE_PREFIX) and len(c) > len(CODE_PREFIX) for c in codes):
        return
    yield error(
        "cap-cp.code.missing",
        f"no <code> naming the CAP-CP version; add one such as <code>{CODE_PREFIX}0.4</code> "
        f"(CP-02, rule 3)",
        "/alert",
    )


def _languages(alert: Alert) -> Iterator[Finding]:
    if not alert.infos:
        return
    primaries: set[str] = set()
    for i, inf in enumerate(alert.infos):
        if is_blank(inf.language):
            yield warning(
                "cap-cp.language.missing",
                f"info[{i + 1}] has no <language>; CAP-CP asks every info to state its language "
                f"(en-CA or fr-CA); without it receivers assume en-US (CP-04, rule 6)",
                f"{info_path(i)}/language",
            )
        primaries.add(inf.effective_language.strip().split("-", 1)[0].casefold())
    missing = [
        name for code, name in (("en", "English"), ("fr", "French")) if code not in primaries
    ]
    if missing:
        yield warning(
            "cap-cp.language.bilingual",
            f"the alert has no {' or '.join(missing)} <info>; CAP-CP expects one info in each "
            f"official language (en-CA and fr-CA) (CP-04, rule 6)",
            "/alert",
        )


def _event_codes(alert: Alert) -> Iterator[Finding]:
    for i, inf in enumerate(alert.infos):
        if any(
            ec.value_name.strip().startswith(EVENT_PREFIX) and not is_blank(ec.value)
            for ec in inf.event_codes
        ):
            continue
        yield error(
            "cap-cp.event_code.missing",
            f"info[{i + 1}] has no CAP-CP event code; add an <eventCode> with valueName "
            f"'{EVENT_PREFIX}0.4' and the value from the CAP-CP Event References that matches "
            f"<event> (e.g. thunderstorm) (CP-06, rule 8)",
            info_path(i),
        )


def _location_geocodes(alert: Alert) -> Iterator[Finding]:
    for i, inf in enumerate(alert.infos):
        for j, area in enumerate(inf.areas):
            if any(
                g.value_name.strip().startswith(LOCATION_PREFIX) and not is_blank(g.value)
                for g in area.geocodes
            ):
                continue
            yield error(
                "cap-cp.geocode.missing",
                f"area[{j + 1}] of info[{i + 1}] has no CAP-CP location geocode; for places in "
                f"Canada add a <geocode> with valueName '{LOCATION_PREFIX}:0.3' and a Standard "
                f"Geographical Classification code from the CAP-CP Location References "
                f"(CP-07, rule 9)",
                f"{info_path(i)}/area[{j + 1}]",
            )


PROFILE = Profile(
    name=NAME,
    title="Canadian Profile of CAP (CAP-CP)",
    source=(
        "CAP-CP Introduction and Rule Set Beta 0.4 (Public Safety Canada, 2010; rule numbers as "
        "in Beta 0.4)"
    ),
    url="https://www.publicsafety.gc.ca/cnt/rsrcs/pblctns/capcp-ntro-rl-st/index2-en.aspx",
    rules=check,
    declaration=(CODE_PREFIX,),
)
