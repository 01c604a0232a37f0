from __future__ import annotations

import csv
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from cap.authoring import alert_from_description
from cap.descriptions import (
    apply_options,
    description_format_for,
    description_from_alert,
    load_description,
)
from cap.errors import CapAuthoringError, NotCapError
from cap.model import Alert, Area
from cap.parsing import parse_alert

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

TOML_TEXT = """
sender = "alerts@met.example.gov"
status = "Exercise"

[[info]]
category = "Met"
event = "Flood"
urgency = "Expected"
severity = "Severe"
certainty = "Likely"
expires = 2024-05-01T20:00:00-04:00
event_codes = { SAME = "FLW" }

[[info.areas]]
area_desc = "Lower Valley"
polygons = [[[38.47, -120.14], [38.34, -119.95], [38.52, -119.74]]]
geocodes = { SAME = ["006109", "006111"] }
"""


def test_the_same_alert_from_toml_yaml_and_json() -> None:
    from_toml = load_description(TOML_TEXT, "toml")
    as_yaml = yaml.safe_dump(from_toml)
    as_json = json.dumps(from_toml, default=lambda d: d.isoformat())
    alerts = [
        alert_from_description(d, now=NOW, identifier="X-1")
        for d in (
            from_toml,
            load_description(as_yaml, "yaml"),
            load_description(as_json, "json"),
        )
    ]
    assert alerts[0] == alerts[1] == alerts[2]
    assert alerts[0].status == "Exercise"
    assert alerts[0].infos[0].expires == NOW + timedelta(hours=12)


@pytest.mark.parametrize(
    ("text", "fmt", "fragments"),
    [
        ('sender = "a"\nstatus = \n', "toml", ["TOML", "line 2"]),
        ("sender: a\ninfo: [\n", "yaml", ["YAML", "line 3"]),
        ('{"sender": "a",\n "info": }', "json", ["JSON", "line 2", "column 10"]),
        ("- just\n- a list\n", "yaml", ["must be a mapping"]),
        ("", "yaml", ["empty"]),
    ],
)
def test_syntax_errors_say_where(text: str, fmt: Any, fragments: list[str]) -> None:
    with pytest.raises(CapAuthoringError) as caught:
        load_description(text, fmt)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.toml", "toml"), ("dir/A.YAML", "yaml"), ("b.yml", "yaml"), ("c.json", "json")],
)
def test_format_from_file_name(name: str, fmt: str) -> None:
    assert description_format_for(name) == fmt


def test_unknown_file_extension_is_refused() -> None:
    with pytest.raises(CapAuthoringError, match=r"\.toml, \.yaml"):
        description_format_for("alert.txt")


def base() -> dict[str, Any]:
    return {
        "sender": "alerts@met.example.gov",
        "info": [
            {
                "category": "Met",
                "event": "Flood",
                "urgency": "Expected",
                "severity": "Severe",
                "certainty": "Likely",
                "parameters": {"EAS-ORG": "WXR", "VTEC": "/O.NEW/"},
                "areas": [{"area_desc": "Old", "geocodes": [["SAME", "006109"]]}],
            }
        ],
    }


def test_options_are_laid_over_the_description() -> None:
    desc = base()
    merged = apply_options(
        desc,
        {
            "status": "Test",
            "headline": "Flood warning",
            "expires": "+6h",
            "severity": "extreme",
            "parameter": ["VTEC=/O.EXT/"],
            "area-desc": "New",
            "polygon": ["1,2 1,3 2,3"],
            "geocode": "SAME=006111",
            "instruction": None,
        },
    )
    assert desc == base(), "the input description is not changed"
    alert = alert_from_description(merged, now=NOW)
    info = alert.infos[0]
    assert alert.status == "Test"
    assert (info.headline, info.severity) == ("Flood warning", "Extreme")
    assert info.expires == NOW + timedelta(hours=6)
    assert [(p.value_name, p.value) for p in info.parameters] == [
        ("EAS-ORG", "WXR"),
        ("VTEC", "/O.EXT/"),
    ]
    area = info.areas[0]
    assert area.area_desc == "New"
    assert len(area.polygons) == 1
    assert [(g.value_name, g.value) for g in area.geocodes] == [("SAME", "006111")]


def test_options_alone_make_a_complete_description() -> None:
    merged = apply_options(
        {},
        {
            "sender": "a@example.gov",
            "category": "Safety",
            "event": "Gas leak",
            "urgency": "Immediate",
            "severity": "Severe",
            "certainty": "Observed",
            "response_type": "Evacuate",
            "area_desc": "Main Street",
            "circle": "45.5,-73.6 0.5",
            "code": "IPAWSv1.0",
        },
    )
    alert = alert_from_description(merged, now=NOW)
    assert alert.codes == ("IPAWSv1.0",)
    assert alert.infos[0].areas[0].circles[0].radius_km is not None


def test_unknown_option_suggests_the_spelling() -> None:
    with pytest.raises(CapAuthoringError, match="unknown option 'serverity'; did you mean"):
        apply_options(base(), {"serverity": "Minor"})


def test_area_options_need_a_single_area() -> None:
    desc = base()
    desc["info"][0]["areas"].append({"area_desc": "Second"})
    with pytest.raises(CapAuthoringError, match=r"info\[1\] has 2 areas"):
        apply_options(desc, {"polygon": "1,2 1,3 2,3"})


def test_alert_level_options_do_not_create_an_info() -> None:
    assert "info" not in apply_options({"sender": "a"}, {"note": "x"})


def test_bad_pair_option_is_explained() -> None:
    with pytest.raises(CapAuthoringError, match="not name=value"):
        apply_options(base(), {"geocode": "006109"})


def _normalised(value: Any) -> Any:
    """What authoring does to text: outer white space stripped, empty optional text absent,
    empty polygons dropped."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, tuple):
        return tuple(_normalised(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = _normalised(getattr(value, f.name))
            if f.default is None and v == "":
                v = None
            changes[f.name] = v
        if isinstance(value, Area):
            changes["polygons"] = tuple(p for p in changes["polygons"] if p.points)
        return dataclasses.replace(value, **changes)
    return value


def _valid_corpus_alerts(shared_data: Path) -> list[tuple[str, Alert]]:
    root = shared_data / "cap"
    found: list[tuple[str, Alert]] = []
    with (root / "MANIFEST.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["expected"] != "valid" or not row["file"].endswith((".cap", ".xml", ".txt")):
                continue
            try:
                found.append((row["file"], parse_alert((root / row["file"]).read_bytes()).alert))
            except NotCapError:
                continue
    return found


def test_real_alerts_survive_description_and_back(shared_data: Path) -> None:
    """alert -> description -> JSON -> alert keeps everything CAP 1.2 can say."""
    alerts = _valid_corpus_alerts(shared_data)
    assert len(alerts) >= 15
    for name, alert in alerts:
        desc = load_description(json.dumps(description_from_alert(alert)), "json")
        if any(r.mime_type is None for i in alert.infos for r in i.resources):
            continue  # CAP 1.0 allowed a resource without mimeType; CAP 1.2 does not.
        assert alert.sent is not None
        again = alert_from_description(desc, now=alert.sent, identifier=alert.identifier)
        assert again == _normalised(alert), name
