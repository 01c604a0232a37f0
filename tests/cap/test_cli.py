"""The ``tocsin`` command contract: exit codes, JSON output, one-line errors, help, version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cap import __version__
from cap.cli import main


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cap", *args],
        input=stdin.decode("utf-8") if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tocsin {__version__}"


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("validate", "convert", "preview"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "examples:" in out and f"tocsin {command}" in out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2


def test_validate_valid_alert_exit_0(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data / "cap/alerts/google__cap-library/thunderstorm.cap"
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: valid (CAP 1.2)")


def test_validate_invalid_alert_exit_1_with_location(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_data / "cap/alerts/google__cap-library/invalid.cap"
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "line " in out


def test_validate_json_is_one_document(shared_data: Path) -> None:
    alerts = shared_data / "cap/alerts/google__cap-library"
    proc = run(
        "validate", "--format", "json", str(alerts / "canada.cap"), str(alerts / "invalid.cap")
    )
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert [d["valid"] for d in doc] == [True, False]
    first = doc[0]
    assert set(first) >= {"source", "valid", "version", "profiles", "issues"}
    assert first["version"] == "1.2"
    issue = doc[1]["issues"][0]
    assert set(issue) >= {"code", "severity", "message", "path", "line", "column"}
    assert issue["line"] is not None


def test_validate_reads_stdin(shared_data: Path) -> None:
    data = (shared_data / "cap/alerts/google__cap-library/thunderstorm.cap").read_bytes()
    proc = run("validate", "-", stdin=data)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("-: valid")


def test_missing_file_is_a_usage_error_without_traceback(tmp_path: Path) -> None:
    proc = run("validate", str(tmp_path / "nope.xml"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"tocsin: {tmp_path / 'nope.xml'}: no such file"
    assert "Traceback" not in proc.stderr


def test_unknown_profile_is_a_usage_error(shared_data: Path) -> None:
    path = shared_data / "cap/alerts/google__cap-library/thunderstorm.cap"
    proc = run("validate", "--profile", "atlantis", str(path))
    assert proc.returncode == 2
    assert "atlantis" in proc.stderr and "ipaws" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_unsupported_url_scheme(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "ftp://example.org/a.xml"]) == 2
    assert "only http, https" in capsys.readouterr().err


def test_convert_cap10_to_cap12(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "cap/alerts/willglynn__oasiscap/v1dot0_appendix_adot2.xml"
    out = tmp_path / "converted.xml"
    proc = run("convert", str(src), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "valueName" in proc.stderr  # the 1.0 name=value pairs are reported
    assert main(["validate", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "urn:oasis:names:tc:emergency:cap:1.2" in text
    assert "<valueName>same</valueName>" in text


def test_convert_cap11_very_likely(tmp_path: Path) -> None:
    src = tmp_path / "old.xml"
    src.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1">
  <identifier>x-1</identifier><sender>a@example.org</sender>
  <sent>2024-01-01T00:00:00-00:00</sent><status>Actual</status><msgType>Alert</msgType>
  <scope>Public</scope>
  <info><category>Met</category><event>Storm</event><urgency>Expected</urgency>
  <severity>Severe</severity><certainty>Very Likely</certainty>
  <expires>2024-01-01T06:00:00-00:00</expires>
  <area><areaDesc>Coast</areaDesc></area></info>
</alert>""",
        encoding="utf-8",
    )
    proc = run("convert", str(src), "--format", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0, doc
    assert doc["from_version"] == "1.1" and doc["valid"] is True
    assert any("Very Likely" in n for n in doc["notes"])
    assert "<certainty>Likely</certainty>" in doc["xml"]


def test_convert_cap10_without_scope_needs_scope(tmp_path: Path) -> None:
    src = tmp_path / "noscope.xml"
    src.write_text(
        """<alert xmlns="http://www.incident.com/cap/1.0"><identifier>n-1</identifier>
<sender>a@example.org</sender><sent>2024-01-01T00:00:00-00:00</sent><status>Test</status>
<msgType>Alert</msgType></alert>""",
        encoding="utf-8",
    )
    assert run("convert", str(src)).returncode == 1
    proc = run("convert", str(src), "--scope", "Public")
    assert proc.returncode == 0, proc.stderr
    assert "<scope>Public</scope>" in proc.stdout


def test_preview_text_and_json(shared_data: Path) -> None:
    path = shared_data / "cap/alerts/google__cap-library/canada.cap"
    proc = run("preview", str(path))
    assert proc.returncode == 0
    assert "[en-CA]" in proc.stdout and "[fr-CA]" in proc.stdout
    doc = json.loads(run("preview", str(path), "--format", "json").stdout)
    assert [i["language"] for i in doc["infos"]] == ["en-CA", "fr-CA"]


def test_preview_of_a_refused_document_is_exit_1(shared_data: Path) -> None:
    proc = run("preview", str(shared_data / "xml-attacks/billion_laughs.xml"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("tocsin: refused: document type declaration")


def test_preview_of_an_unknown_channel_is_a_usage_error(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_data / "cap/alerts/google__cap-library/canada.cap"
    assert main(["preview", str(path), "--channel", "pigeon"]) == 2
    assert "--channel pigeon: no such channel preview" in capsys.readouterr().err
