"""Network outage reports merged into layers responders can query (``tocsin outage``).

Re-exported lazily: numpy, Shapely and GDAL load only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "OutageError": "outage_map.errors",
    "ReportError": "outage_map.errors",
    "ReaderError": "outage_map.errors",
    "Report": "outage_map.model",
    "Site": "outage_map.model",
    "AdminArea": "outage_map.model",
    "Source": "outage_map.model",
    "SourceKind": "outage_map.model",
    "Status": "outage_map.model",
    "Cause": "outage_map.model",
    "Technology": "outage_map.model",
    "MergePolicy": "outage_map.config",
    "parse_outage_config": "outage_map.config",
    "ReportTable": "outage_map.table",
    "SiteInventory": "outage_map.inventory",
    "MergeResult": "outage_map.merge",
    "merge": "outage_map.merge",
    "service_at": "outage_map.merge",
    "dark_areas": "outage_map.merge",
    "OutageStore": "outage_map.store",
    "write_service_geotiff": "outage_map.raster",
    "channel_impact": "outage_map.impact",
}

__all__ = [
    "AdminArea",
    "Cause",
    "MergePolicy",
    "MergeResult",
    "OutageError",
    "OutageStore",
    "ReaderError",
    "Report",
    "ReportError",
    "ReportTable",
    "Site",
    "SiteInventory",
    "Source",
    "SourceKind",
    "Status",
    "Technology",
    "channel_impact",
    "dark_areas",
    "merge",
    "parse_outage_config",
    "service_at",
    "write_service_geotiff",
]

if TYPE_CHECKING:
    from outage_map.config import MergePolicy, parse_outage_config
    from outage_map.errors import OutageError, ReaderError, ReportError
    from outage_map.impact import channel_impact
    from outage_map.inventory import SiteInventory
    from outage_map.merge import MergeResult, dark_areas, merge, service_at
    from outage_map.model import (
        AdminArea,
        Cause,
        Report,
        Site,
        Source,
        SourceKind,
        Status,
        Technology,
    )
    from outage_map.raster import write_service_geotiff
    from outage_map.store import OutageStore
    from outage_map.table import ReportTable


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'outage_map' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
