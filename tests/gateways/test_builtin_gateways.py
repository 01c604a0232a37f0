"""The file and log gateways, and the gateway registry."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cap.authoring import alert_from_description
from cap.serialize import serialize_alert
from gateways import (
    AlertEnvelope,
    GatewayConfigError,
    MessagePurpose,
    ReceiptStatus,
    TransientGatewayError,
    create_gateway,
)
from gateways.file import safe_file_name


def envelope(identifier: str) -> AlertEnvelope:
    now = datetime.now(UTC)
    alert = alert_from_description(
        {
            "sender": "gw@test.example.org",
            "info": [
                {
                    "category": "Met", "event": "Fog", "urgency": "Expected",
                    "severity": "Minor", "certainty": "Likely", "headline": "Dense fog",
                    "expires": now + timedelta(hours=1), "areas": [{"area_desc": "Valley"}],
                }
            ],
        },
        now=now,
        identifier=identifier,
    )  # fmt: skip
    data = serialize_alert(alert)
    return AlertEnvelope(7, alert.identity, data, alert)


def test_file_gateway_writes_the_original_bytes_durably(tmp_path: Path) -> None:
    gateway = create_gateway("file", "archive", {"directory": str(tmp_path / "out")})
    env = envelope("fog-1")
    (message,) = gateway.prepare(env, MessagePurpose.ALERT)
    receipt = gateway.deliver(message)
    assert receipt.status is ReceiptStatus.CONFIRMED
    written = Path(str(receipt.reference))
    assert written.parent == tmp_path / "out"
    assert written.read_bytes() == env.data
    assert not list((tmp_path / "out").glob(".*.tmp"))
    # Same alert, same key and file: a repeat after a crash overwrites, never duplicates.
    assert gateway.prepare(env, MessagePurpose.ALERT)[0] == message


def test_file_names_cannot_escape_the_directory() -> None:
    assert "/" not in safe_file_name("../../etc/passwd") and ".." not in safe_file_name("..")


def test_file_gateway_reports_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    gateway = create_gateway("file", "archive", {"directory": str(blocker)})
    (message,) = gateway.prepare(envelope("fog-2"), MessagePurpose.ALERT)
    with pytest.raises(TransientGatewayError, match="cannot write"):
        gateway.deliver(message)


def test_log_gateway_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    gateway = create_gateway("log", "console", {})
    assert gateway.can_withdraw
    with caplog.at_level(logging.INFO, logger="tocsin.channel.console"):
        for purpose in MessagePurpose:
            for message in gateway.prepare(envelope("fog-3"), purpose):
                assert gateway.deliver(message).status is ReceiptStatus.SENT
    assert "ALERT Actual fog-3 from gw@test.example.org: Dense fog" in caplog.text
    assert "WITHDRAW fog-3" in caplog.text


@pytest.mark.parametrize(
    ("kind", "options", "fragment"),
    [
        ("file", {}, "needs 'directory'"),
        ("file", {"directory": "/tmp", "dir": "x"}, "unknown file gateway option(s) dir"),
        ("log", {"level": "LOUD"}, "not a log level"),
        ("pigeon", {}, "unknown gateway 'pigeon'"),
        ("no.such.module:Gateway", {}, "cannot import no.such.module"),
        ("gateways.file:Nothing", {}, "has no Nothing"),
    ],
)
def test_configuration_errors_say_what_is_wrong(
    kind: str, options: dict[str, str], fragment: str
) -> None:
    with pytest.raises(GatewayConfigError) as info:
        create_gateway(kind, "c", options)
    assert fragment in str(info.value)
