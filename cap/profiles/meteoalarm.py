"""MeteoAlarm (EUMETNET) conventions for the CAP warnings that national weather services feed
to meteoalarm.org.

The EUMETNET profile text was not available; the rules come from producers (MET Norway's
generator, the Deltares FEWS export for KNMI) and consumers of MeteoAlarm CAP. Only the
``awareness_level`` and ``awareness_type`` parameters, which producers mark as mandatory, are
errors; everything else is a warning until checked against the EUMETNET document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from cap.findings import Finding, error, warning
from cap.model import Alert, Info
from cap.parsing import ParsedAlert
from cap.profiles.base import Profile
from cap.profiles.shared_rules import info_path, is_blank, is_present

NAME = "meteoalarm"

# awareness_level: number -> (colour, CAP severity).
AWARENESS_LEVELS: Final = {
    1: ("green", "Minor"),
    2: ("yellow", "Moderate"),
    3: ("orange", "Severe"),
    4: ("red", "Extreme"),
}
# awareness_type: number -> name as producers write it (compared without regard to case).
AWARENESS_TYPES: Final = {
    1: "Wind",
    2: "snow-ice",
    3: "Thunderstorm",
    4: "Fog",
    5: "high-temperature",
    6: "low-temperature",
    7: "coastalevent",
    8: "forest-fire",
    9: "avalanches",
    10: "Rain",
    12: "flooding",
    13: "rain-flood",
}
# 11 has no known name; 14 (Polar-low) is a MET Norway addition.
UNCONFIRMED_TYPES: Final = frozenset({11, 14})

_EMMA_ID_RE = re.compile(r"^[A-Z]{2}\d+$")
_WMO_OID_PREFIXES = ("2.49.0.", "urn:oid:2.49.0.")


def check(parsed: ParsedAlert) -> Iterator[Finding]:
    alert = parsed.alert
    for i, inf in enumerate(alert.infos):
        yield from _awareness_level(inf, i)
        yield from _awareness_type(inf, i)
        yield from _category(inf, i)
        yield from _area_codes(inf, i)
        for element, code in (
            ("onset", "meteoalarm.onset.recommended"),
            ("expires", "meteoalarm.expires.recommended"),
        ):
            path = f"{info_path(i)}/{element}"
            if not is_present(parsed, path):
                yield warning(
                    code,
                    f"info[{i + 1}] has no <{element}>; MeteoAlarm shows each warning for its "
                    f"period, so producers give both onset and expires (MA-12, unconfirmed)",
                    path,
                )
    yield from _languages(alert)
    yield from _identifier(alert)


def _find(inf: Info, name: str) -> tuple[int, str] | None:
    for k, p in enumerate(inf.parameters):
        if p.value_name.strip() == name:
            return k, p.value
    return None


def _fields(value: str) -> list[str]:
    return [part.strip() for part in value.split(";")]


def _awareness_level(inf: Info, i: int) -> Iterator[Finding]:
    found = _find(inf, "awareness_level")
    if found is None:
        yield error(
            "meteoalarm.awareness_level.missing",
            f"info[{i + 1}] has no awareness_level parameter; MeteoAlarm needs it to colour the "
            f"warning, e.g. valueName awareness_level, value '2; yellow; Moderate' (MA-01)",
            info_path(i),
        )
        return
    k, value = found
    path = f"{info_path(i)}/parameter[{k + 1}]/value"
    forms = "; ".join(f"'{n}; {c}; {s}'" for n, (c, s) in AWARENESS_LEVELS.items())
    fields = _fields(value)
    level = int(fields[0]) if fields[0].isdigit() else None
    expected = AWARENESS_LEVELS.get(level) if level is not None else None
    if (
        len(fields) != 3
        or expected is None
        or fields[1].casefold() != expected[0]
        or fields[2].casefold() != expected[1].casefold()
    ):
        yield error(
            "meteoalarm.awareness_level.value",
            f"awareness_level {value!r} is not one of the four levels: {forms} (MA-02)",
            path,
        )
        return
    severity = inf.severity.strip()
    if severity in ("Minor", "Moderate", "Severe", "Extreme") and severity != expected[1]:
        yield warning(
            "meteoalarm.awareness_level.severity",
            f"awareness_level {value!r} goes with severity {expected[1]}, but <severity> is "
            f"{severity}; make the colour and the severity agree (MA-03)",
            path,
        )


def _awareness_type(inf: Info, i: int) -> Iterator[Finding]:
    found = _find(inf, "awareness_type")
    if found is None:
        yield error(
            "meteoalarm.awareness_type.missing",
            f"info[{i + 1}] has no awareness_type parameter; MeteoAlarm needs it to file the "
            f"warning under a hazard, e.g. valueName awareness_type, value '1; Wind' (MA-04)",
            info_path(i),
        )
        return
    k, value = found
    path = f"{info_path(i)}/parameter[{k + 1}]/value"
    fields = _fields(value)
    if len(fields) != 2 or not fields[0].isdigit():
        yield error(
            "meteoalarm.awareness_type.value",
            f"awareness_type {value!r} is not of the form 'number; name', e.g. '1; Wind' (MA-05)",
            path,
        )
        return
    number, name = int(fields[0]), fields[1]
    if number in UNCONFIRMED_TYPES:
        yield warning(
            "meteoalarm.awareness_type.unconfirmed",
            f"awareness_type number {number} is not a confirmed MeteoAlarm hazard type; check "
            f"that MeteoAlarm accepts it (MA-05)",
            path,
        )
    elif number not in AWARENESS_TYPES:
        known = ", ".join(f"{n} {t}" for n, t in AWARENESS_TYPES.items())
        yield error(
            "meteoalarm.awareness_type.unknown",
            f"awareness_type number {number} is not a MeteoAlarm hazard type; known: {known} "
            f"(MA-05)",
            path,
        )
    elif name.casefold() != AWARENESS_TYPES[number].casefold():
        yield warning(
            "meteoalarm.awareness_type.name",
            f"awareness_type {value!r}: number {number} is {AWARENESS_TYPES[number]!r}, not "
            f"{name!r}; MeteoAlarm goes by the number, so check which one is meant (MA-05)",
            path,
        )


def _category(inf: Info, i: int) -> Iterator[Finding]:
    if "Met" not in (c.strip() for c in inf.category):
        yield warning(
            "meteoalarm.category.not_met",
            f"info[{i + 1}] has no <category>Met</category>; MeteoAlarm carries weather "
            f"warnings, which producers file as Met (MA-09, unconfirmed)",
            f"{info_path(i)}/category[1]",
        )


def _area_codes(inf: Info, i: int) -> Iterator[Finding]:
    for j, area in enumerate(inf.areas):
        area_path = f"{info_path(i)}/area[{j + 1}]"
        emma = [(k, g) for k, g in enumerate(area.geocodes) if g.value_name.strip() == "EMMA_ID"]
        if not emma:
            yield warning(
                "meteoalarm.emma_id.missing",
                f"area[{j + 1}] of info[{i + 1}] has no EMMA_ID geocode; MeteoAlarm places "
                f"warnings on its map by EMMA_ID region codes, e.g. valueName EMMA_ID, value "
                f"'NO001' (MA-07, unconfirmed)",
                area_path,
            )
        for k, g in emma:
            if not _EMMA_ID_RE.match(g.value.strip()):
                yield warning(
                    "meteoalarm.emma_id.value",
                    f"EMMA_ID {g.value!r} is not a country prefix plus digits such as 'NO001' "
                    f"(MA-07, unconfirmed format)",
                    f"{area_path}/geocode[{k + 1}]/value",
                )


def _languages(alert: Alert) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, inf in enumerate(alert.infos):
        if is_blank(inf.language):
            yield warning(
                "meteoalarm.language.missing",
                f"info[{i + 1}] has no <language>; MeteoAlarm shows one info per language and "
                f"would take this one as en-US; state the language (MA-06)",
                f"{info_path(i)}/language",
            )
        lang = inf.effective_language.strip().casefold()
        if lang in seen:
            yield warning(
                "meteoalarm.language.repeated",
                f"info[{i + 1}] has the same language as info[{seen[lang] + 1}]; MeteoAlarm "
                f"expects one info per language, each a translation of the same warning (MA-06)",
                f"{info_path(i)}/language",
            )
        seen.setdefault(lang, i)


def _identifier(alert: Alert) -> Iterator[Finding]:
    identifier = alert.identifier.strip()
    if not identifier or identifier.startswith(_WMO_OID_PREFIXES):
        return
    yield warning(
        "meteoalarm.identifier.not_oid",
        f"identifier {alert.identifier!r} does not start with a WMO OID (2.49.0.…); MeteoAlarm "
        f"producers prefix identifiers with their service's OID, e.g. 2.49.0.1.578.0. for MET "
        f"Norway (MA-10, unconfirmed)",
        "/alert/identifier",
    )


PROFILE = Profile(
    name=NAME,
    title="MeteoAlarm (EUMETNET) CAP conventions",
    source=(
        "MeteoAlarm conventions as practised by producers (MET Norway, KNMI via Deltares FEWS); "
        "the EUMETNET profile document itself was not available"
    ),
    url="https://meteoalarm.org",
    rules=check,
)
