"""The SAME/EAS header (47 CFR 11.31) built from a CAP alert, and its text form (pure).

``ZCZC-ORG-EEE-PSSCCC-PSSCCC+TTTT-JJJHHMM-LLLLLLLL-``: originator, event, up to 31 location
codes, valid period, issue time (UTC ordinal day, hour, minute) and the sending station. The
mapping from CAP follows the ECIG CAP-to-EAS guide as summarised in
``../shared/data/cap/profiles/same-eas.md`` (rule ids such as MAP-04 refer to it) and is
explained in ``docs/same-eas.md``. SAME may not be "amended, extended or abridged" (11.31(c)),
so a value outside the code lists is refused, never guessed; every refusal says which CAP
element is at fault and how to fix it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from cap.model import Alert, Info
from gateways.base import CannotCarryError, GatewayConfigError

if TYPE_CHECKING:
    from gateways.radio.counties import CountyTable

__all__ = [
    "EVENT_CODES",
    "MAX_LOCATIONS",
    "MAX_VALID_PERIOD",
    "ORIGINATORS",
    "SS_CODES",
    "SameError",
    "SameHeader",
    "SameStationIdError",
    "encode_same_header",
    "event_code_for",
    "parse_same_header",
    "round_valid_period",
    "same_header_for",
]

ORIGINATORS: Final[Mapping[str, str]] = {
    "EAS": "EAS Participant",
    "CIV": "Civil authorities",
    "WXR": "National Weather Service",
    "PEP": "Primary Entry Point System",
}
"""ORG codes, 47 CFR 11.31(d) (SAME-06)."""

EVENT_CODES: Final[Mapping[str, str]] = {
    # national (required), 11.31(e)
    "EAN": "Emergency Action Notification",
    "EAT": "Emergency Action Termination",
    "NIC": "National Information Center",
    "NPT": "National Periodic Test",
    "RMT": "Required Monthly Test",
    "RWT": "Required Weekly Test",
    # state and local (optional), 11.31(e)
    "ADR": "Administrative Message",
    "AVW": "Avalanche Warning",
    "AVA": "Avalanche Watch",
    "BZW": "Blizzard Warning",
    "CAE": "Child Abduction Emergency",
    "CDW": "Civil Danger Warning",
    "CEM": "Civil Emergency Message",
    "CFW": "Coastal Flood Warning",
    "CFA": "Coastal Flood Watch",
    "DSW": "Dust Storm Warning",
    "EQW": "Earthquake Warning",
    "EVI": "Evacuation Immediate",
    "FRW": "Fire Warning",
    "FFW": "Flash Flood Warning",
    "FFA": "Flash Flood Watch",
    "FFS": "Flash Flood Statement",
    "FLW": "Flood Warning",
    "FLA": "Flood Watch",
    "FLS": "Flood Statement",
    "HMW": "Hazardous Materials Warning",
    "HWW": "High Wind Warning",
    "HWA": "High Wind Watch",
    "HUW": "Hurricane Warning",
    "HUA": "Hurricane Watch",
    "HLS": "Hurricane Statement",
    "LEW": "Law Enforcement Warning",
    "LAE": "Local Area Emergency",
    "NMN": "Network Message Notification",
    "TOE": "911 Telephone Outage Emergency",
    "NUW": "Nuclear Power Plant Warning",
    "DMO": "Practice/Demo Warning",
    "RHW": "Radiological Hazard Warning",
    "SVR": "Severe Thunderstorm Warning",
    "SVA": "Severe Thunderstorm Watch",
    "SVS": "Severe Weather Statement",
    "SPW": "Shelter in Place Warning",
    "SMW": "Special Marine Warning",
    "SPS": "Special Weather Statement",
    "TOR": "Tornado Warning",
    "TOA": "Tornado Watch",
    "TRW": "Tropical Storm Warning",
    "TRA": "Tropical Storm Watch",
    "TSW": "Tsunami Warning",
    "TSA": "Tsunami Watch",
    "VOW": "Volcano Warning",
    "WSW": "Winter Storm Warning",
    "WSA": "Winter Storm Watch",
    # FCC 16-80, 81 FR 53039 (2016)
    "EWW": "Extreme Wind Warning",
    "SSA": "Storm Surge Watch",
    "SSW": "Storm Surge Warning",
}
"""Event codes of 47 CFR 11.31(e) (2010 text) plus the three added in 2016 (SAME-07).

