"""Operator site-status CSV: our own format for an operator's network operations centre to
say, site by site, what is up and what is down.

Columns (header required, any order, case-insensitive): ``site_id``, ``observed_at``,
``status`` required; ``cause``, ``technologies``, ``operator``, ``note`` optional. See
docs/outage-formats.md for each column."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import partial
from pathlib import PurePath

from outage_map.model import Report, SiteSubject, Source, SourceKind
from outage_map.readers.fields import (
    FieldError,
    RowError,
    check_received_at,
    parse_cause,
    parse_status,
    parse_technologies,
    parse_time,
)
from outage_map.readers.results import Problem, ReadResult
from outage_map.readers.tables import CsvTable, Input, Row, input_name, open_text

REQUIRED = ("site_id", "observed_at", "status")
OPTIONAL = ("cause", "technologies", "operator", "note")


def read_site_status(
    source: Input,
    *,
    received_at: datetime,
    operator: str | None = None,
    default_tz: tzinfo | None = None,
    name: str | None = None,
) -> ReadResult[Report]:
    """Site reports, one per row, from an operator (``Source(OPERATOR, name)``: the row's
    ``operator``, else ``operator``, else the file's stem).

    ``observed_at`` must carry an offset unless ``default_tz`` (the operator's documented
    zone) is given. A row is bad when a required field is empty or unreadable, or a
    technology, status or cause is not one of ours."""
    check_received_at(received_at)
    file = input_name(source, name)
    default_operator = operator or PurePath(file).stem or "operator"
    reports: list[Report] = []
    problems: list[Problem] = []
    rows = 0
    with open_text(source, file) as stream:
        table = CsvTable(
            stream, file, required=REQUIRED, known=OPTIONAL, what="an operator site-status CSV"
        )
        problems.extend(table.unused_problems())
        for item in table.rows():
            rows += 1
            if isinstance(item, Problem):
                problems.append(item)
                continue
            try:
                reports.append(_report(item, table, received_at, default_operator, default_tz))
            except RowError as bad:
                problems.append(table.problem(item, bad))
    return ReadResult(file, tuple(reports), tuple(problems), rows=rows)


def parse_site_id(text: str) -> str:
    site_id = text.strip()
    if not site_id:
        raise FieldError("is empty; every row names the site it speaks of")
    return site_id


def _report(
    row: Row, table: CsvTable, received_at: datetime, operator: str, default_tz: tzinfo | None
) -> Report:
    return Report(
        observed_at=table.parse(row, "observed_at", partial(parse_time, default_tz=default_tz)),
        received_at=received_at,
        source=Source(SourceKind.OPERATOR, row.values.get("operator") or operator),
        subject=SiteSubject(table.parse(row, "site_id", parse_site_id)),
        status=table.parse(row, "status", parse_status),
        cause=table.parse(row, "cause", parse_cause),
        technologies=table.parse(row, "technologies", parse_technologies),
        note=row.values.get("note", ""),
    )
