"""The CAP specification rules beyond the schema: one failing and one passing case per rule,
plus the shared corpus (valid alerts stay clean, Google's error cases report their errors)."""

from __future__ import annotations

import base64
import csv
import hashlib
import re
from pathlib import Path

import pytest

from cap.findings import Finding, Severity
from cap.parsing import ParsedAlert, parse_alert
from cap.spec_rules import SPEC_RULE_CODES, check_spec_rules
from cap.vocabulary import CERTAINTY, RESPONSE_TYPE, STATUS, URGENCY
from tests.conftest import UNDER_CI

NAMESPACES = {
    "1.0": "http://www.incident.com/cap/1.0",
    "1.1": "urn:oasis:names:tc:emergency:cap:1.1",
    "1.2": "urn:oasis:names:tc:emergency:cap:1.2",
}
SENT = "2024-05-01T12:00:00-05:00"
SQUARE = "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.47,-120.14"


def area(extra: str = "", desc: str = "River valley") -> str:
    return f"<area><areaDesc>{desc}</areaDesc>{extra}</area>"


def info(
    *,
    language: str = "",
    category: str = "Met",
    event: str = "Flood",
    response: str = "",
    urgency: str = "Expected",
    severity: str = "Severe",
    certainty: str = "Likely",
    middle: str = "",
    resources: str = "",
    areas: str | None = None,
) -> str:
    """One <info>; ``middle`` sits between <certainty> and <resource> (times, texts, web...)."""
    lang = f"<language>{language}</language>" if language else ""
    resp = f"<responseType>{response}</responseType>" if response else ""
    return (
        f"<info>{lang}<category>{category}</category><event>{event}</event>{resp}"
        f"<urgency>{urgency}</urgency><severity>{severity}</severity>"
        f"<certainty>{certainty}</certainty>{middle}{resources}"
        f"{area() if areas is None else areas}</info>"
    )


def alert(
    *,
    version: str = "1.2",
    identifier: str = "TEST-1",
    sender: str = "alerts@example.org",
    sent: str = SENT,
    status: str = "Actual",
    msg_type: str = "Alert",
    scope: str = "Public",
    after_scope: str = "",
    infos: tuple[str, ...] | None = None,
) -> ParsedAlert:
    """A small CAP document with its elements in schema order; parts can be replaced."""
    body = "".join(infos) if infos is not None else info()
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="{NAMESPACES[version]}">'
        f"<identifier>{identifier}</identifier><sender>{sender}</sender><sent>{sent}</sent>"
        f"<status>{status}</status><msgType>{msg_type}</msgType><scope>{scope}</scope>"
        f"{after_scope}{body}</alert>"
    )
    return parse_alert(xml.encode())


def findings(parsed: ParsedAlert, code: str | None = None) -> list[Finding]:
    found = check_spec_rules(parsed)
    undocumented = {f.code for f in found} - SPEC_RULE_CODES
    assert not undocumented, f"codes missing from SPEC_RULE_CODES: {undocumented}"
    return [f for f in found if code is None or f.code == code]


def only(parsed: ParsedAlert, code: str) -> Finding:
    matching = findings(parsed, code)
    assert len(matching) == 1, (code, check_spec_rules(parsed))
    return matching[0]


def codes(parsed: ParsedAlert) -> set[str]:
    return {f.code for f in findings(parsed)}


