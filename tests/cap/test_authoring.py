from __future__ import annotations

import copy
import csv
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from cap.authoring import (
    CANCELLED_PREFIX,
    alert_from_description,
    cancel_alert,
    update_alert,
)
from cap.errors import CapAuthoringError, NotCapError
from cap.model import Alert, Area, Point, Polygon
from cap.parsing import ParsedAlert, parse_alert
from cap.serialize import serialize_alert

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
SENDER = "alerts@met.example.gov"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(REPO / "cap" / "schemas" / "CAP-v1.2.xsd")))


def written(alert: Alert, schema: etree.XMLSchema) -> ParsedAlert:
    """Serialize, check against the OASIS schema, parse back."""
    data = serialize_alert(alert)
    doc = etree.fromstring(data)
    assert schema.validate(doc), str(schema.error_log)
    return parse_alert(data)


def flood(**info_overrides: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "language": "en-US",
        "category": "Met",
        "event": "Flood",
        "response_type": ["Prepare", "Avoid"],
        "urgency": "Expected",
        "severity": "Severe",
        "certainty": "Likely",
        "expires": "+6h",
        "headline": "Flood warning for the Lower Valley",
        "description": "The river is rising.\nLow roads will flood.\n",
        "instruction": "Move to higher ground.",
        "web": "https://met.example.gov/warnings/1",
        "event_codes": {"SAME": "FLW"},
        "parameters": [["EAS-ORG", "WXR"], {"value_name": "VTEC", "value": "/O.NEW/"}],
        "areas": [
            {
                "area_desc": "Lower Valley",
                "polygons": ["38.47,-120.14 38.34,-119.95 38.52,-119.74"],
                "circles": ["38.4,-120.0 15"],
                "geocodes": {"SAME": ["006109", "006111"]},
            }
        ],
    }
    info.update(info_overrides)
    return {"sender": SENDER, "info": [info]}


def error_for(desc: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(CapAuthoringError) as caught:
        alert_from_description(desc, now=kwargs.pop("now", NOW), **kwargs)
    return str(caught.value)


# --- new alerts ----------------------------------------------------------------------------


def test_new_alert_validates_and_round_trips(schema: etree.XMLSchema) -> None:
    alert = alert_from_description(flood(), now=NOW)
    parsed = written(alert, schema)
    assert parsed.version == "1.2"
    assert parsed.alert == alert
    info = alert.infos[0]
    assert (alert.status, alert.msg_type, alert.scope) == ("Actual", "Alert", "Public")
    assert info.category == ("Met",)
    assert info.description == "The river is rising.\nLow roads will flood."
    assert [(g.value_name, g.value) for g in info.areas[0].geocodes] == [
        ("SAME", "006109"),
        ("SAME", "006111"),
    ]
    assert info.parameter("VTEC") == "/O.NEW/"


@pytest.mark.parametrize(
    ("zone", "sent_text", "expires_text"),
    [
        (UTC, "2024-05-01T12:00:00-00:00", "2024-05-01T18:00:00-00:00"),
        (ZoneInfo("Asia/Kolkata"), "2024-05-01T17:30:00+05:30", "2024-05-01T23:30:00+05:30"),
        (ZoneInfo("America/Chicago"), "2024-05-01T07:00:00-05:00", "2024-05-01T13:00:00-05:00"),
    ],
)
def test_sent_and_relative_times_carry_the_offset_of_now(
    schema: etree.XMLSchema, zone: Any, sent_text: str, expires_text: str
) -> None:
    now = NOW.astimezone(zone)
    parsed = written(alert_from_description(flood(), now=now), schema)
    assert parsed.source_map.text("/alert/sent") == sent_text
    assert parsed.source_map.text("/alert/info[1]/expires") == expires_text


def test_microseconds_of_now_are_dropped(schema: etree.XMLSchema) -> None:
    parsed = written(alert_from_description(flood(), now=NOW.replace(microsecond=987654)), schema)
    assert parsed.source_map.text("/alert/sent") == "2024-05-01T12:00:00-00:00"


def test_naive_now_is_refused() -> None:
    message = error_for(flood(), now=datetime(2024, 5, 1, 12, 0))
    assert "aware datetime" in message


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("+6h", timedelta(hours=6)),
        ("6h", timedelta(hours=6)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("PT6H", timedelta(hours=6)),
        ("P1DT12H", timedelta(hours=36)),
        ("PT45M", timedelta(minutes=45)),
        ("+P1W", timedelta(weeks=1)),
    ],
)
def test_relative_times(text: str, delta: timedelta) -> None:
    alert = alert_from_description(flood(expires=text), now=NOW)
    assert alert.infos[0].expires == NOW + delta


