"""``tocsin preview FILE --channel cbs``: the cell broadcast messages an alert becomes.

For each info block: the message identifier and the rule that chose it, the data coding
scheme, and every 88-octet page in hex and as text; with a cell table, how many cells (and
which) the areas select. Pure: the serial number shown is for illustration (message code 0,
update 0), because the channel's allocator chooses the real one. An alert the channel
cannot carry is previewed as the reason why.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cap.model import Alert
from gateways.base import CannotCarryError, GatewayConfigError
from gateways.cell_broadcast.cells import CellTable
from gateways.cell_broadcast.mapping import DEFAULT_PROFILE, CbsProfile, load_profile, map_alert
from gateways.cell_broadcast.pages import CbsAlphabet, decode_page
from gateways.cell_broadcast.serial import SerialNumber

if TYPE_CHECKING:
    from cap.config import TocsinConfig

PREVIEW_CELLS = 20  # CGIs listed in the text preview (the JSON has them all)


def preview_cbs(
    alert: Alert,
    profile: CbsProfile = DEFAULT_PROFILE,
    *,
    cells: CellTable | None = None,
    bleed_m: float = 0.0,
) -> tuple[str, dict[str, object]]:
    """What the cell broadcast channel sends for ``alert`` under ``profile``, or why it
    sends nothing (``refused`` in the JSON), as the other channel previews do."""
    lines = [f"Cell broadcast for {alert.identifier} (profile {profile.name})"]
    refused: str | None = None
    try:
        plans = map_alert(alert, profile)
    except CannotCarryError as error:
        plans, refused = (), str(error)
        lines.append(f"not carried: {refused}")
    if not plans and refused is None:
        lines.append(
            f"msgType {alert.msg_type}: no new message; the messages of the alert chain are "
            "killed on every cell"
        )
    items: list[dict[str, object]] = []
    for plan in plans:
        serial = SerialNumber(plan.geo_scope, 0, 0)
        pages = plan.pages(serial)
        coding = plan.text.plan.coding
        unit = "septets" if coding.alphabet is CbsAlphabet.GSM7 else "UCS-2 characters"
        cut = ", cut to fit" if plan.text.truncated else ""
        language = "additional language" if plan.additional_language else "primary language"
        lines.append(
            f"[{plan.language}] message identifier {plan.message_id} (0x{plan.message_id:04X}) "
            f"{plan.rule.label}{' [' + plan.rule.source + ']' if plan.rule.source else ''}, "
            f"{language}"
        )
        lines.append(
            f"  {coding.describe()}; {len(pages)} page(s), {plan.text.plan.units} {unit}, "
            f"text from {plan.text.source}{cut}"
        )
        lines.append(f"  serial {serial} (for illustration: the channel allocates the real one)")
        page_items = []
        for raw in pages:
            page = decode_page(raw)
            lines.append(f"  page {page.page}/{page.pages}: {page.text}")
            lines.append(f"    {raw.hex()}")
            page_items.append({"page": page.page, "hex": raw.hex(), "text": page.text})
        items.append(
            {
                "info_index": plan.info_index,
                "language": plan.language,
                "message_id": plan.message_id,
                "additional_language": plan.additional_language,
                "rule": plan.rule.label,
                "source": plan.rule.source,
                "geo_scope": plan.geo_scope.name.lower(),
                "dcs": coding.dcs,
                "alphabet": coding.alphabet.value,
                "text": plan.text.text,
                "text_source": plan.text.source,
                "truncated": plan.text.truncated,
                "units": plan.text.plan.units,
                "pages": page_items,
            }
        )
    data: dict[str, object] = {
        "channel": "cbs",
        "identifier": alert.identifier,
        "profile": profile.name,
        "refused": refused,
        "messages": items,
    }
    if cells is not None:
        # Info blocks in several languages usually repeat the same areas.
        areas = list(dict.fromkeys(area for info in alert.infos for area in info.areas))
        selection = cells.cells_for(areas, bleed_m=bleed_m)
        cgis = [str(cgi) for cgi in selection.cgis()]
        lines.append(
            f"{len(cgis)} of {len(cells)} cells reach the area(s) (bleed {bleed_m:g} m)"
            + (f": {', '.join(cgis[:PREVIEW_CELLS])}" if cgis else "")
            + (f" and {len(cgis) - PREVIEW_CELLS} more" if len(cgis) > PREVIEW_CELLS else "")
        )
        if selection.unlocated:
            lines.append(f"areas without a polygon or circle: {_names(selection.unlocated)}")
        data["cells"] = {
            "count": len(cgis),
            "table": len(cells),
            "bleed_m": bleed_m,
            "cgis": cgis,
            "unlocated_areas": list(selection.unlocated),
        }
    return "\n".join(lines) + "\n", data


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)


def preview_configured_cbs(alert: Alert) -> tuple[str, dict[str, object]]:
    """``tocsin preview --channel cbs``: the preview under the configured ``cbs`` channel (its
    profile, cell table and bleed, from ``$TOCSIN_CONFIG`` or the default file), so the cells
    that would broadcast are listed; the EU-Alert profile and no cells without one."""
    from cap.config import ConfigError, load_config

    try:
        return _configured(alert, load_config(None))
    except GatewayConfigError as exc:
        raise ConfigError(f"the configured cbs channel: {exc}") from None


def _configured(alert: Alert, settings: TocsinConfig) -> tuple[str, dict[str, object]]:
    base = settings.path.parent if settings.path is not None else Path.cwd()
    channels = settings.raw.get("channels", {})
    for table in channels.values() if isinstance(channels, dict) else ():
        if isinstance(table, dict) and table.get("gateway") == "cbs":
            profile = load_profile(str(table.get("profile", DEFAULT_PROFILE.name)))
            cells = None
            if "cells_file" in table:
                path = Path(str(table["cells_file"])).expanduser()
                cells = CellTable.read_csv(path if path.is_absolute() else base / path)
            return preview_cbs(
                alert, profile, cells=cells, bleed_m=float(table.get("bleed_m", 0.0))
            )
    return preview_cbs(alert)
