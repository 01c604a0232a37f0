"""Australian profile CAP-AU: what passes, what fails each rule, the shipped AUeventLIST, and
what real Australian alerts deserve."""

from __future__ import annotations

from pathlib import Path

import pytest

from cap.findings import Severity
from cap.profiles import get_profile
from cap.profiles.au_events import au_event_list, parse_event_list
from tests.cap.profiles.harness import codes, errors, only, run, run_file, variant

AU = get_profile("cap-au")
LIST_URN = "urn:oasis:names:tc:emergency:cap:1.2:profile:CAP-AU:1.0:AUeventLIST:1.0"

INFO = """  <info>
    <language>en-AU</language>
    <category>Fire</category>
    <event>Bushfire</event>
    <responseType>Prepare</responseType>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <eventCode><valueName>https://govshare.gov.au/xmlui/handle/10772/6495</valueName><value>bushFire</value></eventCode>
    <effective>2024-01-05T09:00:00+11:00</effective>
    <expires>2024-01-05T21:00:00+11:00</expires>
    <senderName>NSW Rural Fire Service</senderName>
    <headline>Watch and Act: Yerong Creek fire</headline>
    <description>A bushfire is burning near Yerong Creek.</description>
    <instruction>Prepare to leave if the fire approaches.</instruction>
    <area>
      <areaDesc>Yerong Creek</areaDesc>
      <circle>-35.3888,147.0598 25.0</circle>
      <geocode><valueName>http://www.iso.org/iso/country_codes.html</valueName><value>AU-NSW</value></geocode>
    </area>
  </info>
"""
HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>rfs-2024-0001</identifier>
  <sender>webmaster@rfs.nsw.gov.au</sender>
  <sent>2024-01-05T09:00:00+11:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <code>urn:oasis:names:tc:emergency:cap:1.2:profile:CAP-AU:1.0</code>