def test_every_code_is_documented_in_the_rules_table() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "validation-rules.md"
    text = doc.read_text(encoding="utf-8")
    section = text.split("## Specification rules (cap.*)", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `(cap\.[a-z_]+\.[a-z_0-9]+)` \|", section, re.MULTILINE))
    assert rows == SPEC_RULE_CODES


def test_a_correct_alert_has_no_findings() -> None:
    assert check_spec_rules(alert()) == []


def test_findings_carry_no_position() -> None:
    for f in check_spec_rules(alert(identifier="a b", infos=(info(urgency="Soon"),))):
        assert f.line is None and f.column is None


# --- identifier and sender ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["identifier", "sender"])
@pytest.mark.parametrize(
    ("value", "named"),
    [("A B", "white space"), ("A,B", "comma"), ("A&amp;B", "'&'"), ("A&lt;B", "'<'")],
)
def test_identifier_and_sender_refuse_forbidden_characters(
    name: str, value: str, named: str
) -> None:
    f = only(alert(**{name: value}), f"cap.{name}.invalid_characters")  # type: ignore[arg-type]
    assert f.severity is Severity.ERROR
    assert f.path == f"/alert/{name}"
    assert named in f.message


@pytest.mark.parametrize("name", ["identifier", "sender"])
def test_identifier_and_sender_must_not_be_empty(name: str) -> None:
    f = only(alert(**{name: ""}), f"cap.{name}.empty")  # type: ignore[arg-type]
    assert f.severity is Severity.ERROR


def test_identifier_with_dots_colons_and_at_is_fine() -> None:
    parsed = alert(identifier="urn:oid:2.49.0.1.124.3026064006.2019", sender="cap-pac@canada.ca")
    assert check_spec_rules(parsed) == []


# --- date-times -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "says"),
    [
        ("2024-05-01T17:00:00Z", "'Z'"),
        ("2024-05-01T12:00:00.5-05:00", "fractional"),
        ("2024-05-01T12:00:00", "no time zone"),
        ("2024-02-30T12:00:00-05:00", "not a real date"),
        ("2024-05-01 12:00:00-05:00", "YYYY-MM-DDThh:mm:ss"),
        ("2024-05-01T12:00:00+15:00", "out of range"),
    ],
)
def test_sent_must_be_a_cap_date_time(sent: str, says: str) -> None:
    f = only(alert(sent=sent), "cap.datetime.format")
    assert f.severity is Severity.ERROR
    assert f.path == "/alert/sent"
    assert says in f.message


@pytest.mark.parametrize("name", ["effective", "onset", "expires"])
def test_info_times_must_be_cap_date_times(name: str) -> None:
    parsed = alert(infos=(info(middle=f"<{name}>2024-05-02T12:00:00Z</{name}>"),))
    f = only(parsed, "cap.datetime.format")
    assert f.path == f"/alert/info[1]/{name}"


def test_utc_as_minus_zero_is_clean_and_plus_zero_is_only_noted_in_cap12() -> None:
    assert check_spec_rules(alert(sent="2024-05-01T17:00:00-00:00")) == []
    noted = only(alert(sent="2024-05-01T17:00:00+00:00"), "cap.datetime.utc_plus_zero")
    assert noted.severity is Severity.INFO
    assert check_spec_rules(alert(version="1.1", sent="2024-05-01T17:00:00+00:00")) == []


def test_white_space_around_a_date_time_is_a_warning() -> None:
    f = only(alert(sent=f" {SENT}\n"), "cap.datetime.whitespace")
    assert f.severity is Severity.WARNING


def test_cap10_tolerates_what_xml_schema_allows_but_warns() -> None:
    f = only(alert(version="1.0", sent="2024-05-01T17:00:00Z"), "cap.datetime.format")
    assert f.severity is Severity.WARNING
    bad = only(alert(version="1.0", sent="yesterday"), "cap.datetime.format")
    assert bad.severity is Severity.ERROR


# --- code lists -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "kwargs", "code", "path", "hint"),
    [
        ("1.0", {"status": "Draft"}, "cap.status.invalid", "/alert/status", "added in CAP 1.1"),
        ("1.2", {"status": "actual"}, "cap.status.invalid", "/alert/status", "'Actual'"),
        ("1.2", {"msg_type": "Alarm"}, "cap.msg_type.invalid", "/alert/msgType", ""),
        ("1.2", {"scope": "Everyone"}, "cap.scope.invalid", "/alert/scope", ""),
    ],
)
def test_alert_code_values_are_checked_per_version(
    version: str, kwargs: dict[str, str], code: str, path: str, hint: str
) -> None:
    f = only(alert(version=version, **kwargs), code)  # type: ignore[arg-type]
    assert f.severity is Severity.ERROR
    assert f.path == path
    assert hint in f.message


def test_draft_is_a_status_from_cap11() -> None:
    assert check_spec_rules(alert(version="1.1", status="Draft")) == []
    message = only(alert(version="1.0", status="Draft"), "cap.status.invalid").message
    for value in STATUS["1.0"]:
        assert value in message


@pytest.mark.parametrize(
    ("version", "kwargs", "code", "path"),
    [
        ("1.0", {"category": "CBRNE"}, "cap.category.invalid", "category[1]"),
        ("1.1", {"response": "Avoid"}, "cap.response_type.invalid", "responseType[1]"),
        ("1.1", {"response": "AllClear"}, "cap.response_type.invalid", "responseType[1]"),
        ("1.0", {"response": "Shelter"}, "cap.response_type.invalid", "responseType[1]"),
        ("1.2", {"urgency": ""}, "cap.urgency.invalid", "urgency"),
        ("1.2", {"severity": "Bad"}, "cap.severity.invalid", "severity"),
        ("1.2", {"certainty": "Very Likely"}, "cap.certainty.invalid", "certainty"),
        ("1.0", {"certainty": "Observed"}, "cap.certainty.invalid", "certainty"),
    ],
)
def test_info_code_values_are_checked_per_version(
    version: str, kwargs: dict[str, str], code: str, path: str
) -> None:
    f = only(alert(version=version, infos=(info(**kwargs),)), code)  # type: ignore[arg-type]
    assert f.severity is Severity.ERROR
    assert f.path == f"/alert/info[1]/{path}"


