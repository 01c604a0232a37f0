"""``tocsin preview --channel cbs``: identifiers, pages in hex and text, and the cells."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cap.authoring import alert_from_description, cancel_alert
from gateways.cell_broadcast.cells import cells_from_text
from gateways.cell_broadcast.mapping import US_WEA
from gateways.cell_broadcast.pages import decode_page
from gateways.cell_broadcast.preview import preview_cbs

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def _alert(severity: str = "Extreme") -> Any:
    info = {
        "category": ["Met"],
        "event": "Flash Flood Warning",
        "urgency": "Immediate",
        "severity": severity,
        "certainty": "Likely",
        "headline": "Flash flood warning",
        "instruction": "Move to higher ground now.",
        "areas": [
            {
                "area_desc": "Valley",
                "polygons": ["38.0,-120.0 38.5,-120.0 38.5,-119.5 38.0,-119.5 38.0,-120.0"],
            },
            {"area_desc": "County 7", "geocodes": {"FIPS6": "006007"}},
        ],
    }
    spanish = {
        **info,
        "language": "es-US",
        "headline": "Aviso de inundación",
        "instruction": "Suba a un lugar más alto.",
    }
    return alert_from_description(
        {"sender": "alerts@met.example.gov", "info": [info, spanish]}, now=NOW
    )


def test_preview_shows_identifiers_and_pages() -> None:
    text, data = preview_cbs(_alert(), US_WEA)
    assert "message identifier 4372 (0x1114) Extreme / Immediate / Likely" in text
    assert "message identifier 4385 (0x1121)" in text
    assert "page 1/1: Flash flood warning. Move to higher ground now." in text
    json.dumps(data)  # a JSON document
    assert data["channel"] == "cbs"
    messages = data["messages"]
    assert isinstance(messages, list)
    assert [m["message_id"] for m in messages] == [4372, 4385]
    assert [m["dcs"] for m in messages] == [0x01, 0x11]
    first_page = messages[1]["pages"][0]
    page = decode_page(bytes.fromhex(first_page["hex"]))
    assert (page.message_id, page.language, page.text) == (4385, "es", first_page["text"])


def test_preview_with_cells() -> None:
    cells = cells_from_text(
        "mcc,mnc,lac,ci,lon,lat,range\n"
        "310,410,100,1,-119.7,38.2,2000\n"
        "310,410,100,2,-118.0,38.2,2000\n"
        "310,410,100,3,-119.48,38.2,2000\n"
    )
    text, data = preview_cbs(_alert(), US_WEA, cells=cells, bleed_m=500)
    assert "2 of 3 cells reach the area(s) (bleed 500 m): 310-410-100-1, 310-410-100-3" in text
    assert "areas without a polygon or circle: 'County 7'" in text
    assert data["cells"] == {
        "count": 2,
        "table": 3,
        "bleed_m": 500,
        "cgis": ["310-410-100-1", "310-410-100-3"],
        "unlocated_areas": ["County 7"],
    }


def test_preview_of_cancel_and_refusal() -> None:
    text, data = preview_cbs(cancel_alert(_alert(), now=NOW), US_WEA)
    assert "no new message" in text
    assert data["messages"] == []
    text, data = preview_cbs(_alert("Moderate"), US_WEA)
    assert "not carried: info[0]" in text
    assert "severity Moderate is not" in str(data["refused"])
    assert data["messages"] == []
