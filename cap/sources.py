"""Reading documents from files, URLs and standard input: the CAP package's IO edge.

Reads stop one byte past the size limit so that an oversized input is refused by the parser
with its usual message, without ever holding more than the limit in memory.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cap.errors import CapInputError
from cap.hardened_xml import DEFAULT_MAX_BYTES

USER_AGENT = "tocsin-cap/0.1 (+https://github.com/tocsin)"


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """Bytes and where they came from (a path, a URL or ``-`` for standard input)."""

    label: str
    data: bytes


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def read_source(
    spec: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: BinaryIO | None = None,
    timeout: float = 20.0,
) -> SourceDocument:
    """Read ``spec`` (path, http(s) URL or ``-``) up to ``max_bytes + 1`` bytes."""
    if spec == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        return SourceDocument("-", stream.read(max_bytes + 1))
    if is_url(spec):
        return SourceDocument(spec, fetch_url(spec, max_bytes=max_bytes, timeout=timeout))
    if "://" in spec:
        scheme = spec.split("://", 1)[0]
        raise CapInputError(f"{spec}: only http, https, files and '-' are read, not {scheme}://")
    path = Path(spec)
    try:
        with path.open("rb") as fh:
            return SourceDocument(spec, fh.read(max_bytes + 1))
    except FileNotFoundError:
        raise CapInputError(f"{spec}: no such file") from None
    except IsADirectoryError:
        raise CapInputError(f"{spec}: is a directory, not a CAP document") from None
    except PermissionError:
        raise CapInputError(f"{spec}: permission denied") from None
    except OSError as exc:
        raise CapInputError(f"{spec}: cannot be read ({exc.strerror})") from None


def fetch_url(url: str, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = 20.0) -> bytes:
    """GET a URL with a timeout and a size cap; errors become :class:`CapInputError`."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(max_bytes + 1)
            return body
    except urllib.error.HTTPError as exc:
        raise CapInputError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise CapInputError(f"{url}: cannot be fetched ({exc.reason})") from None
    except TimeoutError:
        raise CapInputError(f"{url}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise CapInputError(f"{url}: cannot be fetched ({exc})") from None
