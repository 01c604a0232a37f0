"""CAP -> cell broadcast message identifiers and texts, row by row of the requirement table
``shared/data/cap/profiles/cell-broadcast-mapping.md`` (CB-xx: TS 23.041 identifiers, WEA-xx:
US WEA, UK-xx: UK Emergency Alerts), and profiles loaded from TOML."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cap.authoring import alert_from_description, cancel_alert
from cap.model import Alert
from gateways.base import CannotCarryError
from gateways.cell_broadcast.mapping import (
    BUILTIN_PROFILES,
    EU_ALERT,
    UK,
    US_WEA,
    CbsProfile,
    CbsProfileError,
    load_profile,
    map_alert,
    profile_from_table,
)
from gateways.cell_broadcast.pages import CUT_MARKER, CbsAlphabet, cbs_text_for, decode_page
from gateways.cell_broadcast.serial import GeoScope, SerialNumber

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def _info(**fields: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "category": ["Met"],
        "event": "Flash Flood Warning",
        "urgency": "Immediate",
        "severity": "Extreme",
        "certainty": "Observed",
        "language": "en-US",
        "headline": "Flash flood warning for the river valley",
        "instruction": "Move to higher ground now.",
    }
    info.update(fields)
    return info


def _alert(*infos: dict[str, Any], status: str = "Actual", **alert: Any) -> Alert:
    return alert_from_description(
        {"sender": "alerts@met.example.gov", "status": status, "info": list(infos), **alert},
        now=NOW,
    )


def _ids(alert: Alert, profile: CbsProfile) -> list[int]:
    return [plan.message_id for plan in map_alert(alert, profile)]


# --- A. TS 23.041 identifiers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "urgency", "certainty", "identifier"),
    [
        ("Extreme", "Immediate", "Observed", 4371),  # CB-03
        ("Extreme", "Immediate", "Likely", 4372),
        ("Extreme", "Expected", "Observed", 4373),  # CB-04
        ("Extreme", "Expected", "Likely", 4374),
        ("Severe", "Immediate", "Observed", 4375),
        ("Severe", "Immediate", "Likely", 4376),
        ("Severe", "Expected", "Observed", 4377),
        ("Severe", "Expected", "Likely", 4378),
    ],
)
@pytest.mark.parametrize("profile", [US_WEA, EU_ALERT], ids=lambda p: p.name)
def test_cb03_cb04_severity_urgency_certainty(
    profile: CbsProfile, severity: str, urgency: str, certainty: str, identifier: int
) -> None:
    alert = _alert(
        _info(severity=severity, urgency=urgency, certainty=certainty),
        _info(severity=severity, urgency=urgency, certainty=certainty, language="es-US"),
    )
    # CB-10: the additional-language twin is the identifier + 13
    assert _ids(alert, profile) == [identifier, identifier + 13]


@pytest.mark.parametrize(
    ("severity", "urgency", "certainty", "field"),
    [
        ("Moderate", "Immediate", "Observed", "severity Moderate"),
        ("Extreme", "Future", "Observed", "urgency Future"),
        ("Severe", "Expected", "Possible", "certainty Possible"),
    ],
)
def test_cb05_no_cmas_class_is_refused_naming_the_field(
    severity: str, urgency: str, certainty: str, field: str
) -> None:
    alert = _alert(_info(severity=severity, urgency=urgency, certainty=certainty))
    with pytest.raises(CannotCarryError, match=f"{field} is not") as refused:
        map_alert(alert, US_WEA)
    assert "info[0]" in str(refused.value)
    assert "us-wea" in str(refused.value)


def test_cb01_etws_when_the_profile_enables_it() -> None:
    etws = replace(EU_ALERT, etws=True)
    quake = _info(event="Earthquake Warning", category=["Geo"])
    tsunami = _info(event="Tsunami Warning", category=["Geo"])
    both = _info(event="Earthquake and tsunami warning", category=["Geo"])
    coded = _info(event="Warning", event_codes={"SAME": "EQW"})
    assert _ids(_alert(quake), etws) == [4352]
    assert _ids(_alert(tsunami), etws) == [4353]
    assert _ids(_alert(both), etws) == [4354]
    assert _ids(_alert(coded), etws) == [4352]
    assert _ids(_alert(quake, status="Test"), etws) == [4355]
    # ETWS has no additional-language identifier: a second language shares it
    plans = map_alert(
        _alert(quake, _info(event="Aardbeving", language="nl", event_codes={"SAME": "EQW"})), etws
    )
    assert [p.message_id for p in plans] == [4352, 4352]
    assert [p.slot for p in plans] == ["en/0", "nl/0"]
    # without ETWS, an earthquake is a CMAS alert
    assert _ids(_alert(quake), EU_ALERT) == [4371]


def test_cb02_presidential_and_cb06_amber_and_cb07_rmt() -> None:
    ean = _info(event="Emergency Action Notification", event_codes={"SAME": "EAN"})
    assert _ids(_alert(ean, _info(language="es-US", event_codes={"SAME": "EAN"})), US_WEA) == [
        4370,
        4383,
    ]
    cae = _info(event="Child Abduction Emergency", event_codes={"SAME": "CAE"})
    assert _ids(_alert(cae), US_WEA) == [4379]
    assert _ids(_alert(cae, _info(language="es", event_codes={"SAME": "CAE"})), US_WEA) == [
        4379,
        4392,
    ]
    rmt = _info(event="Required Monthly Test", event_codes={"SAME": "RMT"})
    assert _ids(_alert(rmt, status="Test"), US_WEA) == [4380]


def test_cb08_exercise_and_cb12_state_local_test() -> None:
    assert _ids(_alert(_info(), status="Exercise"), US_WEA) == [4381]
    assert _ids(_alert(_info(), _info(language="es"), status="Exercise"), US_WEA) == [4381, 4394]
    assert _ids(_alert(_info(), status="Test"), US_WEA) == [4398]
    assert _ids(_alert(_info(), _info(language="es"), status="Test"), US_WEA) == [4398, 4399]


def test_cb10_every_builtin_cmas_rule_pairs_with_plus_13() -> None:
    for profile in BUILTIN_PROFILES.values():
        for rule in profile.rules:
            if 4370 <= rule.identifier <= 4382:
                assert rule.additional == rule.identifier + 13, rule.label


def test_cb11_public_safety_and_eu_alert_level_4() -> None:
    public = {"severity": "Moderate", "parameters": {"WEAHandling": "Public Safety"}}
    assert _ids(_alert(_info(**public), _info(language="es", **public)), US_WEA) == [4396, 4397]
    assert _ids(
        _alert(_info(severity="Moderate"), _info(severity="Minor", language="fr")), EU_ALERT
    ) == [
        4396,
        4397,
    ]


def test_eu_alert_level_1_by_parameter() -> None:
    level1 = _info(parameters={"EU-Alert-Level": "1"}, language="nl")
    assert _ids(_alert(level1, _info(parameters={"EU-Alert-Level": "1"})), EU_ALERT) == [
        4370,
        4383,
    ]


# --- C. US WEA -------------------------------------------------------------------------------


def test_wea01_cmamtext_is_the_text_and_is_at_most_90() -> None:
    short = "Flash Flood Warning this area til 5 PM. Avoid flooded areas."
    plans = map_alert(_alert(_info(parameters={"CMAMtext": short})), US_WEA)
    assert plans[0].text.text == short
    assert plans[0].text.source == "CMAMtext"
    too_long = "x" * 91
    with pytest.raises(CannotCarryError, match=r"CMAMtext has 91 characters.*allows 90"):
        map_alert(_alert(_info(parameters={"CMAMtext": too_long})), US_WEA)


def test_wea02_cmamlongtext_first_and_at_most_360() -> None:
    params = {"CMAMtext": "Short text.", "CMAMlongtext": "Long text. " * 30}
    plan = map_alert(_alert(_info(parameters=params)), US_WEA)[0]
    assert plan.text.source == "CMAMlongtext"
    assert plan.text.plan.count == 4  # 329 septets at 93 a page
    with pytest.raises(CannotCarryError, match=r"CMAMlongtext has 361 characters.*allows 360"):
        map_alert(_alert(_info(parameters={"CMAMlongtext": "y" * 361})), US_WEA)


def test_wea_composed_text_is_cut_to_360_characters() -> None:
    info = _info(description="Water is rising fast along the river. " * 20)
    text = map_alert(_alert(info), US_WEA)[0].text
    assert len(text.text) <= 360
    assert text.truncated
    assert text.text.startswith(
        "Flash flood warning for the river valley. Move to higher ground now. Water"
    )
    assert text.text.endswith(CUT_MARKER)


def test_wea08_english_primary_spanish_additional() -> None:
    plans = map_alert(_alert(_info(language="es-US"), _info(language="en-US")), US_WEA)
    assert [(p.language, p.message_id, p.additional_language) for p in plans] == [
        ("es-US", 4384, True),
        ("en-US", 4371, False),
    ]


# --- D. UK ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "identifier"), [("EAN", 4370), ("Alert", 4378), ("OPR", 4382), ("RMT", 4380)]
)
def test_uk03_channels_from_event(event: str, identifier: int) -> None:
    info = _info(event=event, severity="Severe", urgency="Expected", certainty="Likely")
    assert _ids(_alert(info), UK) == [identifier]


def test_uk01_1395_septets_of_description() -> None:
    info = _info(event="Alert", description="Flooding is expected. " * 70)  # 1540 characters
    text = map_alert(_alert(info), UK)[0].text
    assert text.plan.coding.dcs == 0x01  # English in the DCS: 93 septets a page
    assert text.plan.units <= 1395
    assert text.plan.count <= 15
    assert text.truncated and text.text.startswith("Flooding is expected.")
    exact = _info(event="Alert", description="a" * 1395)
    assert map_alert(_alert(exact), UK)[0].text.truncated is False
    escapes = _info(event="Alert", description="{" * 698)  # 1396 septets
    assert map_alert(_alert(escapes), UK)[0].text.truncated


def test_uk02_615_ucs2_characters() -> None:
    welsh = "Rhybudd llifogydd ŵ. " * 40  # 840 characters, ŵ forces UCS-2
    text = map_alert(_alert(_info(event="Alert", description=welsh)), UK)[0].text
    assert text.plan.coding.alphabet is CbsAlphabet.UCS2
    assert text.plan.coding.dcs == 0x48  # no language prefix in the UK profile: 41 a page
    assert text.plan.units <= 615
    assert text.truncated


def test_typographic_punctuation_stays_gsm7_in_composed_text() -> None:
    info = _info(
        event="Alert", description="Don\u2019t cross \u201cthe bridge\u201d \u2013 now\u2026"
    )
    text = map_alert(_alert(info), UK)[0].text
    assert text.text == 'Don\'t cross "the bridge" - now...'
    assert text.plan.coding.alphabet is CbsAlphabet.GSM7


# --- what is not carried ------------------------------------------------------------------------


def test_cancel_maps_to_no_new_message() -> None:
    alert = _alert(_info())
    assert map_alert(cancel_alert(alert, now=NOW), US_WEA) == ()


def test_msg_types_and_missing_info_are_refused() -> None:
    with pytest.raises(CannotCarryError, match="no <info>"):
        map_alert(_alert(), EU_ALERT)
    ack = _alert(_info(), msg_type="Ack", references=["a@b.c,x,2026-03-14T09:00:00-00:00"])
    with pytest.raises(CannotCarryError, match="msgType 'Ack' is not broadcast"):
        map_alert(ack, EU_ALERT)


def test_plans_make_pages_with_their_identifier_and_language() -> None:
    plans = map_alert(_alert(_info(), _info(language="fr", headline="Crue soudaine")), EU_ALERT)
    serial = SerialNumber(GeoScope.PLMN_WIDE, 5, 1)
    pages = [decode_page(p) for p in plans[1].pages(serial)]
    assert {(p.message_id, p.dcs, p.serial) for p in pages} == {(4384, 0x03, serial.encode())}
    assert pages[0].text.startswith("Crue soudaine.")


def test_same_language_twice_gets_two_slots() -> None:
    plans = map_alert(_alert(_info(), _info(headline="Second")), EU_ALERT)
    assert [p.slot for p in plans] == ["en/0", "en/1"]


def test_text_for_status_prefix() -> None:
    alert = _alert(_info(), status="Exercise")
    assert cbs_text_for(alert, 0, EU_ALERT).text.startswith("EXERCISE: Flash flood warning")


# --- profiles from TOML -----------------------------------------------------------------------


def test_profile_from_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "nl.toml"
    path.write_text(
        """
