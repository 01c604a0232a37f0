"""US IPAWS profile: CAP v1.2 USA IPAWS Profile v1.0 (OASIS, 2009) with the ECIG CAP-to-EAS
Implementation Guide v1.0 (2010), which FEMA adopted for the EAS channel.

IPAWS feeds three channels: EAS (broadcast), CMAS/WEA (phones) and HazCollect/NWEM (NOAA
Weather Radio). Several rules bind only when the alert is meant for one of them. The alert says
so itself: EAS by an ``EAS-ORG``, ``EAS-Must-Carry`` or ``EASText`` parameter or an
``EAS Broadcast Content`` resource; CMAS by a ``CMAMtext``, ``CMAMlongtext`` or ``WEAHandling``
parameter; and a ``BLOCKCHANNEL`` parameter takes a channel away again. A SAME event code alone
is not taken as a request for broadcast (NWS puts one on nearly every product), but when present
it is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from cap.findings import Finding, Severity, error, info, warning
from cap.model import Alert, Geocode, Info
from cap.parsing import ParsedAlert
from cap.profiles import same_codes
from cap.profiles.base import Profile
from cap.profiles.shared_rules import (
    area_in_every_info,
    geometry_encouraged,
    info_path,
    is_blank,
    is_present,
    same_categories,
    same_event_codes,
)

NAME = "ipaws"
PROFILE_CODE = "IPAWSv1.0"

EAS_AUDIO_DESCRIPTION = "EAS Broadcast Content"
EAS_AUDIO_MIME_TYPES = frozenset(
    {"audio/x-ipaws-audio-mp3", "audio/x-ipaws-audio-wav", "audio/x-ipaws-streaming-audio-mp3"}
)
BLOCKABLE_CHANNELS = frozenset({"EAS", "CMAS", "NWEM"})
CMAM_TEXT_LIMIT = 90
CMAM_LONG_TEXT_LIMIT = 360
EAS_TEXT_LIMIT = 1800

_EAS_PARAMETERS = frozenset({"EAS-ORG", "EAS-Must-Carry", "EASText"})
_CMAS_PARAMETERS = frozenset({"CMAMtext", "CMAMlongtext", "WEAHandling"})
# Parameters that hold one value; receivers use the first and ignore the rest (ECIG 3.3.1).
_SINGLE_VALUED = frozenset(
    {"EAS-ORG", "EAS-Must-Carry", "EASText", "CMAMtext", "CMAMlongtext", "WEAHandling"}
)
_OFFSET_RE = re.compile(r"[+-]\d\d:\d\d$")
_SAME_EVENT_RE = re.compile(r"^[A-Z]{3}$")
_SAME_LOCATION_RE = re.compile(r"^\d{6}$")


@dataclass(frozen=True, slots=True)
class Channels:
    """The IPAWS channels an alert asks for, after its BLOCKCHANNEL parameters."""

    eas: bool
    cmas: bool
    blocked: frozenset[str]

    @property
    def broadcast(self) -> bool:
        return self.eas or self.cmas


def channels_of(alert: Alert) -> Channels:
    """Read the channel markers of every info (see the module docstring)."""
    eas = cmas = False
    blocked: set[str] = set()
    for inf in alert.infos:
        for p in inf.parameters:
            name = p.value_name.strip()
            if name in _EAS_PARAMETERS:
                eas = True
            elif name in _CMAS_PARAMETERS:
                cmas = True
            elif name == "BLOCKCHANNEL":
                blocked.add(p.value.strip().upper())
        if any(_is_eas_audio(r.resource_desc) for r in inf.resources):
            eas = True
    return Channels(
        eas and "EAS" not in blocked, cmas and "CMAS" not in blocked, frozenset(blocked)
    )


def _is_eas_audio(description: str) -> bool:
    return description.strip().casefold() == EAS_AUDIO_DESCRIPTION.casefold()


def check(parsed: ParsedAlert) -> Iterator[Finding]:
    alert = parsed.alert
    channels = channels_of(alert)
    yield from _declaration(alert)
    yield from _sent(parsed)
    yield from same_categories(alert, "ipaws.category.mismatch", "IPAWS-04")
    yield from same_event_codes(alert, "ipaws.event_code.mismatch", "IPAWS-05")
    yield from area_in_every_info(alert, "ipaws.area.missing", "IPAWS-13")
    yield from geometry_encouraged(alert, "ipaws.area.geometry_recommended", "IPAWS-15")
    for i, inf in enumerate(alert.infos):
        yield from _expires(parsed, i)
        yield from _same_event_code(inf, i, channels)
        yield from _ignored_times(parsed, i)
        yield from _texts(inf, i)
        yield from _same_geocodes(parsed, inf, i, channels)
        yield from _parameters(inf, i, channels)
        yield from _eas_audio(inf, i)
        if channels.eas:
            yield from _eas_text(inf, i)
    yield from _languages(alert, channels)
    yield from _on_air(alert, channels)


def _declaration(alert: Alert) -> Iterator[Finding]:
    codes = [c.strip() for c in alert.codes]
    if PROFILE_CODE in codes:
        return
    near = [c for c in codes if c.replace(" ", "").casefold() == PROFILE_CODE.casefold()]
    hint = f" ({near[0]!r} is close but the value is case-sensitive)" if near else ""
    yield error(
        "ipaws.code.missing",
        f"no <code>{PROFILE_CODE}</code>{hint}; IPAWS requires it to declare the profile "
        f"version the alert follows; add <code>{PROFILE_CODE}</code> after <scope> (IPAWS-02)",
        "/alert",
    )


def _offset_findings(
    parsed: ParsedAlert, path: str, codes: tuple[str, str], rule: str
) -> Iterator[Finding]:
    """``codes``: for a missing offset and for a UTC offset."""
    element = path.rsplit("/", 1)[-1]
    raw = (parsed.source_map.text(path) or "").strip()
    if not raw:
        return
    match = _OFFSET_RE.search(raw)
    if match is None:
        # CAP 1.2's schema already rejects such a time; 1.0 and 1.1 allowed it.
        if parsed.version != "1.2":
            yield error(
                codes[0],
                f"<{element}> {raw!r} has no numeric time zone offset; IPAWS requires one, "
                f"e.g. 2024-05-01T14:30:00-05:00 ({rule})",
                path,
            )
        return
    if match.group(0) in ("+00:00", "-00:00"):
        yield info(
            codes[1],
            f"<{element}> {raw!r} is in UTC; that is valid, but US alerts usually give local "
            f"time with its offset, so check that the offset is intended ({rule})",
            path,
        )


def _sent(parsed: ParsedAlert) -> Iterator[Finding]:
    codes = ("ipaws.sent.no_offset", "ipaws.sent.utc")
    yield from _offset_findings(parsed, "/alert/sent", codes, "IPAWS-01")


def _expires(parsed: ParsedAlert, i: int) -> Iterator[Finding]:
    path = f"{info_path(i)}/expires"
    if not is_present(parsed, path):
        yield error(
            "ipaws.expires.missing",
            f"info[{i + 1}] has no <expires>; IPAWS requires an expiry time with its time zone "
            f"offset so that channels know when to stop (IPAWS-07)",
            path,
        )
        return
    codes = ("ipaws.expires.no_offset", "ipaws.expires.utc")
    yield from _offset_findings(parsed, path, codes, "IPAWS-08")


def _same_event_code(inf: Info, i: int, channels: Channels) -> Iterator[Finding]:
    same = [(k, ec) for k, ec in enumerate(inf.event_codes) if ec.value_name.strip() == "SAME"]
    if not same:
        if channels.broadcast:
            which = "EAS" if channels.eas else "CMAS"
            yield error(
                "ipaws.same_event.missing",
                f"info[{i + 1}] is marked for {which} but has no <eventCode> with valueName SAME; "
                f"add exactly one with the three-letter SAME event code, e.g. TOR (IPAWS-09)",
                info_path(i),
            )
        return
    if len(same) > 1:
        k = same[1][0]
        values = ", ".join(ec.value for _, ec in same)
        yield error(
            "ipaws.same_event.repeated",
            f"info[{i + 1}] has {len(same)} SAME event codes ({values}); IPAWS allows exactly one "
            f"per info, so keep the one that names this event (IPAWS-09)",
            f"{info_path(i)}/eventCode[{k + 1}]",
        )
    for k, ec in same:
        value = ec.value.strip()
        path = f"{info_path(i)}/eventCode[{k + 1}]/value"
        if not _SAME_EVENT_RE.match(value):
            hint = f" (write {value.upper()!r})" if _SAME_EVENT_RE.match(value.upper()) else ""
            what = (
                "the SAME event code is empty"
                if not value
                else f"SAME event code {ec.value!r} is not three upper-case letters{hint}"
            )
            yield error(
                "ipaws.same_event.format",
                f"{what}; EAS devices match the code exactly, e.g. TOR, SVR, CAE (IPAWS-09)",
                path,
            )
        elif value not in same_codes.KNOWN_EVENTS:
            yield warning(
                "ipaws.same_event.unknown",
                f"SAME event code {value!r} is not in the FCC list (47 CFR 11.31(e)); EAS devices "
                f"will not air an event code they do not know (IPAWS-09)",
                path,
            )


def _ignored_times(parsed: ParsedAlert, i: int) -> Iterator[Finding]:
    for element, code in (
        ("effective", "ipaws.effective.ignored"),
        ("onset", "ipaws.onset.ignored"),
    ):
        path = f"{info_path(i)}/{element}"
        if is_present(parsed, path):
            yield warning(
                code,
                f"info[{i + 1}] has <{element}>, which IPAWS ignores: an IPAWS alert takes effect "
                f"when it is sent; if it must not go out yet, send it later (IPAWS-10)",
                path,
            )


def _texts(inf: Info, i: int) -> Iterator[Finding]:
    if is_blank(inf.description):
        yield warning(
            "ipaws.description.missing",
            f"info[{i + 1}] has no <description>; IPAWS expects meaningful text describing the "
            f"hazard, which EAS and other channels read out (IPAWS-11)",
            f"{info_path(i)}/description",
        )
    if is_blank(inf.instruction):
        yield warning(
            "ipaws.instruction.missing",
            f"info[{i + 1}] has no <instruction>; IPAWS expects meaningful text telling people "
            f"what to do (IPAWS-12)",
            f"{info_path(i)}/instruction",
        )


def _is_same_location(geocode: Geocode, version: str) -> bool:
    name = geocode.value_name.strip()
    # The ECIG guide (3.10) accepts CAP 1.1's FIPS6 name as SAME in older messages.
    return name == "SAME" or (name == "FIPS6" and version != "1.2")


def _same_geocodes(parsed: ParsedAlert, inf: Info, i: int, channels: Channels) -> Iterator[Finding]:
    total = 0
    fips6: list[str] = []
    for j, area in enumerate(inf.areas):
        area_path = f"{info_path(i)}/area[{j + 1}]"
        found = False
        for k, geocode in enumerate(area.geocodes):
            path = f"{area_path}/geocode[{k + 1}]"
            if geocode.value_name.strip() == "FIPS6":
                fips6.append(f"{path}/valueName")
            if not _is_same_location(geocode, parsed.version):
                continue
            found = True
            total += 1
            value = geocode.value.strip()
            if not _SAME_LOCATION_RE.match(value):
                yield error(
                    "ipaws.same_geocode.format",
                    f"SAME location code {geocode.value!r} is not 6 digits; write PSSCCC: "
                    f"subdivision digit, 2-digit state FIPS and 3-digit county FIPS, e.g. "
                    f"006109 (IPAWS-14)",
                    f"{path}/value",
                )
            elif value != same_codes.WHOLE_COUNTRY and value[1:3] not in (
                same_codes.KNOWN_STATE_CODES
            ):
                yield warning(
                    "ipaws.same_geocode.unknown_state",
                    f"SAME location code {value} has state part {value[1:3]}, which is not a "
                    f"state, territory or marine area of 47 CFR 11.31(f) (IPAWS-14)",
                    f"{path}/value",
                )
            if channels.eas and total == same_codes.MAX_LOCATIONS + 1:
                yield warning(
                    "ipaws.same_geocode.too_many",
                    f"info[{i + 1}] has more than {same_codes.MAX_LOCATIONS} SAME location codes; "
                    f"a SAME header holds {same_codes.MAX_LOCATIONS}, so EAS drops this one and "
                    f"all after it; split the alert (IPAWS-30)",
                    path,
                )
        if not found:
            severity = Severity.ERROR if channels.eas else Severity.WARNING
            need = "EAS requires" if channels.eas else "IPAWS recommends"
            yield Finding(
                "ipaws.same_geocode.missing",
                severity,
                f"area[{j + 1}] of info[{i + 1}] has no <geocode> with valueName SAME; {need} at "
                f"least one 6-digit SAME location code, e.g. 006109 (IPAWS-14)",
                area_path,
            )
    if fips6:
        counted = "counted as SAME for this CAP " + parsed.version + " alert, but "
        yield warning(
            "ipaws.geocode.fips6",
            f"info[{i + 1}] has {len(fips6)} geocode(s) named FIPS6, the CAP 1.1 name; "
            f"{counted if parsed.version != '1.2' else ''}IPAWS v1.0 names SAME location codes "
            f"'SAME'; rename them (IPAWS-35)",
            fips6[0],
        )


def _parameters(inf: Info, i: int, channels: Channels) -> Iterator[Finding]:
    seen: set[str] = set()
    has_org = False
    for k, p in enumerate(inf.parameters):
        name, value = p.value_name.strip(), p.value.strip()
        path = f"{info_path(i)}/parameter[{k + 1}]"
        if name in _SINGLE_VALUED:
            if name in seen:
                yield warning(
                    "ipaws.parameter.repeated",
                    f"parameter {name} appears more than once in info[{i + 1}]; receivers use "
                    f"the first and ignore this one; keep a single {name} (IPAWS-23)",
                    path,
                )
            seen.add(name)
        if name == "EAS-ORG":
            has_org = True
            if value not in same_codes.ORIGINATORS:
                yield error(
                    "ipaws.eas_org.value",
                    f"EAS-ORG is {p.value!r}; it must be a SAME originator code: PEP, EAS, WXR "
                    f"or CIV (civil authorities) (IPAWS-17)",
                    f"{path}/value",
                )
        elif name == "EAS-Must-Carry" and value.casefold() not in ("true", "false"):
            yield error(
                "ipaws.must_carry.value",
                f"EAS-Must-Carry is {p.value!r}; write TRUE to invoke gubernatorial must-carry "
                f"(or leave the parameter out) (IPAWS-18)",
                f"{path}/value",
            )
        elif name == "CMAMtext" and len(value) > CMAM_TEXT_LIMIT:
            yield error(
                "ipaws.cmam_text.too_long",
                f"CMAMtext has {len(value)} characters; a WEA message holds at most "
                f"{CMAM_TEXT_LIMIT}; shorten it (IPAWS-19)",
                f"{path}/value",
            )
        elif name == "CMAMlongtext" and len(value) > CMAM_LONG_TEXT_LIMIT:
            yield warning(
                "ipaws.cmam_long_text.too_long",
                f"CMAMlongtext has {len(value)} characters; WEA long text holds at most "
                f"{CMAM_LONG_TEXT_LIMIT}; shorten it (IPAWS-20)",
                f"{path}/value",
            )
        elif name == "BLOCKCHANNEL" and value not in BLOCKABLE_CHANNELS:
            yield warning(
                "ipaws.block_channel.value",
                f"BLOCKCHANNEL is {p.value!r}; IPAWS-OPEN knows EAS, CMAS and NWEM, so this "
                f"channel may still receive the alert (IPAWS-21)",
                f"{path}/value",
            )
    if channels.eas and not has_org:
        yield error(
            "ipaws.eas_org.missing",
            f"info[{i + 1}] is meant for EAS but has no EAS-ORG parameter; add one with the SAME "
            f"originator code (PEP, EAS, WXR or CIV) (IPAWS-17)",
            info_path(i),
        )


def _eas_audio(inf: Info, i: int) -> Iterator[Finding]:
    for k, resource in enumerate(inf.resources):
        if not _is_eas_audio(resource.resource_desc):
            continue
        path = f"{info_path(i)}/resource[{k + 1}]"
        if resource.resource_desc.strip() != EAS_AUDIO_DESCRIPTION:
            yield error(
                "ipaws.eas_audio.description",
                f"resourceDesc {resource.resource_desc!r} must read exactly "
                f"'{EAS_AUDIO_DESCRIPTION}' for EAS devices to air the audio (IPAWS-24)",
                f"{path}/resourceDesc",
            )
        if is_blank(resource.uri) and is_blank(resource.deref_uri):
            yield error(
                "ipaws.eas_audio.no_uri",
                f"the EAS audio resource of info[{i + 1}] has neither <uri> nor <derefUri>; "
                f"give the URL of the recording (IPAWS-28)",
                path,
            )
        mime = (resource.mime_type or "").strip()
        if mime and mime not in EAS_AUDIO_MIME_TYPES:
            known = ", ".join(sorted(EAS_AUDIO_MIME_TYPES))
            yield warning(
                "ipaws.eas_audio.mime_type",
                f"EAS audio has mimeType {mime!r}; the ECIG guide recommends {known} (IPAWS-25)",
                f"{path}/mimeType",
            )


def _eas_text(inf: Info, i: int) -> Iterator[Finding]:
    eas_text = inf.parameter("EASText")
    if eas_text is not None:
        text, what = eas_text.strip(), "EASText"
    else:
        parts = [t.strip() for t in (inf.description, inf.instruction) if t and t.strip()]
        text, what = " ".join(parts), "description and instruction"
    if len(text) > EAS_TEXT_LIMIT:
        yield warning(
            "ipaws.eas.text_too_long",
            f"info[{i + 1}]: the EAS text ({what}) has {len(text)} characters; EAS shows and "
            f"speaks at most {EAS_TEXT_LIMIT} and cuts the rest (marked ***); shorten it "
            f"(IPAWS-29)",
            info_path(i),
        )


def _languages(alert: Alert, channels: Channels) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, inf in enumerate(alert.infos):
        if is_blank(inf.language):
            yield warning(
                "ipaws.language.missing",
                f"info[{i + 1}] has no <language>; receivers will assume en-US; state the "
                f"language, e.g. en-US or es-US (IPAWS-34)",
                f"{info_path(i)}/language",
            )
        lang = inf.effective_language.strip().casefold()
        if channels.eas and lang in seen:
            yield warning(
                "ipaws.eas.language_repeated",
                f"info[{i + 1}] has the same language as info[{seen[lang] + 1}]; EAS uses only "
                f"the first info of each language and ignores this one (IPAWS-34)",
                f"{info_path(i)}/language",
            )
        seen.setdefault(lang, i)


def _on_air(alert: Alert, channels: Channels) -> Iterator[Finding]:
    if not channels.eas:
        return
    tests = sorted(
        {
            ec.value.strip()
            for inf in alert.infos
            for ec in inf.event_codes
            if ec.value_name.strip() == "SAME" and ec.value.strip() in same_codes.TEST_EVENTS
        }
    )
    if alert.status != "Actual":
        if tests:
            yield error(
                "ipaws.eas.test_event_not_actual",
                f"status is {alert.status!r} but the SAME event {tests[0]} is an on-air test; "
                f"EAS airs only status Actual, so this test will not be broadcast; set status "
                f"to Actual (IPAWS-31)",
                "/alert/status",
            )
        else:
            yield warning(
                "ipaws.eas.not_actual",
                f"the alert is marked for EAS but its status is {alert.status!r}; EAS airs only "
                f"status Actual, so it will not be broadcast (IPAWS-31)",
                "/alert/status",
            )
    if alert.scope != "Public":
        yield error(
            "ipaws.eas.not_public",
            f"the alert is marked for EAS but its scope is {alert.scope!r}; EAS broadcasts to "
            f"everyone and takes only scope Public (IPAWS-32)",
            "/alert/scope",
        )


PROFILE = Profile(
    name=NAME,
    title="US IPAWS Profile v1.0",
    source=(
        "OASIS CAP v1.2 USA IPAWS Profile Version 1.0 (Committee Specification, 13 Oct 2009) "
        "with the ECIG Recommendations for a CAP EAS Implementation Guide v1.0 (17 May 2010)"
    ),
    url="http://docs.oasis-open.org/emergency/cap/v1.2/ipaws-profile/v1.0/cap-v1.2-ipaws-profile-v1.0.pdf",
    rules=check,
    declaration=(PROFILE_CODE,),
)
