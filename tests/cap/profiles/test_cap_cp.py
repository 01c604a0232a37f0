"""Canadian Profile CAP-CP: what passes, what fails each rule, and what Environment Canada's
real alerts deserve."""

from __future__ import annotations

from pathlib import Path

import pytest

from cap.findings import Severity
from cap.profiles import get_profile
from tests.cap.profiles.harness import codes, errors, only, run, run_file, variant

CP = get_profile("cap-cp")

ENGLISH = """  <info>
    <language>en-CA</language>
    <category>Met</category>
    <event>thunderstorm</event>
    <responseType>Shelter</responseType>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <eventCode><valueName>profile:CAP-CP:Event:0.4</valueName><value>thunderstorm</value></eventCode>
    <expires>2024-07-12T20:00:00-04:00</expires>
    <senderName>Environment Canada</senderName>
    <headline>severe thunderstorm warning in effect</headline>
    <description>Severe thunderstorms are over Windsor.</description>
    <instruction>Take cover immediately.</instruction>
    <area>
      <areaDesc>Windsor - Essex County</areaDesc>
      <polygon>42.0,-83.1 42.3,-83.1 42.3,-82.5 42.0,-82.5 42.0,-83.1</polygon>
      <geocode><valueName>profile:CAP-CP:Location:0.3</valueName><value>3537039</value></geocode>
    </area>
  </info>
"""
FRENCH = (
    ENGLISH.replace("en-CA", "fr-CA")
    .replace("<event>thunderstorm</event>", "<event>orages</event>")
    .replace("Environment Canada", "Environnement Canada")
)
HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>2.49.0.1.124.0001.2024</identifier>
  <sender>cap-pac@canada.ca</sender>
  <sent>2024-07-12T17:59:29-04:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <code>profile:CAP-CP:0.4</code>