def test_negative_relative_time_and_now() -> None:
    alert = alert_from_description(flood(effective="-30m", onset="now"), now=NOW)
    assert alert.infos[0].effective == NOW - timedelta(minutes=30)
    assert alert.infos[0].onset == NOW


def test_relative_time_across_a_dst_change_is_real_elapsed_time(
    schema: etree.XMLSchema,
) -> None:
    # 01:30 EST on the night US clocks jump from 02:00 to 03:00.
    now = datetime(2024, 3, 10, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    alert = alert_from_description(flood(expires="+2h"), now=now)
    expires = alert.infos[0].expires
    assert expires is not None
    assert expires - now == timedelta(hours=2)
    parsed = written(alert, schema)
    assert parsed.source_map.text("/alert/sent") == "2024-03-10T01:30:00-05:00"
    assert parsed.source_map.text("/alert/info[1]/expires") == "2024-03-10T04:30:00-04:00"


def test_absolute_times_keep_their_own_offset(schema: etree.XMLSchema) -> None:
    desc = flood(onset="2024-05-01T15:00:00+02:00", expires="2024-05-02T06:00:00Z")
    parsed = written(alert_from_description(desc, now=NOW), schema)
    assert parsed.source_map.text("/alert/info[1]/onset") == "2024-05-01T15:00:00+02:00"
    assert parsed.source_map.text("/alert/info[1]/expires") == "2024-05-02T06:00:00-00:00"


def test_datetime_objects_from_toml_or_yaml_are_accepted() -> None:
    expires = datetime(2024, 5, 1, 20, 0, tzinfo=timezone(timedelta(hours=-4)))
    alert = alert_from_description(flood(expires=expires), now=NOW)
    assert alert.infos[0].expires == expires


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2024-05-01T18:00:00", "no time zone offset"),
        (datetime(2024, 5, 1, 18, 0), "no time zone offset"),
        ("tomorrow", "neither a date-time"),
        ("P1M", "months or years"),
        ("2024-05-01T11:00:00-00:00", "not after the alert is sent"),
    ],
)
def test_bad_expires_is_explained(value: Any, fragment: str) -> None:
    message = error_for(flood(expires=value))
    assert message.startswith("info[1].expires: ")
    assert fragment in message


def test_onset_after_expires_is_refused() -> None:
    message = error_for(flood(onset="+8h", expires="+6h"))
    assert message.startswith("info[1].onset: ")


def test_code_list_values_are_matched_without_case() -> None:
    desc = flood(urgency="immediate", severity="EXTREME", certainty="observed")
    desc["status"] = "exercise"
    desc["info"][0]["category"] = ["met", "CBRNE"]
    desc["info"][0]["response_type"] = "allclear"
    alert = alert_from_description(desc, now=NOW)
    info = alert.infos[0]
    assert alert.status == "Exercise"
    assert (info.urgency, info.severity, info.certainty) == ("Immediate", "Extreme", "Observed")
    assert info.category == ("Met", "CBRNE")
    assert info.response_type == ("AllClear",)


def test_polygon_is_closed_and_other_geometry_forms(schema: etree.XMLSchema) -> None:
    desc = flood()
    desc["info"][0]["areas"] = [
        {"area_desc": "strings", "polygons": "10,20 10,21 11,21"},
        {"area_desc": "pairs", "polygons": [[10, 20], [10, 21.5], ["11", "21"], [10, 20]]},
        {
            "area_desc": "list of polygons",
            "polygons": [[[1, 2], [1, 3], [2, 3]], "5,6 5,7 6,7 5,6"],
            "circles": [{"center": [38.5, -120.25], "radius_km": 12}, "1,2 0"],
            "altitude": 1000,
            "ceiling": "30000",
        },
    ]
    alert = alert_from_description(desc, now=NOW)
    parsed = written(alert, schema)
    areas = alert.infos[0].areas
    first = areas[0].polygons[0].points
    assert first[0] == first[-1] == Point(Decimal(10), Decimal(20))
    assert len(first) == 4
    assert len(areas[1].polygons[0].points) == 4
    assert [len(p.points) for p in areas[2].polygons] == [4, 4]
    assert areas[2].circles[0].radius_km == Decimal(12)
    assert parsed.source_map.text("/alert/info[1]/area[2]/polygon[1]") == (
        "10,20 10,21.5 11,21 10,20"
    )
    assert parsed.source_map.text("/alert/info[1]/area[3]/circle[1]") == "38.5,-120.25 12"
    assert parsed.alert == alert


