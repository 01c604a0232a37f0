"""The ECBE client against a local HTTP server that checks requests the way osmo-cbc's
``src/rest_api.c`` parses them (method, path, content type, mandatory fields, JSON types and
ranges) and answers as osmo-cbc does: 201 "Created", 200 "OK", 400 with the parser's error
text, 404 "Unknown message ID", 409 "Could not allocate" for an identifier it already holds."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gateways.base import PermanentGatewayError, TransientGatewayError
from gateways.cell_broadcast.ecbe import (
    EcbeClient,
    EcbeConflictError,
    EcbeMessage,
    EcbeRejectedError,
    EcbeUnavailableError,
    EncodedPayload,
    EtwsPayload,
    TextPayload,
)

SERIAL = (1 << 14) | (769 << 4) | 2  # plmn_wide, message code 769, update 2


def _int(obj: dict[str, Any], key: str, low: int, high: int, *, required: bool) -> None:
    if key not in obj:
        if required:
            raise ValueError(f"'{key}' is mandatory")
        return
    value = obj[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"'{key}' must be an integer")
    if not low <= value <= high:
        raise ValueError(f"'{key}' out of range")


def check_cbc_message(doc: Any) -> None:
    """osmo-cbc's json2cbc_message() rules, restated (raises ValueError with its reason)."""
    if not isinstance(doc, dict):
        raise ValueError("CBCMSG must be JSON object")
    if not isinstance(doc.get("cbe_name"), str):
        raise ValueError("CBCMSG 'cbe_name' is mandatory")
    if "category" in doc and doc["category"] not in ("normal", "high_priority", "background"):
        raise ValueError("CBCMSG 'category' unknown")
    _int(doc, "repetition_period", 0, 4095, required=True)
    _int(doc, "num_of_bcast", 0, 65535, required=False)
    _int(doc, "warning_period_sec", 0, 65535, required=False)
    scope = doc.get("scope")
    if not isinstance(scope, dict) or not isinstance(scope.get("scope_plmn"), dict):
        raise ValueError("CBCMSG only 'scope_plmn' supported")
    msg = doc.get("smscb_message")
    if not isinstance(msg, dict):
        raise ValueError("CBCMSG 'smscb_message' is mandatory")
    serial = msg.get("serial_nr")
    if not isinstance(serial, dict):
        raise ValueError("'serial_nr' must be present and an object")
    if "serial_nr_encoded" in serial:
        _int(serial, "serial_nr_encoded", 0, 65535, required=True)
    else:
        decoded = serial.get("serial_nr_decoded")
        if not isinstance(decoded, dict):
            raise ValueError("Either 'serial_nr_encoded' or 'serial_nr_decoded' are mandatory")
        if decoded.get("geo_scope") not in (
            "cell_wide_immediate",
            "plmn_wide",
            "lac_sac_tac_wide",
            "cell_wide",
        ):
            raise ValueError("'geo_scope' is invalid")
        _int(decoded, "msg_code", 0, 1024, required=True)
        _int(decoded, "update_nr", 0, 15, required=True)
    _int(msg, "message_id", 0, 65535, required=True)
    payload = msg.get("payload")
    if not isinstance(payload, dict):
        raise ValueError("'payload' must be JSON object")
    if "payload_encoded" in payload:
        enc = payload["payload_encoded"]
        _int(enc, "dcs", 0, 255, required=True)
        pages = enc.get("pages")
        if not isinstance(pages, list) or not 1 <= len(pages) <= 15:
            raise ValueError("'pages' absent or not an array / size out of range")
        for page in pages:
            if not isinstance(page, str) or len(page) > 164:
                raise ValueError("'pages' must contain hex strings of up to 82 octets")
            if not re.fullmatch(r"([0-9a-fA-F]{2})*", page):
                raise ValueError("'pages' array must contain hex strings")
    elif "payload_decoded" in payload:
        dec = payload["payload_decoded"]
        if dec.get("character_set") not in ("gsm", "8bit", "ucs2"):
            raise ValueError("Currently 'character_set' is mandatory")
        if "language" in dec and (not isinstance(dec["language"], str) or len(dec["language"]) > 2):
            raise ValueError("Only two-digit 'language' code is supported")
        _int(dec, "dcs_class", 0, 3, required=False)
        if not isinstance(dec.get("data_utf8"), str):
            raise ValueError("'data_utf8' is mandatory")
    elif "payload_etws" in payload:
        etws = payload["payload_etws"]
        wtype = etws.get("warning_type")
        if not isinstance(wtype, dict):
            raise ValueError("'warning_type' must be object")
        if "warning_type_encoded" in wtype:
            _int(wtype, "warning_type_encoded", 0, 255, required=True)
        elif not isinstance(wtype.get("warning_type_decoded"), str):
            raise ValueError("either 'warning_type_encoded' or 'warning_type_decoded'")
        for flag in ("emergency_user_alert", "popup_on_display"):
            if flag in etws and not isinstance(etws[flag], bool):
                raise ValueError(f"'{flag}' must be a boolean")
        if "warning_sec_info" in etws and not re.fullmatch(
            r"([0-9a-fA-F]{2})*", etws["warning_sec_info"]
        ):
            raise ValueError("'warnin_sec_info' must be hex string")
    else:
        raise ValueError("'payload_type_encoded', 'payload_type_decoded' or 'payload_etws'")