@pytest.mark.parametrize(
    ("version", "kwargs"),
    [
        ("1.1", {"category": "CBRNE", "response": "Evacuate", "certainty": "Observed"}),
        ("1.2", {"response": "AllClear"}),
        ("1.2", {"response": "Avoid"}),
        ("1.0", {"certainty": "Very Likely"}),
    ],
)
def test_code_values_of_the_documents_version_pass(version: str, kwargs: dict[str, str]) -> None:
    assert check_spec_rules(alert(version=version, infos=(info(**kwargs),))) == []  # type: ignore[arg-type]


def test_empty_urgency_lists_every_allowed_value() -> None:
    message = only(alert(infos=(info(urgency=""),)), "cap.urgency.invalid").message
    assert "empty" in message
    for value in URGENCY:
        assert value in message


def test_very_likely_is_deprecated_in_cap11_and_gone_in_cap12() -> None:
    old = only(
        alert(version="1.1", infos=(info(certainty="Very Likely"),)),
        "cap.certainty.very_likely_deprecated",
    )
    assert old.severity is Severity.WARNING
    gone = only(alert(infos=(info(certainty="Very Likely"),)), "cap.certainty.invalid")
    assert "Likely" in gone.message
    assert "Very Likely" not in gone.message.split("use one of:")[1].split("(")[0]
    for value in CERTAINTY["1.2"]:
        assert value in gone.message


def test_response_type_message_lists_the_versions_values() -> None:
    message = only(
        alert(version="1.1", infos=(info(response="AllClear"),)), "cap.response_type.invalid"
    ).message
    assert "added in CAP 1.2" in message
    for value in RESPONSE_TYPE["1.1"]:
        assert value in message


def test_each_repeated_category_is_checked_at_its_position() -> None:
    parsed = alert(infos=(info(category="Met</category><category>Weather"),))
    assert only(parsed, "cap.category.invalid").path == "/alert/info[1]/category[2]"


# --- scope, restriction, addresses, incidents -----------------------------------------------


def test_restricted_scope_needs_a_restriction() -> None:
    f = only(alert(scope="Restricted"), "cap.restriction.missing")
    assert f.severity is Severity.ERROR
    ok = alert(scope="Restricted", after_scope="<restriction>Fire services only</restriction>")
    assert check_spec_rules(ok) == []


def test_private_scope_needs_addresses() -> None:
    f = only(alert(scope="Private"), "cap.addresses.missing")
    assert f.severity is Severity.ERROR
    assert only(alert(scope="Private", after_scope="<addresses> </addresses>"), f.code)
    ok = alert(scope="Private", after_scope='<addresses>ops@example.org "Station 3"</addresses>')
    assert check_spec_rules(ok) == []


def test_restriction_without_restricted_scope_is_a_warning() -> None:
    f = only(alert(after_scope="<restriction>Police</restriction>"), "cap.restriction.unexpected")
    assert f.severity is Severity.WARNING
    assert "Public" in f.message


def test_addresses_on_a_public_alert_are_only_noted() -> None:
    f = only(alert(after_scope="<addresses>ops</addresses>"), "cap.addresses.unexpected")
    assert f.severity is Severity.INFO


def test_empty_restriction_addresses_and_incidents_are_warnings() -> None:
    parsed = alert(after_scope="<restriction/><addresses/><incidents/>")
    assert codes(parsed) == {"cap.restriction.empty", "cap.addresses.empty", "cap.incidents.empty"}
    assert all(f.severity is Severity.WARNING for f in check_spec_rules(parsed))


@pytest.mark.parametrize("name", ["addresses", "incidents"])
@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('"Fire Station 3 ops', "never closed"),
        ('ops "Station"3', "without a space"),
        ('ops Sta"tion', "double quote inside"),
    ],
)
def test_lists_need_balanced_quotes_around_whole_entries(name: str, text: str, says: str) -> None:
    scope = "Private" if name == "addresses" else "Public"
    parsed = alert(scope=scope, after_scope=f"<{name}>{text}</{name}>")
    f = only(parsed, f"cap.{name}.syntax")
    assert f.severity is Severity.ERROR
    assert f.path == f"/alert/{name}"
    assert says in f.message


