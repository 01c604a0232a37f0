"""``tocsin radio same``: options, exit codes, JSON, refusals, and the WAV it writes."""

from __future__ import annotations

import json
import subprocess
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cap.authoring import alert_from_description
from cap.serialize import serialize_alert
from gateways.radio.commands import main, preview_same
from tests.conftest import require_tool

THUNDERSTORM = "cap/alerts/google__cap-library/thunderstorm.cap"
THUNDERSTORM_HEADER = "ZCZC-WXR-SVR-006109-006009-006003+0130-1682157-KXYZ/NWS-"


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["radio", "same", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def written_alert(tmp_path: Path, *, status: str = "Actual", **info: object) -> Path:
    desc: dict[str, object] = {
        "category": "Met",
        "event": "Flood Warning",
        "urgency": "Expected",
        "severity": "Severe",
        "certainty": "Likely",
        "expires": "+2h",
        "headline": "Flood warning",
        "event_codes": {"SAME": "FLW"},
        "parameters": [["EAS-ORG", "CIV"]],
        "areas": [{"area_desc": "Valley", "geocodes": {"SAME": "012086"}}],
    }
    desc.update(info)
    alert = alert_from_description(
        {"sender": "a@b.example", "status": status, "info": [desc]},
        now=datetime.now(UTC).replace(microsecond=0),
    )
    path = tmp_path / "alert.xml"
    path.write_bytes(serialize_alert(alert))
    return path


def test_corpus_alert_as_json(
    capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path
) -> None:
    out_wav = tmp_path / "svr.wav"
    code, out, err = run(
        capsys,
        str(shared_data / THUNDERSTORM),
        "-o",
        str(out_wav),
        "--station-id",
        "KXYZ/NWS",
        "--at",
        "sent",
        "--no-speech",
        "--rate",
        "22050",
        "--attention-seconds",
        "10",
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["header"] == THUNDERSTORM_HEADER
    assert report["event"] == {"code": "SVR", "name": "Severe Thunderstorm Warning"}
    assert report["locations"] == ["006109", "006009", "006003"]
    assert report["speech"] is None and report["rate"] == 22050
    assert [s["kind"] for s in report["segments"]] == ["header"] * 3 + ["attention"] + ["eom"] * 3
    attention = report["segments"][3]
    assert attention["end"] - attention["start"] == pytest.approx(10.0, abs=0.001)
    with wave.open(str(out_wav), "rb") as wav:
        assert wav.getframerate() == 22050 and wav.getnchannels() == 1
        assert wav.getnframes() / 22050 == pytest.approx(report["seconds"], abs=0.001)


def test_text_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys,
        str(written_alert(tmp_path)),
        "-o",
        str(tmp_path / "a.wav"),
        "--station-id",
        "KABC/FM",
        "--no-speech",
        "--weather-radio",
    )
    assert code == 0
    assert "header:    ZCZC-CIV-FLW-012086+0200-" in out and "-KABC/FM -" in out
    assert "attention: 1050 Hz, 8 s" in out and "speech:    none" in out


def test_expired_alert_is_refused_with_a_hint(
    capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path
) -> None:
    args = [str(shared_data / THUNDERSTORM), "-o", str(tmp_path / "x.wav")]
    code, out, err = run(capsys, *args, "--station-id", "KXYZ/NWS", "--format", "json")
    assert code == 1
    assert "refused" in err and "expired at 2003-06-17T16:00:00-07:00" in err
    assert "--at sent" in err
    assert json.loads(out)["written"] is False
    assert not (tmp_path / "x.wav").exists()


def test_station_id_from_the_configuration(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text('[authority]\nstation_id = "KABC/AM "\n')
    alert = str(written_alert(tmp_path))
    code = main(
        [
            "--config",
            str(config),
            "radio",
            "same",
            alert,
            "-o",
            str(tmp_path / "a.wav"),
            "--no-speech",
            "--format",
            "json",
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0 and json.loads(out)["station_id"] == "KABC/AM "


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "no station id: give --station-id"),
        (["--station-id", "K-ABC/FM"], "'-' and '+' are SAME delimiters"),
        (["--station-id", "KABC/FM", "--attention-seconds", "30"], "8 to 25 seconds"),
        (["--station-id", "KABC/FM", "--at", "yesterday"], "--at 'yesterday'"),
        (["--station-id", "KABC/FM", "--counties", "/nonexistent.geojson"], "no such file"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], message: str
) -> None:
    code, _, err = run(
        capsys, str(written_alert(tmp_path)), "-o", str(tmp_path / "a.wav"), "--no-speech", *extra
    )
    assert code == 2 and message in err and "Traceback" not in err


def test_rate_must_be_one_of_the_usual(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "a.xml", "-o", str(tmp_path / "a.wav"), "--rate", "8000")
    assert code == 2 and "invalid choice" in err


def test_missing_and_broken_inputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = ["-o", str(tmp_path / "a.wav"), "--station-id", "KABC/FM"]
    code, _, err = run(capsys, str(tmp_path / "missing.xml"), *out)
    assert code == 2 and "no such file" in err
    (tmp_path / "junk.xml").write_text("<html/>")
    code, _, err = run(capsys, str(tmp_path / "junk.xml"), *out)
    assert code == 1 and "not a CAP alert" in err


def test_exercise_needs_allow_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    alert = str(written_alert(tmp_path, status="Exercise"))
    common = ["-o", str(tmp_path / "a.wav"), "--station-id", "KABC/FM", "--no-speech"]
    code, _, err = run(capsys, alert, *common)
    assert code == 1 and "only Actual alerts go on air" in err
    code, _, _ = run(capsys, alert, *common, "--allow-status", "Exercise")
    assert code == 0 and (tmp_path / "a.wav").exists()


def test_counties_from_a_polygon(
    capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path
) -> None:
    # a small square in downtown Miami (Miami-Dade County, FIPS 12086)
    alert = written_alert(
        tmp_path,
        areas=[{"area_desc": "Downtown", "polygons": ["25.77,-80.20 25.77,-80.18 25.78,-80.18"]}],
    )
    code, out, _ = run(
        capsys,
        str(alert),
        "-o",
        str(tmp_path / "a.wav"),
        "--station-id",
        "KABC/FM",
        "--no-speech",
        "--format",
        "json",
        "--counties",
        str(shared_data / "outage/us_census_fl_counties.geojson"),
    )
    report = json.loads(out)
    assert code == 0 and report["locations"] == ["012086"]
    assert any("us_census_fl_counties.geojson" in n for n in report["notes"])


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["radio", "same", "--help"]) == 0
    out, _ = capsys.readouterr()
    assert "examples:" in out and "tocsin radio same flood.xml -o flood.wav" in out
    assert main(["radio"]) == 2


def test_preview_same(shared_data: Path, tmp_path: Path) -> None:
    from cap.parsing import parse_alert

    alert = parse_alert((shared_data / THUNDERSTORM).read_bytes()).alert
    text, data = preview_same(alert)
    assert "ZCZC-WXR-SVR-006109-006009-006003+0130-1682157-LLLLLLLL-" in text
    assert data["channel"] == "same"
    refused = parse_alert(written_alert(tmp_path, event_codes={"SAME": "XYZ"}).read_bytes())
    text, data = preview_same(refused.alert)
    assert "not carried" in text and "'XYZ'" in text


def require(tool: str) -> str:
    return require_tool(tool)


@pytest.mark.integration
def test_whole_message_with_speech_decodes(
    capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path
) -> None:
    require("espeak-ng")
    require("sox")
    out_wav = tmp_path / "svr.wav"
    code, out, err = run(
        capsys,
        str(shared_data / THUNDERSTORM),
        "-o",
        str(out_wav),
        "--station-id",
        "KXYZ/NWS",
        "--at",
        "sent",
        "--format",
        "json",
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["speech"]["voice"] == "en-us" and report["speech"]["seconds"] > 5
    assert "speech" in [s["kind"] for s in report["segments"]]
    done = subprocess.run(
        [require("multimon-ng"), "-q", "-r", "-a", "EAS", "-t", "wav", str(out_wav)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("EAS: ")]
    assert lines == [f"EAS: {THUNDERSTORM_HEADER}"] + ["EAS: NNNN"] * 3