[cbs_profile]
name = "nl-alert"
base = "eu-alert"
primary_language = "nl"
geo_scope = "cell"
max_pages = 4

[[cbs_profile.extra_rules]]
label = "EU-Info"
identifier = 6400
source = "CB-13 (unconfirmed)"
statuses = ["Actual"]
parameters = ["EU-Alert-Level=Info"]
""",
        encoding="utf-8",
    )
    profile = load_profile(path)
    assert profile.name == "nl-alert"
    assert profile.geo_scope is GeoScope.CELL_WIDE
    assert profile.limits.max_pages == 4
    info = _info(language="en", parameters={"EU-Alert-Level": "Info"})
    plans = map_alert(_alert(info), profile)
    assert [(p.message_id, p.additional_language, p.geo_scope) for p in plans] == [
        (6400, True, GeoScope.CELL_WIDE)
    ]
    # the base rules still apply after the extra ones
    assert _ids(_alert(_info(language="nl")), profile) == [4371]
    assert load_profile("uk") is UK


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"colour": "red"}, "unknown key"),
        ({"base": "mars"}, "no cell broadcast profile 'mars'"),
        ({"geo_scope": "galaxy"}, "geo_scope: expected one of"),
        ({"max_pages": 16}, "max_pages: expected a whole number 1..15"),
        ({"rules": [{"label": "x"}]}, r"rules\[0\]: 'identifier'"),
        ({"rules": [{"identifier": 70000}]}, r"rules\[0\].identifier"),
        ({"rules": [{"identifier": 4370, "events": 5}]}, r"rules\[0\].events"),
        ({"compose": ["title"]}, "compose"),
        ({"rules": [{"identifier": 4370, "parameters": ["nothing"]}]}, "NAME=VALUE"),
    ],
)
def test_bad_profile_tables_are_refused_naming_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(CbsProfileError, match=message):
        profile_from_table(table)


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(CbsProfileError, match="no such cell broadcast profile file"):
        load_profile(tmp_path / "none.toml")