"""
VALID = HEADER + INFO + "</alert>\n"
EVENT_CODE = (
    "<eventCode><valueName>https://govshare.gov.au/xmlui/handle/10772/6495</valueName>"
    "<value>bushFire</value></eventCode>"
)


def test_a_cap_au_alert_passes() -> None:
    assert run(AU, VALID) == []


def test_findings_cite_the_rule() -> None:
    findings = run(
        AU,
        variant(VALID, "<code>urn:oasis:names:tc:emergency:cap:1.2:profile:CAP-AU:1.0</code>", ""),
    )
    assert findings and all(f.code.startswith("cap-au.") and "(AU-" in f.message for f in findings)


def test_the_shipped_event_list() -> None:
    events = au_event_list()
    assert len(events) == 176
    assert events["bushFire"].names == ("Fire", "Bushfire")
    assert events["fire"].names == ("Fire",)
    assert events["fireWeather"].categories == ("Fire", "Met")
    # Every numbered row has its own code (the list says 4 to 12 characters, but two of its
    # own codes, aqAnimalDiseas and geologicalHaz, are longer, so that is not checked).
    assert sorted(e.number for e in events.values()) == list(range(1, 177))


def test_event_list_parser_skips_headings() -> None:
    text = "CAP-AU #,TIER I EVENTS,TIER II EVENTS,EVENT CODE\n,(note),,\n7,Storm,Hail,hail,Met\n"
    assert list(parse_event_list(text)) == ["hail"]


def test_profile_code_is_required() -> None:
    doc = variant(
        VALID,
        "<code>urn:oasis:names:tc:emergency:cap:1.2:profile:CAP-AU:1.0</code>",
        "<code>CAP-AU</code>",
    )
    finding = only(run(AU, doc), "cap-au.code.missing")
    assert finding.path == "/alert" and finding.severity is Severity.ERROR


def test_public_alerts_need_an_info() -> None:
    assert only(run(AU, HEADER + "</alert>"), "cap-au.info.missing").path == "/alert"
    private = variant(
        HEADER, "<scope>Public</scope>", "<scope>Private</scope><addresses>x</addresses>"
    )
    assert "cap-au.info.missing" not in codes(run(AU, private + "</alert>"))


def test_cancel_must_not_carry_effective() -> None:
    doc = variant(VALID, "<msgType>Alert</msgType>", "<msgType>Cancel</msgType>")
    assert only(run(AU, doc), "cap-au.effective.with_cancel").path == "/alert/info[1]/effective"
    update = variant(VALID, "<msgType>Alert</msgType>", "<msgType>Update</msgType>")
    assert "cap-au.effective.with_cancel" not in codes(run(AU, update))


def test_infos_share_categories_and_event_codes() -> None:
    chinese = variant(INFO, "<language>en-AU</language>", "<language>zh-CN</language>")
    chinese = variant(chinese, "<event>Bushfire</event>", "<event>丛林大火</event>")
    assert run(AU, HEADER + INFO + chinese + "</alert>") == []
    other = variant(chinese, "<category>Fire</category>", "<category>Met</category>")
    assert (
        only(run(AU, HEADER + INFO + other + "</alert>"), "cap-au.category.mismatch").path
        == "/alert/info[2]"
    )
    second_code = variant(
        chinese,
        EVENT_CODE,
        EVENT_CODE + "<eventCode><valueName>x</valueName><value>y</value></eventCode>",
    )
    assert "cap-au.event_code.mismatch" in codes(run(AU, HEADER + INFO + second_code + "</alert>"))


def test_one_listed_event_per_alert() -> None:
    other_event = variant(INFO, "<value>bushFire</value>", "<value>grassFire</value>")
    other_event = variant(other_event, "<event>Bushfire</event>", "<event>Grass Fire</event>")
    findings = run(AU, HEADER + INFO + other_event + "</alert>")
    finding = only(findings, "cap-au.event_code.multiple")
    assert finding.path == "/alert/info[2]/eventCode[1]/value"


def test_event_code_must_be_in_the_list() -> None:
    finding = only(
        run(AU, variant(VALID, "<value>bushFire</value>", "<value>bushfire</value>")),
        "cap-au.event_code.unknown",
    )
    assert finding.path == "/alert/info[1]/eventCode[1]/value"
    assert "'bushFire'" in finding.message
    assert "cap-au.event_code.unknown" in codes(
        run(AU, variant(VALID, "<value>bushFire</value>", "<value>meteorShower</value>"))
    )


def test_event_must_match_the_code() -> None:
    finding = only(
        run(AU, variant(VALID, "<event>Bushfire</event>", "<event>Fire Danger</event>")),
        "cap-au.event.mismatch",
    )
    assert finding.path == "/alert/info[1]/event"
    assert "'Fire' or 'Bushfire'" in finding.message
    # The Tier I name is accepted too.
    assert run(AU, variant(VALID, "<event>Bushfire</event>", "<event>Fire</event>")) == []


def test_both_spellings_of_the_event_list_name_are_accepted() -> None:
    urn = variant(VALID, "https://govshare.gov.au/xmlui/handle/10772/6495", LIST_URN)
    assert run(AU, urn) == []


def test_event_codes_missing_or_unlisted() -> None:
    missing = only(run(AU, variant(VALID, EVENT_CODE, "")), "cap-au.event_code.missing")
    assert missing.severity is Severity.ERROR and missing.path == "/alert/info[1]"
    other_list = variant(VALID, "https://govshare.gov.au/xmlui/handle/10772/6495", "agency-codes")
    unlisted = only(run(AU, other_list), "cap-au.event_code.not_listed")
    assert unlisted.severity is Severity.WARNING


def test_infos_in_one_language_name_one_event() -> None:
    second = variant(INFO, "<event>Bushfire</event>", "<event>Fire</event>")
    finding = only(run(AU, HEADER + INFO + second + "</alert>"), "cap-au.event.language_mismatch")
    assert finding.path == "/alert/info[2]/event"


def test_every_info_needs_an_area() -> None:
    start, end = VALID.index("<area>"), VALID.index("</area>") + len("</area>")
    assert (
        only(run(AU, VALID[:start] + VALID[end:]), "cap-au.area.missing").path == "/alert/info[1]"
    )


@pytest.mark.parametrize("sender", ["RFS", "webmaster@localhost", "web master@rfs.nsw.gov.au"])
def test_sender_should_be_an_email_address(sender: str) -> None:
    doc = variant(VALID, "<sender>webmaster@rfs.nsw.gov.au</sender>", f"<sender>{sender}</sender>")
    finding = only(run(AU, doc), "cap-au.sender.not_email")
    assert finding.severity is Severity.WARNING and finding.path == "/alert/sender"


def test_test_alerts_are_not_broadcast() -> None:
    finding = only(
        run(AU, variant(VALID, "<status>Actual</status>", "<status>Test</status>")),
        "cap-au.status.test",
    )
    assert finding.severity is Severity.WARNING


def test_times_should_be_australian_or_utc() -> None:
    finding = only(
        run(AU, variant(VALID, "2024-01-05T21:00:00+11:00", "2024-01-05T05:00:00-05:00")),
        "cap-au.time.offset",
    )
    assert finding.path == "/alert/info[1]/expires"
    assert run(AU, variant(VALID, "2024-01-05T21:00:00+11:00", "2024-01-05T10:00:00-00:00")) == []
    assert run(AU, variant(VALID, "2024-01-05T21:00:00+11:00", "2024-01-05T18:30:00+08:45")) == []


@pytest.mark.parametrize(
    ("element", "code"),
    [
        ("expires", "cap-au.expires.recommended"),
        ("senderName", "cap-au.sender_name.recommended"),
        ("responseType", "cap-au.response_type.recommended"),
        ("instruction", "cap-au.instruction.recommended"),
    ],
)
def test_recommended_elements(element: str, code: str) -> None:
    start = VALID.index(f"<{element}>")
    end = VALID.index(f"</{element}>") + len(f"</{element}>")
    finding = only(run(AU, VALID[:start] + VALID[end:]), code)
    assert finding.severity is Severity.WARNING


def test_geometry_and_recognised_geocodes_are_encouraged() -> None:
    findings = run(AU, variant(VALID, "<circle>-35.3888,147.0598 25.0</circle>", ""))
    assert only(findings, "cap-au.area.geometry_recommended").severity is Severity.WARNING
    local = variant(VALID, "http://www.iso.org/iso/country_codes.html", "AMOC-AreaCode")
    finding = only(run(AU, local), "cap-au.geocode.recommended")
    assert finding.path == "/alert/info[1]/area[1]"
    urn = variant(
        VALID,
        "http://www.iso.org/iso/country_codes.html",
        "urn:oasis:names:tc:emergency:cap:1.2:profile:CAP-AU:1.0:ISO3166-2",
    )
    assert run(AU, urn) == []


# --- real alerts ---


def test_nsw_rfs_structure_fire(shared_data: Path) -> None:
    """Google's CAP-AU sample from NSW RFS: two en-AU infos, event code 'fire', ISO 3166-2 and
    postcode geocodes, circles: it follows the profile throughout."""
    parsed, findings = run_file(
        AU, shared_data / "cap" / "alerts" / "google__cap-library" / "australia.cap"
    )
    assert AU.is_declared_by(parsed.alert)
    assert findings == []


def test_bureau_of_meteorology_thunderstorm_warning(shared_data: Path) -> None:
    """BoM names the list by its OASIS URN and uses UTC; it gives no responseType and no
    instruction and describes the districts by geocode only."""
    path = shared_data / "cap" / "alerts" / "kelvinn__capparselib" / "australia_bom.cap"
    parsed, findings = run_file(AU, path)
    assert AU.is_declared_by(parsed.alert)
    assert errors(findings) == set()
    assert codes(findings) == {
        "cap-au.response_type.recommended",
        "cap-au.area.geometry_recommended",
    }
