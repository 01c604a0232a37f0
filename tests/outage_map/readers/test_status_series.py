"""The status.pr daily series after Hurricane Maria -> island-wide area reports."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from outage_map.model import AreaSubject, Report, Source, SourceKind, Status
from outage_map.readers import PR_CELL_SITES, Severity, read_status_series

RECEIVED = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
NOT_TELECOM = {
    "Clients with electricity": 16,
    "Electricity": 76,
    "Hospitals": 56,
    "Hospitals with electricity": 55,
    "People in shelters": 61,
    "Water": 407,
}


def series(reports: tuple[Report, ...], resource: str) -> dict[date, float]:
    out: dict[date, float] = {}
    for report in reports:
        if report.note.startswith(f"status.pr {resource}:"):
            assert report.share_out is not None
            out[report.observed_at.date()] = report.share_out
    return out


def test_the_real_series(outage_data: Path) -> None:
    result = read_status_series(outage_data / "statuspr_maria_2017_2018.csv", received_at=RECEIVED)
    assert (result.rows, len(result.items), result.problems) == (813, 142, ())
    assert result.skipped == NOT_TELECOM
    assert result.rows == len(result.items) + sum(result.skipped.values())
    assert {r.subject for r in result.items} == {AreaSubject("72")}

    telecom = series(result.items, "Telecomunications")
    towers = series(result.items, "Cell towers")
    antennas = series(result.items, "Cell antennas")
    assert (len(telecom), len(towers), len(antennas)) == (63, 25, 54)
    assert telecom[date(2017, 9, 29)] == 0.695  # 30.5 % of service up
    assert telecom[date(2017, 10, 2)] == 0.6  # 40 %
    assert telecom[date(2018, 6, 5)] == 0.015  # 98.5 %
    assert towers[date(2017, 10, 2)] == (PR_CELL_SITES - 270) / PR_CELL_SITES
    assert antennas[date(2018, 6, 5)] == (PR_CELL_SITES - 2653) / PR_CELL_SITES
    # the first day at least half of telecom service was back, and 90 %
    assert min(d for d, s in telecom.items() if s <= 0.5) == date(2017, 10, 8)
    assert min(d for d, s in telecom.items() if s <= 0.1) == date(2017, 12, 19)

    first = result.items[0]
    assert first.observed_at == datetime(2017, 9, 29, 16, 0, tzinfo=UTC)  # noon AST
    assert first.source == Source(SourceKind.REGULATOR, "JRTC (Telecomunications)")
    assert first.status is Status.DEGRADED
    assert first.note == "status.pr Telecomunications: 30.5 percent"
    assert {r.source.name for r in result.items} == {
        "JRTC (Telecomunications)",
        "JRTC (Cell towers)",
        "JRTC (Cell antennas)",
        "FCC (Cell antennas)",
    }
    assert sum(r.source.name == "FCC (Cell antennas)" for r in result.items) == 21


def test_choosing_series_totals_zone_and_time(outage_data: Path) -> None:
    result = read_status_series(
        outage_data / "statuspr_maria_2017_2018.csv",
        received_at=RECEIVED,
        resources={"Cell towers"},
        totals={"Cell towers": 1789},
        time_of_day=time(23, 0),
    )
    assert len(result.items) == 25
    assert result.skipped["Telecomunications"] == 63
    assert result.skipped["Cell antennas"] == 54
    assert result.items[0].share_out == (1789 - 270) / 1789
    assert result.items[0].observed_at == datetime(2017, 10, 3, 3, 0, tzinfo=UTC)


BROKEN = """\
date,Resource,Location,Value,Unit,Source
2017-10-02,Telecomunications,Puerto Rico,40,percent,JRTC
2017-10-03,Telecomunications,Puerto Rico,n/a,percent,JRTC

2017-13-03,Cell towers,Puerto Rico,12,number,JRTC
2017-10-04,Cell towers,Puerto Rico,3000,number,JRTC
2017-10-04,Cell towers,Puerto Rico,30
2017-10-05,Telecomunications,Puerto Rico,"1,000",percent,JRTC
2017-10-05,Telecomunications,Puerto Rico,104,percent,JRTC
2017-10-05,Cell towers,Puerto Rico,40,percent,JRTC
2017-10-05,Cell towers,Puerto Rico,40.5,number,JRTC
2017-10-06,Telecomunications,,50,percent,JRTC
2017-10-06,Telecomunications,Vieques,50,percent,JRTC
2017-10-07,Telecomunications,Vieques,55,percent,JRTC
2017-10-07,Water,Metro,n/a,percent,AAA
"""


def test_bad_rows_are_reported_and_good_rows_kept() -> None:
    result = read_status_series(io.StringIO(BROKEN), received_at=RECEIVED, name="statuspr.csv")
    assert [str(p) for p in result.errors] == [
        "statuspr.csv line 3, field Value: 'n/a' is not a number",
        "statuspr.csv line 5, field date: '2017-13-03' is not a date (YYYY-MM-DD)",
        "statuspr.csv line 6, field Value: '3000' is more than the total of 2723 cell towers "
        "the share is taken from; pass a larger total",
        "statuspr.csv line 7: has 4 fields where the header has 6; a value is missing or the "
        "row is cut short",
        "statuspr.csv line 8, field Value: '1,000' is not a number: write it without "
        "thousands separators",
        "statuspr.csv line 9, field Value: '104' is not a percentage 0 to 100",
        "statuspr.csv line 10, field Unit: 'percent' should be 'number' for Cell towers",
        "statuspr.csv line 11, field Value: '40.5' is not a count (0 or more)",
        "statuspr.csv line 12, field Location: is empty; the row names no place",
    ]
    # a place no boundary file names: kept, keyed by its name, said once
    assert [(p.severity, p.line, p.value) for p in result.infos] == [(Severity.INFO, 13, "Vieques")]
    assert [(r.subject, r.share_out) for r in result.items] == [
        (AreaSubject("72"), 0.6),
        (AreaSubject("Vieques"), 0.5),
        (AreaSubject("Vieques"), 0.45),
    ]
    assert result.skipped == {"Water": 1}
    assert result.rows == 13 == len(result.items) + len(result.errors) + 1


def test_a_count_without_a_total_is_a_row_error() -> None:
    result = read_status_series(io.StringIO(BROKEN), received_at=RECEIVED, name="s.csv", totals={})
    assert "s.csv line 5, field date" in str(result.errors[1])
    assert str(result.errors[2]) == (
        "s.csv line 6, field Resource: 'Cell towers' has no total to take a share of; pass one "
        "in totals"
    )


def test_a_file_without_the_columns_is_refused(outage_data: Path) -> None:
    from outage_map.errors import ReaderError

    with pytest.raises(ReaderError, match="missing required column\\(s\\) date, resource"):
        read_status_series(outage_data / "fcc_dirs_headlines.csv", received_at=RECEIVED)
