"""A client for osmo-cbc's ECBE REST API, for operators who run a Cell Broadcast Centre.

osmo-cbc (the Osmocom CBC) takes messages from an External Cell Broadcast Entity over HTTP and
sends them to every BSC, RNC or MME it serves (CBSP, SABP, SBc-AP). Two calls exist:

* ``POST {base}/api/ecbe/v1/message`` with a JSON ``cbc_message``; osmo-cbc answers once every
  peer acknowledged or timed out (15 s): 201 "Created";
* ``DELETE {base}/api/ecbe/v1/message/{message_id}``: 200 "OK", 404 "Unknown message ID".

Field names, types and ranges are those osmo-cbc's ``src/rest_api.c`` parses (its JSON schema
files are looser and partly wrong, e.g. ``required: ["scope", "smscb"]``): ``cbe_name`` and
``repetition_period`` (0-4095, units of 1.883 s) are mandatory, ``category``
(normal/high_priority/background), ``num_of_bcast`` (0 = until deleted) and
``warning_period_sec`` optional; ``scope`` must be ``{"scope_plmn": {}}`` (the only scope osmo-cbc
implements); ``smscb_message`` holds ``message_id``, ``serial_nr`` (``serial_nr_decoded`` with
``geo_scope``/``msg_code``/``update_nr``, as osmo-cbc's own cbc-apitool sends it) and ``payload``
(``payload_encoded`` with ``dcs`` and 82-octet ``pages`` as hex, ``payload_decoded`` with
``character_set``/``language``/``data_utf8``, or ``payload_etws``).

osmo-cbc knows a message by its message identifier alone: a second POST with the same
identifier is refused with 409 "Could not allocate", and it has no replace call. An update is
therefore a DELETE followed by a POST (:meth:`EcbeClient.replace`); phones drop a repeat with
the same identifier and serial number, so replacing with an unchanged serial does no harm.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal

from gateways.base import PermanentGatewayError, TransientGatewayError

API_PREFIX = "/api/ecbe/v1"
DEFAULT_TIMEOUT = 20.0  # osmo-cbc itself waits up to 15 s for its peers before answering

GeoScopeName = Literal["cell_wide_immediate", "plmn_wide", "lac_sac_tac_wide", "cell_wide"]
GEO_SCOPES: tuple[GeoScopeName, ...] = (
    "cell_wide_immediate",
    "plmn_wide",
    "lac_sac_tac_wide",
    "cell_wide",
)  # TS 23.041 9.4.1.2.1 GS codes 0-3, in order
CategoryName = Literal["normal", "high_priority", "background"]
CharacterSet = Literal["gsm", "8bit", "ucs2"]


class EcbeError(Exception):
    """Base of the ECBE client's errors."""


class EcbeUnavailableError(EcbeError, TransientGatewayError):
    """osmo-cbc cannot be reached, timed out or failed inside (5xx): retry later."""


class EcbeRejectedError(EcbeError, PermanentGatewayError):
    """osmo-cbc refused the request (400): the message says which field and why."""


class EcbeConflictError(EcbeRejectedError):
    """409: osmo-cbc already holds a message with this identifier (delete or replace it)."""


@dataclass(frozen=True, slots=True)
class EncodedPayload:
    """Pages already encoded here: the data coding scheme and 1 to 15 page contents of up to
    82 octets each (without the 6-octet page header, which the CBC's peers add)."""

    dcs: int
    pages: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.dcs <= 255:
            raise ValueError(f"data coding scheme {self.dcs} must be 0 to 255")
        if not 1 <= len(self.pages) <= 15:
            raise ValueError(f"a message has 1 to 15 pages, not {len(self.pages)}")
        for n, page in enumerate(self.pages, 1):
            if len(page) > 82:
                raise ValueError(f"page {n} is {len(page)} octets; osmo-cbc takes at most 82")

    def to_json(self) -> dict[str, Any]:
        return {"payload_encoded": {"dcs": self.dcs, "pages": [p.hex() for p in self.pages]}}


