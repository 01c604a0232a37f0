"""FCC DIRS headline tables: the share of cell sites out per state, county or activation area
on a given day, with the cause split when the FCC gave it.

Columns: ``event,as_of,as_of_tz,area,area_type,cell_sites_served,cell_sites_out,pct_out,
out_damage,out_power,out_transport,up_on_backup,cable_wireline_subs_out,source_url,note``;
``as_of``, ``area`` and ``pct_out`` must be present (``pct_out`` may be empty when
``cell_sites_served`` and ``cell_sites_out`` give it). One area report per row, from
``Source(REGULATOR, "FCC DIRS")``."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from outage_map.model import AreaSubject, Cause, Report, Source, SourceKind
from outage_map.readers.area_names import AreaNames
from outage_map.readers.fields import (
    FieldError,
    RowError,
    check_received_at,
    parse_number,
    parse_percent,
    parse_time,
    share_from_percent,
    status_for_share_out,
)
from outage_map.readers.results import Problem, ReadResult, Severity
from outage_map.readers.tables import CsvTable, Input, Row, input_name, open_text

REQUIRED = ("as_of", "area", "pct_out")
OPTIONAL = (
    "event", "as_of_tz", "area_type", "cell_sites_served", "cell_sites_out", "out_damage",
    "out_power", "out_transport", "up_on_backup", "cable_wireline_subs_out", "source_url",
    "note",
)  # fmt: skip

DIRS_ZONE = ZoneInfo("America/New_York")
"""DIRS reports are cut off in US Eastern time."""
DIRS_CUTOFF = time(11, 0)
"""The time of day taken for a date-only ``as_of``: DIRS daily reports state figures "as of
11:00 a.m. EDT" (e.g. the Maria and Irma reports)."""

# US time-zone abbreviations as DIRS and press summaries write them: fixed UTC offsets, hours.
ZONE_ABBREVIATIONS: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "AST": -4, "ADT": -3, "CHST": 10, "SST": -11,
}  # fmt: skip

CAUSE_COLUMNS = (
    ("out_damage", Cause.DAMAGE),
    ("out_power", Cause.POWER),
    ("out_transport", Cause.TRANSPORT),
)
AGREEMENT_POINTS = 1.0
"""``pct_out`` and ``cell_sites_out / cell_sites_served`` may differ by rounding; beyond this
many percentage points the row is flagged (info) and ``pct_out`` is used."""

SOURCE = Source(SourceKind.REGULATOR, "FCC DIRS")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def read_dirs(
    source: Input,
    *,
    received_at: datetime,
    area_names: AreaNames | None = None,
    default_tz: tzinfo = DIRS_ZONE,
    name: str | None = None,
) -> ReadResult[Report]:
    """Area reports with ``share_out`` = pct_out / 100 (or sites out / sites served), the
    dominant cause of the split, and the split itself in the note.

    ``area_names`` places area names on boundary codes (states always resolve to their FIPS
    code); a name it cannot place stays an ``AreaSubject`` keyed by the name as written, and
    an info problem says so."""
    check_received_at(received_at)
    names = area_names if area_names is not None else AreaNames.from_areas()
    file = input_name(source, name)
    reports: list[Report] = []
    problems: list[Problem] = []
    rows = 0
    with open_text(source, file) as stream:
        table = CsvTable(stream, file, required=REQUIRED, known=OPTIONAL, what="a DIRS table")
        problems.extend(table.unused_problems())
        for item in table.rows():
            rows += 1
            if isinstance(item, Problem):
                problems.append(item)
                continue
            try:
                report, notes = _report(item, table, received_at, names, default_tz)
            except RowError as bad:
                problems.append(table.problem(item, bad))
                continue
            reports.append(report)
            problems.extend(notes)
    return ReadResult(file, tuple(reports), tuple(problems), rows=rows)


def parse_zone_abbreviation(text: str) -> tzinfo | None:
    """``EDT`` -> UTC-4. Empty means none was given."""
    value = text.strip()
    if not value:
        return None
    hours = ZONE_ABBREVIATIONS.get(value.upper())
    if hours is None:
        known = ", ".join(sorted(ZONE_ABBREVIATIONS))
        raise FieldError(f"is not a time-zone abbreviation this reader knows ({known})")
    return timezone(timedelta(hours=hours), value.upper())