class StandInCbc(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_with: tuple[int, str] | None = None
        self.delay = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: StandInCbc

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, text: str = "") -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gave up
            self.wfile.write(body)

    def do_POST(self) -> None:
        self.server.requests.append(("POST", self.path))
        time.sleep(self.server.delay)
        if self.path != "/api/ecbe/v1/message":
            self._answer(404)
            return
        if self.server.fail_with is not None:
            self._answer(*self.server.fail_with)
            return
        if self.headers.get("Content-Type") != "application/json":
            self._answer(400, "REST: No JSON Body")
            return
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            doc = json.loads(raw)
            check_cbc_message(doc)
        except ValueError as exc:
            self._answer(400, str(exc))
            return
        message_id = doc["smscb_message"]["message_id"]
        if message_id in self.server.messages:
            self._answer(409, "Could not allocate")
            return
        self.server.messages[message_id] = doc
        self._answer(201, "Created")

    def do_DELETE(self) -> None:
        self.server.requests.append(("DELETE", self.path))
        match = re.fullmatch(r"/api/ecbe/v1/message/(\d+)", self.path)
        if match is None:
            self._answer(404)
            return
        message_id = int(match.group(1))
        if message_id > 65535:
            self._answer(400)
        elif self.server.messages.pop(message_id, None) is None:
            self._answer(404, "Unknown message ID")
        else:
            self._answer(200, "OK")


@pytest.fixture
def cbc() -> Iterator[StandInCbc]:
    server = StandInCbc()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_text_message_has_osmo_cbc_shape(cbc: StandInCbc) -> None:
    client = EcbeClient(cbc.base_url)
    message = EcbeMessage(
        message_id=4371,
        serial=SERIAL,
        payload=TextPayload("Flood warning: leave the riverbank now", "gsm", "en"),
        repetition_period=5,
        num_of_bcast=0,
        category="high_priority",
    )
    response = client.create(message)
    assert (response.status, response.detail) == (201, "Created")
    assert cbc.messages[4371] == {
        "cbe_name": "tocsin",
        "category": "high_priority",
        "repetition_period": 5,
        "num_of_bcast": 0,
        "scope": {"scope_plmn": {}},
        "smscb_message": {
            "message_id": 4371,
            "serial_nr": {
                "serial_nr_decoded": {"geo_scope": "plmn_wide", "msg_code": 769, "update_nr": 2}
            },
            "payload": {
                "payload_decoded": {
                    "character_set": "gsm",
                    "data_utf8": "Flood warning: leave the riverbank now",
                    "language": "en",
                }
            },
        },
    }


def test_encoded_pages_and_etws(cbc: StandInCbc) -> None:
    client = EcbeClient(cbc.base_url + "/api/ecbe/v1/")  # the prefix may be given too
    pages = (bytes(range(82)), b"\r" * 82)
    client.create(EcbeMessage(4370, SERIAL, EncodedPayload(0x11, pages), repetition_period=30))
    sent = cbc.messages[4370]["smscb_message"]["payload"]["payload_encoded"]
    assert sent == {"dcs": 0x11, "pages": [p.hex() for p in pages]}
    assert "num_of_bcast" not in cbc.messages[4370]

    etws = EtwsPayload(warning_type=1, warning_sec_info=bytes(50))
    client.create(EcbeMessage(4352, SERIAL, etws, repetition_period=1, warning_period_sec=60))
    doc = cbc.messages[4352]
    assert doc["warning_period_sec"] == 60
    assert doc["smscb_message"]["payload"]["payload_etws"] == {
        "warning_type": {"warning_type_encoded": 1},
        "emergency_user_alert": True,
        "popup_on_display": True,
        "warning_sec_info": "00" * 50,
    }