@dataclass(frozen=True, slots=True)
class TextPayload:
    """Text for osmo-cbc to encode. osmo-cbc writes a DCS language only for the GSM 7-bit
    languages of TS 23.038 (de, en, it, fr, es, nl, sv, da, pt, fi, no, el, tr, hu, pl, cs, he,
    ar, ru, is) and ignores ``language`` for UCS-2: prefer :class:`EncodedPayload`."""

    text: str
    character_set: CharacterSet = "gsm"
    language: str | None = None
    dcs_class: int | None = None

    def __post_init__(self) -> None:
        if self.language is not None and len(self.language) != 2:
            raise ValueError(f"language {self.language!r}: osmo-cbc takes ISO 639-1 two letters")
        if self.dcs_class is not None and not 0 <= self.dcs_class <= 3:
            raise ValueError(f"dcs_class {self.dcs_class} must be 0 to 3")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"character_set": self.character_set, "data_utf8": self.text}
        if self.language is not None:
            body["language"] = self.language
        if self.dcs_class is not None:
            body["dcs_class"] = self.dcs_class
        return {"payload_decoded": body}


@dataclass(frozen=True, slots=True)
class EtwsPayload:
    """An ETWS primary notification: warning type (0 earthquake, 1 tsunami, 2 both, 3 test,
    4 other), alert and popup flags, and optional 50-octet security information."""

    warning_type: int
    emergency_user_alert: bool = True
    popup_on_display: bool = True
    warning_sec_info: bytes | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.warning_type <= 127:
            raise ValueError(f"warning type {self.warning_type} must be 0 to 127")
        if self.warning_sec_info is not None and len(self.warning_sec_info) != 50:
            raise ValueError("warning security information is 50 octets")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            # the encoded form: osmo-cbc spells one decoded name "earthquake_and_tsuname"
            "warning_type": {"warning_type_encoded": self.warning_type},
            "emergency_user_alert": self.emergency_user_alert,
            "popup_on_display": self.popup_on_display,
        }
        if self.warning_sec_info is not None:
            body["warning_sec_info"] = self.warning_sec_info.hex()
        return {"payload_etws": body}


Payload = EncodedPayload | TextPayload | EtwsPayload


@dataclass(frozen=True, slots=True)
class EcbeMessage:
    """One cell broadcast message as osmo-cbc takes it. ``serial`` is the 16-bit serial number
    (TS 23.041 9.4.1.2.1: geographical scope, message code, update number)."""

    message_id: int
    serial: int
    payload: Payload
    repetition_period: int  # units of 1.883 s
    num_of_bcast: int | None = None  # None: osmo-cbc's default, 0 = until deleted
    category: CategoryName = "normal"
    warning_period_sec: int | None = None  # ETWS: None = until deleted
    cbe_name: str = "tocsin"

    def __post_init__(self) -> None:
        if not 0 <= self.message_id <= 0xFFFF:
            raise ValueError(f"message identifier {self.message_id} must be 0 to 65535")
        if not 0 <= self.serial <= 0xFFFF:
            raise ValueError(f"serial number {self.serial} must be 0 to 65535")
        if not 0 <= self.repetition_period <= 4095:
            raise ValueError(
                f"repetition period {self.repetition_period} must be 0 to 4095 (units of 1.883 s)"
            )
        if self.num_of_bcast is not None and not 0 <= self.num_of_bcast <= 65535:
            raise ValueError(f"num_of_bcast {self.num_of_bcast} must be 0 to 65535")
        if self.warning_period_sec is not None and not 0 <= self.warning_period_sec <= 65535:
            raise ValueError(f"warning_period_sec {self.warning_period_sec} must be 0 to 65535")
        if not self.cbe_name:
            raise ValueError("cbe_name must not be empty (osmo-cbc requires it)")

    def to_json(self) -> dict[str, Any]:
        """The ``cbc_message`` document osmo-cbc parses."""
        body: dict[str, Any] = {
            "cbe_name": self.cbe_name,
            "category": self.category,
            "repetition_period": self.repetition_period,
            "scope": {"scope_plmn": {}},
            "smscb_message": {
                "message_id": self.message_id,
                "serial_nr": {
                    "serial_nr_decoded": {
                        "geo_scope": GEO_SCOPES[self.serial >> 14],
                        "msg_code": (self.serial >> 4) & 0x3FF,
                        "update_nr": self.serial & 0xF,
                    }
                },
                "payload": self.payload.to_json(),
            },
        }
        if self.num_of_bcast is not None:
            body["num_of_bcast"] = self.num_of_bcast
        if self.warning_period_sec is not None:
            body["warning_period_sec"] = self.warning_period_sec
        return body


