"""The answers responders ask for, as JSON documents shared by the command line and HTTP:
"is there service here?" and "which areas are dark?".

A place no site covers is answered from the smallest area holding it whose figures are known,
its own or its parent's (a municipio answered from the island-wide series says so in
``figures_from``). Pure: everything comes from a :class:`~outage_map.snapshot.MergedView`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from outage_map.instants import format_instant
from outage_map.merge import MergeResult, ReportSummary, report_summary, service_at
from outage_map.model import Status
from outage_map.snapshot import MergedView
from outage_map.vector import AreaRow, causes_text, display_name

__all__ = ["DarkArea", "dark_area_rows", "dark_areas_json", "point_answer_json"]


def point_answer_json(view: MergedView, lon: float, lat: float, *, max_reports: int = 20) -> Any:
    """Status, probability, confidence, basis, since, restored and the reports that count at a
    place, as one JSON object."""
    result = view.result
    answer = service_at(result, lon, lat, max_reports=max_reports)
    document: dict[str, Any] = {
        "lon": lon,
        "lat": lat,
        "at": format_instant(result.at),
        "status": answer.status.value,
        "probability": answer.probability,
        "confidence": answer.confidence,
        "basis": answer.basis,
        "area": None,
        "figures_from": None,
        "sites": list(answer.sites),
        "newest_report": format_instant(
            None if answer.newest_age_s is None else _before(result, answer.newest_age_s)
        ),
        "dark_since": format_instant(answer.dark_since),
        "restored_at": format_instant(answer.restored_at),
        "reports": [_summary_json(s) for s in answer.reports],
    }
    if answer.area is not None:
        row = next((r for r in view.rows if r.code == answer.area), None)
        if row is not None:
            document["area"] = _area_ref(row.code, row.name)
            document["figures_from"] = _area_ref(row.code, row.name)
    if answer.basis == "none":
        areas = view.areas_at(lon, lat)
        if areas:
            row = areas[0]
            source = row.figures_from or row.code
            document.update(
                status=row.status.value,
                probability=row.share_service,
                confidence=row.confidence,
                basis="area",
                area=_area_ref(row.code, row.name),
                figures_from=_area_ref(source, _name_of(view, source)),
                newest_report=format_instant(row.newest_report),
                dark_since=format_instant(row.dark_since),
                restored_at=format_instant(row.restored_at),
                reports=[_summary_json(s) for s in _area_reports(result, source, max_reports)],
            )
    return document


def _before(result: MergeResult, age_s: float) -> datetime:
    return result.at - timedelta(seconds=age_s)


def _area_ref(code: str, name: str) -> dict[str, str]:
    return {"code": code, "name": display_name(code, name)}


def _name_of(view: MergedView, code: str) -> str:
    for row in view.rows:
        if row.code == code:
            return row.name
    return display_name(code, "")


def _area_reports(result: MergeResult, code: str, limit: int) -> list[ReportSummary]:
    """The reports that count for an area's own figures, heaviest first."""
    index = result.area_table.find(code)
    if index is None:
        return []
    members = result.area_table.members(index)
    units: NDArray[np.int64] = (
        members.astype(np.int64)
        if len(members)
        else np.array([len(result.inventory) + index], dtype=np.int64)
    )
    found = result.contributions.of_units(np.unique(units))
    if not len(found):
        return []
    rows = result.contributions.row[found]
    weights = result.contributions.weight[found]
    best: dict[int, float] = {}
    for row, weight in zip(rows.tolist(), weights.tolist(), strict=True):
        best[row] = max(weight, best.get(row, 0.0))
    table = result.reports
    ordered = sorted(best.items(), key=lambda item: (-item[1], int(table.ids[item[0]])))
    summaries: list[ReportSummary] = []
    for row, weight in ordered[:limit]:
        summaries.append(report_summary(table, row, weight))
    return summaries


def _summary_json(summary: ReportSummary) -> dict[str, Any]:
    return {
        "report_id": summary.report_id,
        "source_kind": summary.source_kind.value,
        "source": summary.source_name,
        "subject": summary.subject,
        "status": summary.status.value,
        "share_out": summary.share_out,
        "cause": None if summary.cause is None else summary.cause.value,
        "observed_at": format_instant(summary.observed_at),
        "weight": summary.weight,
        "note": summary.note,
    }


@dataclass(frozen=True, slots=True)
class DarkArea:
    """An area at or over the share out asked for, and how many areas show its figures."""

    row: AreaRow
    shown_on: int


def dark_area_rows(view: MergedView, min_out: float = 0.5) -> list[DarkArea]:
    """Areas whose own share out is at least ``min_out``, worst first (share out, then
    confidence, then code). Areas showing a parent's figures are not repeated: the parent is
    listed once, with the number of areas that show its figures."""
    shown: dict[str, int] = {}
    for row in view.rows:
        if row.basis == "parent" and row.figures_from is not None:
            shown[row.figures_from] = shown.get(row.figures_from, 0) + 1
    dark = [
        DarkArea(row, shown.get(row.code, 0))
        for row in view.rows
        if row.basis != "parent" and row.share_out is not None and row.share_out >= min_out
    ]
    return sorted(dark, key=lambda d: (-(d.row.share_out or 0.0), -d.row.confidence, d.row.code))


def dark_areas_json(view: MergedView, min_out: float = 0.5) -> dict[str, Any]:
    result = view.result
    return {
        "at": format_instant(result.at),
        "min_out": min_out,
        "areas": [
            {
                "code": d.row.code,
                "name": d.row.name,
                "status": d.row.status.value,
                "share_out": d.row.share_out,
                "confidence": d.row.confidence,
                "basis": d.row.basis,
                "sites": d.row.sites,
                "sites_known": d.row.sites_known,
                "sites_out": d.row.sites_out,
                "causes": [{"cause": c.value, "share": s} for c, s in d.row.causes],
                "causes_text": causes_text(d.row.causes),
                "dark_since": format_instant(d.row.dark_since),
                "restored_at": format_instant(d.row.restored_at),
                "newest_report": format_instant(d.row.newest_report),
                "shown_on_areas": d.shown_on,
            }
            for d in dark_area_rows(view, min_out)
        ],
        "areas_known": sum(1 for r in view.rows if r.status is not Status.UNKNOWN),
        "areas_total": len(view.rows),
    }
