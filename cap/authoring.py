"""Writing CAP alerts: a new alert from a description, an update, a cancel.

Pure: the clock (``now``) and the identifier are arguments, nothing is read or written. The
result is a model :class:`~cap.model.Alert`; :func:`cap.serialize.serialize_alert` writes it.
Everything CAP 1.2's schema or its text requires is checked here, so an alert that comes out
validates; a description that cannot become a valid alert raises
:class:`~cap.errors.CapAuthoringError` naming the key and where it is
(``info[1].areas[2].polygons[1]: ...``).

Conventions a description author relies on:

* ``sent`` is ``now``, written with ``now``'s own offset (UTC as ``-00:00``); times may be
  absolute (ISO 8601 with an offset, ``Z`` accepted and written ``-00:00``) or relative to
  ``now`` (``+6h``, ``90m``, ``1h30m``, ``2d``, ``PT6H``, ``P1DT12H``, ``now``), computed on the
  UTC time line and written with ``now``'s offset at that instant.
* Code-list values are matched without regard to case (``severe`` -> ``Severe``).
* A polygon whose last point differs from its first is closed by repeating the first point.
* ``status``, ``msg_type`` and ``scope`` default to ``Actual``, ``Alert`` and ``Public``.
* Empty text means "absent", so an update can remove an element by setting it to ``""``.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

from cap.descriptions import (
    ALERT_KEYS,
    AREA_KEYS,
    CIRCLE_KEYS,
    INFO_KEYS,
    RESOURCE_KEYS,
    apply_options,
    at,
    check_keys,
    description_format_for,
    description_from_alert,
    load_description,
    pair_items,
)
from cap.errors import CapAuthoringError, CapFormatError, CapModelError
from cap.identifiers import identifier_problem, new_identifier
from cap.model import (
    Alert,
    Area,
    Circle,
    EventCode,
    Geocode,
    Info,
    Parameter,
    Point,
    Polygon,
    Reference,
    Resource,
    ValuePair,
)
from cap.textcodecs import join_cap_list, parse_decimal, parse_references, split_cap_list
from cap.timefmt import CAP_DATETIME_RE, format_cap_datetime, parse_lenient_datetime
from cap.vocabulary import (
    CATEGORY,
    CERTAINTY,
    MSG_TYPE,
    RESPONSE_TYPE,
    SCOPE,
    SEVERITY,
    STATUS,
    URGENCY,
)

__all__ = [
    "CANCELLED_PREFIX",
    "alert_from_description",
    "apply_options",
    "cancel_alert",
    "description_format_for",
    "description_from_alert",
    "load_description",
    "update_alert",
]

BUILTIN_DEFAULTS: Final[Mapping[str, str]] = {
    "status": "Actual",
    "msg_type": "Alert",
    "scope": "Public",
}
CANCELLED_PREFIX: Final = "CANCELLED: "
CANCEL_MINIMUM_LIFETIME: Final = timedelta(hours=1)

# xs:language (RFC 3066 syntax), what the CAP 1.2 schema types <language> as.
_LANGUAGE_RE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_ABSOLUTE_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_COMPACT_DURATION_RE = re.compile(r"(?:\d+(?:\.\d+)?(?:w|d|h|min|m|s))+")
_COMPACT_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|min|m|s)")
_ISO_DURATION_RE = re.compile(
    r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_UNIT_SECONDS: Final = {"w": 604800, "d": 86400, "h": 3600, "min": 60, "m": 60, "s": 1}
# Characters XML 1.0 cannot carry at all (section 2.2, Char).
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def alert_from_description(
    desc: Mapping[str, Any],
    *,
    now: datetime,
    identifier: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Alert:
    """Build a CAP 1.2 alert from a description written at ``now`` (an aware datetime).

    ``defaults`` fills what the description leaves out: alert-level keys, plus an ``info``
    mapping whose keys fill every info block (e.g. ``sender_name``, ``contact``, ``language``).
    The identifier is ``identifier``, else the description's, else a new one.
    """
    merged = _with_defaults(desc, defaults)
    return _build_alert(merged, now=now, identifier=identifier, builtin_defaults=True)


def update_alert(
    earlier: Alert,
    changes: Mapping[str, Any],
    *,
    now: datetime,
    identifier: str | None = None,
) -> Alert:
    """An Update of ``earlier``: its content with ``changes`` laid over it.

    Alert-level keys replace the earlier values; ``info`` replaces the info list;
    ``info_changes`` (a mapping of info keys) applies to every info block. ``references`` lists
    the earlier alert's references and then the earlier alert itself (plus any ``references``
    given in ``changes``), without duplicates, in that order.
    """
    earlier_ref = _reference_to(earlier)
    check_keys(changes, (*ALERT_KEYS, "info_changes"), "changes")
    if "msg_type" in changes:
        raise CapAuthoringError(
            "changes: 'msg_type' cannot be changed; an update is always msgType Update "
            "(use cancel_alert to cancel)"
        )
    desc = description_from_alert(earlier)
    for key, value in changes.items():
        if key not in ("info_changes", "references"):
            desc[key] = value
    info_changes = changes.get("info_changes")
    if info_changes is not None:
        if not isinstance(info_changes, Mapping):
            raise CapAuthoringError("changes.info_changes: expected a table of info keys")
        check_keys(info_changes, INFO_KEYS, "changes.info_changes")
        infos = desc.get("info") or []
        if isinstance(infos, Mapping):
            infos = [infos]
        if not isinstance(infos, list):
            raise CapAuthoringError("changes.info: expected a list of info tables")
        desc["info"] = [
            {**info, **info_changes} if isinstance(info, Mapping) else info for info in infos
        ]
    extra = changes.get("references") or []
    if isinstance(extra, str | Reference):
        extra = [extra]
    if not isinstance(extra, list | tuple):
        raise CapAuthoringError("changes.references: expected a list of sender,identifier,sent")
    desc["references"] = [*earlier.references, earlier_ref, *extra]
    desc["msg_type"] = "Update"
    return _build_alert(desc, now=now, identifier=identifier, builtin_defaults=False)


def cancel_alert(
    earlier: Alert,
    *,
    now: datetime,
    identifier: str | None = None,
    note: str | None = None,
) -> Alert:
    """A Cancel of ``earlier``, referencing it (and what it referenced) as an update does.

    Receivers that route by area and event (CAP-AU, IPAWS practice) need info blocks in a
    cancel, so each earlier info is kept with the same language, category, event, event codes,
    severity, certainty, audience, sender name, web, contact and areas, and with urgency
    ``Past``, response type ``AllClear``, the headline prefixed ``CANCELLED:`` and a short
    description saying what is cancelled. Instructions, parameters (e.g. WEA texts), resources
    (e.g. EAS audio), effective and onset are dropped: they belong to the cancelled warning.
    ``expires`` is kept when still ahead, else it is ``now`` plus one hour, so that the cancel
    itself is live long enough to be delivered. An alert without info gets a cancel without info.
    """
    earlier_ref = _reference_to(earlier)
    now_fixed = _fixed_offset(_aware_now(now), "now")
    draft = replace(
        earlier,
        note=note,
        infos=tuple(_cancelled_info(info, earlier_ref, now_fixed) for info in earlier.infos),
    )
    # Through the description so that the cancel gets every check a new alert gets.
    desc = description_from_alert(draft)
    desc["references"] = [*earlier.references, earlier_ref]
    desc["msg_type"] = "Cancel"
    return _build_alert(desc, now=now, identifier=identifier, builtin_defaults=False)


def _cancelled_info(info: Info, earlier_ref: Reference, now: datetime) -> Info:
    expires: datetime | None = None
    if info.expires is not None:
        expires = info.expires if info.expires > now else now + CANCEL_MINIMUM_LIFETIME
    headline = info.headline or info.event
    return Info(
        category=info.category,
        event=info.event,
        urgency="Past",
        severity=info.severity,
        certainty="Likely" if info.certainty == "Very Likely" else info.certainty,
        language=info.language,
        response_type=("AllClear",),
        audience=info.audience,
        event_codes=info.event_codes,
        expires=expires,
        sender_name=info.sender_name,
        headline=CANCELLED_PREFIX + headline if headline else CANCELLED_PREFIX.strip(),
        description=(
            f"The {info.event or 'alert'} message sent at {earlier_ref.sent_text} "
            f"(identifier {earlier_ref.identifier}) is cancelled."
        ),
        web=info.web,
        contact=info.contact,
        areas=info.areas,
    )


def _reference_to(earlier: Alert) -> Reference:
    try:
        return earlier.as_reference()
    except CapModelError:
        raise CapAuthoringError(
            f"the earlier alert {earlier.identifier!r} has no valid <sent> time, so it cannot "
            "be referenced; fix or re-issue it as a new alert"
        ) from None


def _with_defaults(desc: Mapping[str, Any], defaults: Mapping[str, Any] | None) -> dict[str, Any]:
    if not isinstance(desc, Mapping):
        raise CapAuthoringError("the description must be a mapping (a TOML table, JSON object)")
    merged = dict(desc)
    if not defaults:
        return merged
    check_keys(defaults, ALERT_KEYS, "defaults")
    for key, value in defaults.items():
        if key != "info":
            merged.setdefault(key, value)
    info_defaults = defaults.get("info")
    if info_defaults is None:
        return merged
    if not isinstance(info_defaults, Mapping):
        raise CapAuthoringError("defaults.info: expected a table of info keys for every info")
    check_keys(info_defaults, INFO_KEYS, "defaults.info")
    infos = merged.get("info")
    if isinstance(infos, Mapping):
        infos = [infos]
    if isinstance(infos, list):
        merged["info"] = [
            {**info_defaults, **info} if isinstance(info, Mapping) else info for info in infos
        ]
    return merged


def _build_alert(
    desc: Mapping[str, Any], *, now: datetime, identifier: str | None, builtin_defaults: bool
) -> Alert:
    check_keys(desc, ALERT_KEYS, "")
    now = _aware_now(now)
    sent = _fixed_offset(now, "now")

    def field(key: str) -> Any:
        value = desc.get(key)
        if builtin_defaults and (value is None or value == "") and key in BUILTIN_DEFAULTS:
            return BUILTIN_DEFAULTS[key]
        return value

    sender = _required_text(desc.get("sender"), "sender", "who sends the alert, e.g. an e-mail")
    problem = identifier_problem(sender, "sender")
    if problem is not None:
        raise CapAuthoringError(f"sender: {problem}")
    status = _choice(field("status"), STATUS["1.2"], "status", required=True)
    msg_type = _choice(field("msg_type"), MSG_TYPE, "msg_type", required=True)
    scope = _choice(field("scope"), SCOPE, "scope", required=True)
    restriction = _text(desc.get("restriction"), "restriction")
    addresses = _addresses(desc.get("addresses"))
    if scope == "Restricted" and restriction is None:
        raise CapAuthoringError(
            "restriction: scope is Restricted, so CAP requires a restriction saying who may "
            "see the alert (or use scope Public)"
        )
    if scope == "Private" and addresses is None:
        raise CapAuthoringError(
            "addresses: scope is Private, so CAP requires the addresses of the recipients "
            "(or use scope Public)"
        )
    references = _references(desc.get("references"))
    if msg_type in ("Update", "Cancel", "Ack", "Error") and not references:
        raise CapAuthoringError(
            f"references: a msgType {msg_type} message must name the earlier alert(s) it "
            "refers to as sender,identifier,sent (update_alert and cancel_alert fill this in)"
        )
    infos_value = desc.get("info")
    if infos_value is None:
        infos_value = []
    elif isinstance(infos_value, Mapping):
        infos_value = [infos_value]
    if not isinstance(infos_value, list | tuple):
        raise CapAuthoringError(f"info: expected a list of info tables, not {_kind(infos_value)}")
    infos = tuple(_info(value, f"info[{n}]", now, sent) for n, value in enumerate(infos_value, 1))
    ident = identifier if identifier is not None else _text(desc.get("identifier"), "identifier")
    if ident is None:
        ident = new_identifier(sender, now)
    problem = identifier_problem(ident)
    if problem is not None:
        raise CapAuthoringError(f"identifier: {problem}")
    return Alert(
        identifier=ident,
        sender=sender,
        sent=sent,
        status=status,
        msg_type=msg_type,
        scope=scope,
        source=_text(desc.get("source"), "source"),
        restriction=restriction,
        addresses=addresses,
        codes=_text_list(desc.get("codes"), "codes"),
        note=_text(desc.get("note"), "note"),
        references=references,
        incidents=_incidents(desc.get("incidents")),
        infos=infos,
    )


def _info(value: Any, where: str, now: datetime, sent: datetime) -> Info:
    info = _mapping(value, where)
    check_keys(info, INFO_KEYS, where)

    def key(name: str) -> str:
        return at(where, name)

    language = _text(info.get("language"), key("language"))
    if language is not None and not _LANGUAGE_RE.fullmatch(language):
        raise CapAuthoringError(
            f"{key('language')}: {language!r} is not a language tag; write one such as "
            "'en-US', 'fr-CA' or 'es'"
        )
    category = _choices(info.get("category"), CATEGORY["1.2"], key("category"))
    if not category:
        raise CapAuthoringError(
            f"{key('category')}: missing; CAP needs at least one category "
            f"({', '.join(CATEGORY['1.2'])})"
        )
    effective = _time(info.get("effective"), key("effective"), now)
    onset = _time(info.get("onset"), key("onset"), now)
    expires = _time(info.get("expires"), key("expires"), now)
    if expires is not None:
        if expires <= sent:
            raise CapAuthoringError(
                f"{key('expires')}: {format_cap_datetime(expires)} is not after the alert is "
                f"sent ({format_cap_datetime(sent)}); give a later time or one relative to now "
                "such as '+6h'"
            )
        for name, when in (("effective", effective), ("onset", onset)):
            if when is not None and when >= expires:
                raise CapAuthoringError(
                    f"{key(name)}: {format_cap_datetime(when)} is not before expires "
                    f"({format_cap_datetime(expires)})"
                )
    web = _text(info.get("web"), key("web"))
    if web is not None and not _ABSOLUTE_URI_RE.fullmatch(web):
        raise CapAuthoringError(
            f"{key('web')}: {web!r} is not a full absolute URI; CAP wants e.g. "
            "'https://example.gov/alerts/123'"
        )
    areas_value = info.get("areas") or []
    if isinstance(areas_value, Mapping):
        areas_value = [areas_value]
    resources_value = info.get("resources") or []
    if isinstance(resources_value, Mapping):
        resources_value = [resources_value]
    return Info(
        category=category,
        event=_required_text(info.get("event"), key("event"), "what happens, e.g. 'Flood'"),
        urgency=_choice(info.get("urgency"), URGENCY, key("urgency"), required=True),
        severity=_choice(info.get("severity"), SEVERITY, key("severity"), required=True),
        certainty=_choice(info.get("certainty"), CERTAINTY["1.2"], key("certainty"), required=True),
        language=language,
        response_type=_choices(
            info.get("response_type"), RESPONSE_TYPE["1.2"], key("response_type")
        ),
        audience=_text(info.get("audience"), key("audience")),
        event_codes=_pairs(info.get("event_codes"), EventCode, key("event_codes")),
        effective=effective,
        onset=onset,
        expires=expires,
        sender_name=_text(info.get("sender_name"), key("sender_name")),
        headline=_text(info.get("headline"), key("headline")),
        description=_text(info.get("description"), key("description")),
        instruction=_text(info.get("instruction"), key("instruction")),
        web=web,
        contact=_text(info.get("contact"), key("contact")),
        parameters=_pairs(info.get("parameters"), Parameter, key("parameters")),
        resources=tuple(
            _resource(r, f"{key('resources')}[{n}]")
            for n, r in enumerate(_list(resources_value, key("resources")), 1)
        ),
        areas=tuple(
            _area(a, f"{key('areas')}[{n}]")
            for n, a in enumerate(_list(areas_value, key("areas")), 1)
        ),
    )


def _resource(value: Any, where: str) -> Resource:
    res = _mapping(value, where)
    check_keys(res, RESOURCE_KEYS, where)
    size = res.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise CapAuthoringError(
            f"{at(where, 'size')}: expected a whole number of bytes, not {size!r}"
        )
    uri = _text(res.get("uri"), at(where, "uri"))
    if uri is not None and re.search(r"\s", uri):
        raise CapAuthoringError(
            f"{at(where, 'uri')}: {uri!r} contains white space; encode it as %20"
        )
    deref = _text(res.get("deref_uri"), at(where, "deref_uri"))
    if deref is not None:
        try:
            base64.b64decode(re.sub(r"\s", "", deref), validate=True)
        except binascii.Error:
            raise CapAuthoringError(
                f"{at(where, 'deref_uri')}: not Base64; CAP carries the resource content "
                "Base64-encoded here"
            ) from None
    return Resource(
        resource_desc=_required_text(
            res.get("resource_desc"), at(where, "resource_desc"), "what the resource is, e.g. 'map'"
        ),
        mime_type=_required_text(
            res.get("mime_type"), at(where, "mime_type"), "its MIME type, e.g. 'image/png'"
        ),
        size=size,
        uri=uri,
        deref_uri=deref,
        digest=_text(res.get("digest"), at(where, "digest")),
    )


def _area(value: Any, where: str) -> Area:
    area = _mapping(value, where)
    check_keys(area, AREA_KEYS, where)
    altitude = _number(area.get("altitude"), at(where, "altitude"))
    ceiling = _number(area.get("ceiling"), at(where, "ceiling"))
    if ceiling is not None:
        if altitude is None:
            raise CapAuthoringError(
                f"{at(where, 'ceiling')}: CAP allows a ceiling only together with an altitude; "
                "add altitude (the floor, in feet above sea level)"
            )
        if ceiling < altitude:
            raise CapAuthoringError(
                f"{at(where, 'ceiling')}: {ceiling} is below the altitude {altitude}"
            )
    return Area(
        area_desc=_required_text(
            area.get("area_desc"), at(where, "area_desc"), "the affected area in words"
        ),
        polygons=_polygons(area.get("polygons"), at(where, "polygons")),
        circles=_circles(area.get("circles"), at(where, "circles")),
        geocodes=_pairs(area.get("geocodes"), Geocode, at(where, "geocodes")),
        altitude=altitude,
        ceiling=ceiling,
    )


# --- geometry -------------------------------------------------------------------------------


def _is_point(value: Any) -> bool:
    if isinstance(value, str):
        return not re.search(r"\s", value.strip()) and value.count(",") == 1
    if isinstance(value, list | tuple) and len(value) == 2:
        return all(_is_number(v) for v in value)
    return False


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return True
    return isinstance(value, str) and parse_decimal(value) is not None


def _polygons(value: Any, where: str) -> tuple[Polygon, ...]:
    if value is None or value == [] or value == "":
        return ()
    if isinstance(value, str):
        return () if _blank(value) else (_polygon(value, f"{where}[1]"),)
    if not isinstance(value, list | tuple):
        raise CapAuthoringError(
            f"{where}: expected a list of polygons ('lat,lon lat,lon ...' or [[lat, lon], ...]), "
            f"not {_kind(value)}"
        )
    if all(_is_point(v) for v in value):
        # One polygon given directly as its points.
        return (_polygon(list(value), f"{where}[1]"),)
    # An empty string is an absent polygon (NWS feeds write <polygon></polygon>).
    return tuple(_polygon(v, f"{where}[{n}]") for n, v in enumerate(value, 1) if not _blank(v))


def _polygon(value: Any, where: str) -> Polygon:
    if isinstance(value, str):
        tokens: list[Any] = value.split()
    elif isinstance(value, list | tuple):
        tokens = list(value)
    else:
        raise CapAuthoringError(
            f"{where}: expected 'lat,lon lat,lon ...' or a list of [lat, lon], not {_kind(value)}"
        )
    points = [_point(t, f"{where} point {n}") for n, t in enumerate(tokens, 1)]
    if points and points[0] != points[-1]:
        points.append(points[0])
    distinct = len(set(points))
    if distinct < 3:
        raise CapAuthoringError(
            f"{where}: the polygon has {distinct} distinct point(s); CAP needs at least 3 "
            "(4 points with the first and last the same)"
        )
    return Polygon(tuple(points))


def _point(value: Any, where: str) -> Point:
    if isinstance(value, str):
        parts: list[Any] = value.strip().split(",")
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        raise CapAuthoringError(f"{where}: expected 'lat,lon' or [lat, lon], not {_kind(value)}")
    if len(parts) != 2:
        raise CapAuthoringError(
            f"{where}: {value!r} is not a point; write latitude,longitude (e.g. 38.47,-120.14)"
        )
    lat = _number(parts[0], f"{where} latitude")
    lon = _number(parts[1], f"{where} longitude")
    assert lat is not None and lon is not None
    if not -90 <= lat <= 90:
        raise CapAuthoringError(
            f"{where}: latitude {lat} is outside -90..90; CAP writes latitude first"
        )
    if not -180 <= lon <= 180:
        raise CapAuthoringError(f"{where}: longitude {lon} is outside -180..180")
    return Point(lat, lon)


def _circles(value: Any, where: str) -> tuple[Circle, ...]:
    if value is None or value == [] or value == "":
        return ()
    if isinstance(value, str | Mapping):
        return (_circle(value, f"{where}[1]"),)
    if not isinstance(value, list | tuple):
        raise CapAuthoringError(
            f"{where}: expected a list of circles ('lat,lon radius_km'), not {_kind(value)}"
        )
    return tuple(_circle(v, f"{where}[{n}]") for n, v in enumerate(value, 1) if not _blank(v))


def _blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def _circle(value: Any, where: str) -> Circle:
    if isinstance(value, str):
        parts = value.split()
        if len(parts) != 2:
            raise CapAuthoringError(
                f"{where}: {value!r} is not a circle; write 'lat,lon radius' with the radius in "
                "km (e.g. '32.9525,-115.5527 10')"
            )
        center = _point(parts[0], f"{where} centre")
        radius = _number(parts[1], f"{where} radius")
    elif isinstance(value, Mapping):
        check_keys(value, CIRCLE_KEYS, where)
        if "center" not in value or "radius_km" not in value:
            raise CapAuthoringError(f"{where}: give both center [lat, lon] and radius_km")
        center = _point(value["center"], f"{at(where, 'center')}")
        radius = _number(value["radius_km"], at(where, "radius_km"))
    else:
        raise CapAuthoringError(
            f"{where}: expected 'lat,lon radius' or {{center, radius_km}}, not {_kind(value)}"
        )
    assert radius is not None
    if radius < 0:
        # Zero is allowed: USGS, for one, marks an epicentre with a circle of radius 0.
        raise CapAuthoringError(f"{where}: the radius cannot be negative ({radius} km)")
    return Circle(center, radius)


def _number(value: Any, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CapAuthoringError(f"{where}: expected a number, not {_kind(value)}")
    if isinstance(value, Decimal):
        number: Decimal | None = value
    elif isinstance(value, int | float | str):
        number = parse_decimal(repr(value) if isinstance(value, float) else str(value))
    else:
        number = None
    if number is None or not number.is_finite():
        raise CapAuthoringError(f"{where}: {value!r} is not a decimal number")
    return number


# --- times ----------------------------------------------------------------------------------


def _aware_now(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise CapAuthoringError(
            "now: the authoring time must be an aware datetime (with a time zone) so that sent "
            "carries the right offset, e.g. datetime.now(ZoneInfo('Europe/Paris'))"
        )
    return now


def _fixed_offset(value: datetime, where: str) -> datetime:
    """``value`` without microseconds, in a fixed-offset zone (what CAP can write)."""
    offset = value.utcoffset()
    assert offset is not None
    if offset.total_seconds() % 60:
        raise CapAuthoringError(
            f"{where}: the time zone offset {offset} is not whole minutes, which CAP cannot write"
        )
    return value.replace(microsecond=0).astimezone(timezone(offset))


def _time(value: Any, where: str, now: datetime) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise CapAuthoringError(
                f"{where}: {value.isoformat()} has no time zone offset; add one (e.g. "
                "2024-05-01T18:00:00-05:00) or give a time relative to now such as '+6h'"
            )
        return _fixed_offset(value, where)
    if not isinstance(value, str):
        raise CapAuthoringError(
            f"{where}: expected a date-time with offset or a duration such as '+6h', "
            f"not {_kind(value)}"
        )
    text = value.strip()
    delta = _duration(text, where)
    if delta is not None:
        instant = now.astimezone(UTC) + delta
        return _fixed_offset(instant.astimezone(now.tzinfo), where)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CapAuthoringError(
            f"{where}: {text!r} is neither a date-time such as 2024-05-01T18:00:00-05:00 nor a "
            "time relative to now such as '+6h', '90m', '1h30m' or 'PT6H'"
        ) from None
    if parsed.utcoffset() is None:
        raise CapAuthoringError(
            f"{where}: {text!r} has no time zone offset; add one (e.g. -05:00, or -00:00 for UTC)"
        )
    return _fixed_offset(parsed, where)


def _duration(text: str, where: str) -> timedelta | None:
    """A time relative to now (``+6h``, ``-30m``, ``PT6H``, ``now``), or ``None``."""
    if text.lower() == "now":
        return timedelta(0)
    sign = 1
    body = text
    if body.startswith(("+", "-")):
        sign = -1 if body[0] == "-" else 1
        body = body[1:].strip()
    lowered = body.lower()
    if _COMPACT_DURATION_RE.fullmatch(lowered):
        seconds = sum(
            float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
            for m in _COMPACT_PART_RE.finditer(lowered)
        )
        return timedelta(seconds=sign * seconds)
    m = _ISO_DURATION_RE.fullmatch(body.upper())
    if m is not None and body.upper() not in ("P", "PT") and not body.upper().endswith("T"):
        weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
        return sign * timedelta(
            weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds
        )
    if re.fullmatch(r"P.*\d+[YM].*", body.upper().split("T")[0]):
        raise CapAuthoringError(
            f"{where}: {text!r} uses months or years, which have no fixed length; "
            "give the duration in weeks, days or hours (e.g. P30D)"
        )
    return None


# --- values ---------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CapAuthoringError(f"{where}: expected a table of keys, not {_kind(value)}")
    return value


def _list(value: Any, where: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise CapAuthoringError(f"{where}: expected a list, not {_kind(value)}")
    return value


def _text(value: Any, where: str) -> str | None:
    """Optional text: stripped, line ends as XML will read them back; empty means absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        hint = "; put it in quotes" if isinstance(value, int | float) else ""
        raise CapAuthoringError(f"{where}: expected text, not {_kind(value)}{hint}")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    bad = _XML_ILLEGAL_RE.search(text)
    if bad is not None:
        raise CapAuthoringError(
            f"{where}: contains the control character U+{ord(bad.group()):04X}, which XML "
            "cannot carry; remove it"
        )
    return text or None


