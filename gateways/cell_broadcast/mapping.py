"""Which cell broadcast message identifier carries a CAP alert (3GPP TS 23.041 9.4.1.2.2).

The identifier is what a phone's alert settings act on (presidential alerts cannot be turned
off, severe ones can, tests are hidden by default), so choosing it is a policy decision a
country makes. A :class:`CbsProfile` holds that policy as an ordered table of
:class:`CbsRule`: the first rule whose conditions all hold for an info block gives its
identifier, and the additional-language identifier (the primary one + 13 for the CMAS
classes) for info blocks in a language other than the profile's primary one. Three profiles
are built in (``us-wea``, ``eu-alert``, ``uk``); a TOML table can extend or replace them.
The rows of the requirement table (``CB-xx``, ``WEA-xx``, ``UK-xx`` of
``shared/data/cap/profiles/cell-broadcast-mapping.md``) are named in each rule's ``source``.

Conditions of a rule (each one given must hold; within one, any listed value will do):
``statuses``, ``msg_types``, ``categories``, ``severities``, ``urgencies``,
``certainties``, ``parameters`` (``NAME=VALUE``), and the event, described by
``events`` (the whole ``<event>`` text), ``event_keywords`` (words in it) and
``event_codes`` (``NAME=VALUE``) together: any one of them matching is enough.
``event_keywords_all`` needs every word. Text compares without regard to case.

When the profile enables ETWS, earthquake and tsunami events get ETWS identifiers
(4352-4355) before any other rule. Nothing here reads a file but :func:`load_profile`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from cap.model import Alert, Info
from gateways.base import CannotCarryError, GatewayConfigError
from gateways.cell_broadcast.pages import (
    COMPOSE_FIELDS,
    MAX_PAGES,
    CbsEncodingError,
    CbsText,
    TextLimits,
    TextParameter,
    cbs_text_for,
    encode_pages,
    iso639_1,
)
from gateways.cell_broadcast.serial import GeoScope, SerialNumber

ADDITIONAL_LANGUAGE_OFFSET: Final = 13  # CB-10: 4383..4395 pair with 4370..4382
BROADCAST_MSG_TYPES: Final = ("Alert", "Update")
NO_LIMITS: Final = TextLimits()


class CbsProfileError(GatewayConfigError):
    """A profile table that cannot be used; the message names the key and why."""


def _fold(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(value.casefold() for value in values)


def _pairs(values: Sequence[str], where: str) -> tuple[tuple[str, str], ...]:
    out = []
    for value in values:
        name, sep, wanted = value.partition("=")
        if not sep or not name.strip():
            raise CbsProfileError(f"{where}: {value!r} is not NAME=VALUE")
        out.append((name.strip().casefold(), wanted.strip().casefold()))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class CbsRule:
    """One row of a profile: conditions on an info block (and its alert), and the message
    identifiers it maps to."""

    label: str
    identifier: int
    additional: int | None = None
    source: str = ""
    statuses: tuple[str, ...] = ()
    msg_types: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    event_keywords: tuple[str, ...] = ()
    event_keywords_all: tuple[str, ...] = ()
    event_codes: tuple[str, ...] = ()  # "SAME=EQW"
    parameters: tuple[str, ...] = ()  # "WEAHandling=Public Safety"
    severities: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    certainties: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("identifier", "additional"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 0xFFFF):
                raise CbsProfileError(
                    f"rule {self.label!r}: {name} {value!r} is not a message identifier (0..65535)"
                )
        _pairs(self.event_codes, f"rule {self.label!r}.event_codes")
        _pairs(self.parameters, f"rule {self.label!r}.parameters")

    def mismatches(self, alert: Alert, info: Info) -> list[str]:
        """What keeps this rule from matching, one phrase per failed condition."""
        out: list[str] = []

        def check(name: str, have: Sequence[str] | str, wanted: tuple[str, ...]) -> None:
            if not wanted:
                return
            values = [have] if isinstance(have, str) else list(have)
            if not any(value.casefold() in _fold(wanted) for value in values):
                shown = ", ".join(v or "(empty)" for v in values) if values else "(none)"
                out.append(f"{name} {shown} is not {' or '.join(wanted)}")

        check("status", alert.status, self.statuses)
        check("msgType", alert.msg_type, self.msg_types)
        check("category", info.category, self.categories)
        check("severity", info.severity, self.severities)
        check("urgency", info.urgency, self.urgencies)
        check("certainty", info.certainty, self.certainties)
        if (self.events or self.event_keywords or self.event_codes) and not (
            self._event_matches(info)
        ):
            wanted = [f"event {e!r}" for e in self.events]
            wanted += [f"an event with the word {k!r}" for k in self.event_keywords]
            wanted += [f"event code {c}" for c in self.event_codes]
            codes = ", ".join(f"{c.value_name}={c.value}" for c in info.event_codes)
            out.append(
                f"event {info.event!r} (codes: {codes or 'none'}) is not " + " or ".join(wanted)
            )
        if self.event_keywords_all:
            words = _words(info.event)
            missing = [k for k in self.event_keywords_all if k.casefold() not in words]
            if missing:
                out.append(f"event {info.event!r} lacks the word(s) {', '.join(missing)}")
        if self.parameters:
            have = {(p.value_name.casefold(), p.value.strip().casefold()) for p in info.parameters}
            if not any(pair in have for pair in _pairs(self.parameters, self.label)):
                out.append(f"no parameter {' or '.join(self.parameters)}")
        return out

    def _event_matches(self, info: Info) -> bool:
        event = info.event.strip().casefold()
        if event in _fold(self.events):
            return True
        words = _words(info.event)
        if any(keyword.casefold() in words for keyword in self.event_keywords):
            return True
        codes = {(c.value_name.casefold(), c.value.strip().casefold()) for c in info.event_codes}
        return any(pair in codes for pair in _pairs(self.event_codes, self.label))

    def matches(self, alert: Alert, info: Info) -> bool:
        return not self.mismatches(alert, info)


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.casefold()))


def _cmas(label: str, identifier: int, source: str, **conditions: Any) -> CbsRule:
    """A CMAS-range rule whose additional-language twin is identifier + 13 (CB-10)."""
    twin = identifier + ADDITIONAL_LANGUAGE_OFFSET if 4370 <= identifier <= 4382 else None
    if identifier in (4396, 4398):  # CB-11, CB-12: the twin is the next identifier
        twin = identifier + 1
    return CbsRule(label, identifier, twin, source, **conditions)


_TRIPLES: Final = (
    ("Extreme", "Immediate", "Observed", 4371),
    ("Extreme", "Immediate", "Likely", 4372),
    ("Extreme", "Expected", "Observed", 4373),
    ("Extreme", "Expected", "Likely", 4374),
    ("Severe", "Immediate", "Observed", 4375),
    ("Severe", "Immediate", "Likely", 4376),
    ("Severe", "Expected", "Observed", 4377),
    ("Severe", "Expected", "Likely", 4378),
)


def _triple_rules(level: str, also: str) -> tuple[CbsRule, ...]:
    """The eight Extreme/Severe x Immediate/Expected x Observed/Likely classes (CB-03,
    CB-04); ``level`` names the EU-Alert level in the label, ``also`` adds source rows."""
    rules = []
    for severity, urgency, certainty, identifier in _TRIPLES:
        two = identifier <= 4372
        label = f"{severity} / {urgency} / {certainty}"
        if level:
            label = f"{level} {'2' if two else '3'}: {label}"
        rules.append(
            _cmas(
                label,
                identifier,
                ("CB-03" if two else "CB-04") + also,
                statuses=("Actual",),
                severities=(severity,),
                urgencies=(urgency,),
                certainties=(certainty,),
            )
        )
    return tuple(rules)


ETWS_RULES: Final = (
    CbsRule(
        "ETWS earthquake and tsunami",
        4354,
        None,
        "CB-01",
        statuses=("Actual",),
        event_keywords_all=("earthquake", "tsunami"),
    ),
    CbsRule(
        "ETWS earthquake",
        4352,
        None,
        "CB-01",
        statuses=("Actual",),
        event_keywords=("earthquake",),
        event_codes=("SAME=EQW",),
    ),
    CbsRule(
        "ETWS tsunami",
        4353,
        None,
        "CB-01",
        statuses=("Actual",),
        event_keywords=("tsunami",),
        event_codes=("SAME=TSW", "SAME=TSA"),
    ),
    CbsRule(
        "ETWS test",
        4355,
        None,
        "CB-01",
        statuses=("Test",),
        event_keywords=("earthquake", "tsunami"),
        event_codes=("SAME=EQW", "SAME=TSW", "SAME=TSA"),
    ),
)
"""Earthquake and tsunami events on ETWS identifiers (CB-01); ETWS has no
additional-language identifiers, so every language goes on the same one (each in its own
message code: the serial allocator's slot tells them apart)."""


@dataclass(frozen=True, slots=True)
class CbsProfile:
    """A country's mapping policy and channel limits (see the module docstring)."""

    name: str
    rules: tuple[CbsRule, ...]
    description: str = ""
    primary_language: str | None = None  # None: the first info block's language
    etws: bool = False
    geo_scope: GeoScope = GeoScope.PLMN_WIDE
    language_prefix: bool = True
    msg_types: tuple[str, ...] = BROADCAST_MSG_TYPES
    text_parameters: tuple[TextParameter, ...] = ()
    compose: tuple[str, ...] = COMPOSE_FIELDS
    limits: TextLimits = NO_LIMITS

    def __post_init__(self) -> None:
        unknown = [name for name in self.compose if name not in COMPOSE_FIELDS]
        if unknown or not self.compose:
            raise CbsProfileError(
                f"profile {self.name!r}: compose {list(self.compose)} must name some of "
                f"{', '.join(COMPOSE_FIELDS)}"
            )

    @property
    def effective_rules(self) -> tuple[CbsRule, ...]:
        return (ETWS_RULES if self.etws else ()) + self.rules


US_WEA: Final = CbsProfile(
    name="us-wea",
    description="US Wireless Emergency Alerts (CMAS) from IPAWS CAP: English primary, "
    "Spanish on the additional-language identifiers, CMAMlongtext/CMAMtext, 360 characters",
    primary_language="en",
    rules=(
        _cmas(
            "Presidential", 4370, "CB-02, WEA-03", statuses=("Actual",), event_codes=("SAME=EAN",)
        ),
        _cmas(
            "Presidential (WEAHandling)",
            4370,
            "CB-02 (WEAHandling value unconfirmed)",
            statuses=("Actual",),
            parameters=("WEAHandling=Presidential",),
        ),
        _cmas(
            "Child Abduction (AMBER)",
            4379,
            "CB-06, WEA-05",
            statuses=("Actual",),
            event_codes=("SAME=CAE",),
        ),
        _cmas(
            "Child Abduction (WEAHandling)",
            4379,
            "CB-06 (WEAHandling value unconfirmed)",
            statuses=("Actual",),
            parameters=("WEAHandling=Child Abduction",),
        ),
        _cmas(
            "Required Monthly Test",
            4380,
            "CB-07, WEA-06",
            statuses=("Actual", "Test"),
            event_codes=("SAME=RMT",),
        ),
        _cmas("Exercise", 4381, "CB-08", statuses=("Exercise",)),
        _cmas("State/Local WEA Test", 4398, "CB-12", statuses=("Test",)),
        _cmas(
            "Public Safety",
            4396,
            "CB-11, WEA-07",
            statuses=("Actual",),
            parameters=("WEAHandling=Public Safety",),
        ),
        *_triple_rules("", ", WEA-04"),
    ),
    text_parameters=(TextParameter("CMAMlongtext", 360), TextParameter("CMAMtext", 90)),
    limits=TextLimits(max_chars=360),
)

EU_ALERT: Final = CbsProfile(
    name="eu-alert",
    description="EU-Alert (ETSI TS 102 900): Level 1 by parameter EU-Alert-Level=1, Levels 2 "
    "and 3 by severity/urgency/certainty, Level 4 for Moderate and Minor, EU-Amber; the first "
    "info block's language is primary",
    rules=(
        _cmas(
            "EU-Alert Level 1",
            4370,
            "CB-02 (selecting parameter: Tocsin convention)",
            statuses=("Actual",),
            parameters=("EU-Alert-Level=1",),
        ),
        _cmas(
            "EU-Amber",
            4379,
            "CB-06",
            statuses=("Actual",),
            event_codes=("SAME=CAE",),
        ),
        _cmas(
            "EU-Amber (parameter)",
            4379,
            "CB-06 (selecting parameter: Tocsin convention)",
            statuses=("Actual",),
            parameters=("EU-Alert-Level=Amber",),
        ),
        _cmas("EU-Exercise", 4381, "CB-08 (EU use of 4381 unconfirmed)", statuses=("Exercise",)),
        _cmas("EU-Test", 4398, "CB-12 (EU use of 4398 unconfirmed)", statuses=("Test",)),
        *_triple_rules("EU-Alert Level", ""),
        _cmas(
            "EU-Alert Level 4",
            4396,
            "CB-11",
            statuses=("Actual",),
            severities=("Moderate", "Minor"),
        ),
    ),
)

UK: Final = CbsProfile(
    name="uk",
    description="UK Emergency Alerts (GOV.UK Emergency Alerts): the channel from <event> "
    "(EAN, Alert, OPR, RMT), the description as text, 1,395 GSM 7-bit septets or 615 UCS-2 "
    "characters, no language prefix",
    primary_language="en",
    language_prefix=False,
    rules=(
        _cmas("Government (EAN)", 4370, "UK-03", events=("EAN",)),
        _cmas("Severe (Alert)", 4378, "UK-03", events=("Alert",)),
        _cmas("Operator (OPR)", 4382, "UK-03", events=("OPR",)),
        _cmas("Test (RMT)", 4380, "UK-03", events=("RMT",)),
    ),
    compose=("description",),
    limits=TextLimits(max_gsm7_septets=1395, max_ucs2_units=615),
)

BUILTIN_PROFILES: Final[Mapping[str, CbsProfile]] = {
    profile.name: profile for profile in (US_WEA, EU_ALERT, UK)
}
DEFAULT_PROFILE: Final = EU_ALERT


def builtin_profile(name: str) -> CbsProfile:
    try:
        return BUILTIN_PROFILES[name]
    except KeyError:
        raise CbsProfileError(
            f"no cell broadcast profile {name!r}; built in: {', '.join(BUILTIN_PROFILES)} "
            "(or give a TOML file)"
        ) from None


# --- the mapping ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CbsMessagePlan:
    """One message to broadcast: an info block on an identifier, with its text.

    ``slot`` names the message within the alert (``en/0``): the serial allocator keys on
    (chain, slot, identifier) so each language keeps its own message code across updates.
    """

    info_index: int
    language: str
    message_id: int
    additional_language: bool
    rule: CbsRule
    geo_scope: GeoScope
    slot: str
    text: CbsText
    language_prefix: bool = True

    def pages(self, serial: SerialNumber) -> tuple[bytes, ...]:
        """The 88-octet pages of this message with ``serial``."""
        return encode_pages(
            self.text.text,
            language=self.language,
            message_id=self.message_id,
            serial=serial,
            language_prefix=self.language_prefix,
            max_pages=MAX_PAGES,
        )


def _primary(profile: CbsProfile, infos: Sequence[Info]) -> str | None:
    wanted = profile.primary_language or infos[0].effective_language
    return iso639_1(wanted) or wanted.split("-", 1)[0].casefold()


def _language_key(info: Info) -> str:
    language = info.effective_language
    return iso639_1(language) or language.split("-", 1)[0].casefold()


_GRADED: Final = ("severity ", "urgency ", "certainty ")


def rule_for(alert: Alert, info_index: int, profile: CbsProfile) -> CbsRule:
    """The first rule of ``profile`` that matches the info block, or CannotCarryError naming
    the fields that keep the closest rule from matching."""
    info = alert.infos[info_index]
    best: tuple[int, CbsRule, list[str]] | None = None
    for rule in profile.effective_rules:
        failed = rule.mismatches(alert, info)
        if not failed:
            return rule
        # A rule for another kind of alert (status, event, parameter: what selects a class)
        # is farther than one that only differs in severity, urgency or certainty.
        distance = sum(1 if phrase.startswith(_GRADED) else 4 for phrase in failed)
        if best is None or distance < best[0]:
            best = (distance, rule, failed)
    if best is None:
        raise CannotCarryError(f"the {profile.name} cell broadcast profile has no rules")
    _, closest, failed = best
    raise CannotCarryError(
        f"info[{info_index}] ({info.event!r}: status {alert.status}, severity {info.severity}, "
        f"urgency {info.urgency}, certainty {info.certainty}) maps to no message identifier "
        f"of the {profile.name} profile: the closest rule, {closest.label!r} "
        f"({closest.identifier}{', ' + closest.source if closest.source else ''}), fails "
        f"because {'; '.join(failed)}. Change the alert, or add a rule to the profile"
    )


def map_alert(alert: Alert, profile: CbsProfile = DEFAULT_PROFILE) -> tuple[CbsMessagePlan, ...]:
    """The cell broadcast messages for ``alert``: one per info block, in the info's order.

    A Cancel maps to no new message (``()``): cell broadcast withdraws by killing what the
    chain has on the air (``SerialAllocator.active``). Other alerts that cannot be carried
    raise :class:`CannotCarryError` saying which field prevents it: the msgType, no info, no
    rule for the info's status/severity/urgency/certainty/event, or a text over the limits.
    """
    if alert.msg_type == "Cancel":
        return ()
    if alert.msg_type not in profile.msg_types:
        raise CannotCarryError(
            f"msgType {alert.msg_type!r} is not broadcast by the {profile.name} profile "
            f"(it carries {', '.join(profile.msg_types)})"
        )
    if not alert.infos:
        raise CannotCarryError(
            f"alert {alert.identifier!r} has no <info>: cell broadcast needs an info block for "
            "the message class and the text"
        )
    primary = _primary(profile, alert.infos)
    plans: list[CbsMessagePlan] = []
    used: dict[tuple[int, str], int] = {}
    for n, info in enumerate(alert.infos):
        rule = rule_for(alert, n, profile)
        language = _language_key(info)
        additional = language != primary
        message_id = (
            rule.additional if additional and rule.additional is not None else (rule.identifier)
        )
        ordinal = used.get((message_id, language), 0)
        used[(message_id, language)] = ordinal + 1
        try:
            text = cbs_text_for(alert, n, profile)
        except CbsEncodingError as error:
            raise CannotCarryError(f"info[{n}]: {error}") from None
        plans.append(
            CbsMessagePlan(
                info_index=n,
                language=info.effective_language,
                message_id=message_id,
                additional_language=additional,
                rule=rule,
                geo_scope=profile.geo_scope,
                slot=f"{language}/{ordinal}",
                text=text,
                language_prefix=profile.language_prefix,
            )
        )
    return tuple(plans)


# --- profiles from TOML -----------------------------------------------------------------------

_RULE_LISTS: Final = (
    "statuses",
    "msg_types",
    "categories",
    "events",
    "event_keywords",
    "event_keywords_all",
    "event_codes",
    "parameters",
    "severities",
    "urgencies",
    "certainties",
)
_PROFILE_KEYS: Final = (
    "name",
    "base",
    "description",
    "primary_language",
    "etws",
    "geo_scope",
    "language_prefix",
    "msg_types",
    "text_parameters",
    "compose",
    "max_pages",
    "max_chars",
    "max_gsm7_septets",
    "max_ucs2_units",
    "rules",
    "extra_rules",
)
_GEO_SCOPES: Final = {
    "cell-immediate": GeoScope.CELL_WIDE_IMMEDIATE,
    "plmn": GeoScope.PLMN_WIDE,
    "location-area": GeoScope.LOCATION_AREA_WIDE,
    "cell": GeoScope.CELL_WIDE,
}


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CbsProfileError(f"{where}: expected a list of strings")
    return tuple(value)


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CbsProfileError(f"{where}: expected a whole number {low}..{high}, not {value!r}")
    return value


def _rule(table: Any, where: str) -> CbsRule:
    if not isinstance(table, Mapping):
        raise CbsProfileError(f"{where}: expected a table")
    known = ("label", "identifier", "additional", "source", *_RULE_LISTS)
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise CbsProfileError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if "identifier" not in table:
        raise CbsProfileError(f"{where}: 'identifier' (the message identifier) is required")
    identifier = _int(table["identifier"], f"{where}.identifier", 0, 0xFFFF)
    additional = table.get("additional")
    if additional is not None:
        additional = _int(additional, f"{where}.additional", 0, 0xFFFF)
    lists = {key: _strings(table[key], f"{where}.{key}") for key in _RULE_LISTS if key in table}
    label = table.get("label", str(identifier))
    if not isinstance(label, str):
        raise CbsProfileError(f"{where}.label: expected a string")
    source = table.get("source", "")
    if not isinstance(source, str):
        raise CbsProfileError(f"{where}.source: expected a string")
    return CbsRule(label, identifier, additional, source, **lists)


def profile_from_table(table: Mapping[str, Any], *, where: str = "cbs_profile") -> CbsProfile:
    """A profile from a TOML-shaped table: ``base`` (a built-in profile to start from,
    default ``eu-alert``), any field of :class:`CbsProfile` (limits as ``max_pages``,
    ``max_chars``, ``max_gsm7_septets``, ``max_ucs2_units``; ``geo_scope`` as ``plmn``,
    ``location-area``, ``cell``, ``cell-immediate``; ``text_parameters`` as
    ``[["CMAMtext", 90]]``), ``rules`` (replace the base's) and ``extra_rules`` (tried
    before them)."""
    unknown = sorted(set(table) - set(_PROFILE_KEYS))
    if unknown:
        raise CbsProfileError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(_PROFILE_KEYS)})"
        )
    base_name = table.get("base", DEFAULT_PROFILE.name)
    if not isinstance(base_name, str):
        raise CbsProfileError(f"{where}.base: expected a profile name")
    base = builtin_profile(base_name)
    changes: dict[str, Any] = {}
    for key in ("name", "description"):
        if key in table:
            if not isinstance(table[key], str) or not table[key]:
                raise CbsProfileError(f"{where}.{key}: expected a non-empty string")
            changes[key] = table[key]
    if "primary_language" in table:
        value = table["primary_language"]
        if value is not None and (not isinstance(value, str) or not value):
            raise CbsProfileError(f"{where}.primary_language: expected a language tag")
        changes["primary_language"] = value or None
    for key in ("etws", "language_prefix"):
        if key in table:
            if not isinstance(table[key], bool):
                raise CbsProfileError(f"{where}.{key}: expected true or false")
            changes[key] = table[key]
    if "geo_scope" in table:
        scope = _GEO_SCOPES.get(str(table["geo_scope"]))
        if scope is None:
            raise CbsProfileError(
                f"{where}.geo_scope: expected one of {', '.join(_GEO_SCOPES)}, not "
                f"{table['geo_scope']!r}"
            )
        changes["geo_scope"] = scope
    if "msg_types" in table:
        changes["msg_types"] = _strings(table["msg_types"], f"{where}.msg_types")
    if "compose" in table:
        changes["compose"] = _strings(table["compose"], f"{where}.compose")
    if "text_parameters" in table:
        items = table["text_parameters"]
        if not isinstance(items, list):
            raise CbsProfileError(f"{where}.text_parameters: expected a list of [NAME, LIMIT]")
        params = []
        for n, item in enumerate(items):
            here = f"{where}.text_parameters[{n}]"
            if not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str):
                raise CbsProfileError(f"{here}: expected [NAME, LIMIT]")
            params.append(TextParameter(item[0], _int(item[1], here, 1, 100_000)))
        changes["text_parameters"] = tuple(params)
    limits = base.limits

    def limit(key: str, given: int | None) -> int | None:  # 0: no limit of this kind
        if key not in table:
            return given
        return _int(table[key], f"{where}.{key}", 0, 100_000) or None

    changes["limits"] = TextLimits(
        max_pages=(
            _int(table["max_pages"], f"{where}.max_pages", 1, MAX_PAGES)
            if "max_pages" in table
            else limits.max_pages
        ),
        max_chars=limit("max_chars", limits.max_chars),
        max_gsm7_septets=limit("max_gsm7_septets", limits.max_gsm7_septets),
        max_ucs2_units=limit("max_ucs2_units", limits.max_ucs2_units),
    )
    rules = base.rules
    if "rules" in table:
        given = _list(table["rules"], f"{where}.rules")
        rules = tuple(_rule(r, f"{where}.rules[{n}]") for n, r in enumerate(given))
    if "extra_rules" in table:
        extra = _list(table["extra_rules"], f"{where}.extra_rules")
        rules = tuple(_rule(r, f"{where}.extra_rules[{n}]") for n, r in enumerate(extra)) + rules
    changes["rules"] = rules
    if "name" not in changes:
        changes["name"] = f"{base.name} (customised)"
    try:
        return replace(base, **changes)
    except CbsEncodingError as error:
        raise CbsProfileError(f"{where}: {error}") from None


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise CbsProfileError(f"{where}: expected a list of tables ([[...]])")
    return value


def load_profile(name_or_path: str | Path) -> CbsProfile:
    """A built-in profile by name, or a TOML file whose ``[cbs_profile]`` table (or top
    level) is a profile table (see :func:`profile_from_table`)."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[name_or_path]
    path = Path(name_or_path)
    try:
        with path.open("rb") as stream:
            data = tomllib.load(stream)
    except FileNotFoundError:
        raise CbsProfileError(
            f"{path}: no such cell broadcast profile file (built in: {', '.join(BUILTIN_PROFILES)})"
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CbsProfileError(f"{path}: cannot read the profile: {error}") from None
    table = data.get("cbs_profile", data)
    if not isinstance(table, Mapping):
        raise CbsProfileError(f"{path}: [cbs_profile] must be a table")
    return profile_from_table(table, where=f"{path}: cbs_profile")
