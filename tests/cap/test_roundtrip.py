"""parse -> serialize -> parse is the identity on the model, for real alerts and generated ones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cap.hardened_xml import parse_xml
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
)
from cap.parsing import ParsedAlert, build_alert, cap_version_of, parse_alert
from cap.serialize import serialize_alert
from cap.timefmt import format_cap_datetime

CORPUS_SUFFIXES = {".cap", ".xml", ".txt", ".atom", ".rss", ".edxlde"}


def corpus_alerts(shared_data: Path) -> list[tuple[str, ParsedAlert]]:
    found: list[tuple[str, ParsedAlert]] = []
    for path in sorted((shared_data / "cap" / "alerts").rglob("*")):
        if path.suffix not in CORPUS_SUFFIXES:
            continue
        data = path.read_bytes()
        try:
            tree = parse_xml(data)
        except Exception:  # refused documents (DOCTYPE, bad encoding) have no model
            continue
        for el in tree.getroot().iter():
            version = cap_version_of(el) if isinstance(el.tag, str) else None
            if version is not None:
                label = f"{path.parent.name}/{path.name}:{el.sourceline}"
                found.append((label, build_alert(el, version, data, tree.docinfo.encoding)))
    return found


def _offsets(alert: Alert) -> list[object]:
    times: list[object] = [alert.sent.utcoffset() if alert.sent else None]
    for info in alert.infos:
        for t in (info.effective, info.onset, info.expires):
            times.append(t.utcoffset() if t else None)
    return times


def test_every_alert_in_the_corpus_round_trips(shared_data: Path) -> None:
    alerts = corpus_alerts(shared_data)
    assert len(alerts) >= 90, "the corpus should hold about a hundred alerts"
    versions = {p.version for _, p in alerts}
    assert versions == {"1.0", "1.1", "1.2"}
    for label, parsed in alerts:
        again = parse_alert(serialize_alert(parsed.alert))
        assert again.version == "1.2"
        assert again.alert == parsed.alert, label
        assert _offsets(again.alert) == _offsets(parsed.alert), label


def test_serialization_is_stable(shared_data: Path) -> None:
    for label, parsed in corpus_alerts(shared_data)[:40]:
        once = serialize_alert(parsed.alert)
        assert serialize_alert(parse_alert(once).alert) == once, label


def test_known_values_survive(shared_data: Path) -> None:
    path = shared_data / "cap/alerts/kelvinn__capparselib/NOAA_MultiplePolygons.txt"
    alert = parse_alert(path.read_bytes()).alert
    assert len(alert.infos[0].areas[0].polygons) == 2
    ph = parse_alert((shared_data / "cap/alerts/kelvinn__capparselib/ph.cap").read_bytes())
    assert ph.alert.sender == "PAGASA-DOST"
    assert format_cap_datetime(ph.alert.sent) == "2014-11-03T14:57:33+08:00"  # type: ignore[arg-type]
    old = shared_data / "cap/alerts/willglynn__oasiscap/v1dot0_appendix_adot2.xml"
    cap10 = parse_alert(old.read_bytes())
    assert cap10.version == "1.0"
    assert cap10.alert.infos[0].event_codes == (EventCode("same", "SVR"),)
    assert Geocode("fips6", "006109") in cap10.alert.infos[0].areas[0].geocodes


# Text that XML 1.0 can carry unchanged (no C0 controls, no CR, which parsers normalise).
xml_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\ufffe\uffff"
    ),
    max_size=30,
)
token = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters="-._@:/"),
    min_size=1,
    max_size=16,
)
offsets = st.integers(min_value=-720, max_value=840).map(lambda m: timezone(timedelta(minutes=m)))
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=offsets
).map(lambda d: d.replace(microsecond=0))
lat = st.decimals(min_value=-90, max_value=90, places=3, allow_nan=False)
lon = st.decimals(min_value=-180, max_value=180, places=3, allow_nan=False)
points = st.builds(Point, lat, lon)
polygons = st.lists(points, min_size=3, max_size=8).map(lambda r: Polygon((*r, r[0])))
circles = st.builds(
    Circle, points, st.decimals(min_value=0, max_value=500, places=2, allow_nan=False)
)
areas = st.builds(
    Area,
    area_desc=xml_text,
    polygons=st.lists(polygons, max_size=2).map(tuple),
    circles=st.lists(circles, max_size=2).map(tuple),
    geocodes=st.lists(st.builds(Geocode, xml_text, xml_text), max_size=3).map(tuple),
    altitude=st.none() | st.decimals(min_value=-1000, max_value=60000, places=1, allow_nan=False),
    ceiling=st.none() | st.decimals(min_value=0, max_value=60000, places=1, allow_nan=False),
)
resources = st.builds(
    Resource,
    resource_desc=xml_text,
    mime_type=st.none() | xml_text,
    size=st.none() | st.integers(min_value=0, max_value=10**9),
    uri=st.none() | xml_text,
    deref_uri=st.none() | xml_text,
    digest=st.none() | xml_text,
)
optional = st.none() | xml_text
infos = st.builds(
    Info,
    category=st.lists(xml_text, min_size=1, max_size=3).map(tuple),
    event=xml_text,
    urgency=xml_text,
    severity=xml_text,
    certainty=xml_text,
    language=optional,
    response_type=st.lists(xml_text, max_size=2).map(tuple),
    audience=optional,
    event_codes=st.lists(st.builds(EventCode, xml_text, xml_text), max_size=2).map(tuple),
    effective=st.none() | times,
    onset=st.none() | times,
    expires=st.none() | times,
    sender_name=optional,
    headline=optional,
    description=optional,
    instruction=optional,
    web=optional,
    contact=optional,
    parameters=st.lists(st.builds(Parameter, xml_text, xml_text), max_size=3).map(tuple),
    resources=st.lists(resources, max_size=2).map(tuple),
    areas=st.lists(areas, max_size=2).map(tuple),
)
references = st.builds(
    lambda s, i, t: Reference(s, i, t, format_cap_datetime(t)),
    token.filter(lambda t: "," not in t),
    token.filter(lambda t: "," not in t),
    times,
)
alerts = st.builds(
    Alert,
    identifier=xml_text,
    sender=xml_text,
    sent=st.none() | times,
    status=xml_text,
    msg_type=xml_text,
    scope=optional,
    source=optional,
    restriction=optional,
    addresses=optional,
    codes=st.lists(xml_text, max_size=3).map(tuple),
    note=optional,
    references=st.lists(references, max_size=3).map(tuple),
    incidents=st.lists(token.filter(lambda t: '"' not in t), max_size=3).map(tuple),
    infos=st.lists(infos, max_size=3).map(tuple),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(alerts)
def test_generated_alerts_round_trip(alert: Alert) -> None:
    again = parse_alert(serialize_alert(alert)).alert
    assert again == alert
    assert _offsets(again) == _offsets(alert)


@pytest.mark.parametrize("pretty", [True, False])
def test_output_is_utf8_cap12_with_declaration(pretty: bool) -> None:
    alert = Alert("id-1", "me@example.org", None, "Actual", "Alert", "Public")
    out = serialize_alert(alert, pretty=pretty)
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="urn:oasis')
