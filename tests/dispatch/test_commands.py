"""``tocsin send``, ``status``, ``withdraw``, ``audit verify`` and ``serve`` from the shell."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cap.authoring import alert_from_description
from cap.serialize import serialize_alert

REPO = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "tocsin.toml"
    config.write_text(
        f"""
[store]
path = "outbox.db"

[channels.archive]
gateway = "file"
directory = "archive"
statuses = ["Actual", "Exercise"]

[channels.console]
gateway = "log"
{extra}
""",
        encoding="utf-8",
    )
    return config


def alert_file(tmp_path: Path, identifier: str, *, status: str = "Actual") -> Path:
    now = datetime.now(UTC)
    alert = alert_from_description(
        {
            "sender": "ops@civil-protection.example.org",
            "status": status,
            "info": [
                {
                    "category": "Safety", "event": "Chemical leak", "urgency": "Immediate",
                    "severity": "Severe", "certainty": "Observed",
                    "expires": now + timedelta(hours=2), "headline": "Stay indoors",
                    "areas": [{"area_desc": "Port district"}],
                }
            ],
        },
        now=now,
        identifier=identifier,
    )  # fmt: skip
    path = tmp_path / f"{identifier}.xml"
    path.write_bytes(serialize_alert(alert))
    return path


def tocsin(
    config: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cap", "--config", str(config), *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_send_then_duplicate_then_status(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    path = alert_file(tmp_path, "leak-1")
    first = tocsin(config, "send", str(path), "--format", "json")
    assert first.returncode == 0, first.stderr
    accepted = json.loads(first.stdout)
    assert accepted["duplicate"] is False
    assert {d["channel"] for d in accepted["deliveries"]} == {"archive", "console"}
    again = tocsin(config, "send", str(path))
    assert again.returncode == 0
    assert again.stdout.startswith(f"already accepted as alert {accepted['alert_id']}")
    status = json.loads(tocsin(config, "status", "leak-1", "--format", "json").stdout)
    assert len(status) == 1
    assert [d["state"] for d in status[0]["deliveries"]] == ["pending", "pending"]
    text = tocsin(config, "status").stdout
    assert "alert 1: Alert Actual leak-1" in text and "archive" in text


def test_send_reads_stdin_and_reports_routing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    data = alert_file(tmp_path, "drill-1", status="Test").read_bytes()
    proc = tocsin(config, "send", "-", stdin=data)
    assert proc.returncode == 0, proc.stderr
    assert "deliveries: none" in proc.stdout
    assert "not routed to archive: status Test" in proc.stdout


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"<alert>nope</alert>", "not a CAP alert"),
        (b"<?xml version='1.0'?>\n<!DOCTYPE a SYSTEM 'http://127.0.0.1:9/x.dtd'><a/>", "DOCTYPE"),
    ],
)
def test_bad_input_is_exit_1_and_nothing_stored(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    config = write_config(tmp_path)
    bad = tmp_path / "bad.xml"
    bad.write_bytes(content)
    proc = tocsin(config, "send", str(bad))
    assert proc.returncode == 1
    assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    conn = sqlite3.connect(tmp_path / "outbox.db")
    assert conn.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0


def test_invalid_alert_says_where(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    path = alert_file(tmp_path, "leak-2")
    path.write_bytes(path.read_bytes().replace(b"<certainty>Observed", b"<certainty>Sure"))
    proc = tocsin(config, "send", str(path))
    assert proc.returncode == 1
    assert "invalid alert, not accepted" in proc.stderr
    assert "line " in proc.stderr and "certainty" in proc.stderr


def test_bad_config_is_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'min_severity = "Huge"')
    proc = tocsin(config, "send", str(alert_file(tmp_path, "x-1")))
    assert proc.returncode == 2
    assert "min_severity" in proc.stderr and "Huge" in proc.stderr


def test_withdraw_and_audit(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert tocsin(config, "send", str(alert_file(tmp_path, "leak-3"))).returncode == 0
    proc = tocsin(config, "withdraw", "1", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["pending_stopped"] == 2
    status = json.loads(tocsin(config, "status", "1", "--format", "json").stdout)[0]
    assert status["stopped"] is True
    assert {d["state"] for d in status["deliveries"]} == {"withdrawn"}
    verify = tocsin(config, "audit", "verify", "--format", "json")
    assert verify.returncode == 0
    report = json.loads(verify.stdout)
    assert report["ok"] is True and report["entries"] >= 2
    head = report["head"]
    # Tampering: an attacker with the file drops the trigger and edits history.
    conn = sqlite3.connect(tmp_path / "outbox.db")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 1")
    conn.commit()
    conn.close()
    tampered = tocsin(config, "audit", "verify")
    assert tampered.returncode == 1
    assert "AUDIT LOG TAMPERED" in tampered.stdout and "1" in tampered.stdout
    assert tocsin(config, "audit", "verify", "--head", head).returncode == 1


@pytest.mark.integration
def test_serve_delivers_and_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert tocsin(config, "send", str(alert_file(tmp_path, "leak-4"))).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "cap", "--config", str(config), "serve"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = json.loads(tocsin(config, "status", "1", "--format", "json").stdout)[0]
            if status["settled"]:
                break
            time.sleep(0.2)
        states = {d["channel"]: d["state"] for d in status["deliveries"]}
        assert states == {"archive": "confirmed", "console": "sent"}
        assert len(list((tmp_path / "archive").glob("*.xml"))) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "tocsin serve: stopped" in err
    assert "Traceback" not in err
