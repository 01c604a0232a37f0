"""Finding profiles by name, and what every profile promises: stable documented codes, paths
that point into the document, and no IO."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from cap import parse_alert
from cap.errors import CapProfileError
from cap.profiles import PROFILES, Profile, get_profile
from cap.validation import validate_alert

REPO = Path(__file__).resolve().parents[3]
PROFILE_SOURCES = REPO / "cap" / "profiles"
DOC = REPO / "docs" / "profiles.md"
CODE_RE = re.compile(r"(?:ipaws|cap-cp|cap-au|meteoalarm)\.[a-z0-9_]+(?:\.[a-z0-9_]+)+")
PATH_RE = re.compile(
    r"^/alert(/(code|info|category|responseType|eventCode|parameter|resource|area|polygon|"
    r"circle|geocode)\[\d+\]|/[a-zA-Z]+)*$"
)
REPEATABLE = (
    "code",
    "info",
    "category",
    "responseType",
    "eventCode",
    "parameter",
    "resource",
    "area",
    "polygon",
    "circle",
    "geocode",
)


def test_the_four_profiles_by_cli_name() -> None:
    assert list(PROFILES) == ["ipaws", "cap-cp", "cap-au", "meteoalarm"]
    for name, profile in PROFILES.items():
        assert isinstance(profile, Profile)
        assert profile.name == name
        assert profile.title and profile.source and profile.url


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("IPAWS", "ipaws"),
        ("IPAWSv1.0", "ipaws"),
        ("ipaws-v1.0", "ipaws"),
        ("us", "ipaws"),
        ("CAP-CP", "cap-cp"),
        ("ca", "cap-cp"),
        ("Canada", "cap-cp"),
        ("CAP-AU", "cap-au"),
        ("au", "cap-au"),
        ("cap_au", "cap-au"),
        ("MeteoAlarm", "meteoalarm"),
        (" meteoalarm ", "meteoalarm"),
    ],
)
def test_aliases(alias: str, name: str) -> None:
    assert get_profile(alias) is PROFILES[name]


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(CapProfileError) as caught:
        get_profile("uk")
    message = str(caught.value)
    assert "'uk'" in message
    assert all(name in message for name in PROFILES)


def test_profiles_are_immutable_values() -> None:
    profile = get_profile("ipaws")
    with pytest.raises(FrozenInstanceError):
        profile.name = "other"  # type: ignore[misc]
    assert profile in list(PROFILES.values())


def test_declaration_by_code() -> None:
    def alert_with(code: str) -> bytes:
        return (
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier>'
            "<sender>s</sender><sent>2024-01-01T00:00:00-00:00</sent><status>Actual</status>"
            f"<msgType>Alert</msgType><scope>Public</scope><code>{code}</code></alert>"
        ).encode()

    assert get_profile("ipaws").is_declared_by(parse_alert(alert_with("IPAWSv1.0")).alert)
    assert get_profile("cap-cp").is_declared_by(parse_alert(alert_with("profile:CAP-CP:0.4")).alert)
    assert not get_profile("cap-cp").is_declared_by(parse_alert(alert_with("IPAWSv1.0")).alert)
    au = "urn:oasis:names:tc:emergency:cap:1.2:profile:CAP-AU:1.0"
    assert get_profile("cap-au").is_declared_by(parse_alert(alert_with(au)).alert)
    assert not get_profile("meteoalarm").is_declared_by(parse_alert(alert_with(au)).alert)


def emitted_codes() -> set[str]:
    found: set[str] = set()
    for source in PROFILE_SOURCES.glob("*.py"):
        found |= set(CODE_RE.findall(source.read_text("utf-8")))
    return found


def test_every_code_is_documented_and_every_documented_code_exists() -> None:
    in_source = emitted_codes()
    in_doc = set(CODE_RE.findall(DOC.read_text("utf-8")))
    assert len(in_source) > 80
    assert in_source - in_doc == set(), "codes missing from docs/profiles.md"
    assert in_doc - in_source == set(), "docs/profiles.md lists codes no profile emits"


def corpus_alerts(shared_data: Path) -> list[Path]:
    alerts = shared_data / "cap" / "alerts"
    names = [
        "google__cap-library/canada.cap",
        "google__cap-library/australia.cap",
        "google__cap-library/wcatwc-warning.cap",
        "google__cap-library/thunderstorm.cap",
        "google__cap-library/noaa_errors.cap",
        "google__cap-library/canada_errors.cap",
        "kelvinn__capparselib/CanadaNaad.xml",
        "kelvinn__capparselib/australia_bom.cap",
        "kelvinn__capparselib/iceland_met_office.cap",
        "kelvinn__capparselib/NOAA_MultiplePolygons.txt",
        "kelvinn__capparselib/weather.cap",
        "willglynn__oasiscap/v1dot0_appendix_adot2.xml",
    ]
    return [alerts / name for name in names]


def test_every_finding_on_real_alerts_follows_the_conventions(shared_data: Path) -> None:
    """Each profile runs on every sample (right or wrong country); every finding names its
    profile, cites its table row, is unlocated, and its path follows the path convention and
    resolves into the document."""
    seen = 0
    for path in corpus_alerts(shared_data):
        parsed = parse_alert(path.read_bytes())
        for name, profile in PROFILES.items():
            for finding in profile.check(parsed):
                seen += 1
                where = f"{path.name} {finding.code} {finding.path}"
                assert finding.code.startswith(name + "."), where
                assert CODE_RE.fullmatch(finding.code), where
                assert finding.line is None and finding.column is None, where
                assert re.search(r"\((IPAWS|CP|AU|MA)-\d\d", finding.message), where
                assert PATH_RE.match(finding.path), where
                for element in REPEATABLE:
                    assert not re.search(rf"/{element}(/|$)", finding.path), where
                assert parsed.source_map.locate(finding.path)[0] is not None, where
    assert seen > 50


def test_checking_is_pure_and_repeatable(shared_data: Path) -> None:
    path = corpus_alerts(shared_data)[0]
    parsed = parse_alert(path.read_bytes())
    for profile in PROFILES.values():
        assert profile.check(parsed) == profile.check(parsed)


def test_profiles_leave_plain_cap_rules_to_the_cap_rules() -> None:
    """IPAWS, CAP-CP and CAP-AU all require references on an Update, but CAP itself does too:
    with every profile on, the missing references are reported once, by the CAP rule."""
    doc = (
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x-2</identifier>'
        b"<sender>a@b.example</sender><sent>2024-01-01T00:00:00-05:00</sent>"
        b"<status>Actual</status><msgType>Update</msgType><scope>Public</scope>"
        b"<info><category>Met</category><event>Storm</event><urgency>Expected</urgency>"
        b"<severity>Minor</severity><certainty>Likely</certainty>"
        b"<area><areaDesc>Here</areaDesc></area></info></alert>"
    )
    findings = validate_alert(parse_alert(doc), list(PROFILES.values()))
    about_references = [f.code for f in findings if f.path == "/alert/references"]
    assert about_references == ["cap.references.missing"]
