"""The HTTP intake of ``tocsin serve``, driven over real loopback HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cap.authoring import alert_from_description
from cap.serialize import serialize_alert
from dispatch.accept import Acceptance, accept_alert
from dispatch.config import parse_dispatch_config
from dispatch.intake import IntakeServer
from dispatch.store import Outbox

TOKEN = "s3cret-token-for-tests-0123456789"


def alert_bytes(identifier: str) -> bytes:
    now = datetime.now(UTC)
    return serialize_alert(
        alert_from_description(
            {
                "sender": "intake@test.example.org",
                "info": [
                    {
                        "category": "Met", "event": "Wind", "urgency": "Expected",
                        "severity": "Moderate", "certainty": "Likely",
                        "expires": now + timedelta(hours=3), "areas": [{"area_desc": "Coast"}],
                    }
                ],
            },
            now=now,
            identifier=identifier,
        )
    )  # fmt: skip


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[tuple[str, Outbox]]:
    config = parse_dispatch_config(
        {
            "store": {"path": str(tmp_path / "outbox.db")},
            "channels": {"archive": {"gateway": "file", "directory": str(tmp_path / "archive")}},
            "intake": {"listen": "127.0.0.1:0", "tokens": [TOKEN]},
        },
        base_dir=tmp_path,
        data_dir=tmp_path,
    )
    outbox = Outbox(config.store.sqlite_path)

    def submit(data: bytes, actor: str) -> Acceptance:
        return accept_alert(
            outbox, config.channels, data, actor=actor, now=datetime.now(UTC),
            can_withdraw=lambda c: False, source="http",
        )  # fmt: skip

    server = IntakeServer("127.0.0.1:0", config.intake.tokens, submit, lambda: outbox)
    server.start()
    host, port = server.address
    try:
        yield f"http://{host}:{port}", outbox
    finally:
        server.stop()


def call(
    url: str, *, data: bytes | None = None, token: str | None = TOKEN
) -> tuple[int, dict[str, str], object]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/cap+xml")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


@pytest.mark.integration
def test_post_is_202_after_commit_then_get_status(intake: tuple[str, Outbox]) -> None:
    base, outbox = intake
    status, headers, body = call(f"{base}/alerts", data=alert_bytes("http-1"))
    assert status == 202
    assert isinstance(body, dict)
    alert_id = body["alert_id"]
    assert headers["Location"] == f"/alerts/{alert_id}"
    stored = outbox.alert(int(alert_id))
    assert stored is not None and stored.identity.identifier == "http-1"
    assert stored.submitted_by == "http:token-1"
    status, _, listing = call(f"{base}/alerts/{alert_id}")
    assert status == 200 and isinstance(listing, list)
    assert listing[0]["deliveries"][0]["channel"] == "archive"


@pytest.mark.integration
def test_duplicate_post_is_200_and_stored_once(intake: tuple[str, Outbox]) -> None:
    base, outbox = intake
    data = alert_bytes("http-dup")
    assert call(f"{base}/alerts", data=data)[0] == 202
    status, _, body = call(f"{base}/alerts", data=data)
    assert status == 200 and isinstance(body, dict) and body["duplicate"] is True
    assert len(outbox.recent_alerts()) == 1


@pytest.mark.integration
@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"<alert>not CAP</alert>", "not a CAP alert"),
        (b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY x 'y'>]><a/>", "document type declaration"),
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x", "not well-formed"),
    ],
)
def test_bad_documents_are_400_and_nothing_stored(
    intake: tuple[str, Outbox], data: bytes, fragment: str
) -> None:
    base, outbox = intake
    status, _, body = call(f"{base}/alerts", data=data)
    assert status == 400
    assert isinstance(body, dict) and fragment in str(body["error"]) and body["stored"] is False
    assert outbox.recent_alerts() == []


@pytest.mark.integration
def test_invalid_alert_names_line_and_rule(intake: tuple[str, Outbox]) -> None:
    base, outbox = intake
    data = alert_bytes("http-bad").replace(b"<severity>Moderate", b"<severity>Big")
    status, _, body = call(f"{base}/alerts", data=data)
    assert status == 400 and isinstance(body, dict)
    assert "line " in body["error"] and "severity" in body["error"]
    assert outbox.recent_alerts() == []


@pytest.mark.integration
def test_authentication(intake: tuple[str, Outbox]) -> None:
    base, outbox = intake
    assert call(f"{base}/alerts", data=alert_bytes("a1"), token=None)[0] == 401
    assert call(f"{base}/alerts", data=alert_bytes("a2"), token="wrong")[0] == 403
    assert call(f"{base}/alerts/1", token=None)[0] == 401
    assert outbox.recent_alerts() == []
    assert call(f"{base}/health", token=None)[0] == 200


@pytest.mark.integration
def test_oversized_body_is_413(intake: tuple[str, Outbox]) -> None:
    base, outbox = intake
    big = b"<a>" + b"x" * (11 * 1024 * 1024) + b"</a>"
    assert call(f"{base}/alerts", data=big)[0] == 413
    assert outbox.recent_alerts() == []