@pytest.mark.parametrize("name", ["addresses", "incidents"])
def test_well_formed_lists_pass_and_empty_quotes_warn(name: str) -> None:
    scope = "Private" if name == "addresses" else "Public"
    good = alert(scope=scope, after_scope=f'<{name}>a "b c" d\t"e"</{name}>')
    assert check_spec_rules(good) == []
    empty = alert(scope=scope, after_scope=f'<{name}>a ""</{name}>')
    assert only(empty, f"cap.{name}.empty_entry").severity is Severity.WARNING


# --- references -----------------------------------------------------------------------------

EARLIER = "alerts@example.org,TEST-0,2024-05-01T11:00:00-05:00"


def refs(text: str | None, msg_type: str = "Update", **kwargs: str) -> ParsedAlert:
    element = "" if text is None else f"<references>{text}</references>"
    return alert(msg_type=msg_type, after_scope=element, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("msg_type", ["Update", "Cancel", "Ack", "Error"])
def test_messages_about_earlier_alerts_need_references(msg_type: str) -> None:
    f = only(refs(None, msg_type), "cap.references.missing")
    assert f.severity is Severity.ERROR
    assert f.path == "/alert/references"
    assert msg_type in f.message


def test_an_empty_references_element_counts_as_none() -> None:
    assert "is empty" in only(refs("", "Update"), "cap.references.missing").message
    assert only(refs("  ", "Alert"), "cap.references.empty").severity is Severity.WARNING


def test_an_update_naming_an_earlier_alert_passes() -> None:
    assert check_spec_rules(refs(EARLIER)) == []
    two = f"{EARLIER}\n  other@example.org,X-9,2024-04-30T08:00:00+02:00"
    assert check_spec_rules(refs(two)) == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("alerts@example.org,TEST-0", "not sender,identifier,sent"),
        ("alerts@example.org,,2024-05-01T11:00:00-05:00", "not sender,identifier,sent"),
        ("alerts@example.org, TEST-0, 2024-05-01T11:00:00-05:00", "no space after the commas"),
        ("a&amp;b,TEST-0,2024-05-01T11:00:00-05:00", "'&'"),
    ],
)
def test_each_reference_is_a_sender_identifier_sent_triple(text: str, says: str) -> None:
    found = findings(refs(text), "cap.references.syntax")
    assert found and all(f.severity is Severity.ERROR for f in found)
    assert any(says in f.message for f in found)


def test_a_reference_time_must_be_a_cap_date_time() -> None:
    f = only(refs("alerts@example.org,TEST-0,2024-05-01T16:00:00Z"), "cap.references.sent_format")
    assert "'Z'" in f.message


def test_a_reference_must_not_name_the_alert_itself() -> None:
    f = only(refs(f"alerts@example.org,TEST-1,{SENT}"), "cap.references.self")
    assert f.severity is Severity.ERROR


def test_a_reference_names_an_earlier_alert() -> None:
    later = "alerts@example.org,TEST-0,2024-05-01T12:30:00-05:00"
    f = only(refs(later), "cap.references.after_sent")
    assert f.severity is Severity.ERROR
    # Offsets are compared as instants: 17:30 UTC is after 17:00 UTC, 16:30 UTC is not.
    assert codes(refs("alerts@example.org,TEST-0,2024-05-01T17:30:00-00:00")) == {
        "cap.references.after_sent"
    }
    assert check_spec_rules(refs("alerts@example.org,TEST-0,2024-05-01T16:30:00-00:00")) == []
    same_second = "alerts@example.org,TEST-0,2024-05-01T12:00:00-05:00"
    assert check_spec_rules(refs(same_second)) == []


def test_a_repeated_reference_is_a_warning() -> None:
    f = only(refs(f"{EARLIER} {EARLIER}"), "cap.references.duplicate")
    assert f.severity is Severity.WARNING


def test_cap10_references_are_not_held_to_the_cap11_triple() -> None:
    parsed = alert(version="1.0", msg_type="Cancel", after_scope="<references>TEST-0</references>")
    assert check_spec_rules(parsed) == []


# --- message shape --------------------------------------------------------------------------


