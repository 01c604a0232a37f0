"""Puerto Rico after Hurricane Maria: the status.pr series, ingested as reports and merged as of
each day, gives back the series, and crosses 50 % and 90 % of service on the series' own days.

Which series. status.pr published three telecom figures: ``Telecomunications`` (percent of
telecom service up, from the regulator JRTC) and the counts of ``Cell towers`` and ``Cell
antennas`` in service (JRTC, and FCC before mid-November). They measure different things:
on 2017-10-02 telecom service was 40 % while 270 towers (10 % of the 2,723 sites) were up. Fed
together, the merge averages them (trust- and age-weighted), which matches none of them. So the
check ingests one series at a time: the telecom percent (the figure status.pr headlined, and the
one the README map shows), and the tower count (one agency only, so one source). The antenna
count is left out of this check: it switches agency (FCC to JRTC) on 2017-11-13, and for a week
both agencies' last figures are live at once, so the merge blends them by design.

Tolerance. A later figure from the same source replaces the earlier one, so at each day of the
series exactly one report counts and the merged share of service is that figure: equal to
1e-9. On days between two figures the last one holds while it is younger than ``max_age``
(7 days); after that the area is unknown.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from outage_map.commands import main
from outage_map.config import MergePolicy
from outage_map.model import Status
from outage_map.readers import PR_CELL_SITES
from outage_map.snapshot import Snapshot, load_snapshot
from outage_map.vector import area_rows

AST = ZoneInfo("America/Puerto_Rico")
SERIES = "statuspr_maria_2017_2018.csv"
TOLERANCE = 1e-9


def series_from_file(path: Path, resource: str) -> dict[date, float]:
    """Share of service per day, read straight from the file (not through our readers)."""
    shares: dict[date, float] = {}
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            if row["Resource"] != resource or row["Location"] != "Puerto Rico":
                continue
            value = float(row["Value"])
            share = value / 100 if row["Unit"] == "percent" else value / PR_CELL_SITES
            shares[date.fromisoformat(row["date"])] = share
    return dict(sorted(shares.items()))


def first_day_at_or_over(series: dict[date, float | None], threshold: float) -> date | None:
    """The first day at or over the threshold, within the tolerance: the merge divides a
    weighted sum by its weight, so a 90 % figure can come back as 0.8999999999999999."""
    return next(
        (d for d, s in series.items() if s is not None and s >= threshold - TOLERANCE), None
    )


def end_of_day(day: date) -> datetime:
    """As of the end of the day in Puerto Rico (AST)."""
    return datetime.combine(day, time(23, 59, 59), AST).astimezone(UTC)


@pytest.fixture(scope="module", params=["Telecomunications", "Cell towers"])
def ingested(
    request: pytest.FixtureRequest, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, Snapshot]:
    resource: str = request.param
    data = shared_data / "outage"
    store = tmp_path_factory.mktemp("pr") / "pr.db"
    for args in (
        ["boundaries", str(data / "us_census_pr_municipios.geojson")],
        ["status-series", str(data / SERIES), "--resource", resource],
    ):
        assert main(["outage", "ingest", *args, "--store", str(store)]) == 0
    return resource, data / SERIES, load_snapshot(store, MergePolicy())


def merged_share(snapshot: Snapshot, at: datetime) -> float | None:
    state = snapshot.merge_at(at).area("72")
    return None if state is None or state.share_out is None else 1.0 - state.share_out


def test_merged_share_follows_the_series_every_day(
    ingested: tuple[str, Path, Snapshot],
) -> None:
    resource, path, snapshot = ingested
    series = series_from_file(path, resource)
    assert len(series) >= 25
    for day, share in series.items():
        merged = merged_share(snapshot, end_of_day(day))
        assert merged is not None, day
        assert merged == pytest.approx(share, abs=TOLERANCE), day


def test_days_between_figures_hold_the_last_one_until_it_is_too_old(
    ingested: tuple[str, Path, Snapshot],
) -> None:
    resource, path, snapshot = ingested
    series = series_from_file(path, resource)
    max_age = timedelta(seconds=MergePolicy().max_age_s)
    days = list(series)
    day = days[0]
    while day <= days[-1]:
        last = max(d for d in days if d <= day)
        observed = datetime.combine(last, time(12), AST)  # the reader's time of day
        expected = series[last] if end_of_day(day) - observed < max_age else None
        merged = merged_share(snapshot, end_of_day(day))
        if expected is None:
            assert merged is None, day
        else:
            assert merged == pytest.approx(expected, abs=TOLERANCE), day
        day += timedelta(days=1)


def test_crossing_days_match_the_series(ingested: tuple[str, Path, Snapshot]) -> None:
    resource, path, snapshot = ingested
    series = series_from_file(path, resource)
    merged: dict[date, float | None] = {
        day: merged_share(snapshot, end_of_day(day)) for day in series
    }
    raw: dict[date, float | None] = dict(series)
    for threshold in (0.5, 0.9):
        assert first_day_at_or_over(merged, threshold) == first_day_at_or_over(raw, threshold)
    half = first_day_at_or_over(raw, 0.5)
    assert half is not None  # both series pass 50 %
    # The policy's thresholds are 50 % (down below) and 90 % (up from): crossing 50 % ends the
    # outage, and "restored at" is that day's figure.
    result = snapshot.merge_at(end_of_day(half))
    state = result.area("72")
    assert state is not None
    assert state.status is not Status.DOWN
    assert state.restored_at == datetime.combine(half, time(12), AST)
    before = max(d for d in series if d < half)
    earlier = snapshot.merge_at(end_of_day(before)).area("72")
    assert earlier is not None and earlier.status is Status.DOWN
    assert earlier.dark_since == datetime.combine(min(series), time(12), AST)


def test_every_municipio_shows_the_island_figure(ingested: tuple[str, Path, Snapshot]) -> None:
    resource, path, snapshot = ingested
    series = series_from_file(path, resource)
    day = date(2017, 11, 12)  # in both series
    rows = area_rows(snapshot.merge_at(end_of_day(day)), snapshot.shapes)
    municipios = [r for r in rows if r.parent == "72"]
    assert len(municipios) == 78
    for row in municipios:
        assert row.basis == "parent" and row.figures_from == "72"
        assert row.share_service == pytest.approx(series[day], abs=TOLERANCE)