@pytest.mark.parametrize(
    ("area", "location", "fragment"),
    [
        ({"area_desc": "x", "polygons": ["10,20 10,21 10,20"]}, "polygons[1]", "2 distinct"),
        ({"area_desc": "x", "polygons": ["10,20 10;21 11,21"]}, "polygons[1] point 2", "10;21"),
        (
            {"area_desc": "x", "polygons": ["120,20 10,21 11,21"]},
            "polygons[1] point 1",
            "latitude 120",
        ),
        ({"area_desc": "x", "circles": ["10,20"]}, "circles[1]", "lat,lon radius"),
        ({"area_desc": "x", "circles": ["10,20 -3"]}, "circles[1]", "negative"),
        ({"area_desc": "x", "ceiling": 3}, "ceiling", "altitude"),
        ({"polygons": ["10,20 10,21 11,21"]}, "area_desc", "missing"),
        ({"area_desc": "x", "geocodes": {"SAME": 6109}}, "geocodes[1]", "put it in quotes"),
    ],
)
def test_bad_areas_are_located(area: dict[str, Any], location: str, fragment: str) -> None:
    desc = flood()
    desc["info"][0]["areas"] = [{"area_desc": "fine"}, area]
    message = error_for(desc)
    assert message.startswith(f"info[1].areas[2].{location}")
    assert fragment in message


def test_unknown_key_names_the_place_and_the_likely_key() -> None:
    desc = flood()
    desc["info"][0]["areas"].append({"area_desc": "x", "poligon": "1,2 1,3 2,3"})
    message = error_for(desc)
    assert message == "info[1].areas[2]: unknown key 'poligon'; did you mean 'polygons'?"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(msgType="Alert"), "unknown key 'msgType'; did you mean 'msg_type'?"),
        (lambda d: d.update(sendr="x"), "unknown key 'sendr'; did you mean 'sender'?"),
        (lambda d: d["info"][0].update(headlin="x"), "info[1]: unknown key 'headlin'"),
        (lambda d: d["info"][0]["areas"][0].update(areaDesc="x"), "did you mean 'area_desc'?"),
    ],
)
def test_unknown_keys(mutate: Any, expected: str) -> None:
    desc = flood()
    mutate(desc)
    assert expected in error_for(desc)


@pytest.mark.parametrize(
    ("mutate", "start", "fragment"),
    [
        (lambda d: d.pop("sender"), "sender: missing", "CAP requires it"),
        (lambda d: d["info"][0].pop("event"), "info[1].event: missing", ""),
        (lambda d: d["info"][0].pop("severity"), "info[1].severity: missing", "Extreme"),
        (lambda d: d["info"][0].pop("category"), "info[1].category: missing", "Met"),
        (lambda d: d["info"][0].update(severity="sever"), "info[1].severity:", "'Severe'"),
        (lambda d: d["info"][0].update(certainty="Very Likely"), "info[1].certainty", "1.2"),
        (lambda d: d.update(sender="met office"), "sender:", "a space"),
        (lambda d: d.update(identifier="a,b"), "identifier:", "','"),
        (lambda d: d.update(scope="Restricted"), "restriction:", "Restricted"),
        (lambda d: d.update(scope="Private"), "addresses:", "Private"),
        (lambda d: d.update(msg_type="Update"), "references:", "Update"),
        (lambda d: d["info"][0].update(language="en_US"), "info[1].language:", "en-US"),
        (lambda d: d["info"][0].update(web="www.example.gov"), "info[1].web:", "absolute"),
        (lambda d: d["info"][0].update(headline="bell\x07"), "info[1].headline:", "U+0007"),
        (lambda d: d["info"][0].update(headline=5), "info[1].headline:", "quotes"),
        (
            lambda d: d["info"][0].update(resources=[{"resource_desc": "map"}]),
            "info[1].resources[1].mime_type: missing",
            "MIME",
        ),
        (lambda d: d.update(references=["a,b"]), "references[1]:", "sender,identifier,sent"),
    ],
)
def test_bad_values_are_explained(mutate: Any, start: str, fragment: str) -> None:
    desc = flood()
    mutate(desc)
    message = error_for(desc)
    assert message.startswith(start)
    assert fragment in message