@pytest.mark.parametrize("msg_type", ["Alert", "Update"])
def test_alert_or_update_without_info_is_a_warning(msg_type: str) -> None:
    after = f"<references>{EARLIER}</references>" if msg_type == "Update" else ""
    parsed = alert(msg_type=msg_type, after_scope=after, infos=())
    f = only(parsed, "cap.info.none")
    assert f.severity is Severity.WARNING


@pytest.mark.parametrize("msg_type", ["Cancel", "Ack"])
def test_cancel_and_ack_need_no_info(msg_type: str) -> None:
    parsed = alert(msg_type=msg_type, after_scope=f"<references>{EARLIER}</references>", infos=())
    assert check_spec_rules(parsed) == []


def test_error_messages_should_explain_in_note() -> None:
    bare = alert(msg_type="Error", after_scope=f"<references>{EARLIER}</references>", infos=())
    assert only(bare, "cap.note.missing_for_error").severity is Severity.WARNING
    noted = alert(
        msg_type="Error",
        after_scope=f"<note>Unknown area code</note><references>{EARLIER}</references>",
        infos=(),
    )
    assert check_spec_rules(noted) == []


def test_identical_info_blocks_are_warned() -> None:
    f = only(alert(infos=(info(), info())), "cap.info.duplicate")
    assert f.severity is Severity.WARNING
    assert f.path == "/alert/info[2]"
    two_languages = (info(language="en-CA"), info(language="fr-CA"))
    assert check_spec_rules(alert(infos=two_languages)) == []


# --- info -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["en_US", "english language", "1en", "en-US-", "en--US"])
def test_language_must_be_a_language_tag(tag: str) -> None:
    f = only(alert(infos=(info(language=tag),)), "cap.language.invalid")
    assert f.severity is Severity.ERROR
    assert f.path == "/alert/info[1]/language"


@pytest.mark.parametrize("tag", ["en-US", "fr-CA", "es", "zh-Hant-TW", "de-CH-1996", "x-klingon"])
def test_real_language_tags_pass(tag: str) -> None:
    assert check_spec_rules(alert(infos=(info(language=tag),))) == []


def test_cap12_language_should_be_bcp47() -> None:
    loose = "en-a"  # RFC 3066 allows it; RFC 5646 needs a subtag after the singleton "a"
    f = only(alert(infos=(info(language=loose),)), "cap.language.not_bcp47")
    assert f.severity is Severity.WARNING
    assert check_spec_rules(alert(version="1.1", infos=(info(language=loose),))) == []


def test_empty_event_is_an_error() -> None:
    f = only(alert(infos=(info(event=" "),)), "cap.event.empty")
    assert f.path == "/alert/info[1]/event"


def test_entity_references_and_html_in_text_are_warned() -> None:
    entity = info(middle="<description>Rain&amp;nbsp;expected</description>")
    assert only(alert(infos=(entity,)), "cap.text.entity_reference").severity is Severity.WARNING
    html = info(middle="<instruction>Leave now.&lt;br /&gt;Go north.</instruction>")
    f = only(alert(infos=(html,)), "cap.text.html_markup")
    assert f.path == "/alert/info[1]/instruction"
    plain = info(middle="<description>Water depth &lt; 5 m &amp; rising</description>")
    assert check_spec_rules(alert(infos=(plain,))) == []


def times(**values: str) -> ParsedAlert:
    middle = "".join(
        f"<{k}>{values[k]}</{k}>" for k in ("effective", "onset", "expires") if k in values
    )
    return alert(infos=(info(middle=middle),))


def test_expires_must_be_after_sent() -> None:
    f = only(times(expires="2024-05-01T11:00:00-05:00"), "cap.expires.not_after_sent")
    assert f.severity is Severity.ERROR
    assert f.path == "/alert/info[1]/expires"
    assert only(times(expires=SENT), "cap.expires.not_after_sent")
    # 17:30 UTC is after 17:00 UTC although the local clock reads earlier.
    assert check_spec_rules(times(expires="2024-05-01T10:30:00-07:00")) == []


def test_expires_must_be_after_effective() -> None:
    parsed = times(effective="2024-05-02T12:00:00-05:00", expires="2024-05-02T08:00:00-05:00")
    assert only(parsed, "cap.expires.not_after_effective").severity is Severity.ERROR
    fine = times(
        effective="2024-05-01T12:00:00-05:00",
        onset="2024-05-01T14:00:00-05:00",
        expires="2024-05-01T18:00:00-05:00",
    )
    assert check_spec_rules(fine) == []