def test_identifier_taken_and_replace(cbc: StandInCbc) -> None:
    client = EcbeClient(cbc.base_url)
    first = EcbeMessage(4371, SERIAL, TextPayload("v1"), repetition_period=5)
    client.create(first)
    update = EcbeMessage(4371, SERIAL + 1, TextPayload("v2"), repetition_period=5)
    with pytest.raises(EcbeConflictError, match="HTTP 409: Could not allocate") as info:
        client.create(update)
    assert isinstance(info.value, PermanentGatewayError)
    client.replace(update)
    assert cbc.requests[-2:] == [
        ("DELETE", "/api/ecbe/v1/message/4371"),
        ("POST", "/api/ecbe/v1/message"),
    ]
    assert cbc.messages[4371]["smscb_message"]["payload"]["payload_decoded"]["data_utf8"] == "v2"


def test_delete_known_and_unknown(cbc: StandInCbc) -> None:
    client = EcbeClient(cbc.base_url)
    client.create(EcbeMessage(4371, SERIAL, TextPayload("x"), repetition_period=5))
    assert client.delete(4371) is True
    assert client.delete(4371) is False  # 404 "Unknown message ID": already gone
    assert cbc.requests[-1] == ("DELETE", "/api/ecbe/v1/message/4371")


def test_http_errors_map_to_permanent_and_transient(cbc: StandInCbc) -> None:
    client = EcbeClient(cbc.base_url)
    message = EcbeMessage(4371, SERIAL, TextPayload("x"), repetition_period=5)
    cbc.fail_with = (400, "CBCMSG 'category' unknown")
    with pytest.raises(EcbeRejectedError, match="HTTP 400: CBCMSG 'category' unknown"):
        client.create(message)
    cbc.fail_with = (500, "Internal Server Error")
    with pytest.raises(EcbeUnavailableError, match="HTTP 500") as info:
        client.create(message)
    assert isinstance(info.value, TransientGatewayError)


def test_unreachable_and_slow_cbc_are_transient(cbc: StandInCbc) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = EcbeClient(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(
        EcbeUnavailableError, match=f"cannot reach osmo-cbc at http://127.0.0.1:{port}"
    ):
        dead.delete(1)
    cbc.delay = 1.0
    slow = EcbeClient(cbc.base_url, timeout=0.3)
    with pytest.raises(EcbeUnavailableError, match="timed out"):
        slow.create(EcbeMessage(1, SERIAL, TextPayload("x"), repetition_period=1))


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: EcbeMessage(70000, 0, TextPayload("x"), 1), "message identifier"),
        (lambda: EcbeMessage(1, 0, TextPayload("x"), 4096), "repetition period"),
        (lambda: EncodedPayload(1, (bytes(83),)), "at most 82"),
        (lambda: EncodedPayload(1, ()), "1 to 15 pages"),
        (lambda: TextPayload("x", language="eng"), "two letters"),
        (lambda: EtwsPayload(200), "warning type"),
        (lambda: EcbeClient("127.0.0.1:12345"), "http://"),
    ],
)
def test_bad_values_are_refused_before_sending(build: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        build()


def test_the_stand_in_really_checks() -> None:
    """The stand-in's checks can fail: a document with osmo-cbc's schema-file mistakes (a bare
    integer serial number, no cbe_name) is refused."""
    good = EcbeMessage(1, SERIAL, TextPayload("x"), repetition_period=1).to_json()
    check_cbc_message(good)
    bad = json.loads(json.dumps(good))
    bad["smscb_message"]["serial_nr"] = SERIAL
    with pytest.raises(ValueError, match="serial_nr"):
        check_cbc_message(bad)
    del good["cbe_name"]
    with pytest.raises(ValueError, match="cbe_name"):
        check_cbc_message(good)
