"""Routing: which channel carries which alert, and the reason given for it."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cap.authoring import alert_from_description, cancel_alert, update_alert
from cap.model import Alert, Area, Circle, EventCode, Geocode, Info, Point, Polygon
from cap.parsing import parse_alert
from cap.serialize import serialize_alert
from dispatch.config import (
    AreaFilter,
    ChannelConfig,
    RoutingRule,
    default_dispatch_config,
    parse_dispatch_config,
)
from dispatch.routing import RoutingDecision, area_intersects, route_alert, route_all

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")

# A square around Nairobi, roughly 1.1 degrees on a side.
NAIROBI = "-0.8,36.3 -0.8,37.4 -1.9,37.4 -1.9,36.3 -0.8,36.3"
MOMBASA = "-3.9,39.5 -3.9,39.8 -4.2,39.8 -4.2,39.5 -3.9,39.5"

CUSTOM = f"""
[channels.archive]
gateway = "file"
directory = "archive"
statuses = ["Actual", "Exercise", "System", "Test"]

[channels.console]
gateway = "log"
statuses = ["Actual", "Exercise"]

[channels.sms-responders]
gateway = "sms"
statuses = ["Actual"]
min_severity = "Severe"
area = {{ polygons = ["{NAIROBI}"] }}

[channels.drill]
gateway = "log"
statuses = ["Exercise"]

[channels.bench]
gateway = "log"
statuses = ["Test", "System"]

[channels.drafts]
gateway = "log"
statuses = ["Draft"]