def test_onset_after_expires_is_a_warning() -> None:
    parsed = times(onset="2024-05-03T00:00:00-05:00", expires="2024-05-02T00:00:00-05:00")
    f = only(parsed, "cap.onset.after_expires")
    assert f.severity is Severity.WARNING
    assert f.path == "/alert/info[1]/onset"


def test_assess_should_not_be_used_in_public_alerts() -> None:
    f = only(alert(infos=(info(response="Assess"),)), "cap.response_type.assess_public")
    assert f.severity is Severity.WARNING
    ok = alert(
        scope="Restricted",
        after_scope="<restriction>EOC</restriction>",
        infos=(info(response="Assess"),),
    )
    assert check_spec_rules(ok) == []


def test_a_long_headline_is_noted() -> None:
    long = alert(infos=(info(middle=f"<headline>{'x' * 161}</headline>"),))
    assert only(long, "cap.headline.long").severity is Severity.INFO
    assert check_spec_rules(alert(infos=(info(middle=f"<headline>{'x' * 160}</headline>"),))) == []


@pytest.mark.parametrize("web", ["www.example.org/alert", "/alerts/1", "https://example.org/a b"])
def test_web_must_be_a_full_absolute_uri(web: str) -> None:
    f = only(alert(infos=(info(middle=f"<web>{web}</web>"),)), "cap.web.not_absolute")
    assert f.severity is Severity.ERROR


def test_absolute_web_passes() -> None:
    parsed = alert(infos=(info(middle="<web>https://example.org/alerts/1?lang=en</web>"),))
    assert check_spec_rules(parsed) == []


def pair(kind: str, name: str, value: str) -> str:
    return f"<{kind}><valueName>{name}</valueName><value>{value}</value></{kind}>"


def test_empty_codes_say_nothing() -> None:
    event_code = info(middle=pair("eventCode", "SAME", ""))
    assert only(alert(infos=(event_code,)), "cap.event_code.empty").severity is Severity.WARNING
    geocode = info(areas=area(pair("geocode", "", "006109")))
    f = only(alert(infos=(geocode,)), "cap.geocode.empty")
    assert f.path == "/alert/info[1]/area[1]/geocode[1]"
    nameless = info(middle=pair("parameter", " ", "WXR"))
    assert only(alert(infos=(nameless,)), "cap.parameter.empty").severity is Severity.WARNING
    # An empty parameter value is common practice (NWS) and allowed.
    parameter = info(middle=pair("parameter", "WMOHEADER", "") + pair("eventCode", "SAME", "TOR"))
    assert check_spec_rules(alert(infos=(parameter,))) == []


def test_cap10_pairs_are_name_equals_value() -> None:
    good = alert(version="1.0", infos=(info(middle="<eventCode>SAME=TOR</eventCode>"),))
    assert check_spec_rules(good) == []
    bad = alert(version="1.0", infos=(info(middle="<eventCode>TOR</eventCode>"),))
    assert "valueName=value" in only(bad, "cap.event_code.empty").message


# --- resources ------------------------------------------------------------------------------

CONTENT = b"GIF89a tiny test image"
B64 = base64.b64encode(CONTENT).decode()
SHA1 = hashlib.sha1(CONTENT).hexdigest()


def resource(*parts: str, desc: str = "map", mime: str = "image/gif") -> ParsedAlert:
    body = f"<resource><resourceDesc>{desc}</resourceDesc><mimeType>{mime}</mimeType>"
    body += "".join(parts) + "</resource>"
    return alert(infos=(info(resources=body),))


def test_a_complete_embedded_resource_passes() -> None:
    parsed = resource(
        f"<size>{len(CONTENT)}</size>",
        "<uri>map.gif</uri>",
        f"<derefUri>{B64[:10]}\n{B64[10:]}</derefUri>",
        f"<digest>{SHA1.upper()}</digest>",
    )
    assert check_spec_rules(parsed) == []


@pytest.mark.parametrize("size", ["-5", "12kB", "1.5", ""])
def test_size_is_a_whole_number_of_bytes(size: str) -> None:
    f = only(resource(f"<size>{size}</size>"), "cap.resource.size_invalid")
    assert f.path == "/alert/info[1]/resource[1]/size"


@pytest.mark.parametrize("digest", ["abc123", "g" * 40, SHA1 + "00"])
def test_digest_is_forty_hex_digits(digest: str) -> None:
    f = only(resource(f"<digest>{digest}</digest>"), "cap.resource.digest_invalid")
    assert f.severity is Severity.ERROR


