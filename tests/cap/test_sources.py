"""Reading documents over HTTP from a real server on loopback, and following feed links."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cap.errors import CapInputError
from cap.sources import fetch_url, read_source


class _Site:
    """A tiny web site: path -> (status, bytes)."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, bytes]] = {}
        self.hits: list[str] = []


@pytest.fixture
def site() -> Iterator[tuple[_Site, str]]:
    state = _Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            status, body = state.pages.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "application/cap+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def tocsin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cap", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.integration
def test_validate_a_url(site: tuple[_Site, str], shared_data: Path) -> None:
    state, base = site
    body = (shared_data / "cap/alerts/google__cap-library/thunderstorm.cap").read_bytes()
    state.pages["/alerts/storm.cap"] = (200, body)
    proc = tocsin("validate", f"{base}/alerts/storm.cap")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"{base}/alerts/storm.cap: valid (CAP 1.2)")


@pytest.mark.integration
def test_http_errors_are_one_line(site: tuple[_Site, str]) -> None:
    _state, base = site
    proc = tocsin("validate", f"{base}/missing.cap")
    assert proc.returncode == 2
    expected = f"tocsin: {base}/missing.cap: the server answered HTTP 404 Not Found"
    assert proc.stderr.strip() == expected


@pytest.mark.integration
def test_size_limit_applies_to_urls(site: tuple[_Site, str]) -> None:
    state, base = site
    state.pages["/big.xml"] = (200, b"<a>" + b"x" * 5000 + b"</a>")
    assert len(fetch_url(f"{base}/big.xml", max_bytes=100)) == 101
    proc = tocsin("validate", "--max-bytes", "100", f"{base}/big.xml")
    assert proc.returncode == 1
    assert "over the 100 bytes limit" in proc.stdout


@pytest.mark.integration
def test_feed_links_followed_only_when_asked(site: tuple[_Site, str], shared_data: Path) -> None:
    state, base = site
    alerts = shared_data / "cap/alerts/google__cap-library"
    feed = (
        (alerts / "earthquake_index.atom")
        .read_bytes()
        .replace(
            b"http://earthquake.usgs.gov/earthquakes/catalogs/cap/us2010apcd",
            f"{base}/cap/us2010apcd".encode(),
        )
    )
    state.pages["/feed.atom"] = (200, feed)
    state.pages["/cap/us2010apcd"] = (200, (alerts / "earthquake.cap").read_bytes())

    plain = json.loads(tocsin("validate", "--format", "json", f"{base}/feed.atom").stdout)
    assert [r["kind"] for r in plain] == ["atom"]
    assert plain[0]["issues"][0]["code"] == "feed.link.not_followed"
    assert "/cap/us2010apcd" not in state.hits

    proc = tocsin("validate", "--format", "json", "--follow-links", f"{base}/feed.atom")
    followed = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert [r["kind"] for r in followed] == ["atom", "alert"]
    assert followed[1]["source"] == f"{base}/cap/us2010apcd"
    assert followed[1]["version"] == "1.1" and followed[1]["valid"] is True


@pytest.mark.integration
def test_unreachable_link_is_an_error_when_following(
    site: tuple[_Site, str], shared_data: Path
) -> None:
    state, base = site
    feed = (shared_data / "cap/alerts/google__cap-library/earthquake_index.atom").read_bytes()
    feed = feed.replace(
        b"http://earthquake.usgs.gov/earthquakes/catalogs/cap/us2010apcd",
        f"{base}/gone".encode(),
    )
    state.pages["/feed.atom"] = (200, feed)
    proc = tocsin("validate", "--follow-links", f"{base}/feed.atom")
    assert proc.returncode == 1
    assert "feed.link.unreachable" in proc.stdout and "HTTP 404" in proc.stdout


def test_stdin_and_files(tmp_path: Path) -> None:
    import io

    doc = read_source("-", stdin=io.BytesIO(b"<a/>"))
    assert doc.label == "-" and doc.data == b"<a/>"
    with pytest.raises(CapInputError, match="is a directory"):
        read_source(str(tmp_path))
    with pytest.raises(CapInputError, match="only http, https"):
        read_source("file:///etc/passwd")