@dataclass(frozen=True, slots=True)
class EcbeResponse:
    status: int
    detail: str


class EcbeClient:
    """Talks to one osmo-cbc. ``base_url`` is where its REST interface listens
    (``rest`` / ``local-ip``/``local-port`` in osmo-cbc.cfg), e.g. ``http://127.0.0.1:12345``."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        opener: urllib.request.OpenerDirector | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        if base.endswith(API_PREFIX):
            base = base[: -len(API_PREFIX)]
        if not base.startswith(("http://", "https://")):
            raise ValueError(f"ECBE base URL {base_url!r} must start with http:// or https://")
        self.base_url = base
        self.timeout = timeout
        # no proxies: osmo-cbc sits on the operator's network, an environment proxy is wrong
        self._opener = opener or urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def url(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}{path}"

    def create(self, message: EcbeMessage) -> EcbeResponse:
        """POST the message; raises EcbeConflictError if its identifier is taken."""
        body = json.dumps(message.to_json()).encode()
        return self._call("POST", "/message", body, f"message {message.message_id}")

    def delete(self, message_id: int) -> bool:
        """DELETE a message: True if osmo-cbc had it, False if it did not (404)."""
        if not 0 <= message_id <= 0xFFFF:
            raise ValueError(f"message identifier {message_id} must be 0 to 65535")
        try:
            self._call("DELETE", f"/message/{message_id}", None, f"message {message_id}")
        except _NotFoundError:
            return False
        return True

    def replace(self, message: EcbeMessage) -> EcbeResponse:
        """Delete whatever osmo-cbc holds under this identifier, then create ``message``."""
        self.delete(message.message_id)
        return self.create(message)

    def _call(self, method: str, path: str, body: bytes | None, what: str) -> EcbeResponse:
        url = self.url(path)
        request = urllib.request.Request(url, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "text/plain, application/json")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return EcbeResponse(response.status, _text(response.read()))
        except urllib.error.HTTPError as exc:
            detail = _text(exc.read()) or exc.reason
            raise _http_error(exc.code, detail, method, url, what) from None
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EcbeUnavailableError(
                f"cannot reach osmo-cbc at {url} ({method} {what}): {reason}. Check that "
                "osmo-cbc runs and that its 'rest' section listens on this address and port"
            ) from None


class _NotFoundError(EcbeError):
    pass


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").strip()


def _http_error(status: int, detail: str, method: str, url: str, what: str) -> EcbeError:
    where = f"osmo-cbc at {url} answered {method} {what} with HTTP {status}"
    if status == 404 and method == "DELETE":
        return _NotFoundError(f"{where}: {detail}")
    if status == 409:
        return EcbeConflictError(
            f"{where}: {detail or 'conflict'}: it already holds a message with this "
            "identifier; delete it first or use replace()"
        )
    if 400 <= status < 500:
        return EcbeRejectedError(f"{where}: {detail}. The request was malformed; fix it")
    return EcbeUnavailableError(f"{where}: {detail}. Retry later, and check osmo-cbc's log")