def test_defaults_fill_alert_and_every_info(schema: etree.XMLSchema) -> None:
    desc = flood()
    del desc["sender"]
    desc["info"].append(copy.deepcopy(desc["info"][0]) | {"language": "es-US"})
    defaults = {
        "sender": SENDER,
        "status": "Exercise",
        "info": {"sender_name": "Example Met Service", "language": "fr-CA"},
    }
    alert = alert_from_description(desc, now=NOW, defaults=defaults)
    written(alert, schema)
    assert alert.sender == SENDER
    assert alert.status == "Exercise"
    assert [i.sender_name for i in alert.infos] == ["Example Met Service"] * 2
    assert [i.language for i in alert.infos] == ["en-US", "es-US"]


def test_given_identifier_and_description_identifier() -> None:
    assert alert_from_description(flood(), now=NOW, identifier="ID-1").identifier == "ID-1"
    assert alert_from_description(flood() | {"identifier": "ID-2"}, now=NOW).identifier == "ID-2"


def test_restricted_and_private_alerts(schema: etree.XMLSchema) -> None:
    desc = flood() | {"scope": "Private", "addresses": ["ops@example.gov", "Fire Station 3"]}
    parsed = written(alert_from_description(desc, now=NOW), schema)
    assert parsed.source_map.text("/alert/addresses") == 'ops@example.gov "Fire Station 3"'
    desc = flood() | {"scope": "Restricted", "restriction": "Emergency services only"}
    assert alert_from_description(desc, now=NOW).restriction == "Emergency services only"


def test_alert_without_info_is_allowed(schema: etree.XMLSchema) -> None:
    desc = {"sender": SENDER, "status": "System", "note": "heartbeat"}
    alert = alert_from_description(desc, now=NOW)
    assert alert.infos == ()
    written(alert, schema)


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(
        st.tuples(
            st.decimals(min_value=-90, max_value=90, places=4),
            st.decimals(min_value=-180, max_value=180, places=4),
        ),
        min_size=3,
        max_size=12,
        unique=True,
    )
)
def test_any_ring_of_distinct_points_round_trips(points: list[tuple[Decimal, Decimal]]) -> None:
    desc = flood()
    desc["info"][0]["areas"] = [{"area_desc": "x", "polygons": [[list(p) for p in points]]}]
    alert = alert_from_description(desc, now=NOW)
    ring = alert.infos[0].areas[0].polygons[0].points
    assert ring[0] == ring[-1]
    assert len(ring) == len(points) + 1
    assert parse_alert(serialize_alert(alert)).alert == alert


# --- updates and cancels -------------------------------------------------------------------


def test_update_and_cancel_chain_over_three_generations(schema: etree.XMLSchema) -> None:
    first = alert_from_description(flood(), now=NOW)
    second = update_alert(
        first,
        {"info_changes": {"severity": "Extreme", "expires": "+8h"}},
        now=NOW + timedelta(hours=1),
    )
    third = update_alert(
        second,
        {"note": "River crest revised", "info_changes": {"headline": "Worse flooding"}},
        now=NOW + timedelta(hours=2),
    )
    cancel = cancel_alert(third, now=NOW + timedelta(hours=3), note="Waters receding")
    for alert in (second, third, cancel):
        parsed = written(alert, schema)
        assert parsed.alert == alert
    assert second.msg_type == third.msg_type == "Update"
    assert cancel.msg_type == "Cancel"
    assert second.references == (first.as_reference(),)
    assert third.references == (first.as_reference(), second.as_reference())
    assert cancel.references == (
        first.as_reference(),
        second.as_reference(),
        third.as_reference(),
    )
    assert len({first.identifier, second.identifier, third.identifier, cancel.identifier}) == 4
    assert second.infos[0].severity == "Extreme"
    assert second.infos[0].expires == NOW + timedelta(hours=9)
    # What was not changed is carried over.
    assert third.infos[0].severity == "Extreme"
    assert third.infos[0].headline == "Worse flooding"
    assert third.infos[0].areas == first.infos[0].areas
    assert third.note == "River crest revised"
    assert cancel.note == "Waters receding"
    info = cancel.infos[0]
    assert info.urgency == "Past"
    assert info.response_type == ("AllClear",)
    assert info.headline == CANCELLED_PREFIX + "Worse flooding"
    assert (info.event, info.category, info.language) == ("Flood", ("Met",), "en-US")
    assert info.areas == first.infos[0].areas
    assert info.instruction is None and info.parameters == ()


def test_update_references_are_not_duplicated() -> None:
    first = alert_from_description(flood(), now=NOW)
    second = update_alert(first, {}, now=NOW + timedelta(minutes=5))
    third = update_alert(
        second,
        {"references": [first.as_reference().as_text()]},
        now=NOW + timedelta(minutes=10),
    )
    assert third.references == (first.as_reference(), second.as_reference())