"""
VALID = HEADER + ENGLISH + FRENCH + "</alert>\n"
EVENT_CODE = (
    "<eventCode><valueName>profile:CAP-CP:Event:0.4</valueName><value>thunderstorm</value>"
    "</eventCode>"
)
LOCATION = (
    "<geocode><valueName>profile:CAP-CP:Location:0.3</valueName><value>3537039</value></geocode>"
)


def test_a_bilingual_cap_cp_alert_passes() -> None:
    assert run(CP, VALID) == []


def test_findings_cite_the_rule() -> None:
    findings = run(CP, variant(VALID, "<code>profile:CAP-CP:0.4</code>", ""))
    assert findings and all(f.code.startswith("cap-cp.") and "(CP-" in f.message for f in findings)


def test_version_code_is_required() -> None:
    finding = only(
        run(CP, variant(VALID, "<code>profile:CAP-CP:0.4</code>", "")), "cap-cp.code.missing"
    )
    assert finding.path == "/alert" and finding.severity is Severity.ERROR
    bare = variant(VALID, "<code>profile:CAP-CP:0.4</code>", "<code>profile:CAP-CP:</code>")
    assert "cap-cp.code.missing" in codes(run(CP, bare))
    layers_too = variant(
        VALID,
        "<code>profile:CAP-CP:0.4</code>",
        "<code>layer:SOREM:1.0</code><code>profile:CAP-CP:0.4</code>",
    )
    assert run(CP, layers_too) == []


def test_one_event_per_alert() -> None:
    other = FRENCH.replace("<value>thunderstorm</value>", "<value>rainfall</value>")
    finding = only(run(CP, HEADER + ENGLISH + other + "</alert>"), "cap-cp.event_code.mismatch")
    assert finding.path == "/alert/info[2]"


def test_public_alerts_need_an_info_unless_ack_or_error() -> None:
    bare = HEADER + "</alert>"
    finding = only(run(CP, bare), "cap-cp.info.missing")
    assert finding.path == "/alert" and finding.severity is Severity.ERROR
    ack = variant(bare, "<msgType>Alert</msgType>", "<msgType>Ack</msgType>")
    assert "cap-cp.info.missing" not in codes(run(CP, ack))


def test_languages() -> None:
    english_only = only(run(CP, HEADER + ENGLISH + "</alert>"), "cap-cp.language.bilingual")
    assert "French" in english_only.message and english_only.severity is Severity.WARNING
    no_language = variant(ENGLISH, "<language>en-CA</language>", "")
    findings = run(CP, HEADER + no_language + FRENCH + "</alert>")
    assert only(findings, "cap-cp.language.missing").path == "/alert/info[1]/language"
    # en-US is the CAP default and counts as English.
    assert "cap-cp.language.bilingual" not in codes(findings)


def test_cap_cp_event_code_is_required() -> None:
    findings = run(CP, variant(VALID, EVENT_CODE, ""))
    assert [f.path for f in findings if f.code == "cap-cp.event_code.missing"] == [
        "/alert/info[1]",
        "/alert/info[2]",
    ]
    same_only = variant(
        VALID, EVENT_CODE, "<eventCode><valueName>SAME</valueName><value>SVR</value></eventCode>"
    )
    assert "cap-cp.event_code.missing" in errors(run(CP, same_only))


def test_cap_cp_location_geocode_is_required_in_each_area() -> None:
    other = (
        "<geocode><valueName>layer:EC-MSC-SMC:1.0:CLC</valueName><value>041420</value></geocode>"
    )
    findings = run(CP, variant(VALID, LOCATION, other))
    paths = [f.path for f in findings if f.code == "cap-cp.geocode.missing"]
    assert paths == ["/alert/info[1]/area[1]", "/alert/info[2]/area[1]"]


def test_every_info_needs_an_area() -> None:
    start, end = ENGLISH.index("    <area>"), ENGLISH.index("</area>") + len("</area>")
    findings = run(CP, HEADER + ENGLISH[:start] + ENGLISH[end:] + FRENCH + "</alert>")
    assert only(findings, "cap-cp.area.missing").path == "/alert/info[1]"


@pytest.mark.parametrize(
    ("element", "code"),
    [("expires", "cap-cp.expires.recommended"), ("senderName", "cap-cp.sender_name.recommended")],
)
def test_strongly_recommended_elements(element: str, code: str) -> None:
    start = ENGLISH.index(f"<{element}>")
    end = ENGLISH.index(f"</{element}>") + len(f"</{element}>")
    finding = only(run(CP, HEADER + ENGLISH[:start] + ENGLISH[end:] + FRENCH + "</alert>"), code)
    assert finding.severity is Severity.WARNING and finding.path == f"/alert/info[1]/{element}"


def test_response_type_with_instruction() -> None:
    no_response = variant(VALID, "<responseType>Shelter</responseType>", "")
    assert (
        len([f for f in run(CP, no_response) if f.code == "cap-cp.response_type.recommended"]) == 2
    )
    no_instruction = variant(
        VALID, "<instruction>Take cover immediately.</instruction>", "<instruction/>"
    )
    finding = [f for f in run(CP, no_instruction) if f.code == "cap-cp.instruction.recommended"]
    assert [f.path for f in finding] == ["/alert/info[1]/instruction", "/alert/info[2]/instruction"]
    # "None" asks for no action, so needs no instruction.
    nothing_to_do = variant(
        no_instruction, "<responseType>Shelter</responseType>", "<responseType>None</responseType>"
    )
    assert run(CP, nothing_to_do) == []


def test_polygon_or_circle_is_encouraged() -> None:
    doc = variant(
        VALID, "<polygon>42.0,-83.1 42.3,-83.1 42.3,-82.5 42.0,-82.5 42.0,-83.1</polygon>", ""
    )
    findings = [f for f in run(CP, doc) if f.code == "cap-cp.area.geometry_recommended"]
    assert len(findings) == 2 and findings[0].severity is Severity.WARNING


# --- real alerts ---


def test_environment_canada_update(shared_data: Path) -> None:
    """A bilingual Environment Canada Update with references, CAP-CP event and location codes,
    layer codes and polygons: nothing to report."""
    parsed, findings = run_file(
        CP, shared_data / "cap" / "alerts" / "google__cap-library" / "canada.cap"
    )
    assert CP.is_declared_by(parsed.alert)
    assert findings == []


def test_naad_special_weather_statement(shared_data: Path) -> None:
    """The NAAD copy of an ECCC statement asks people to Monitor but leaves <instruction/>
    empty in both languages; everything else follows the profile."""
    path = shared_data / "cap" / "alerts" / "kelvinn__capparselib" / "CanadaNaad.xml"
    parsed, findings = run_file(CP, path)
    assert CP.is_declared_by(parsed.alert)
    assert errors(findings) == set()
    assert [(f.code, f.path) for f in findings] == [
        ("cap-cp.instruction.recommended", "/alert/info[1]/instruction"),
        ("cap-cp.instruction.recommended", "/alert/info[2]/instruction"),
    ]
