"""Readers of outage inputs: each returns the good items and every problem, by file, line (or
feature), field and why. Formats are described in docs/outage-formats.md."""

from outage_map.readers.area_names import AreaNames, normalise_name
from outage_map.readers.boundaries import read_boundaries
from outage_map.readers.dirs import read_dirs
from outage_map.readers.field_reports import read_field_reports_csv, read_field_reports_geojson
from outage_map.readers.fields import FieldError, RowError
from outage_map.readers.opencellid import read_opencellid
from outage_map.readers.results import Problem, ReadResult, Severity
from outage_map.readers.site_status import read_site_status
from outage_map.readers.status_series import (
    DEFAULT_TOTALS,
    PR_CELL_SITES,
    TELECOM_RESOURCES,
    read_status_series,
)
from outage_map.readers.tables import Input

__all__ = [
    "DEFAULT_TOTALS",
    "PR_CELL_SITES",
    "TELECOM_RESOURCES",
    "AreaNames",
    "FieldError",
    "Input",
    "Problem",
    "ReadResult",
    "RowError",
    "Severity",
    "normalise_name",
    "read_boundaries",
    "read_dirs",
    "read_field_reports_csv",
    "read_field_reports_geojson",
    "read_opencellid",
    "read_site_status",
    "read_status_series",
]
