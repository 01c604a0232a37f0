"""Australian profile: EDXL CAP v1.2 Australia (AU) Profile Version 1.0, Committee
Specification 02 (OASIS, 5 Sep 2013), known as CAP-AU-STD, with its event list AUeventLIST 1.0.

Two spellings of the event-list and geocode valueNames are in use: the govshare handles that the
profile text and Google's implementation give, and the OASIS URNs
(``urn:oasis:names:tc:emergency:cap:1.2:profile:CAP-AU:1.0:...``) that the Bureau of
Meteorology and NSW RFS publish. Both are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cap.findings import Finding, error, warning
from cap.model import Alert, EventCode
from cap.parsing import ParsedAlert
from cap.profiles.au_events import au_event_list
from cap.profiles.base import Profile
from cap.profiles.shared_rules import (
    area_in_every_info,
    expires_recommended,
    geometry_encouraged,
    info_for_public_messages,
    info_path,
    is_present,
    response_type_with_instruction,
    same_categories,
    same_event_codes,
    sender_name_recommended,
)

NAME = "cap-au"
PROFILE_CODE = "urn:oasis:names:tc:emergency:cap:1.2:profile:CAP-AU:1.0"
URN_PREFIX = PROFILE_CODE + ":"
EVENT_LIST_NAMES = (
    "https://govshare.gov.au/xmlui/handle/10772/6495",
    URN_PREFIX + "AUeventLIST:1.0",
)
GEOCODE_NAMES = (
    "http://www.psma.com.au/?product=g-naf",
    "http://www.iso.org/iso/country_codes.html",
    "http://www.ga.gov.au/place-name/",
    "http://www.psma.com.au/?product=postcode-boundaries",
)
# Offsets of the Australian time zones (mainland, Lord Howe, Norfolk, Christmas and Cocos
# Islands) and of UTC, which the profile asks for when an area spans several zones.
AUSTRALIAN_OFFSETS = frozenset(
    {
        "+06:30", "+07:00", "+08:00", "+08:45", "+09:30", "+10:00", "+10:30", "+11:00",
        "+12:00", "+00:00", "-00:00",
    }
)  # fmt: skip

_EMAIL_RE = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_OFFSET_RE = re.compile(r"[+-]\d\d:\d\d$")


def is_event_list_code(event_code: EventCode) -> bool:
    return event_code.value_name.strip() in EVENT_LIST_NAMES


def check(parsed: ParsedAlert) -> Iterator[Finding]:
    alert = parsed.alert
    yield from _declaration(alert)
    yield from info_for_public_messages(alert, "cap-au.info.missing", "AU-02")
    yield from same_categories(alert, "cap-au.category.mismatch", "AU-04")
    yield from same_event_codes(alert, "cap-au.event_code.mismatch", "AU-05")
    yield from _event_codes(alert)
    yield from _events_per_language(alert)
    yield from _effective_with_cancel(parsed)
    yield from area_in_every_info(alert, "cap-au.area.missing", "AU-11")
    yield from _sender(alert)
    yield from _test_status(alert)
    yield from _time_zones(parsed)
    yield from expires_recommended(parsed, "cap-au.expires.recommended", "AU-16")
    yield from sender_name_recommended(alert, "cap-au.sender_name.recommended", "AU-17")
    yield from response_type_with_instruction(
        alert, "cap-au.response_type.recommended", "cap-au.instruction.recommended", "AU-18"
    )
    yield from geometry_encouraged(alert, "cap-au.area.geometry_recommended", "AU-20")
    yield from _geocodes(alert)


def _declaration(alert: Alert) -> Iterator[Finding]:
    if PROFILE_CODE in (c.strip() for c in alert.codes):
        return
    yield error(
        "cap-au.code.missing",
        f"no <code>{PROFILE_CODE}</code>; CAP-AU requires it to declare the profile version "
        f"(AU-01)",
        "/alert",
    )


def _event_codes(alert: Alert) -> Iterator[Finding]:
    """AU-06, AU-07, AU-08 and AU-15: one event from AUeventLIST, known, matching <event>."""
    events = au_event_list()
    first: str | None = None
    for i, inf in enumerate(alert.infos):
        listed = [(k, ec) for k, ec in enumerate(inf.event_codes) if is_event_list_code(ec)]
        if not inf.event_codes:
            yield error(
                "cap-au.event_code.missing",
                f"info[{i + 1}] has no <eventCode>; CAP-AU requires one value from an authorised "
                f"list, normally AUeventLIST (valueName {EVENT_LIST_NAMES[1]!r}) (AU-06)",
                info_path(i),
            )
            continue
        if not listed:
            yield warning(
                "cap-au.event_code.not_listed",
                f"info[{i + 1}] has no AUeventLIST event code; receivers that route on the "
                f"Australian list will not recognise the event; add an <eventCode> with "
                f"valueName {EVENT_LIST_NAMES[1]!r} (AU-15)",
                info_path(i),
            )
            continue
        for k, ec in listed:
            value = ec.value.strip()
            path = f"{info_path(i)}/eventCode[{k + 1}]/value"
            if first is None:
                first = value
            elif value != first:
                yield error(
                    "cap-au.event_code.multiple",
                    f"AUeventLIST code {value!r} differs from {first!r} used earlier; a CAP-AU "
                    f"alert carries a single authorised event; send one alert per event (AU-06)",
                    path,
                )
                continue
            event = events.get(value)
            if event is None:
                near = [c for c in events if c.casefold() == value.casefold()]
                hint = f" (did you mean {near[0]!r}? codes are case-sensitive)" if near else ""
                yield error(
                    "cap-au.event_code.unknown",
                    f"event code {ec.value!r} is not in AUeventLIST 1.0{hint} (AU-07)",
                    path,
                )
                continue
            lang = inf.effective_language.strip().casefold()
            if lang.split("-", 1)[0] == "en" and inf.event.strip() not in event.names:
                expected = " or ".join(repr(n) for n in event.names)
                yield error(
                    "cap-au.event.mismatch",
                    f"<event> is {inf.event!r} but event code {value!r} stands for {expected}; "
                    f"use that name as <event> or pick the code for this event (AU-08)",
                    f"{info_path(i)}/event",
                )


def _events_per_language(alert: Alert) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, inf in enumerate(alert.infos):
        lang = inf.effective_language.strip().casefold()
        if lang not in seen:
            seen[lang] = i
            continue
        earlier = alert.infos[seen[lang]]
        if inf.event.strip() != earlier.event.strip():
            yield error(
                "cap-au.event.language_mismatch",
                f"info[{i + 1}] has <event> {inf.event!r} but info[{seen[lang] + 1}] in the same "
                f"language has {earlier.event!r}; infos of one language must name the same "
                f"event (AU-09)",
                f"{info_path(i)}/event",
            )


def _effective_with_cancel(parsed: ParsedAlert) -> Iterator[Finding]:
    if parsed.alert.msg_type != "Cancel":
        return
    for i in range(len(parsed.alert.infos)):
        path = f"{info_path(i)}/effective"
        if is_present(parsed, path):
            yield error(
                "cap-au.effective.with_cancel",
                f"info[{i + 1}] of a Cancel has <effective>; CAP-AU forbids it on cancellations; "
                f"remove it (AU-10)",
                path,
            )


def _sender(alert: Alert) -> Iterator[Finding]:
    sender = alert.sender.strip()
    if not sender or _EMAIL_RE.match(sender):
        return
    yield warning(
        "cap-au.sender.not_email",
        f"<sender> {alert.sender!r} is not an e-mail style address; CAP-AU recommends the "
        f"address of the issuing agency, e.g. warnings@ses.nsw.gov.au (AU-12)",
        "/alert/sender",
    )


def _test_status(alert: Alert) -> Iterator[Finding]:
    if alert.status == "Test":
        yield warning(
            "cap-au.status.test",
            "status is Test: CAP-AU receivers log it and do not broadcast it as an alert (AU-13)",
            "/alert/status",
        )


def _time_zones(parsed: ParsedAlert) -> Iterator[Finding]:
    paths = ["/alert/sent"]
    for i in range(len(parsed.alert.infos)):
        paths += [f"{info_path(i)}/{name}" for name in ("effective", "onset", "expires")]
    for path in paths:
        raw = (parsed.source_map.text(path) or "").strip()
        match = _OFFSET_RE.search(raw)
        if match is None or match.group(0) in AUSTRALIAN_OFFSETS:
            continue
        element = path.rsplit("/", 1)[-1]
        yield warning(
            "cap-au.time.offset",
            f"<{element}> {raw!r} has offset {match.group(0)}, which is no Australian time zone; "
            f"CAP-AU asks for the local time of the area, or UTC when it spans several zones "
            f"(AU-14)",
            path,
        )


def _geocodes(alert: Alert) -> Iterator[Finding]:
    for i, inf in enumerate(alert.infos):
        for j, area in enumerate(inf.areas):
            names = [g.value_name.strip() for g in area.geocodes]
            if any(n in GEOCODE_NAMES or n.startswith(URN_PREFIX) for n in names):
                continue
            yield warning(
                "cap-au.geocode.recommended",
                f"area[{j + 1}] of info[{i + 1}] has no geocode from a scheme CAP-AU recognises "
                f"(G-NAF preferred, ISO 3166-2, the Gazetteer of Australia or postcodes), e.g. "
                f"valueName 'http://www.iso.org/iso/country_codes.html' value 'AU-NSW' (AU-21)",
                f"{info_path(i)}/area[{j + 1}]",
            )


PROFILE = Profile(
    name=NAME,
    title="CAP Australia Profile (CAP-AU-STD) v1.0",
    source=(
        "OASIS EDXL CAP v1.2 Australia (AU) Profile Version 1.0, Committee Specification 02 "
        "(5 Sep 2013), with AUeventLIST 1.0"
    ),
    url="http://docs.oasis-open.org/emergency/edxl-cap1.2-au/v1.0/edxl-cap1.2-au-v1.0.html",
    rules=check,
    declaration=(PROFILE_CODE,),
)