@pytest.mark.parametrize("data", ["not base64!", "abc", "", B64 + "&amp;"])
def test_deref_uri_must_be_base64(data: str) -> None:
    f = only(resource(f"<derefUri>{data}</derefUri>"), "cap.resource.deref_uri_invalid")
    assert f.path == "/alert/info[1]/resource[1]/derefUri"


def test_embedded_content_must_match_its_digest_and_size() -> None:
    wrong_digest = resource(f"<derefUri>{B64}</derefUri>", f"<digest>{'0' * 40}</digest>")
    assert only(wrong_digest, "cap.resource.digest_mismatch").severity is Severity.ERROR
    wrong_size = resource(f"<size>{len(CONTENT) + 100}</size>", f"<derefUri>{B64}</derefUri>")
    assert only(wrong_size, "cap.resource.size_mismatch").severity is Severity.WARNING


def test_uri_must_be_absolute_unless_it_names_embedded_content() -> None:
    f = only(resource("<uri>maps/flood.gif</uri>"), "cap.resource.uri_relative")
    assert f.severity is Severity.ERROR
    assert check_spec_rules(resource("<uri>https://example.org/maps/flood.gif</uri>")) == []
    assert only(resource("<uri>https://example.org/a map.gif</uri>"), "cap.resource.uri_invalid")


@pytest.mark.parametrize("mime", ["gif", "image/", "image gif", "", "image/gif; charset"])
def test_mime_type_is_type_slash_subtype(mime: str) -> None:
    f = only(resource(mime=mime), "cap.resource.mime_type_invalid")
    assert f.path == "/alert/info[1]/resource[1]/mimeType"


@pytest.mark.parametrize(
    "mime", ["image/png", "text/plain; charset=utf-8", "application/vnd.geo+json"]
)
def test_real_mime_types_pass(mime: str) -> None:
    assert check_spec_rules(resource(mime=mime)) == []


def test_unregistered_top_level_media_type_is_a_warning() -> None:
    f = only(resource(mime="picture/gif"), "cap.resource.mime_type_unknown")
    assert f.severity is Severity.WARNING


def test_resource_description_must_not_be_empty() -> None:
    assert only(resource(desc=""), "cap.resource.description_empty").severity is Severity.ERROR


# --- area: polygon, circle, altitude --------------------------------------------------------


def shapes(extra: str, desc: str = "River valley") -> ParsedAlert:
    return alert(infos=(info(areas=area(extra, desc)),))


def test_a_closed_polygon_and_a_circle_pass() -> None:
    parsed = shapes(f"<polygon>{SQUARE}</polygon><circle>32.9525,-115.5527 0</circle>")
    assert check_spec_rules(parsed) == []


def test_polygon_syntax_errors_name_the_bad_point() -> None:
    bad = "41.12,-117.61 40.85,-118.09, 40.86,-118.09 41.12,-117.61"
    f = only(shapes(f"<polygon>{bad}</polygon>"), "cap.polygon.syntax")
    assert f.severity is Severity.ERROR
    assert f.path == "/alert/info[1]/area[1]/polygon[1]"
    assert "point 2" in f.message


def test_polygon_needs_four_points() -> None:
    f = only(shapes("<polygon>1,1 2,2 1,1</polygon>"), "cap.polygon.too_few_points")
    assert "3 points" in f.message
    empty = only(shapes("<polygon></polygon>"), "cap.polygon.empty")
    assert empty.severity is Severity.WARNING and "describes no area" in empty.message


def test_polygon_must_be_closed() -> None:
    f = only(shapes("<polygon>1,1 1,2 2,2 2,1</polygon>"), "cap.polygon.not_closed")
    assert f.severity is Severity.ERROR
    assert "1,1" in f.message and "2,1" in f.message


def test_polygon_coordinates_must_be_wgs84() -> None:
    swapped = "-120.14,38.47 -119.95,38.34 -119.74,38.52 -120.14,38.47"
    f = only(shapes(f"<polygon>{swapped}</polygon>"), "cap.polygon.coordinate_range")
    assert "swapped" in f.message
    lon = only(shapes("<polygon>10,181 11,181 11,182 10,181</polygon>"), f.code)
    assert lon.severity is Severity.ERROR


def test_a_ring_of_one_repeated_point_is_degenerate() -> None:
    f = only(shapes("<polygon>1,1 1,1 1,1 1,1</polygon>"), "cap.polygon.degenerate")
    assert f.severity is Severity.WARNING
    second = shapes(f"<polygon>{SQUARE}</polygon><polygon>5,5 6,6 5,5 5,5</polygon>")
    assert only(second, "cap.polygon.degenerate").path == "/alert/info[1]/area[1]/polygon[2]"


