"""HTTP intake on ``tocsin serve``: other systems POST CAP documents, GET their status.

- ``POST /alerts`` with ``Authorization: Bearer <token>`` and the CAP document as the body:
  ``202 Accepted`` (JSON, ``Location: /alerts/<id>``) only after the outbox transaction has
  committed; ``200`` for a duplicate identity (nothing stored twice); ``400`` for an invalid
  or refused document (JSON with the reason); ``401``/``403`` for a missing/unknown token;
  ``413`` over the size limit.
- ``GET /alerts/<id or identifier>``: per-channel delivery state (same token).
- ``GET /health``: liveness, no token.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cap.hardened_xml import DEFAULT_MAX_BYTES
from dispatch.accept import Acceptance
from dispatch.config import split_listen
from dispatch.errors import DispatchError, SubmissionError
from dispatch.status import alert_status_json
from dispatch.store import Outbox

log = logging.getLogger("tocsin.dispatch.intake")

Submit = Callable[[bytes, str], Acceptance]


class IntakeServer:
    """A threaded HTTP server in the background; ``submit`` does the accept transaction."""

    def __init__(
        self,
        listen: str,
        tokens: Sequence[str],
        submit: Submit,
        outbox_factory: Callable[[], Outbox],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        host, port = split_listen(listen, "--listen")
        handler = _handler_class(tuple(tokens), submit, outbox_factory, max_bytes)
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="intake", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler_class(
    tokens: tuple[str, ...],
    submit: Submit,
    outbox_factory: Callable[[], Outbox],
    max_bytes: int,
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "tocsin-intake/0.1"

        def log_message(self, format: str, *args: object) -> None:
            log.info("%s %s", self.address_string(), format % args)

        def _send(
            self, status: HTTPStatus, body: object, headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body, indent=2, default=str).encode() + b"\n"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _drain(self, length: int) -> None:
            """Read and drop a refused body (up to 64 MB) so the client sees our answer."""
            left = min(length, 64 * 1024 * 1024)
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)

        def _token(self) -> str | None:
            """The caller's token name if authorised; else an error has been sent."""
            header = self.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                self._send(
                    HTTPStatus.UNAUTHORIZED,
                    {"error": "missing bearer token: send 'Authorization: Bearer <token>'"},
                    {"WWW-Authenticate": "Bearer"},
                )
                return None
            for index, known in enumerate(tokens, 1):
                if hmac.compare_digest(token.encode(), known.encode()):
                    return f"token-{index}"
            self._send(HTTPStatus.FORBIDDEN, {"error": "this token is not authorised"})
            return None

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(HTTPStatus.OK, {"status": "ok", "time": datetime.now(UTC).isoformat()})
                return
            if not self.path.startswith("/alerts/"):
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no such resource {self.path}"})
                return
            if self._token() is None:
                return
            ref = self.path.removeprefix("/alerts/")
            outbox = outbox_factory()
            stored = outbox.find_alerts(ref)
            if not stored:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no alert {ref!r} in the outbox"})
                return
            self._send(HTTPStatus.OK, [alert_status_json(outbox, s) for s in stored])

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/alerts":
                self._send(HTTPStatus.NOT_FOUND, {"error": f"POST to /alerts, not {self.path}"})
                return
            token = self._token()
            if token is None:
                return
            length_text = self.headers.get("Content-Length")
            if length_text is None or not length_text.isdigit():
                self._send(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length is required"})
                return
            length = int(length_text)
            if length > max_bytes:
                self._drain(length)
                self.close_connection = True
                self._send(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    {"error": f"the document is {length} bytes, over the {max_bytes} limit"},
                )
                return
            body = self.rfile.read(length)
            try:
                acceptance = submit(body, f"http:{token}")
            except SubmissionError as exc:
                self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc), "stored": False})
                return
            except DispatchError as exc:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(exc), "stored": False})
                return
            status = HTTPStatus.OK if acceptance.duplicate else HTTPStatus.ACCEPTED
            self._send(
                status,
                acceptance.as_json(),
                {"Location": f"/alerts/{acceptance.alert_id}"},
            )

    return Handler