[channels.everything]
gateway = "log"
statuses = ["Actual", "Exercise", "System", "Test", "Draft"]
scopes = ["Public", "Restricted", "Private"]
"""


def channels_of(toml: str) -> tuple[ChannelConfig, ...]:
    config = parse_dispatch_config(tomllib.loads(toml), base_dir=Path("/etc"), data_dir=Path("/d"))
    return config.channels


def channel(**routing: Any) -> ChannelConfig:
    return ChannelConfig("c", "log", {}, RoutingRule(**routing))


def flood(**alert: Any) -> Alert:
    """A severe flood warning over Nairobi that meets every criterion used below."""
    info: dict[str, Any] = {
        "language": "en-US",
        "category": ["Met"],
        "event": "Flood Warning",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "event_codes": {"SAME": "FFW"},
        "headline": "Flood warning",
        "areas": [
            {
                "area_desc": "Nairobi",
                "polygons": ["-1.2,36.7 -1.2,36.9 -1.4,36.9 -1.4,36.7"],
                "geocodes": {"ADM1": "KE-30"},
            }
        ],
    }
    info.update(alert.pop("info", {}))
    desc = {"sender": "alerts@met.example.ke", "info": [info], **alert}
    return alert_from_description(desc, now=NOW, identifier="KE-FLOOD-1")


def with_infos(alert: Alert, *infos: Info) -> Alert:
    return dataclasses.replace(alert, infos=infos)


def info(**fields: Any) -> Info:
    base: dict[str, Any] = {
        "category": ("Met",),
        "event": "Flood Warning",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
    }
    return Info(**{**base, **fields})


def polygon(text: str) -> Polygon:
    points = []
    for token in text.split():
        lat, lon = token.split(",")
        points.append(Point(Decimal(lat), Decimal(lon)))
    return Polygon(tuple(points), text)


# --- THE key test: statuses never leak ----------------------------------------------------------


def all_channels() -> list[ChannelConfig]:
    return [*default_dispatch_config(Path("/d")).channels, *channels_of(CUSTOM)]


# What each channel must carry, written out rather than derived from the configuration.
EXPECTED_STATUSES = {
    "archive": {"Actual", "Exercise", "System", "Test"},
    "console": {"Actual", "Exercise"},
    "sms-responders": {"Actual"},
    "drill": {"Exercise"},
    "bench": {"Test", "System"},
    "drafts": {"Draft"},
    "everything": set(STATUSES),
}


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_against_every_channel(status: str) -> None:
    alert = flood(status=status)
    channels = all_channels()
    assert len(channels) == 9  # the two defaults and seven custom channels
    decisions = route_all(alert, channels)
    assert [d.channel for d in decisions] == [c.name for c in channels]
    for decision in decisions:
        expected = status in EXPECTED_STATUSES[decision.channel]
        assert decision.routed is expected, decision
        if not expected:
            assert decision.reason.startswith(f"status {status} is not configured"), decision


def test_the_reason_for_a_status_refusal() -> None:
    decision = route_alert(flood(status="Test"), channel())
    assert decision == RoutingDecision(
        "c", False, "status Test is not configured for this channel (statuses: Actual)"
    )


def test_status_is_matched_exactly() -> None:
    # A status spelt otherwise than CAP does is not "Actual": it must not slip through.
    alert = dataclasses.replace(flood(), status="actual")
    assert not route_alert(alert, channel()).routed


SCOPES = ("Public", "Restricted", "Private")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")


@st.composite
def alerts_and_channels(draw: st.DrawFn) -> tuple[Alert, ChannelConfig]:
    rule = RoutingRule(
        statuses=draw(st.frozensets(st.sampled_from(STATUSES), min_size=1)),
        scopes=draw(st.frozensets(st.sampled_from(SCOPES), min_size=1)),
        msg_types=draw(st.frozensets(st.sampled_from(MSG_TYPES), min_size=1)),
        min_severity=draw(st.sampled_from([None, "Severe", "Minor"])),
        languages=draw(st.sampled_from([(), ("en",), ("fr",)])),
    )
    # Mostly alerts that pass scope and msgType, so that the status check is what decides.
    status = draw(st.sampled_from([*STATUSES, "", "actual", "Exercise ", "Other"]))
    scope = draw(st.sampled_from(sorted(rule.scopes)) | st.sampled_from([*SCOPES, None]))
    msg_type = draw(st.sampled_from(sorted(rule.msg_types)) | st.sampled_from(MSG_TYPES))
    infos = draw(
        st.lists(
            st.builds(
                info,
                severity=st.sampled_from(["Extreme", "Severe", "Minor", "Unknown", ""]),
                language=st.sampled_from([None, "en-US", "fr"]),
            ),
            max_size=2,
        )
    )
    alert = dataclasses.replace(
        flood(), status=status, msg_type=msg_type, scope=scope, infos=tuple(infos)
    )
    return alert, ChannelConfig("c", "log", {}, rule)


@given(alerts_and_channels())
def test_an_unlisted_status_is_never_routed(case: tuple[Alert, ChannelConfig]) -> None:
    alert, config = case
    decision = route_alert(alert, config)
    if alert.status not in config.routing.statuses:
        assert not decision.routed
        assert decision.reason.startswith("status ")
    if decision.routed:
        assert alert.status in config.routing.statuses
        assert alert.scope in config.routing.scopes
        assert alert.msg_type in config.routing.msg_types
    assert decision.reason


@given(
    st.sampled_from(STATUSES),
    st.frozensets(st.sampled_from(STATUSES), min_size=1),
    st.sampled_from(MSG_TYPES),
)
def test_without_other_criteria_the_status_decides(
    status: str, statuses: frozenset[str], msg_type: str
) -> None:
    alert = dataclasses.replace(flood(), status=status, msg_type=msg_type)
    rule = RoutingRule(statuses=statuses, msg_types=frozenset(MSG_TYPES))
    decision = route_alert(alert, ChannelConfig("c", "log", {}, rule))
    assert decision.routed is (status in statuses)


# --- alert-level criteria ----------------------------------------------------------------------


def test_scope() -> None:
    restricted = flood(scope="Restricted", restriction="responders only")
    decision = route_alert(restricted, channel())
    assert not decision.routed
    assert decision.reason == (
        "scope Restricted is not configured for this channel (scopes: Public)"
    )
    assert route_alert(restricted, channel(scopes=frozenset({"Public", "Restricted"}))).routed


def test_an_alert_without_scope_is_not_routed() -> None:
    alert = dataclasses.replace(flood(), scope=None)
    assert not route_alert(alert, channel(scopes=frozenset({"Public", "Private"}))).routed


def test_msg_type() -> None:
    ack = dataclasses.replace(flood(), msg_type="Ack")
    decision = route_alert(ack, channel())
    assert not decision.routed
    assert decision.reason == (
        "msgType Ack is not configured for this channel (msg_types: Alert, Update, Cancel)"
    )
    assert route_alert(ack, channel(msg_types=frozenset({"Ack"}))).routed


def test_a_channel_without_criteria_takes_any_matching_alert() -> None:
    decision = route_alert(flood(), channel())
    assert decision.routed
    assert "no other criteria" in decision.reason


# --- info-level criteria -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "routed", "reason"),
    [
        ({"categories": frozenset({"Met", "Geo"})}, True, "meets"),
        ({"categories": frozenset({"Fire"})}, False, "category Met is not configured"),
        ({"events": ("flood  WARNING",)}, True, "meets"),
        ({"events": ("Tornado Warning",)}, False, "event 'Flood Warning' is not configured"),
        ({"event_codes": (("SAME", "TOR"), ("SAME", "FFW"))}, True, "meets"),
        ({"event_codes": (("SAME", "TOR"),)}, False, "no event code matches"),
        ({"event_codes": (("NWS", "FFW"),)}, False, "no event code matches"),
        ({"min_severity": "Severe"}, True, "meets"),
        ({"min_severity": "Moderate"}, True, "meets"),
        ({"min_severity": "Extreme"}, False, "severity Severe is below min_severity Extreme"),
        ({"min_urgency": "Immediate"}, True, "meets"),
        ({"min_certainty": "Likely"}, True, "meets"),
        ({"min_certainty": "Observed"}, True, "meets"),
        ({"languages": ("en",)}, True, "meets"),
        ({"languages": ("EN-us",)}, True, "meets"),
        ({"languages": ("fr", "en-US")}, True, "meets"),
        ({"languages": ("en-GB",)}, False, "language en-US is not among languages en-GB"),
        ({"languages": ("e",)}, False, "language en-US is not among languages e"),
    ],
)
def test_info_criteria(rule: dict[str, Any], routed: bool, reason: str) -> None:
    decision = route_alert(flood(), channel(**rule))
    assert decision.routed is routed
    assert reason in decision.reason


@pytest.mark.parametrize(
    ("field", "value", "minimum", "routed"),
    [
        ("urgency", "Expected", "Immediate", False),
        ("urgency", "Expected", "Expected", True),
        ("urgency", "Future", "Expected", False),
        ("urgency", "Past", "Future", False),
        ("certainty", "Possible", "Likely", False),
        ("certainty", "Likely", "Likely", True),
        ("severity", "Minor", "Moderate", False),
        ("severity", "Extreme", "Minor", True),
    ],
)
def test_thresholds(field: str, value: str, minimum: str, routed: bool) -> None:
    alert = flood(info={field: value})
    assert route_alert(alert, channel(**{f"min_{field}": minimum})).routed is routed


@pytest.mark.parametrize("field", ["severity", "urgency", "certainty"])
def test_unknown_values_never_meet_a_minimum(field: str) -> None:
    minimum = {"severity": "Minor", "urgency": "Past", "certainty": "Unlikely"}[field]
    alert = flood(info={field: "Unknown"})
    decision = route_alert(alert, channel(**{f"min_{field}": minimum}))
    assert not decision.routed
    assert decision.reason.endswith(f"{field} Unknown never meets min_{field} {minimum}")
    # ... and an unlisted value (an invalid alert) does not either.
    odd = with_infos(alert, info(**{field: "Catastrophic"}))
    assert not route_alert(odd, channel(**{f"min_{field}": minimum})).routed
    # Without a minimum, Unknown is fine.
    assert route_alert(alert, channel(categories=frozenset({"Met"}))).routed


def test_an_info_without_language_is_en_us() -> None:
    alert = with_infos(flood(), info(language=None))
    assert route_alert(alert, channel(languages=("en",))).routed
    assert not route_alert(alert, channel(languages=("fr",))).routed


def test_any_info_may_match_but_one_info_must_meet_all_criteria() -> None:
    english_minor = info(language="en-US", severity="Minor")
    swahili_severe = info(language="sw-KE", severity="Severe")
    alert = with_infos(flood(), english_minor, swahili_severe)
    rule = {"languages": ("en",), "min_severity": "Severe"}
    decision = route_alert(alert, channel(**rule))
    # English passes the language and Swahili the severity, but neither passes both.
    assert not decision.routed
    assert decision.reason == (
        "info 1 (Flood Warning): severity Minor is below min_severity Severe; "
        "info 2 (Flood Warning): language sw-KE is not among languages en"
    )
    english_severe = info(language="en-GB", severity="Extreme")
    decision = route_alert(with_infos(alert, english_minor, english_severe), channel(**rule))
    assert decision.routed
    assert "info 2 (Flood Warning) meets the channel's criteria" in decision.reason


# --- areas -------------------------------------------------------------------------------------


def area_channel(**area: Any) -> ChannelConfig:
    return channel(area=AreaFilter(**area))


def rings(*texts: str) -> tuple[tuple[tuple[float, float], ...], ...]:
    return tuple(
        tuple((float(p.split(",")[0]), float(p.split(",")[1])) for p in t.split()) for t in texts
    )


def alert_over(*areas: Area) -> Alert:
    return with_infos(flood(), info(areas=areas))


NAIROBI_CHANNEL = area_channel(polygons=rings(NAIROBI))


@pytest.mark.parametrize(
    ("alert_polygon", "routed"),
    [
        ("-1.2,36.7 -1.2,36.9 -1.4,36.9 -1.4,36.7 -1.2,36.7", True),  # inside
        ("0.0,36.0 0.0,38.0 -3.0,38.0 -3.0,36.0 0.0,36.0", True),  # contains the channel
        ("-1.5,37.2 -1.5,37.9 -2.5,37.9 -2.5,37.2 -1.5,37.2", True),  # overlaps an edge
        ("-1.9,37.4 -1.9,37.9 -2.5,37.9 -2.5,37.4 -1.9,37.4", True),  # touches a corner
        (MOMBASA, False),  # far away
        ("-1.95,36.3 -1.95,37.4 -2.5,37.4 -2.5,36.3 -1.95,36.3", False),  # just south
    ],
)
def test_polygon_against_polygon(alert_polygon: str, routed: bool) -> None:
    area = Area("somewhere", polygons=(polygon(alert_polygon),))
    assert route_alert(alert_over(area), NAIROBI_CHANNEL).routed is routed


def test_the_reason_names_the_areas() -> None:
    area = Area("Mombasa", polygons=(polygon(MOMBASA),))
    decision = route_alert(alert_over(area), NAIROBI_CHANNEL)
    assert decision.reason == (
        "info 1 (Flood Warning): no area ('Mombasa') intersects the channel's area"
    )


def test_any_area_of_the_info_may_intersect() -> None:
    mombasa = Area("Mombasa", polygons=(polygon(MOMBASA),))
    nairobi = Area("Nairobi", polygons=(polygon("-1.2,36.7 -1.2,36.9 -1.4,36.9 -1.2,36.7"),))
    assert route_alert(alert_over(mombasa, nairobi), NAIROBI_CHANNEL).routed


def circle(lat: str, lon: str, km: str) -> Circle:
    return Circle(Point(Decimal(lat), Decimal(lon)), Decimal(km))


@pytest.mark.parametrize(
    ("alert_circle", "routed"),
    [
        (circle("-1.29", "36.82", "5"), True),  # centre inside
        (circle("-2.05", "36.8", "20"), True),  # 0.15 deg (about 17 km) south of the edge
        (circle("-2.05", "36.8", "10"), False),
        (circle("-1.3", "37.55", "20"), True),  # 0.15 deg east; at -1.3 deg that is 16.7 km
        (circle("-1.3", "37.55", "15"), False),
        (circle("-1.29", "36.82", "0"), True),  # a point inside (radius 0)
        (circle("-4.0", "39.6", "0"), False),
        (Circle(None, None, "garbage"), False),  # an unparsable circle is no shape
    ],
)
def test_alert_circle_against_channel_polygon(alert_circle: Circle, routed: bool) -> None:
    area = Area("around", circles=(alert_circle,))
    assert route_alert(alert_over(area), NAIROBI_CHANNEL).routed is routed


def test_alert_polygon_against_channel_circle() -> None:
    # A 30 km circle around Mombasa.
    coast = area_channel(circles=((-4.05, 39.67, 30.0),))
    assert route_alert(alert_over(Area("M", polygons=(polygon(MOMBASA),))), coast).routed
    assert not route_alert(alert_over(Area("N", polygons=(polygon(NAIROBI),))), coast).routed


def test_circle_longitude_is_corrected_for_latitude() -> None:
    # At 60 degrees north a degree of longitude is about 55.7 km, so a 100 km circle
    # reaches about 1.8 degrees east but only 0.9 degrees north.
    coverage = AreaFilter(circles=((60.0, 10.0, 100.0),))
    east = Area("east", polygons=(polygon("59.9,11.7 59.9,11.8 60.1,11.8 60.1,11.7"),))
    north = Area("north", polygons=(polygon("61.0,9.9 61.0,10.1 61.1,10.1 61.1,9.9"),))
    assert area_intersects(east, coverage)
    assert not area_intersects(north, coverage)


def test_circle_against_circle() -> None:
    coverage = AreaFilter(circles=((0.0, 0.0, 50.0),))
    # Centres 1 degree (about 111 km) apart along the equator.
    assert area_intersects(Area("a", circles=(circle("0", "1", "65"),)), coverage)
    assert not area_intersects(Area("a", circles=(circle("0", "1", "55"),)), coverage)


def test_geocode_match() -> None:
    coverage = area_channel(geocodes=(("SAME", "006109"), ("ADM1", "KE-30")))
    assert route_alert(alert_over(Area("N", geocodes=(Geocode("ADM1", "KE-30"),))), coverage).routed
    decision = route_alert(alert_over(Area("M", geocodes=(Geocode("ADM1", "KE-01"),))), coverage)
    assert not decision.routed
    # The same value under another name is another code.
    other = alert_over(Area("S", geocodes=(Geocode("FIPS6", "006109"),)))
    assert not route_alert(other, coverage).routed


def test_geocodes_are_not_turned_into_shapes() -> None:
    # A channel with only a polygon does not match an alert that has only geocodes.
    alert = alert_over(Area("Nairobi", geocodes=(Geocode("ADM1", "KE-30"),)))
    assert not route_alert(alert, NAIROBI_CHANNEL).routed
    # Geocodes or shapes: either is enough.
    both = area_channel(polygons=rings(MOMBASA), geocodes=(("ADM1", "KE-30"),))
    assert route_alert(alert, both).routed


def test_an_info_without_area_does_not_match_a_channel_with_an_area() -> None:
    decision = route_alert(alert_over(), NAIROBI_CHANNEL)
    assert not decision.routed
    assert "the info has no area" in decision.reason
    assert route_alert(alert_over(), channel()).routed


def test_a_self_intersecting_polygon_still_covers_its_area() -> None:
    bow_tie = polygon("-1.2,36.7 -1.4,36.9 -1.2,36.9 -1.4,36.7 -1.2,36.7")
    assert route_alert(alert_over(Area("bow", polygons=(bow_tie,))), NAIROBI_CHANNEL).routed


def test_a_degenerate_polygon_is_ignored() -> None:
    line = polygon("-1.2,36.7 -1.3,36.8 -1.2,36.7")
    assert not route_alert(
        alert_over(Area("x", polygons=(line, Polygon(())))), NAIROBI_CHANNEL
    ).routed


def test_routing_a_parsed_alert_from_its_bytes() -> None:
    alert = parse_alert(serialize_alert(flood())).alert
    channels = channels_of(CUSTOM)
    routed = [d.channel for d in route_all(alert, channels) if d.routed]
    assert routed == ["archive", "console", "sms-responders", "everything"]
    mombasa = flood(info={"areas": [{"area_desc": "Mombasa", "polygons": [MOMBASA]}]})
    decisions = route_all(parse_alert(serialize_alert(mombasa)).alert, channels)
    assert [d.channel for d in decisions if d.routed] == ["archive", "console", "everything"]


# --- updates and cancels -----------------------------------------------------------------------

SEVERE_ONLY = channel(min_severity="Severe", min_urgency="Expected", languages=("en",))


def test_a_cancel_is_not_held_to_the_minimums() -> None:
    original = flood()
    cancel = cancel_alert(original, now=NOW, identifier="KE-FLOOD-1-C")
    assert cancel.infos[0].urgency == "Past"
    assert route_alert(original, SEVERE_ONLY).routed
    decision = route_alert(cancel, SEVERE_ONLY)
    assert decision.routed
    assert "a Cancel is not held to the severity, urgency and certainty minimums" in (
        decision.reason
    )


def test_a_cancel_still_respects_status_language_and_area() -> None:
    cancel = cancel_alert(flood(), now=NOW, identifier="KE-FLOOD-1-C")
    assert not route_alert(cancel, channel(languages=("fr",), min_severity="Extreme")).routed
    far = area_channel(polygons=rings(MOMBASA))
    assert not route_alert(cancel, far).routed
    exercise_cancel = cancel_alert(flood(status="Exercise"), now=NOW, identifier="X")
    assert not route_alert(exercise_cancel, SEVERE_ONLY).routed


def test_an_update_is_judged_on_its_own_content() -> None:
    original = flood()
    downgrade = update_alert(original, {"info_changes": {"severity": "Moderate"}}, now=NOW)
    assert not route_alert(downgrade, SEVERE_ONLY).routed
    upgrade = update_alert(original, {"info_changes": {"severity": "Extreme"}}, now=NOW)
    assert route_alert(upgrade, SEVERE_ONLY).routed


@pytest.mark.parametrize("msg_type", ["Cancel", "Update"])
def test_a_cancel_or_update_without_info_reaches_every_channel_of_its_status(
    msg_type: str,
) -> None:
    bare = dataclasses.replace(flood(), msg_type=msg_type, infos=())
    decisions = {d.channel: d for d in route_all(bare, all_channels())}
    routed = {name for name, d in decisions.items() if d.routed}
    assert routed == {"archive", "console", "sms-responders", "everything"}
    assert "without info blocks" in decisions["sms-responders"].reason
    exercise = dataclasses.replace(bare, status="Exercise")
    routed = {d.channel for d in route_all(exercise, all_channels()) if d.routed}
    assert routed == {"archive", "console", "drill", "everything"}


def test_an_alert_without_info_reaches_only_channels_without_info_criteria() -> None:
    bare = dataclasses.replace(flood(), infos=())
    assert route_alert(bare, channel()).routed
    decision = route_alert(bare, SEVERE_ONLY)
    assert not decision.routed
    assert decision.reason == (
        "the alert has no info block, so it cannot meet the channel's criteria "
        "(min_severity, min_urgency, languages)"
    )


def test_event_code_values_are_compared_without_surrounding_spaces() -> None:
    alert = with_infos(flood(), info(event_codes=(EventCode("SAME", " FFW "),)))
    assert route_alert(alert, channel(event_codes=(("SAME", "FFW"),))).routed
