"""The SAME header from CAP: fields, rounding, times, limits, refusals, and its text form."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from cap.authoring import alert_from_description
from cap.model import Alert, Area, Circle, Point, Polygon
from cap.parsing import parse_alert
from gateways.base import CannotCarryError, GatewayConfigError
from gateways.radio.counties import (
    CountyTable,
    CountyTableError,
    county_table_from_geojson,
    load_county_table,
)
from gateways.radio.same import (
    EVENT_CODES,
    MAX_VALID_PERIOD,
    ORIGINATORS,
    SS_CODES,
    SameError,
    SameHeader,
    SameStationIdError,
    encode_same_header,
    event_code_for,
    parse_same_header,
    round_valid_period,
    same_header_for,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
STATION = "KXYZ/NWS"
HEADER_RE = re.compile(r"^ZCZC-[A-Z]{3}-[A-Z]{3}(-\d{6}){1,31}\+\d{4}-\d{7}-[^-+]{8}-$")


def describe(*, now: datetime = NOW, **info_overrides: Any) -> Alert:
    """A flood warning as an authority would write it, with ``info_overrides`` applied."""
    info: dict[str, Any] = {
        "language": "en-US",
        "category": "Met",
        "event": "Flood Warning",
        "urgency": "Expected",
        "severity": "Severe",
        "certainty": "Likely",
        "expires": "+6h",
        "headline": "Flood warning for the Lower Valley",
        "event_codes": {"SAME": "FLW"},
        "parameters": [["EAS-ORG", "WXR"]],
        "areas": [{"area_desc": "Lower Valley", "geocodes": {"SAME": ["006109", "006111"]}}],
    }
    info.update(info_overrides)
    info = {k: v for k, v in info.items() if v is not None}
    return alert_from_description(
        {"sender": "alerts@met.example.gov", "info": [info]}, now=now, identifier="T-1"
    )


def refusal(alert: Alert, **kwargs: Any) -> str:
    with pytest.raises(SameError) as caught:
        same_header_for(alert, station_id=kwargs.pop("station_id", STATION), **kwargs)
    assert isinstance(caught.value, CannotCarryError)
    assert caught.value.retryable is False
    return str(caught.value)


# --- the header from CAP -----------------------------------------------------------------------


def test_header_from_an_authored_alert() -> None:
    header = same_header_for(describe(), station_id=STATION)
    # sent 12:00 -05:00 = 17:00 UTC on 1 May 2024 (day 122 of a leap year); 6 h valid
    assert encode_same_header(header) == "ZCZC-WXR-FLW-006109-006111+0600-1221700-KXYZ/NWS-"
    assert header.notes == ()


def test_corpus_thunderstorm_alert(shared_data: Path) -> None:
    data = (shared_data / "cap/alerts/google__cap-library/thunderstorm.cap").read_bytes()
    header = same_header_for(parse_alert(data).alert, station_id=STATION)
    # sent 2003-06-17T14:57-07:00 = 21:57 UTC, day 168; expires 63 minutes later -> 0130
    assert encode_same_header(header) == (
        "ZCZC-WXR-SVR-006109-006009-006003+0130-1682157-KXYZ/NWS-"
    )
    assert any("ORG WXR assumed" in note for note in header.notes)


def test_corpus_fips6_and_empty_same_event_code(shared_data: Path) -> None:
    data = (shared_data / "cap/alerts/google__cap-library/noaa_errors.cap").read_bytes()
    header = same_header_for(parse_alert(data).alert, station_id=STATION)
    assert header.event == "FLW"  # its SAME eventCode is empty; <event> is "Flood Warning"
    assert header.locations == ("032013",)  # from FIPS6
    assert header.purge_time == "9930"  # it lasts 791 hours: capped
    assert any("capped at 99:30" in n for n in header.notes)
    assert any("FIPS6" in n for n in header.notes)


def test_corpus_alert_without_expires_is_refused(shared_data: Path) -> None:
    data = (shared_data / "cap/alerts/google__cap-library/KAR0-0306112239-SW.cap").read_bytes()
    message = refusal(parse_alert(data).alert)
    assert "no <expires>" in message and "add <expires>" in message


def test_originator_from_parameter_sender_or_default() -> None:
    assert same_header_for(describe(), station_id=STATION).originator == "WXR"
    civ = same_header_for(describe(parameters=[["EAS-ORG", "CIV"]]), station_id=STATION)
    assert civ.originator == "CIV" and civ.notes == ()
    default = same_header_for(describe(parameters=[]), station_id=STATION)
    assert default.originator == "CIV"
    assert any("ECIG §3.10" in n for n in default.notes)
    nws = alert_from_description(
        {"sender": "KSTO@NWS.NOAA.GOV", "info": [_info_dict(parameters=[])]}, now=NOW
    )
    assert same_header_for(nws, station_id=STATION).originator == "WXR"


def _info_dict(**overrides: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "category": "Met",
        "event": "Flood Warning",
        "urgency": "Expected",
        "severity": "Severe",
        "certainty": "Likely",
        "expires": "+1h",
        "event_codes": {"SAME": "FLW"},
        "areas": [{"area_desc": "A", "geocodes": {"SAME": "006109"}}],
    }
    info.update(overrides)
    return info


def test_bad_originator_is_refused() -> None:
    message = refusal(describe(parameters=[["EAS-ORG", "NWS"]]))
    assert "EAS-ORG 'NWS'" in message and "WXR" in message and "CIV" in message


def test_locations_in_document_order_without_duplicates() -> None:
    alert = describe(
        areas=[
            {"area_desc": "A", "geocodes": {"SAME": ["006111", "006109"]}},
            {"area_desc": "B", "geocodes": {"SAME": ["006109", "106037"], "FIPS6": "006001"}},
        ]
    )
    assert same_header_for(alert, station_id=STATION).locations == (
        "006111",
        "006109",
        "106037",
    )


def test_fips6_used_only_without_same_geocodes() -> None:
    alert = describe(areas=[{"area_desc": "A", "geocodes": {"FIPS6": ["06037", "006059"]}}])
    header = same_header_for(alert, station_id=STATION)
    assert header.locations == ("006037", "006059")  # a 5-digit FIPS is the whole county


def test_thirty_one_locations_fit_thirty_two_do_not() -> None:
    codes = [f"0120{n:02d}" for n in range(1, 33)]
    fits = describe(areas=[{"area_desc": "A", "geocodes": {"SAME": codes[:31]}}])
    text = encode_same_header(same_header_for(fits, station_id=STATION))
    assert text.count("-0120") == 31 and HEADER_RE.match(text)
    message = refusal(describe(areas=[{"area_desc": "A", "geocodes": {"SAME": codes}}]))
    assert "32 SAME locations" in message and "at most 31" in message
    assert "Split the alert" in message


@pytest.mark.parametrize(
    ("geocode", "expected"),
    [
        ("6109", "expected 6 digits"),
        ("00610X", "expected 6 digits"),
        ("003001", "state/territory/marine code 03"),
        ("099001", "state/territory/marine code 99"),
    ],
)
def test_bad_location_codes_are_refused(geocode: str, expected: str) -> None:
    message = refusal(describe(areas=[{"area_desc": "Hills", "geocodes": {"SAME": geocode}}]))
    assert expected in message and "area[0] ('Hills')" in message and geocode in message


def test_all_of_the_us_is_a_location() -> None:
    alert = describe(areas=[{"area_desc": "US", "geocodes": {"SAME": "000000"}}])
    assert same_header_for(alert, station_id=STATION).locations == ("000000",)


def test_no_location_is_refused_with_the_fix() -> None:
    message = refusal(describe(areas=[{"area_desc": "Somewhere", "circles": ["38.4,-120.0 15"]}]))
    assert "no SAME location" in message and "<geocode> SAME" in message
    assert "county table" in message


def test_unknown_event_code_is_refused_not_invented() -> None:
    message = refusal(describe(event_codes={"SAME": "XYZ"}))
    assert "eventCode SAME 'XYZ'" in message and "11.31(e)" in message
    lower = refusal(describe(event_codes={"SAME": "flw"}))
    assert "upper case" in lower


def test_an_extra_event_code_can_be_allowed() -> None:
    alert = describe(event_codes={"SAME": "BLU"}, event="Blue Alert")
    assert "BLU" in refusal(alert)
    header = same_header_for(alert, station_id=STATION, extra_event_codes={"BLU"})
    assert encode_same_header(header).startswith("ZCZC-WXR-BLU-")


def test_event_without_a_same_equivalent_is_refused() -> None:
    message = refusal(describe(event_codes=None, event="Heat", category="Met"))
    assert "event 'Heat'" in message and "has no SAME equivalent" in message
    assert "<eventCode><valueName>SAME" in message


@pytest.mark.parametrize(
    ("event", "category", "urgency", "certainty", "expected"),
    [
        ("Tornado Warning", "Met", "Immediate", "Observed", "TOR"),
        ("Required Weekly Test", "Other", "Unknown", "Unknown", "RWT"),
        ("Practice/Demo Warning", "Other", "Unknown", "Unknown", "DMO"),
        ("Flood", "Met", "Expected", "Likely", "FLW"),
        ("Flood", "Met", "Future", "Possible", "FLA"),
        ("River flood watch", "Met", "Expected", "Likely", "FLA"),
        ("Flash Flood Statement", "Met", "Expected", "Likely", "FFS"),
        ("Coastal flooding warning", "Met", "Expected", "Likely", "CFW"),
        ("Floods", "Met", "Immediate", "Observed", "FLW"),
        ("Floodwall inspection", "Met", "Immediate", "Observed", None),
        ("Coastal Flood Warning", "Met", "Expected", "Likely", "CFW"),
        ("Earthquake", "Geo", "Past", "Observed", None),
        ("Earthquake", "Geo", "Immediate", "Observed", "EQW"),
        ("Tsunami", "Geo", "Immediate", "Likely", "TSW"),
        ("Wildfire", "Fire", "Immediate", "Observed", "FRW"),
        ("Fire", "Met", "Immediate", "Observed", None),  # a fire weather product: no code
        ("Wind Advisory", "Met", "Expected", "Likely", None),
        ("Heat", "Met", "Expected", "Likely", None),
        ("AMBER Alert", "Rescue", "Immediate", "Observed", "CAE"),
        ("Earthquake Watch", "Geo", "Future", "Possible", None),
    ],
)
def test_event_mapping(
    event: str, category: str, urgency: str, certainty: str, expected: str | None
) -> None:
    alert = describe(
        event_codes=None, event=event, category=category, urgency=urgency, certainty=certainty
    )
    assert event_code_for(alert.infos[0]) == expected


def test_mapped_event_is_noted() -> None:
    header = same_header_for(describe(event_codes=None, event="Flood"), station_id=STATION)
    assert header.event == "FLW"
    assert any("mapped from <event> 'Flood'" in n for n in header.notes)


def test_expired_alerts_are_refused() -> None:
    alert = describe()
    earlier = NOW - timedelta(hours=1)
    dead = replace(alert, infos=(replace(alert.infos[0], expires=earlier),))
    message = refusal(dead)
    assert "is not after <sent>" in message and "expired" in message
    alert = describe(expires="+2h")
    same_header_for(alert, station_id=STATION, now=NOW + timedelta(hours=1))
    later = refusal(alert, now=NOW + timedelta(hours=2))
    assert "expired at 2024-05-01T14:00:00-05:00" in later


@pytest.mark.parametrize(
    ("station", "expected"),
    [
        ("KXYZ/NWS/X", "10 characters"),
        ("KXYZ-FM", "'-' and '+'"),
        ("KXYZ+FM", "'-' and '+'"),
        ("KXYZ/FMé", "printable ASCII"),
        ("", "0 characters"),
        ("        ", "blank"),
    ],
)
def test_bad_station_ids_are_configuration_errors(station: str, expected: str) -> None:
    with pytest.raises(SameStationIdError) as caught:
        same_header_for(describe(), station_id=station)
    assert isinstance(caught.value, GatewayConfigError)
    assert expected in str(caught.value) and "station_id" in str(caught.value)


def test_a_short_station_id_is_padded_with_spaces() -> None:
    header = same_header_for(describe(), station_id="WXYZ")
    assert header.station_id == "WXYZ    "
    assert encode_same_header(header).endswith("-WXYZ    -")


@pytest.mark.parametrize("status", ["Exercise", "Test", "System", "Draft"])
def test_only_actual_alerts_go_on_air(status: str) -> None:
    alert = alert_from_description(
        {"sender": "a@b.example", "status": status, "info": [_info_dict()]}, now=NOW
    )
    message = refusal(alert)
    assert f"status {status}" in message and "only Actual" in message
    allowed = same_header_for(alert, station_id=STATION, allow_statuses={"Actual", status})
    assert allowed.event == "FLW"


def test_only_public_alerts_go_on_air() -> None:
    alert = alert_from_description(
        {
            "sender": "a@b.example",
            "scope": "Restricted",
            "restriction": "responders only",
            "info": [_info_dict()],
        },
        now=NOW,
    )
    assert "only scope Public" in refusal(alert)


def test_missing_info_block_is_refused() -> None:
    message = refusal(describe(), info_index=3)
    assert "no info block 3" in message and "it has 1" in message


# --- valid period (MAP-04, SAME-10) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (timedelta(seconds=1), "0015"),
        (timedelta(minutes=15), "0015"),
        (timedelta(minutes=15, seconds=1), "0030"),
        (timedelta(minutes=30), "0030"),
        (timedelta(minutes=44), "0045"),
        (timedelta(minutes=45), "0045"),
        (timedelta(minutes=45, seconds=1), "0100"),  # MAP-05: between 45 min and 1 h
        (timedelta(minutes=59), "0100"),
        (timedelta(hours=1), "0100"),
        (timedelta(hours=1, seconds=1), "0130"),
        (timedelta(minutes=90), "0130"),
        (timedelta(minutes=91), "0200"),
        (timedelta(hours=6), "0600"),
        (timedelta(hours=6, minutes=1), "0630"),
        (timedelta(hours=23, minutes=59), "2400"),
        (timedelta(hours=99), "9900"),
        (timedelta(hours=99, minutes=30), "9930"),
        (timedelta(hours=99, minutes=31), "9930"),  # the cap
        (timedelta(days=30), "9930"),
    ],
)
def test_valid_period_rounding_table(duration: timedelta, expected: str) -> None:
    sent = datetime(2024, 5, 1, 17, 0, tzinfo=UTC)
    header = same_header_for(
        describe(now=sent, expires=(sent + duration).isoformat()), station_id=STATION
    )
    assert header.purge_time == expected


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(minutes=-5)])
def test_no_valid_period_for_a_dead_alert(duration: timedelta) -> None:
    with pytest.raises(SameError, match="expired"):
        round_valid_period(duration)


durations = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=10))


@given(durations, durations)
def test_rounding_is_monotone(a: timedelta, b: timedelta) -> None:
    low, high = sorted((a, b))
    assert round_valid_period(low) <= round_valid_period(high)


@given(durations)
def test_rounding_never_shortens_the_alert_below_the_cap(duration: timedelta) -> None:
    rounded = round_valid_period(duration)
    assert rounded == round_valid_period(rounded)  # a legal step
    step = timedelta(minutes=15 if rounded <= timedelta(hours=1) else 30)
    if duration <= MAX_VALID_PERIOD:
        assert duration <= rounded < duration + step
    else:
        assert rounded == MAX_VALID_PERIOD


# --- issue time (MAP-06) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        # 20:30 on New Year's Eve in New York is 01:30 UTC on 1 January: day 001
        (datetime(2023, 12, 31, 20, 30, tzinfo=timezone(timedelta(hours=-5))), "0010130"),
        (datetime(2023, 12, 31, 23, 59, tzinfo=UTC), "3652359"),  # not a leap year
        (datetime(2024, 12, 31, 23, 59, tzinfo=UTC), "3662359"),  # leap year: day 366
        (datetime(2024, 2, 29, 12, 0, tzinfo=UTC), "0601200"),
        (datetime(2024, 3, 1, 0, 0, tzinfo=UTC), "0610000"),
        (datetime(2100, 3, 1, 0, 0, tzinfo=UTC), "0600000"),  # 2100 is not a leap year
        (datetime(2024, 7, 4, 9, 5, 59, tzinfo=UTC), "1860905"),  # seconds are dropped
        # 09:00 in Kiribati (+14:00) is still the previous day in UTC
        (datetime(2024, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=14))), "3651900"),
    ],
)
def test_issue_time_is_utc_ordinal_day(sent: datetime, expected: str) -> None:
    header = same_header_for(describe(now=sent, expires="+1h"), station_id=STATION)
    assert header.issue_time == expected


# --- text form ---------------------------------------------------------------------------------


def test_encoded_header_is_exact() -> None:
    header = SameHeader(
        originator="CIV",
        event="EVI",
        locations=("148001", "048003"),
        valid_for=timedelta(minutes=30),
        issued=datetime(2024, 2, 1, 8, 7, tzinfo=UTC),
        station_id="KXYZ/FM ",
    )
    assert encode_same_header(header) == "ZCZC-CIV-EVI-148001-048003+0030-0320807-KXYZ/FM -"


def test_header_fields_are_checked_on_construction() -> None:
    good: dict[str, Any] = {
        "originator": "CIV",
        "event": "EVI",
        "locations": ("048003",),
        "valid_for": timedelta(minutes=30),
        "issued": datetime(2024, 2, 1, 8, 7, tzinfo=UTC),
        "station_id": "KXYZ/FM ",
    }
    SameHeader(**good)
    for field, value in [
        ("originator", "NWS"),
        ("event", "ZZZ"),
        ("locations", ()),
        ("locations", ("48003",)),
        ("valid_for", timedelta(minutes=20)),
        ("issued", datetime(2024, 2, 1, 8, 7)),
    ]:
        with pytest.raises(SameError):
            SameHeader(**{**good, field: value})
    with pytest.raises(SameStationIdError):
        SameHeader(**{**good, "station_id": "K-XYZ/FM"})


valid_locations = st.builds(
    lambda p, ss, ccc: f"{p}{ss}{ccc:03d}",
    st.integers(0, 9),
    st.sampled_from(sorted(SS_CODES)),
    st.integers(0, 999),
)
valid_periods = st.one_of(
    st.integers(1, 4).map(lambda n: timedelta(minutes=15 * n)),
    st.integers(3, 199).map(lambda n: timedelta(minutes=30 * n)),
)
station_ids = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="-+"),
    min_size=8,
    max_size=8,
)
headers = st.builds(
    SameHeader,
    originator=st.sampled_from(sorted(ORIGINATORS)),
    event=st.sampled_from(sorted(EVENT_CODES)),
    locations=st.lists(valid_locations, min_size=1, max_size=31).map(tuple),
    valid_for=valid_periods,
    issued=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59)
    ).map(lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)),
    station_id=station_ids,
)


@given(headers)
def test_header_text_parses_back(header: SameHeader) -> None:
    text = encode_same_header(header)
    assert HEADER_RE.match(text)
    assert text.isascii() and len(text) <= 4 + 4 + 4 + 7 * 31 + 5 + 8 + 10
    assert parse_same_header(text, year=header.issued.year) == header


@pytest.mark.parametrize(
    "text",
    [
        "ZCZC-WXR-TOR-048484+0045-0611205-KXYZ/NWS",  # no final dash
        "ZCZC-WXR-TOR-48484+0045-0611205-KXYZ/NWS-",
        "ZCZC-WXR-TOR-048484+0045-3671205-KXYZ/NWS-",  # day 367
        "NNNN",
    ],
)
def test_malformed_header_text_is_refused(text: str) -> None:
    with pytest.raises(SameError):
        parse_same_header(text, year=2024)


# --- counties from polygons and circles --------------------------------------------------------


def square(x: float, y: float, size: float = 1.0) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(fips: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"fips": fips}, "geometry": geometry}


@pytest.fixture(scope="module")
def grid() -> CountyTable:
    """Three 1-degree counties side by side: 12001 [0,1], 12003 [1,2], 12005 [2,3] (lon)."""
    return county_table_from_geojson(
        {
            "type": "FeatureCollection",
            "features": [
                feature("12001", square(0, 0)),
                feature("12003", square(1, 0)),
                feature("12005", square(2, 0)),
            ],
        },
        source="grid",
    )


def area_of(*, polygon: list[tuple[float, float]] | None = None, circle: Any = None) -> Area:
    polygons: tuple[Polygon, ...] = ()
    if polygon:
        points = tuple(Point(_d(lat), _d(lon)) for lon, lat in [*polygon, polygon[0]])
        polygons = (Polygon(points),)
    circles = () if circle is None else (circle,)
    return Area("x", polygons=polygons, circles=circles)


def _d(value: float) -> Decimal:
    return Decimal(str(value))


def test_counties_whose_interior_the_polygon_reaches(grid: CountyTable) -> None:
    across = area_of(polygon=[(0.5, 0.2), (1.5, 0.2), (1.5, 0.8), (0.5, 0.8)])
    assert grid.locations_for([across]) == ("012001", "012003")
    exactly_one = area_of(polygon=[(1, 0), (2, 0), (2, 1), (1, 1)])  # shares borders only
    assert grid.locations_for([exactly_one]) == ("012003",)


def test_counties_of_circles_and_points(grid: CountyTable) -> None:
    point = Circle(Point(_d(0.5), _d(2.5)), _d(0))
    assert grid.locations_for([area_of(circle=point)]) == ("012005",)
    wide = Circle(Point(_d(0.5), _d(1.5)), _d(80))  # 80 km: past both borders 0.5 deg away
    assert grid.locations_for([area_of(circle=wide)]) == ("012001", "012003", "012005")
    assert grid.locations_for([Area("nowhere")]) == ()


def test_header_locations_from_a_county_table(grid: CountyTable) -> None:
    alert = describe(
        areas=[{"area_desc": "plume", "polygons": ["0.2,0.5 0.2,1.5 0.8,1.5 0.8,0.5 0.2,0.5"]}]
    )
    header = same_header_for(alert, station_id=STATION, county_table=grid)
    assert header.locations == ("012001", "012003")
    assert any("2 counties of grid" in n for n in header.notes)
    elsewhere = describe(areas=[{"area_desc": "far", "circles": ["40,40 1"]}])
    assert "reach no county of grid" in refusal(elsewhere, county_table=grid)


def test_real_florida_county_table(shared_data: Path) -> None:
    table = load_county_table(shared_data / "outage/us_census_fl_counties.geojson")
    assert len(table.codes) == 67 and all(c.startswith("012") for c in table.codes)
    # a point in downtown Miami, and a 5 km circle round Tallahassee (Leon County, 12073)
    miami = Circle(Point(_d(25.774), _d(-80.19)), _d(0))
    tallahassee = Circle(Point(_d(30.44), _d(-84.28)), _d(5))
    assert table.locations_for([area_of(circle=miami)]) == ("012086",)
    assert table.locations_for([area_of(circle=tallahassee)]) == ("012073",)
    geometries = table.geometries
    assert bool(np.all(shapely.is_valid(geometries)))


def test_bad_county_tables_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(CountyTableError, match="no such file"):
        load_county_table(tmp_path / "missing.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(CountyTableError, match="not JSON"):
        load_county_table(bad)
    with pytest.raises(CountyTableError, match="feature 1: property 'fips' is '1201'"):
        county_table_from_geojson(
            {"type": "FeatureCollection", "features": [feature("1201", square(0, 0))]},
            source="t",
        )