def parse_as_of(text: str, zone: tzinfo | None, default_tz: tzinfo) -> tuple[datetime, bool]:
    """The report instant, and whether the time of day was assumed (date-only ``as_of``).

    An offset in ``as_of`` wins; else the ``as_of_tz`` zone; else ``default_tz``."""
    value = text.strip()
    if _DATE_ONLY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise FieldError("is not a date (YYYY-MM-DD)") from None
        return datetime.combine(day, DIRS_CUTOFF, tzinfo=zone or default_tz), True
    return parse_time(value, zone or default_tz), False


def parse_optional_count(text: str) -> float | None:
    if not text.strip():
        return None
    number = parse_number(text)
    if number < 0:
        raise FieldError("is negative; a count of sites is 0 or more")
    return number


def parse_optional_percent(text: str) -> float | None:
    return parse_percent(text) if text.strip() else None


def _share_out(row: Row, table: CsvTable, notes: list[Problem]) -> float:
    pct = table.parse(row, "pct_out", parse_optional_percent)
    served = table.parse(row, "cell_sites_served", parse_optional_count)
    out = table.parse(row, "cell_sites_out", parse_optional_count)
    computed: float | None = None
    if served is not None and out is not None:
        if out > served:
            raise RowError(
                table.header.display("cell_sites_out"),
                row.values["cell_sites_out"],
                f"is more than cell_sites_served ({served:g})",
            )
        if served > 0:
            computed = out / served
    if pct is None:
        if computed is None:
            raise RowError(
                table.header.display("pct_out"),
                "",
                "is empty and cell_sites_served/cell_sites_out do not give it: the row does "
                "not say what share of sites is out",
            )
        return computed
    if computed is not None and abs(computed * 100 - pct) > AGREEMENT_POINTS:
        notes.append(
            Problem(
                table.file,
                row.line,
                table.header.display("pct_out"),
                row.values["pct_out"],
                f"disagrees with cell_sites_out/cell_sites_served ({computed * 100:.1f}%); "
                "pct_out is used",
                Severity.INFO,
            )
        )
    return share_from_percent(pct)


def _causes(row: Row, table: CsvTable) -> tuple[Cause | None, str]:
    split = [
        (cause, table.parse(row, column, parse_optional_count)) for column, cause in CAUSE_COLUMNS
    ]
    given = [(cause, n) for cause, n in split if n is not None]
    if not given:
        return None, ""
    text = "cell sites out by cause: " + ", ".join(f"{c.value} {n:g}" for c, n in given)
    top = max(n for _, n in given)
    if top <= 0:
        return None, text
    return next(c for c, n in given if n == top), text


def _report(
    row: Row, table: CsvTable, received_at: datetime, names: AreaNames, default_tz: tzinfo
) -> tuple[Report, list[Problem]]:
    notes: list[Problem] = []
    zone = table.parse(row, "as_of_tz", parse_zone_abbreviation)
    observed_at, assumed = table.parse(
        row, "as_of", lambda text: parse_as_of(text, zone, default_tz)
    )
    area = row.values["area"]
    if not area:
        raise RowError(table.header.display("area"), "", "is empty; the row names no area")
    share_out = _share_out(row, table, notes)
    cause, split = _causes(row, table)
    code = names.resolve(area)
    if code is None:
        notes.append(
            Problem(
                table.file,
                row.line,
                table.header.display("area"),
                area,
                "matches no area of the boundary files; kept as an area report keyed by this name",
                Severity.INFO,
            )
        )
    note_parts = [
        row.values.get("event", ""),
        f"as_of date only: {DIRS_CUTOFF:%H:%M} {zone or default_tz} taken" if assumed else "",
        split,
        row.values.get("note", ""),
        row.values.get("source_url", ""),
    ]
    report = Report(
        observed_at=observed_at,
        received_at=received_at,
        source=SOURCE,
        subject=AreaSubject(code or area),
        status=status_for_share_out(share_out),
        cause=cause,
        share_out=share_out,
        note="; ".join(p for p in note_parts if p),
    )
    return report, notes