def _required_text(value: Any, where: str, what: str) -> str:
    text = _text(value, where)
    if text is None:
        raise CapAuthoringError(f"{where}: missing; CAP requires it ({what})")
    return text


def _choice(value: Any, allowed: Sequence[str], where: str, *, required: bool = False) -> str:
    text = _text(value, where)
    if text is None:
        if required:
            raise CapAuthoringError(f"{where}: missing; CAP requires one of {', '.join(allowed)}")
        return ""
    by_fold = {a.casefold(): a for a in allowed}
    found = by_fold.get(text.casefold()) or by_fold.get(text.replace(" ", "").casefold())
    if found is not None:
        return found
    hint = ""
    if text.casefold() == "very likely":
        hint = " (CAP 1.2 replaced 'Very Likely' with 'Likely')"
    close = difflib.get_close_matches(text, allowed, n=1, cutoff=0.6)
    guess = f"; did you mean {close[0]!r}?" if close else ""
    raise CapAuthoringError(
        f"{where}: {text!r} is not allowed{hint}{guess} (CAP allows {', '.join(allowed)})"
    )


def _choices(value: Any, allowed: Sequence[str], where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise CapAuthoringError(f"{where}: expected text or a list of text, not {_kind(value)}")
    result: list[str] = []
    for n, item in enumerate(items, 1):
        here = where if isinstance(value, str) else f"{where}[{n}]"
        choice = _choice(item, allowed, here)
        if choice and choice not in result:
            result.append(choice)
    return tuple(result)


def _text_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise CapAuthoringError(f"{where}: expected text or a list of text, not {_kind(value)}")
    result = (_text(item, f"{where}[{n}]") for n, item in enumerate(items, 1))
    return tuple(t for t in result if t is not None)


def _addresses(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        items = _text_list(value, "addresses")
        return join_cap_list(list(items)) if items else None
    return _text(value, "addresses")


def _incidents(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        text = _text(value, "incidents")
        return split_cap_list(text) if text else ()
    items = _text_list(value, "incidents")
    for n, item in enumerate(items, 1):
        if '"' in item:
            raise CapAuthoringError(f"incidents[{n}]: {item!r} contains a double quote")
    return items


def _pairs(value: Any, cls: type[ValuePair], where: str) -> tuple[Any, ...]:
    if value is None or value == [] or value == {}:
        return ()
    pairs: list[ValuePair] = []
    for n, (name, v) in enumerate(pair_items(value, where), 1):
        here = f"{where}[{n}]"
        name_text = _pair_text(name, f"{here} name")
        value_text = _pair_text(v, f"{here} ({name_text}) value")
        if not name_text:
            raise CapAuthoringError(f"{here}: the value name is empty")
        pairs.append(cls(name_text, value_text))
    return tuple(pairs)


def _pair_text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        hint = (
            "; put it in quotes so that leading zeros and exact spelling are kept"
            if isinstance(value, int | float | bool)
            else ""
        )
        raise CapAuthoringError(f"{where}: expected text, not {_kind(value)}{hint}")
    return _text(value, where) or ""


def _references(value: Any) -> tuple[Reference, ...]:
    if value is None or value == "" or value == []:
        return ()
    items: list[Any]
    if isinstance(value, str | Reference):
        items = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise CapAuthoringError(
            f"references: expected a list of 'sender,identifier,sent', not {_kind(value)}"
        )
    refs: list[Reference] = []
    for n, item in enumerate(items, 1):
        here = f"references[{n}]"
        if isinstance(item, Reference):
            refs.append(item)
        elif isinstance(item, str):
            refs.extend(parse_references(item))
        else:
            raise CapAuthoringError(f"{here}: expected 'sender,identifier,sent', not {_kind(item)}")
    return _dedupe_references(refs, "references")


def _dedupe_references(refs: Sequence[Reference], where: str) -> tuple[Reference, ...]:
    seen: set[tuple[str, str, datetime | str]] = set()
    result: list[Reference] = []
    for n, ref in enumerate(refs, 1):
        ref = _checked_reference(ref, f"{where}[{n}]")
        key = (ref.sender, ref.identifier, ref.sent if ref.sent is not None else ref.sent_text)
        if key not in seen:
            seen.add(key)
            result.append(ref)
    return tuple(result)


def _checked_reference(ref: Reference, where: str) -> Reference:
    if not (ref.sender and ref.identifier and ref.sent_text):
        raise CapAuthoringError(
            f"{where}: {ref.as_text()!r} is not sender,identifier,sent "
            "(e.g. alerts@example.gov,ABC-123,2024-05-01T12:00:00-05:00)"
        )
    for part, what in ((ref.sender, "sender"), (ref.identifier, "identifier")):
        problem = identifier_problem(part, what)
        if problem is not None:
            raise CapAuthoringError(f"{where}: {problem}")
    if CAP_DATETIME_RE.match(ref.sent_text):
        return ref
    sent = ref.sent or parse_lenient_datetime(ref.sent_text)
    if sent is None:
        raise CapAuthoringError(
            f"{where}: the sent time {ref.sent_text!r} is not a date-time; write it as the "
            "referenced alert's <sent>, e.g. 2024-05-01T12:00:00-05:00"
        )
    try:
        text = format_cap_datetime(sent.replace(microsecond=0))
    except CapFormatError as exc:
        raise CapAuthoringError(f"{where}: {exc}") from None
    return Reference(ref.sender, ref.identifier, sent, text)