def test_update_can_replace_infos_and_change_sender() -> None:
    first = alert_from_description(flood(), now=NOW)
    new_info = flood(event="Flash flood", urgency="Immediate")["info"]
    second = update_alert(
        first, {"sender": "duty@met.example.gov", "info": new_info}, now=NOW + timedelta(hours=1)
    )
    assert second.sender == "duty@met.example.gov"
    assert second.infos[0].event == "Flash flood"
    assert second.references[0].sender == SENDER


def test_update_keeps_status_and_refuses_msg_type() -> None:
    exercise = alert_from_description(flood() | {"status": "Exercise"}, now=NOW)
    assert update_alert(exercise, {}, now=NOW + timedelta(hours=1)).status == "Exercise"
    with pytest.raises(CapAuthoringError, match="msg_type"):
        update_alert(exercise, {"msg_type": "Alert"}, now=NOW)


def test_update_with_an_expired_info_says_how_to_fix_it() -> None:
    first = alert_from_description(flood(), now=NOW)
    with pytest.raises(CapAuthoringError, match=r"info\[1\]\.expires: .*'\+6h'"):
        update_alert(first, {}, now=NOW + timedelta(hours=7))


def test_update_unknown_info_change_is_named() -> None:
    first = alert_from_description(flood(), now=NOW)
    with pytest.raises(CapAuthoringError, match=r"changes\.info_changes: unknown key 'severty'"):
        update_alert(first, {"info_changes": {"severty": "Minor"}}, now=NOW)


def test_cancel_of_an_alert_without_info_has_no_info() -> None:
    alert = alert_from_description({"sender": SENDER, "status": "Test"}, now=NOW)
    cancel = cancel_alert(alert, now=NOW + timedelta(minutes=1))
    assert cancel.infos == ()
    assert cancel.status == "Test"


def test_cancel_keeps_a_live_expiry() -> None:
    alert = alert_from_description(flood(expires="+2h"), now=NOW)
    early = cancel_alert(alert, now=NOW + timedelta(hours=1))
    late = cancel_alert(alert, now=NOW + timedelta(hours=5))
    assert early.infos[0].expires == NOW + timedelta(hours=2)
    assert late.infos[0].expires == NOW + timedelta(hours=6)


def test_earlier_alert_without_sent_cannot_be_referenced() -> None:
    alert = alert_from_description(flood(), now=NOW)
    broken = Alert(**{f: getattr(alert, f) for f in Alert.__slots__} | {"sent": None})
    with pytest.raises(CapAuthoringError, match="no valid <sent>"):
        cancel_alert(broken, now=NOW)


def _valid_corpus_alerts(shared_data: Path) -> list[tuple[str, Alert]]:
    root = shared_data / "cap"
    found: list[tuple[str, Alert]] = []
    with (root / "MANIFEST.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["expected"] != "valid" or not row["file"].endswith((".cap", ".xml", ".txt")):
                continue
            try:
                found.append((row["file"], parse_alert((root / row["file"]).read_bytes()).alert))
            except NotCapError:
                continue
    return found


def test_real_alerts_can_be_cancelled_and_updated(
    shared_data: Path, schema: etree.XMLSchema
) -> None:
    alerts = _valid_corpus_alerts(shared_data)
    assert len(alerts) >= 15
    for name, alert in alerts:
        assert alert.sent is not None, name
        now = alert.sent + timedelta(minutes=30)
        cancel = cancel_alert(alert, now=now)
        assert written(cancel, schema).alert == cancel, name
        assert cancel.references[-1] == alert.as_reference()
        assert len(cancel.infos) == len(alert.infos)
        # A week-long expiry clears any onset or expiry the real alert had.
        changes = {"info_changes": {"expires": "+7d"}}
        if any(r.mime_type is None for i in alert.infos for r in i.resources):
            # CAP 1.0 made mimeType optional; CAP 1.2 requires it and we cannot invent one.
            with pytest.raises(CapAuthoringError, match=r"resources\[1\]\.mime_type: missing"):
                update_alert(alert, changes, now=now)
            continue
        update = update_alert(alert, changes, now=now)
        assert written(update, schema).alert == update, name
        assert [[_closed(a) for a in i.areas] for i in update.infos] == [
            [_closed(a) for a in i.areas] for i in alert.infos
        ], name


def _closed(area: Area) -> Area:
    """The area as authoring writes it: empty polygons dropped, rings closed."""
    rings = []
    for polygon in area.polygons:
        if polygon.points:
            points = polygon.points
            rings.append(Polygon(points if points[0] == points[-1] else (*points, points[0])))
    return replace(area, polygons=tuple(rings))
