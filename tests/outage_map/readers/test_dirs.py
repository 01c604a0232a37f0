"""FCC DIRS headline tables -> area reports, on the real transcribed rows."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from outage_map.model import AdminArea, AreaSubject, Cause, Source, SourceKind, Status
from outage_map.readers import AreaNames, Severity, read_boundaries, read_dirs
from outage_map.readers.dirs import parse_as_of, parse_zone_abbreviation
from outage_map.readers.fields import FieldError

RECEIVED = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def us_names(outage_data: Path) -> AreaNames:
    areas: list[AdminArea] = []
    for name in ("us_census_fl_counties.geojson", "us_census_pr_municipios.geojson"):
        areas.extend(read_boundaries(outage_data / name).items)
    return AreaNames.from_areas(areas)


def test_the_real_dirs_rows(outage_data: Path, us_names: AreaNames) -> None:
    path = outage_data / "fcc_dirs_headlines.csv"
    result = read_dirs(path, received_at=RECEIVED, area_names=us_names)
    assert (result.rows, len(result.items), len(result.errors), len(result.infos)) == (18, 17, 1, 4)
    assert str(result.errors[0]) == (
        f"{path} line 19, field pct_out: is empty and cell_sites_served/cell_sites_out do not "
        "give it: the row does not say what share of sites is out"
    )
    assert [p.line for p in result.infos] == [2, 5, 11, 14]  # areas no boundary file knows
    assert all("kept as an area report keyed by this name" in p.reason for p in result.infos)
    codes = [r.subject for r in result.items]
    assert codes.count(AreaSubject("72")) == 3  # Puerto Rico, a state-level FIPS code
    assert AreaSubject("Puerto Rico + U.S. Virgin Islands") in codes
    assert all(r.source == Source(SourceKind.REGULATOR, "FCC DIRS") for r in result.items)
    assert all(r.received_at == RECEIVED for r in result.items)

    maria = result.items[6]
    assert maria.subject == AreaSubject("72")
    assert maria.observed_at == datetime(2017, 9, 21, 15, 0, tzinfo=UTC)  # 11:00 EDT
    assert (maria.share_out, maria.status, maria.cause) == (0.95, Status.DEGRADED, None)

    glades, desoto = result.items[14], result.items[15]
    assert (glades.subject, glades.share_out) == (AreaSubject("12043"), 0.828)
    assert (desoto.subject, desoto.share_out) == (AreaSubject("12027"), 0.654)
    # date-only as_of: 11:00 US Eastern, EDT in September
    assert glades.observed_at == datetime(2022, 9, 30, 15, 0, tzinfo=UTC)
    assert "as_of date only: 11:00 America/New_York taken" in glades.note

    ian = result.items[13]
    assert (ian.subject, ian.share_out, ian.cause) == (AreaSubject("12"), 0.109, Cause.POWER)
    assert "cell sites out by cause: damage 180, power 795" in ian.note

    helene = result.items[16]
    assert (helene.subject, helene.share_out, helene.cause) == (
        AreaSubject("37"),
        0.487,
        Cause.POWER,
    )
    assert helene.observed_at == datetime(2024, 10, 1, 13, 0, tzinfo=UTC)
    assert result.items[0].share_out == 0.041  # 4.1 % as written, not 0.0409999...


def test_without_boundaries_counties_stay_names_and_states_still_resolve(
    outage_data: Path,
) -> None:
    result = read_dirs(outage_data / "fcc_dirs_headlines.csv", received_at=RECEIVED)
    assert result.items[14].subject == AreaSubject("Glades County FL")
    assert result.items[6].subject == AreaSubject("72")
    assert len(result.infos) == 6


BROKEN = """\
event,as_of,as_of_tz,area,cell_sites_served,cell_sites_out,pct_out,out_damage,out_power
A,2017-09-21T11:00,EDT,Puerto Rico,1789,1703,95,,
B,2017-09-21T11:00,XST,Puerto Rico,,,95,,
C,21/09/2017,,Puerto Rico,,,95,,
D,2017-09-21T11:00,EDT,,,,95,,
E,2017-09-21T11:00,EDT,Florida,,,95 %,,
F,2017-09-21T11:00,EDT,Florida,100,120,,,
G,2017-09-21T11:00,EDT,Florida,100,40,,-3,
H,2017-09-21T11:00,EDT,Florida,100,40,20,,
I,2017-09-21T11:00,,Florida,,,0,,
J,2017-09-21T11:00-05:00,,Guam,,,100,,
"""


def test_bad_rows_say_file_line_field_and_why() -> None:
    result = read_dirs(io.StringIO(BROKEN), received_at=RECEIVED, name="dirs.csv")
    assert [(p.severity, str(p)) for p in result.problems] == [
        (Severity.ERROR, "dirs.csv line 3, field as_of_tz: 'XST' is not a time-zone "
         "abbreviation this reader knows (ADT, AKDT, AKST, AST, CDT, CHST, CST, EDT, EST, GMT, "
         "HST, MDT, MST, PDT, PST, SST, UTC, Z)"),
        (Severity.ERROR, "dirs.csv line 4, field as_of: '21/09/2017' is not a date and time; "
         "write it as ISO 8601, like 2024-10-01T09:00:00-04:00"),
        (Severity.ERROR, "dirs.csv line 5, field area: is empty; the row names no area"),
        (Severity.ERROR, "dirs.csv line 6, field pct_out: '95 %' is not a number"),
        (Severity.ERROR, "dirs.csv line 7, field cell_sites_out: '120' is more than "
         "cell_sites_served (100)"),
        (Severity.ERROR, "dirs.csv line 8, field out_damage: '-3' is negative; a count of sites "
         "is 0 or more"),
        (Severity.INFO, "dirs.csv line 9, field pct_out: '20' disagrees with "
         "cell_sites_out/cell_sites_served (40.0%); pct_out is used"),
    ]  # fmt: skip
    assert [r.note.split(";")[0] for r in result.items] == ["A", "H", "I", "J"]
    a, h, i, j = result.items
    assert a.share_out == 0.95
    assert h.share_out == 0.2
    # no zone given: US Eastern (EDT on that date); an offset in as_of wins
    assert i.observed_at == datetime(2017, 9, 21, 15, 0, tzinfo=UTC)
    assert (i.status, i.share_out) == (Status.UP, 0.0)
    assert j.observed_at == datetime(2017, 9, 21, 16, 0, tzinfo=UTC)
    assert (j.subject, j.status) == (AreaSubject("66"), Status.DOWN)


def test_share_from_site_counts_when_pct_out_is_empty() -> None:
    text = "as_of,as_of_tz,area,cell_sites_served,cell_sites_out,pct_out\n"
    text += "2017-09-21T11:00,EDT,Puerto Rico,1789,1703,\n"
    (report,) = read_dirs(io.StringIO(text), received_at=RECEIVED).items
    assert report.share_out == pytest.approx(1703 / 1789)


def test_zone_rules() -> None:
    edt = parse_zone_abbreviation("edt")
    assert edt is not None and edt.utcoffset(None) == timedelta(hours=-4)
    assert parse_zone_abbreviation("") is None
    with pytest.raises(FieldError):
        parse_zone_abbreviation("CEST")
    day, assumed = parse_as_of("2017-12-01", None, UTC)
    assert (day, assumed) == (datetime(2017, 12, 1, 11, 0, tzinfo=UTC), True)
    moment, assumed = parse_as_of("2017-12-01T09:30", edt, UTC)
    assert (moment.utcoffset(), assumed) == (timedelta(hours=-4), False)
