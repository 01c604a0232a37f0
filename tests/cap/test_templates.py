from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from cap.authoring import alert_from_description, apply_options, cancel_alert, update_alert
from cap.errors import CapAuthoringError
from cap.model import Alert
from cap.parsing import parse_alert
from cap.serialize import serialize_alert
from cap.templates import (
    list_templates,
    load_template,
    placeholders_used,
    render_template,
    template_info,
)
from cap.validation import validate_document

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 7, 15, 9, 30, 0, tzinfo=UTC)
DEFAULTS = {"sender": "alerts@civil-protection.example.org"}
SHIPPED = ("earthquake", "flood", "heat", "test-message", "tsunami", "wildfire")
# Realistic values for every placeholder a shipped template may require.
VALUES = {
    "area": "Lower Ouse valley",
    "polygon": "53.95,-1.10 53.90,-0.95 53.78,-1.05 53.85,-1.20",
    "geocode_name": "EMMA_ID",
    "geocode": "ES614",
    "temperature": "43 °C",
    "place": "Izmit",
    "epicentre": "40.76,29.97",
    "magnitude": "6.8",
}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(REPO / "cap" / "schemas" / "CAP-v1.2.xsd")))


def required_values(name: str) -> dict[str, str]:
    return {key: VALUES[key] for key in template_info(name).required}


def test_the_promised_templates_are_shipped() -> None:
    names = [t.name for t in list_templates()]
    assert set(SHIPPED) <= set(names)
    assert names == sorted(names)
    for info in list_templates():
        assert info.title and info.description


@pytest.mark.parametrize("name", SHIPPED)
def test_every_template_makes_a_valid_alert(name: str, schema: etree.XMLSchema) -> None:
    desc = render_template(name, required_values(name))
    alert = alert_from_description(desc, now=NOW, defaults=DEFAULTS)
    data = serialize_alert(alert)
    assert schema.validate(etree.fromstring(data)), str(schema.error_log)
    assert parse_alert(data).alert == alert
    for info in alert.infos:
        assert info.headline and info.description and info.instruction
        assert info.expires is not None and info.expires > NOW
        assert info.areas, "every template says where"
        for area in info.areas:
            assert area.polygons or area.circles or area.geocodes
    text = data.decode("utf-8")
    assert "{" not in text, "no placeholder is left unfilled"


def _complaints(alert: Alert) -> list[str]:
    (report,) = validate_document(serialize_alert(alert), source=alert.identifier)
    return [f"{f.code}: {f.message}" for f in report.findings if f.severity in ("error", "warning")]


@pytest.mark.parametrize("name", SHIPPED)
def test_templates_and_their_updates_and_cancels_pass_the_full_validator(name: str) -> None:
    """Beyond the schema: the CAP text rules (e.g. no Assess in public alerts) hold too."""
    desc = render_template(name, required_values(name))
    alert = alert_from_description(desc, now=NOW, defaults=DEFAULTS)
    update = update_alert(
        alert, {"info_changes": {"expires": "+12h"}}, now=NOW + timedelta(hours=1)
    )
    cancel = cancel_alert(update, now=NOW + timedelta(hours=2))
    for one in (alert, update, cancel):
        assert _complaints(one) == [], one.msg_type


@pytest.mark.parametrize("name", SHIPPED)
def test_placeholders_declared_are_the_placeholders_used(name: str) -> None:
    declared = {p.name for p in template_info(name).placeholders}
    assert placeholders_used(load_template(name)) == declared


@pytest.mark.parametrize("name", SHIPPED)
def test_geography_has_no_default(name: str) -> None:
    info = template_info(name)
    for placeholder in info.placeholders:
        if placeholder.name in ("area", "polygon", "geocode", "geocode_name", "epicentre"):
            assert placeholder.default is None, placeholder.name
        assert placeholder.help


def test_test_message_is_status_test(schema: etree.XMLSchema) -> None:
    desc = render_template("test-message", required_values("test-message"))
    alert = alert_from_description(desc, now=NOW, defaults=DEFAULTS)
    assert alert.status == "Test"
    assert alert.infos[0].expires == NOW + timedelta(hours=1)


def test_values_fill_placeholders_and_override_defaults() -> None:
    desc = render_template("flood", required_values("flood") | {"river": "the River Ouse"})
    info = desc["info"][0]
    assert info["headline"] == "Flood warning for Lower Ouse valley"
    assert "the River Ouse" in info["description"]
    assert info["areas"][0]["polygons"] == [VALUES["polygon"]]
    plain = render_template("flood", required_values("flood"))
    assert "rivers and streams" in plain["info"][0]["description"]


def test_earthquake_circle_uses_the_radius() -> None:
    desc = render_template("earthquake", required_values("earthquake") | {"radius_km": "50"})
    alert = alert_from_description(desc, now=NOW, defaults=DEFAULTS)
    circle = alert.infos[0].areas[0].circles[0]
    assert str(circle.radius_km) == "50"
    assert "50 km" in alert.infos[0].areas[0].area_desc


def test_command_line_options_apply_over_a_template(schema: etree.XMLSchema) -> None:
    desc = render_template("wildfire", required_values("wildfire"))
    desc = apply_options(desc, {"expires": "+3h", "severity": "Severe", "status": "Exercise"})
    alert = alert_from_description(desc, now=NOW, defaults=DEFAULTS)
    assert alert.status == "Exercise"
    assert alert.infos[0].severity == "Severe"
    assert alert.infos[0].expires == NOW + timedelta(hours=3)
    assert schema.validate(etree.fromstring(serialize_alert(alert)))


def test_unknown_template_lists_the_known_ones() -> None:
    with pytest.raises(CapAuthoringError) as caught:
        load_template("flod")
    message = str(caught.value)
    assert "did you mean 'flood'?" in message
    for name in SHIPPED:
        assert name in message


@pytest.mark.parametrize("name", ["../pyproject", "FLOOD", "flood.toml", ""])
def test_template_names_cannot_reach_other_files(name: str) -> None:
    with pytest.raises(CapAuthoringError, match="unknown template"):
        load_template(name)


def test_missing_values_are_named_with_their_help() -> None:
    with pytest.raises(CapAuthoringError) as caught:
        render_template("flood", {"area": "x"})
    message = str(caught.value)
    assert "needs a value for: polygon" in message
    assert "lat,lon" in message


def test_unknown_value_is_refused_with_a_suggestion() -> None:
    values: dict[str, Any] = required_values("flood") | {"rivr": "x"}
    with pytest.raises(CapAuthoringError, match="no placeholder 'rivr'; did you mean 'river'"):
        render_template("flood", values)


def test_rendering_does_not_change_the_stored_template() -> None:
    render_template("flood", required_values("flood"))
    assert load_template("flood")["info"][0]["headline"] == "Flood warning for {area}"
