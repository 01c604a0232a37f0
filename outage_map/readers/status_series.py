"""Daily status series in the shape status.pr published after Hurricane Maria: one figure per
resource, place and day (``date,Resource,Location,Value,Unit,Source``).

Only telecom figures become reports: ``Telecomunications`` (percent of service up, from the
regulator JRTC) and the counts of ``Cell towers`` / ``Cell antennas`` in service (JRTC, FCC),
each an island-wide area report. Water, electricity, shelters and hospitals are not telecom:
they are counted in ``skipped``, not reported as errors."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from outage_map.model import AreaSubject, Report, Source, SourceKind
from outage_map.readers.area_names import AreaNames
from outage_map.readers.fields import (
    FieldError,
    RowError,
    check_received_at,
    parse_number,
    share_from_percent,
    status_for_share_out,
)
from outage_map.readers.results import Problem, ReadResult, Severity
from outage_map.readers.tables import CsvTable, Input, Row, input_name, open_text

REQUIRED = ("date", "resource", "location", "value", "unit", "source")

TELECOM_PERCENT = "Telecomunications"  # sic: status.pr's spelling
CELL_TOWERS = "Cell towers"
CELL_ANTENNAS = "Cell antennas"
TELECOM_RESOURCES = frozenset({TELECOM_PERCENT, CELL_TOWERS, CELL_ANTENNAS})

PR_CELL_SITES = 2723
"""Cell sites in Puerto Rico before Maria, by the FCC's count (DIRS report of 2017-10-19:
"1,901 cell sites are offline out of a total 2,723"). status.pr's tower and antenna counts
track the FCC's sites-in-service with this total (2017-10-14: 647 antennas and 652 towers up,
FCC 75.9 % out = 656 of 2,723 up), and the antenna count reaches 2,653, above DIRS's earlier
1,789 "sites served" (a count from before all carriers reported)."""

DEFAULT_TOTALS: Mapping[str, float] = {CELL_TOWERS: PR_CELL_SITES, CELL_ANTENNAS: PR_CELL_SITES}
SERIES_ZONE = ZoneInfo("America/Puerto_Rico")  # AST, UTC-4 all year
SERIES_TIME = time(12, 0)
"""status.pr gives a date, not a time: the figure is taken as of noon local time."""


def read_status_series(
    source: Input,
    *,
    received_at: datetime,
    totals: Mapping[str, float] = DEFAULT_TOTALS,
    resources: Collection[str] = TELECOM_RESOURCES,
    area_names: AreaNames | None = None,
    zone: tzinfo = SERIES_ZONE,
    time_of_day: time = SERIES_TIME,
    name: str | None = None,
) -> ReadResult[Report]:
    """Area reports from a status series, ``Source(REGULATOR, "<Source> (<Resource>)")``,
    e.g. ``JRTC (Telecomunications)``: one source per agency and series.

    ``Telecomunications`` v % up -> share_out = 1 - v/100. A count n of towers or antennas in
    service -> share_out = 1 - n/total, the total from ``totals`` by resource. ``resources``
    chooses which telecom series to read (the others are skipped). A row is bad when the
    date, number or unit is wrong, or a count exceeds its total."""
    check_received_at(received_at)
    names = area_names if area_names is not None else AreaNames.from_areas()
    file = input_name(source, name)
    wanted = frozenset(resources)
    reports: list[Report] = []
    problems: list[Problem] = []
    skipped: dict[str, int] = {}
    unplaced: set[str] = set()
    rows = 0
    with open_text(source, file) as stream:
        table = CsvTable(stream, file, required=REQUIRED, what="a status.pr series")
        problems.extend(table.unused_problems())
        for item in table.rows():
            rows += 1
            if isinstance(item, Problem):
                problems.append(item)
                continue
            resource = item.values["resource"]
            if resource not in wanted or resource not in TELECOM_RESOURCES:
                label = resource or "(no resource)"
                skipped[label] = skipped.get(label, 0) + 1
                continue
            location = item.values["location"]
            code = names.resolve(location)
            try:
                report = _report(item, table, resource, totals, received_at, zone, time_of_day)
            except RowError as bad:
                problems.append(table.problem(item, bad))
                continue
            reports.append(replace(report, subject=AreaSubject(code or location)))
            if code is None and location not in unplaced:
                unplaced.add(location)
                problems.append(
                    Problem(
                        file,
                        item.line,
                        table.header.display("location"),
                        location,
                        "matches no area of the boundary files; its reports are keyed by this "
                        "name (reported once)",
                        Severity.INFO,
                    )
                )
    return ReadResult(file, tuple(reports), tuple(problems), rows=rows, skipped=skipped)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FieldError("is not a date (YYYY-MM-DD)") from None


def _report(
    row: Row,
    table: CsvTable,
    resource: str,
    totals: Mapping[str, float],
    received_at: datetime,
    zone: tzinfo,
    time_of_day: time,
) -> Report:
    day = table.parse(row, "date", parse_day)
    if not row.values["location"]:
        raise RowError(table.header.display("location"), "", "is empty; the row names no place")
    value = table.parse(row, "value", parse_number)
    unit = row.values["unit"]
    expected = "percent" if resource == TELECOM_PERCENT else "number"
    if unit.casefold() != expected:
        raise RowError(table.header.display("unit"), unit, f"should be {expected!r} for {resource}")
    value_column = table.header.display("value")
    if resource == TELECOM_PERCENT:
        if not 0 <= value <= 100:
            raise RowError(value_column, row.values["value"], "is not a percentage 0 to 100")
        share_out = share_from_percent(value, percent_is_up=True)
    else:
        total = totals.get(resource)
        if total is None or total <= 0:
            raise RowError(
                table.header.display("resource"),
                resource,
                "has no total to take a share of; pass one in totals",
            )
        if value < 0 or value != int(value):
            raise RowError(value_column, row.values["value"], "is not a count (0 or more)")
        if value > total:
            raise RowError(
                value_column,
                row.values["value"],
                f"is more than the total of {total:g} {resource.lower()} the share is taken "
                "from; pass a larger total",
            )
        share_out = (total - value) / total
    # One source per agency and series: the merge lets a source's later report supersede its
    # earlier one on the same subject, and JRTC's percent and tower count are two series.
    source_name = f"{row.values['source'] or 'status.pr'} ({resource})"
    return Report(
        observed_at=datetime.combine(day, time_of_day, tzinfo=zone),
        received_at=received_at,
        source=Source(SourceKind.REGULATOR, source_name),
        subject=AreaSubject(row.values["location"]),
        status=status_for_share_out(share_out),
        share_out=share_out,
        note=f"status.pr {resource}: {row.values['value']} {unit}",
    )