@pytest.mark.parametrize("circle", ["32.9525,-115.5527", "32.9525 -115.5527 5", "a,b 5", "1,2 x"])
def test_circle_is_a_point_and_a_radius(circle: str) -> None:
    f = only(shapes(f"<circle>{circle}</circle>"), "cap.circle.syntax")
    assert f.path == "/alert/info[1]/area[1]/circle[1]"


def test_circle_radius_and_centre_must_make_sense() -> None:
    assert only(shapes("<circle>32.9,-115.5 -1</circle>"), "cap.circle.negative_radius")
    assert only(shapes("<circle>132.9,-115.5 1</circle>"), "cap.circle.coordinate_range")


def test_ceiling_needs_altitude_and_must_not_be_below_it() -> None:
    alone = only(shapes("<ceiling>1000</ceiling>"), "cap.ceiling.without_altitude")
    assert alone.path == "/alert/info[1]/area[1]/ceiling"
    below = shapes("<altitude>2000</altitude><ceiling>1000</ceiling>")
    assert only(below, "cap.ceiling.below_altitude").severity is Severity.ERROR
    assert check_spec_rules(shapes("<altitude>1000</altitude><ceiling>1000</ceiling>")) == []
    assert check_spec_rules(shapes("<altitude>-50.5</altitude>")) == []


def test_altitude_and_ceiling_must_be_numbers() -> None:
    f = only(shapes("<altitude>high</altitude>"), "cap.altitude.invalid")
    assert f.severity is Severity.ERROR
    g = only(shapes("<altitude>10</altitude><ceiling>1e3</ceiling>"), "cap.ceiling.invalid")
    assert g.path == "/alert/info[1]/area[1]/ceiling"


def test_area_description_must_not_be_empty() -> None:
    assert only(shapes("", desc=""), "cap.area.description_empty").severity is Severity.ERROR


# --- the shared corpus ----------------------------------------------------------------------

CAP_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cap"
PLAIN_SUFFIXES = (".cap", ".xml", ".txt")
# Files the manifest calls valid that break a MUST of the specification; see the module report.
KNOWN_BREACHES: dict[str, set[str]] = {}


def manifest_rows(expected: str) -> list[str]:
    manifest = CAP_DATA / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    # rfs.xml is listed as an alert but is an EDXL-DE distribution (covered by test_edxl).
    return [
        r["file"]
        for r in rows
        if r["expected"] == expected
        and r["file"].endswith(PLAIN_SUFFIXES)
        and not r["file"].endswith("/rfs.xml")
    ]


def corpus_alert(relative: str) -> ParsedAlert:
    path = CAP_DATA / relative
    if not path.is_file():
        if UNDER_CI:
            pytest.fail(f"shared test data missing at {path} (required under CI)")
        pytest.skip(f"shared test data not found at {path} (allowed outside CI only)")
    return parse_alert(path.read_bytes())


@pytest.mark.parametrize("relative", manifest_rows("valid"))
def test_valid_corpus_alerts_break_no_specification_rule(relative: str) -> None:
    parsed = corpus_alert(relative)
    errors = {f.code for f in check_spec_rules(parsed) if f.severity is Severity.ERROR}
    assert errors == KNOWN_BREACHES.get(relative, set()), check_spec_rules(parsed)


def test_canada_errors_update_with_empty_references() -> None:
    parsed = corpus_alert("alerts/google__cap-library/canada_errors.cap")
    found = check_spec_rules(parsed)
    assert {f.code for f in found if f.severity is Severity.ERROR} == {"cap.references.missing"}
    assert {"cap.restriction.empty", "cap.addresses.empty"} <= {f.code for f in found}


def test_noaa_errors_reports_each_broken_element() -> None:
    parsed = corpus_alert("alerts/google__cap-library/noaa_errors.cap")
    by_path = {(f.code, f.path) for f in check_spec_rules(parsed)}
    base = "/alert/info[1]"
    assert {
        ("cap.references.empty", "/alert/references"),
        ("cap.urgency.invalid", f"{base}/urgency"),
        ("cap.severity.invalid", f"{base}/severity"),
        ("cap.certainty.invalid", f"{base}/certainty"),
        ("cap.event_code.empty", f"{base}/eventCode[1]"),
        ("cap.polygon.syntax", f"{base}/area[1]/polygon[1]"),
        ("cap.polygon.empty", f"{base}/area[1]/polygon[2]"),
    } <= by_path
