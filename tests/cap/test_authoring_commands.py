"""``tocsin new``, ``update`` and ``cancel`` from the command line: what an operator types."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cap.cli import main
from cap.parsing import parse_alert
from cap.validation import validate_document

POLYGON = "53.96,-1.08 53.93,-1.02 53.80,-1.05 53.78,-1.12 53.96,-1.08"


def tocsin(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cap", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_new_from_template_writes_a_valid_alert(tmp_path: Path) -> None:
    out = tmp_path / "flood.xml"
    code = main(
        ["new", "--template", "flood", "--set", "area=Lower Valley", "--polygon", POLYGON,
         "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    parsed = parse_alert(out.read_bytes())
    assert parsed.version == "1.2"
    info = parsed.alert.infos[0]
    assert info.event == "Flood" and info.headline == "Flood warning for Lower Valley"
    assert len(info.areas[0].polygons[0].points) == 5
    assert all(r.valid for r in validate_document(out.read_bytes(), source=str(out)))


def test_new_from_options_only(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["new", "--event", "Boil water notice", "--category", "Health", "--urgency", "Immediate",
         "--severity", "Moderate", "--certainty", "Observed", "--area-desc", "Old Town",
         "--geocode", "FIPS6=006109", "--headline", "Boil water before drinking",
         "--expires", "+2d", "--sender", "water@utility.example.org"]
    )  # fmt: skip
    assert code == 0
    xml = capsys.readouterr().out.encode("utf-8")
    alert = parse_alert(xml).alert
    assert alert.sender == "water@utility.example.org"
    assert alert.identifier.startswith("water.utility.example.org-")
    assert alert.infos[0].areas[0].geocodes[0].value == "006109"
    assert alert.sent is not None and alert.infos[0].expires is not None
    assert (alert.infos[0].expires - alert.sent).days == 2


def test_new_from_yaml_description(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desc = tmp_path / "heat.yaml"
    desc.write_text(
        """
sender: heat@met.example.gov
info:
  - language: en-GB
    category: Met
    event: Extreme heat
    urgency: Expected
    severity: Severe
    certainty: Likely
    expires: +36h
    headline: Extreme heat warning for the city
    areas:
      - area_desc: City centre
        circles: ["51.50,-0.12 15"]
""",
        encoding="utf-8",
    )
    assert main(["new", "--from", str(desc)]) == 0
    alert = parse_alert(capsys.readouterr().out.encode("utf-8")).alert
    assert alert.infos[0].language == "en-GB"
    assert str(alert.infos[0].areas[0].circles[0].radius_km) == "15"


def test_bad_description_names_the_key(tmp_path: Path) -> None:
    desc = tmp_path / "bad.toml"
    desc.write_text(
        (
            '[[info]]\ncategory = "Met"\nevent = "x"\nurgency = "Unknown"\n'
            'severity = "Unknown"\ncertainty = "Unknown"\n'
            '[[info.areas]]\narea_desc = "a"\npoligon = ["1,1 1,2 2,2 1,1"]\n'
        ),
        encoding="utf-8",
    )
    proc = tocsin("new", "--from", str(desc))
    assert proc.returncode == 1
    assert "poligon" in proc.stderr and "polygons" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_template_errors_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--template", "floood"]) == 2
    assert "did you mean 'flood'" in capsys.readouterr().err
    assert main(["new", "--template", "flood"]) == 2
    assert "needs a value for: area" in capsys.readouterr().err


def test_list_templates_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--list-templates", "--format", "json"]) == 0
    names = {t["name"] for t in json.loads(capsys.readouterr().out)}
    assert {"flood", "tsunami", "heat", "test-message"} <= names


def test_update_then_cancel_build_the_references_chain(tmp_path: Path) -> None:
    first, second, third = tmp_path / "1.xml", tmp_path / "2.xml", tmp_path / "3.xml"
    assert main(["new", "--template", "flood", "--set", "area=Vale", "--polygon", POLYGON,
                 "-o", str(first)]) == 0  # fmt: skip
    assert main(["update", str(first), "--severity", "Extreme", "--expires", "+18h",
                 "-o", str(second)]) == 0  # fmt: skip
    assert main(["cancel", str(second), "--note", "receded", "-o", str(third)]) == 0
    a1, a2, a3 = (parse_alert(p.read_bytes()).alert for p in (first, second, third))
    assert a2.msg_type == "Update" and a3.msg_type == "Cancel"
    assert [r.identifier for r in a2.references] == [a1.identifier]
    assert [r.identifier for r in a3.references] == [a1.identifier, a2.identifier]
    assert a2.infos[0].severity == "Extreme"
    assert a3.note == "receded"
    for path in (second, third):
        assert all(r.valid for r in validate_document(path.read_bytes(), source=str(path)))


def test_update_of_a_refused_document_is_exit_1(shared_data: Path) -> None:
    proc = tocsin("update", str(shared_data / "xml-attacks/xxe_local_file.xml"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("tocsin: refused:")


def test_invalid_authored_alert_is_not_written(tmp_path: Path) -> None:
    out = tmp_path / "never.xml"
    # Valid CAP, but not CAP-AU (no profile <code>): checked before writing, so not written.
    proc = tocsin(
        "new", "--event", "Test", "--category", "Other", "--urgency", "Unknown",
        "--severity", "Unknown", "--certainty", "Unknown", "--area-desc", "Here",
        "--status", "Test", "--profile", "cap-au", "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 1
    assert not out.exists()
    assert "cap-au.code.missing" in proc.stderr


def test_config_supplies_the_sender(tmp_path: Path) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text(
        '[authority]\nsender = "alerts@met.example.gov"\nsender_name = "Example Met"\n',
        encoding="utf-8",
    )
    proc = tocsin(
        "--config", str(config), "new", "--template", "test-message", "--area-desc", "Here",
        "--set", "geocode_name=SAME", "--set", "geocode=006109",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    alert = parse_alert(proc.stdout.encode("utf-8")).alert
    assert alert.sender == "alerts@met.example.gov"
    assert alert.status == "Test"
    assert alert.infos[0].sender_name == "Example Met"


def test_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text("[authority]\nsendr = 1\n", encoding="utf-8")
    proc = tocsin("--config", str(config), "new", "--list-templates")
    assert proc.returncode == 0  # listing templates needs no configuration
    proc = tocsin("--config", str(config), "new", "--template", "test-message")
    assert proc.returncode == 2
    assert "sendr" in proc.stderr and "Traceback" not in proc.stderr