Later additions (``BLU`` Blue Alert, ``MEP``, ``SQW``...) are not confirmed by our sources; an
operator whose encoder and current rules carry one passes it in ``extra_event_codes``."""

SS_CODES: Final[frozenset[str]] = frozenset(
    f"{n:02d}"
    for n in (
        # states and DC
        *(1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25),
        *(26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 44, 45, 46),
        *(47, 48, 49, 50, 51, 53, 54, 55, 56),
        # territories
        *(60, 64, 66, 68, 70, 72, 74, 78),
        # marine areas
        *(57, 58, 59, 61, 65, 73, 75, 77, 91, 92, 93, 94, 96, 97, 98),
    )
)
"""State, territory and marine area codes of 47 CFR 11.31(f) (SAME-08)."""

ALL_OF_THE_US: Final = "000000"
MAX_LOCATIONS: Final = 31
MAX_VALID_PERIOD: Final = timedelta(hours=99, minutes=30)
STATION_ID_LENGTH: Final = 8
ON_AIR_STATUSES: Final = frozenset({"Actual"})

_LOCATION_RE = re.compile(r"^\d{6}$")
_HEADER_RE = re.compile(
    r"^ZCZC-(?P<org>[A-Z]{3})-(?P<event>[A-Z]{3})-(?P<locations>\d{6}(?:-\d{6})*)"
    r"\+(?P<hours>\d{2})(?P<minutes>\d{2})-(?P<day>\d{3})(?P<hh>\d{2})(?P<mm>\d{2})"
    r"-(?P<station>[^-+]{8})-$"
)
_NWS_SENDER_RE = re.compile(r"(^|[@.])(nws\.)?noaa\.gov$", re.IGNORECASE)


class SameError(CannotCarryError):
    """The alert cannot be carried as a SAME header; the message names the CAP element at fault
    and how to fix it."""


class SameStationIdError(GatewayConfigError):
    """The configured station id (LLLLLLLL) cannot go in a SAME header."""


@dataclass(frozen=True, slots=True)
class SameHeader:
    """The fields of one SAME header, checked on construction so that no illegal header can be
    encoded. ``notes`` tells the duty officer what was assumed (a default ORG, a mapped event,
    counties found from a polygon...); it is not part of the header or of equality."""

    originator: str
    event: str
    locations: tuple[str, ...]
    valid_for: timedelta
    issued: datetime
    station_id: str
    notes: tuple[str, ...] = field(default=(), compare=False)
    extra_event_codes: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.originator not in ORIGINATORS:
            raise SameError(
                f"SAME originator {self.originator!r} is not one of "
                f"{', '.join(ORIGINATORS)} (47 CFR 11.31(d))"
            )
        if self.event not in EVENT_CODES and self.event not in self.extra_event_codes:
            raise SameError(f"SAME event code {self.event!r} is not in 47 CFR 11.31(e)")
        if not self.locations:
            raise SameError("a SAME header needs at least one location code")
        if len(self.locations) > MAX_LOCATIONS:
            raise SameError(
                f"{len(self.locations)} location codes: a SAME header holds at most "
                f"{MAX_LOCATIONS} (47 CFR 11.31(c))"
            )
        for code in self.locations:
            problem = location_problem(code)
            if problem:
                raise SameError(f"SAME location {code!r}: {problem}")
        if self.valid_for != round_valid_period(self.valid_for):
            raise SameError(
                f"valid period {self.valid_for} is not a SAME step "
                "(15 minutes up to 1 hour, then 30 minutes, at most 99:30)"
            )
        if self.issued.tzinfo is None:
            raise SameError("the issue time must carry a time zone (it is sent in UTC)")
        check_station_id(self.station_id)

    @property
    def purge_time(self) -> str:
        """TTTT: the valid period as HHMM."""
        minutes = int(self.valid_for.total_seconds()) // 60
        return f"{minutes // 60:02d}{minutes % 60:02d}"

    @property
    def issue_time(self) -> str:
        """JJJHHMM: ordinal day of the year and hour and minute, in UTC."""
        utc = self.issued.astimezone(UTC)
        return f"{utc.timetuple().tm_yday:03d}{utc.hour:02d}{utc.minute:02d}"


def encode_same_header(header: SameHeader) -> str:
    """The header's ASCII text, exactly ``ZCZC-ORG-EEE-PSSCCC...+TTTT-JJJHHMM-LLLLLLLL-``."""
    return (
        f"ZCZC-{header.originator}-{header.event}-{'-'.join(header.locations)}"
        f"+{header.purge_time}-{header.issue_time}-{header.station_id}-"
    )


