"""OpenCelliD cell exports: where the cell sites are and how far they reach.

The standard 14 columns (``radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,
created,updated,averageSignal``), with or without the header line (OpenCelliD's full and
per-country downloads have none), plain or ``.gz``. Each row is one cell; its site id is
``mcc-net-area-cell``, its operator ``mcc-net``."""

from __future__ import annotations

from collections.abc import Collection

from outage_map.model import Site, Technology
from outage_map.readers.fields import (
    FieldError,
    RowError,
    parse_count,
    parse_lat,
    parse_lon,
    parse_number,
)
from outage_map.readers.results import Problem, ReadResult
from outage_map.readers.tables import CsvTable, Input, Row, input_name, open_text

COLUMNS = (
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averagesignal",
)
REQUIRED = ("radio", "mcc", "net", "area", "cell", "lon", "lat", "range")

RADIOS: dict[str, Technology] = {t.value: t for t in Technology}


def read_opencellid(
    source: Input, *, mccs: Collection[int] | None = None, name: str | None = None
) -> ReadResult[Site]:
    """Sites from an OpenCelliD export. ``mccs`` keeps only those countries (the rest are
    counted in ``skipped``, e.g. to cut one country out of the world file).

    A row is bad when an identifier is not a whole number, lon/lat are not numbers or out of
    range, the range is negative, the radio is not GSM/UMTS/CDMA/LTE/NR, or its site id was
    already given by an earlier row (the first one is kept)."""
    file = input_name(source, name)
    wanted = frozenset(mccs) if mccs is not None else None
    sites: list[Site] = []
    problems: list[Problem] = []
    skipped: dict[str, int] = {}
    first_line: dict[str, int] = {}
    rows = 0
    with open_text(source, file) as stream:
        table = CsvTable(
            stream,
            file,
            required=REQUIRED,
            known=COLUMNS,
            headerless=COLUMNS,
            what="an OpenCelliD cell export",
        )
        for item in table.rows():
            rows += 1
            if isinstance(item, Problem):
                problems.append(item)
                continue
            try:
                mcc, site = _site(item, table)
            except RowError as bad:
                problems.append(table.problem(item, bad))
                continue
            if wanted is not None and mcc not in wanted:
                skipped["other MCC"] = skipped.get("other MCC", 0) + 1
                continue
            if site.site_id in first_line:
                problems.append(
                    Problem(
                        file,
                        item.line,
                        table.header.display("cell"),
                        site.site_id,
                        f"repeats the site id of line {first_line[site.site_id]}; "
                        "the first is kept",
                    )
                )
                continue
            first_line[site.site_id] = item.line
            sites.append(site)
    return ReadResult(file, tuple(sites), tuple(problems), rows=rows, skipped=skipped)


def parse_radio(text: str) -> Technology:
    technology = RADIOS.get(text.strip().casefold())
    if technology is None:
        raise FieldError("is not a radio OpenCelliD uses (GSM, UMTS, CDMA, LTE, NR)")
    return technology


def parse_mcc(text: str) -> int:
    mcc = parse_count(text)
    if mcc > 999:
        raise FieldError("is not a mobile country code (0 to 999)")
    return mcc


def parse_range(text: str) -> float | None:
    """Metres; empty or 0 means OpenCelliD has no estimate (the merge uses a default)."""
    if not text.strip():
        return None
    metres = parse_number(text)
    if metres < 0:
        raise FieldError("is negative; a range is 0 or more metres")
    return metres or None


def _site(row: Row, table: CsvTable) -> tuple[int, Site]:
    technology = table.parse(row, "radio", parse_radio)
    mcc = table.parse(row, "mcc", parse_mcc)
    net, area, cell = (table.parse(row, c, parse_count) for c in ("net", "area", "cell"))
    site = Site(
        site_id=f"{mcc}-{net}-{area}-{cell}",
        lon=table.parse(row, "lon", parse_lon),
        lat=table.parse(row, "lat", parse_lat),
        range_m=table.parse(row, "range", parse_range),
        technology=technology,
        operator=f"{mcc}-{net}",
    )
    return mcc, site