def parse_same_header(
    text: str, *, year: int, extra_event_codes: Collection[str] = ()
) -> SameHeader:
    """A header's text back into fields. The header has no year, so the caller gives it (the
    year the message was received in)."""
    m = _HEADER_RE.match(text)
    if m is None:
        raise SameError(f"not a SAME header: {text!r}")
    day = int(m["day"])
    days_in_year = 366 if _is_leap(year) else 365
    if not 1 <= day <= days_in_year or int(m["hh"]) > 23 or int(m["mm"]) > 59:
        raise SameError(f"SAME issue time {m['day']}{m['hh']}{m['mm']} is not a time in {year}")
    issued = datetime(year, 1, 1, int(m["hh"]), int(m["mm"]), tzinfo=UTC) + timedelta(days=day - 1)
    return SameHeader(
        originator=m["org"],
        event=m["event"],
        locations=tuple(m["locations"].split("-")),
        valid_for=timedelta(hours=int(m["hours"]), minutes=int(m["minutes"])),
        issued=issued,
        station_id=m["station"],
        extra_event_codes=frozenset(extra_event_codes),
    )


def round_valid_period(duration: timedelta) -> timedelta:
    """The SAME valid period for an alert that lasts ``duration`` (MAP-04, SAME-10): rounded
    up to 15-minute steps up to one hour, to 30-minute steps after that, at most 99:30.

    Never shorter than ``duration`` unless that exceeds the 99:30 cap. A duration of zero or
    less is an alert that has already expired."""
    if duration <= timedelta(0):
        raise SameError(f"the alert lasts {duration}: it has expired (MAP-04)")
    minutes = math.ceil(duration.total_seconds() / 60)
    step = 15 if minutes <= 60 else 30
    rounded = -(-minutes // step) * step
    return min(timedelta(minutes=rounded), MAX_VALID_PERIOD)


def location_problem(code: str) -> str | None:
    """Why ``code`` is not a PSSCCC location code (SAME-08), or None."""
    if not _LOCATION_RE.match(code):
        return "expected 6 digits PSSCCC (subdivision, state FIPS, county FIPS)"
    if code == ALL_OF_THE_US:
        return None
    if code[1:3] not in SS_CODES:
        return f"state/territory/marine code {code[1:3]} is not in 47 CFR 11.31(f)"
    return None


def check_station_id(station_id: str) -> None:
    """LLLLLLLL: 8 printable ASCII characters, no ``-`` or ``+`` (SAME-04, SAME-12)."""
    problem = None
    if len(station_id) != STATION_ID_LENGTH:
        problem = f"it has {len(station_id)} characters, SAME needs exactly {STATION_ID_LENGTH}"
    elif not station_id.strip():
        problem = "it is blank"
    elif any(not (" " <= ch <= "~") for ch in station_id):
        problem = "only printable ASCII characters can be sent"
    elif "-" in station_id or "+" in station_id:
        problem = "'-' and '+' are SAME delimiters (FM/TV call signs use '/' for a dash)"
    if problem:
        raise SameStationIdError(
            f"station id {station_id!r}: {problem}; set the transmitting station's id, "
            "e.g. 'KXYZ/FM ' or 'KXYZ/NWS' (station_id in [authority] or --station-id)"
        )


def normalize_station_id(station_id: str) -> str:
    """A shorter id padded with spaces to 8 characters (unused characters are spaces, SAME-04)."""
    if len(station_id) < STATION_ID_LENGTH and station_id.strip():
        return station_id.ljust(STATION_ID_LENGTH)
    return station_id


# --- from CAP ---------------------------------------------------------------------------------


def same_header_for(
    alert: Alert,
    *,
    info_index: int = 0,
    station_id: str,
    county_table: CountyTable | None = None,
    allow_statuses: Collection[str] = ON_AIR_STATUSES,
    extra_event_codes: Collection[str] = (),
    now: datetime | None = None,
) -> SameHeader:
    """The SAME header for ``alert``'s info block ``info_index``, or :class:`SameError` saying
    why SAME cannot carry it.

    Only ``Actual`` alerts with scope ``Public`` go on air (ECIG §3.9, §4 item 9); a bench test
    may allow other statuses. ``now``, when given, also refuses an alert that has expired by
    then. Locations come from ``SAME`` geocodes, else ``FIPS6``, else the counties of
    ``county_table`` that the area's polygons and circles cover."""
    extra = frozenset(extra_event_codes)
    notes: list[str] = []
    where = f"alert {alert.identifier!r}"
    if alert.status not in allow_statuses:
        raise SameError(
            f"{where}: status {alert.status}: only Actual alerts go on air (ECIG §3.9; EAS "
            "tests such as RWT are sent as Actual); allow other statuses only for bench tests"
        )
    if alert.scope != "Public":
        raise SameError(
            f"{where}: scope {alert.scope}: SAME is a public broadcast, only scope Public is "
            "aired (ECIG §4 item 9)"
        )
    if not alert.infos:
        raise SameError(f"{where} has no <info> block: nothing to say on air")
    if not 0 <= info_index < len(alert.infos):
        raise SameError(
            f"{where}: no info block {info_index} (it has {len(alert.infos)}, numbered from 0)"
        )
    info = alert.infos[info_index]
    where = f"{where} info[{info_index}]"
    if alert.sent is None:
        raise SameError(f"{where}: <sent> is missing or not a valid time; SAME needs it (JJJHHMM)")
    if info.expires is None:
        raise SameError(
            f"{where}: no <expires>; SAME needs a valid period (+TTTT, MAP-04): add <expires>"
        )
    if now is not None and info.expires <= now:
        raise SameError(
            f"{where}: expired at {info.expires.isoformat()} "
            f"(now {now.isoformat(timespec='seconds')}); "
            "an expired alert is not aired"
        )
    duration = info.expires - alert.sent
    if duration <= timedelta(0):
        raise SameError(
            f"{where}: <expires> {info.expires.isoformat()} is not after <sent> "
            f"{alert.sent.isoformat()}: the alert has expired (MAP-04)"
        )
    valid_for = round_valid_period(duration)
    if duration > MAX_VALID_PERIOD:
        notes.append(
            f"valid period capped at 99:30 (the alert lasts {_hhmm(duration)}); receivers "
            "purge it earlier, so repeat it before then"
        )
    event = _event(info, where, extra, notes)
    station = normalize_station_id(station_id)
    check_station_id(station)
    return SameHeader(
        originator=_originator(alert, info, where, notes),
        event=event,
        locations=_locations(info, where, county_table, notes),
        valid_for=valid_for,
        issued=alert.sent.astimezone(UTC).replace(second=0, microsecond=0),
        station_id=station,
        notes=tuple(notes),
        extra_event_codes=extra,
    )


def _originator(alert: Alert, info: Info, where: str, notes: list[str]) -> str:
    value = info.parameter("EAS-ORG")
    if value is not None:
        org = value.strip()
        if org not in ORIGINATORS:
            raise SameError(
                f"{where}: parameter EAS-ORG {value!r} is not a SAME originator; use one of "
                f"{', '.join(f'{k} ({v})' for k, v in ORIGINATORS.items())} (MAP-01)"
            )
        return org
    if _NWS_SENDER_RE.search(alert.sender.strip()):
        notes.append(f"ORG WXR assumed: no EAS-ORG parameter and the sender {alert.sender} is NWS")
        return "WXR"
    notes.append("ORG CIV assumed: no EAS-ORG parameter (ECIG §3.10 default)")
    return "CIV"


def _event(info: Info, where: str, extra: frozenset[str], notes: list[str]) -> str:
    codes = [c.value.strip() for c in info.event_codes if c.value_name == "SAME"]
    given = [c for c in codes if c]
    if given:
        code = given[0]
        if code in EVENT_CODES or code in extra:
            if len(set(given)) > 1:
                notes.append(f"several SAME event codes ({', '.join(given)}): the first is used")
            return code
        hint = (
            " (SAME codes are upper case, MAP-02)"
            if code.upper() in EVENT_CODES or code.upper() in extra
            else ""
        )
        raise SameError(
            f"{where}: eventCode SAME {code!r} is not an event code of 47 CFR 11.31(e){hint}; "
            "SAME may not be extended (11.31(c)). If the current rules and your encoder carry "
            "it, allow it explicitly (extra event codes)"
        )
    mapped = event_code_for(info)
    if mapped is None:
        empty = " (its eventCode SAME is empty)" if codes else ""
        raise SameError(
            f"{where}: no SAME event code{empty} and event {info.event!r} "
            f"(category {', '.join(info.category) or 'none'}) has no SAME equivalent: add "
            "<eventCode><valueName>SAME</valueName><value>EEE</value></eventCode> with a code "
            "of 47 CFR 11.31(e), e.g. FLW for a flood warning (see docs/same-eas.md)"
        )
    notes.append(
        f"event {mapped} ({EVENT_CODES[mapped]}) mapped from <event> {info.event!r}: "
        "no SAME event code in the alert"
    )
    return mapped


def _locations(
    info: Info, where: str, county_table: CountyTable | None, notes: list[str]
) -> tuple[str, ...]:
    codes = _geocoded_locations(info, "SAME", where)
    if not codes:
        codes = _geocoded_locations(info, "FIPS6", where)
        if codes:
            notes.append("locations from FIPS6 geocodes (no SAME geocode; ECIG §3.10)")
    if not codes and county_table is not None:
        codes = county_table.locations_for(info.areas)
        if codes:
            notes.append(
                f"locations from the area's polygons and circles: {len(codes)} "
                f"count{'y' if len(codes) == 1 else 'ies'} of {county_table.source}"
            )
    if not codes:
        tried = (
            f"; its polygons and circles reach no county of {county_table.source}"
            if county_table is not None
            else ", or give a county table for its polygons and circles"
        )
        raise SameError(
            f"{where}: no SAME location: add <geocode> SAME (6 digits PSSCCC, e.g. 012086) "
            f"to the area{tried}"
        )
    if len(codes) > MAX_LOCATIONS:
        raise SameError(
            f"{where}: {len(codes)} SAME locations; a header holds at most {MAX_LOCATIONS} "
            "(47 CFR 11.31(c)). Split the alert into several by area, or use whole-state codes "
            "(0SS000); leaving counties out silently is not safe"
        )
    return codes


def _geocoded_locations(info: Info, value_name: str, where: str) -> tuple[str, ...]:
    found: list[str] = []
    for a, area in enumerate(info.areas):
        for geocode in area.geocodes:
            if geocode.value_name != value_name:
                continue
            value = geocode.value.strip()
            if value_name == "FIPS6" and re.fullmatch(r"\d{5}", value):
                value = "0" + value  # a bare SSCCC county: the whole county
            problem = location_problem(value)
            if problem:
                raise SameError(
                    f"{where} area[{a}] ({area.area_desc!r}): geocode {value_name} "
                    f"{geocode.value!r}: {problem}"
                )
            if value not in found:
                found.append(value)
    return tuple(found)


def _hhmm(duration: timedelta) -> str:
    minutes = math.ceil(duration.total_seconds() / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# --- event mapping -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRule:
    """A hazard named in ``<event>`` and its SAME codes by kind of message.

    ``categories`` are the CAP categories the hazard belongs to (empty: any)."""

    words: str
    warning: str | None
    watch: str | None = None
    statement: str | None = None
    categories: frozenset[str] = frozenset()


def _rule(
    words: str,
    warning: str | None,
    watch: str | None = None,
    statement: str | None = None,
    categories: str = "",
) -> EventRule:
    return EventRule(words, warning, watch, statement, frozenset(categories.split()))


EVENT_RULES: Final[tuple[EventRule, ...]] = (
    _rule("tornado", "TOR", "TOA", "SVS", "Met"),
    _rule("severe thunderstorm", "SVR", "SVA", "SVS", "Met"),
    _rule("thunderstorm", "SVR", "SVA", "SVS", "Met"),
    _rule("flash flood", "FFW", "FFA", "FFS", "Met Geo Env Infra"),
    _rule("coastal flood", "CFW", "CFA", None, "Met Geo Env"),
    _rule("flood", "FLW", "FLA", "FLS", "Met Geo Env Infra"),
    _rule("hurricane", "HUW", "HUA", "HLS", "Met"),
    _rule("tropical storm", "TRW", "TRA", None, "Met"),
    _rule("storm surge", "SSW", "SSA", None, "Met Geo"),
    _rule("tsunami", "TSW", "TSA", None, "Geo Met"),
    _rule("earthquake", "EQW", None, None, "Geo"),
    _rule("volcano", "VOW", None, None, "Geo"),
    _rule("volcanic", "VOW", None, None, "Geo"),
    _rule("avalanche", "AVW", "AVA", None, "Geo Met"),
    _rule("blizzard", "BZW", None, None, "Met"),
    _rule("winter storm", "WSW", "WSA", None, "Met"),
    _rule("extreme wind", "EWW", None, None, "Met"),
    _rule("high wind", "HWW", "HWA", None, "Met"),
    _rule("dust storm", "DSW", None, None, "Met"),
    _rule("special marine", "SMW", None, None, "Met Transport"),
    _rule("fire", "FRW", None, None, "Fire"),
    _rule("wildfire", "FRW", None, None, "Fire"),
    _rule("bushfire", "FRW", None, None, "Fire"),
    _rule("hazardous materials", "HMW", None, None, "CBRNE Env Safety"),
    _rule("chemical", "HMW", None, None, "CBRNE Env"),
    _rule("radiological", "RHW", None, None, "CBRNE"),
    _rule("nuclear power plant", "NUW", None, None, "CBRNE"),
    _rule("child abduction", "CAE", None, None, "Rescue Safety Security"),
    _rule("amber", "CAE", None, None, "Rescue Safety Security"),
    _rule("evacuation", "EVI", None, None),
    _rule("shelter in place", "SPW", None, None),
    _rule("law enforcement", "LEW", None, None, "Security Safety"),
    _rule("civil danger", "CDW", None, None),
    _rule("civil emergency", "CEM", None, None),
    _rule("telephone outage", "TOE", None, None, "Infra"),
)
"""Hazard words to SAME codes, used only when the alert has no SAME event code. A phrase
matches whole words, with a plural or ``-ing`` ("flooding"); the longest phrase found in the
event wins ("flash flood" before "flood")."""

_WARNING_CERTAINTY: Final = frozenset({"Observed", "Likely"})
_WARNING_URGENCY: Final = frozenset({"Immediate", "Expected"})


def event_code_for(info: Info) -> str | None:
    """The SAME code for an info block without a SAME event code, or None (documented in
    docs/same-eas.md): the event named exactly as in 47 CFR 11.31(e) ("Tornado Warning"), else
    a hazard of :data:`EVENT_RULES` in ``<event>`` whose category matches, as a warning, watch
    or statement: named so in ``<event>``, else a warning when urgency is Immediate or Expected
    and certainty Observed or Likely, a watch when certainty is Possible or urgency Future."""
    text = _words(info.event)
    if not text:
        return None
    for code, name in EVENT_CODES.items():
        if _words(name) == text:
            return code
    padded = f" {text} "
    matches = [
        r
        for r in EVENT_RULES
        if re.search(rf" {r.words}(s|ing)? ", padded)
        and (not r.categories or r.categories & set(info.category))
    ]
    if not matches:
        return None
    rule = max(matches, key=lambda r: len(r.words))
    kind = _kind(padded, info)
    if kind is None:
        return None
    return {"warning": rule.warning, "watch": rule.watch, "statement": rule.statement}[kind]


def _kind(padded: str, info: Info) -> str | None:
    if " advisory " in padded:
        return None  # advisories have no SAME code
    if any(w in padded for w in (" warning ", " emergency ", " immediate ")):
        return "warning"
    if " watch " in padded:
        return "watch"
    if " statement " in padded:
        return "statement"
    if info.certainty in _WARNING_CERTAINTY and info.urgency in _WARNING_URGENCY:
        return "warning"
    if info.certainty == "Possible" or info.urgency == "Future":
        return "watch"
    return None


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())
