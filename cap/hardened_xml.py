"""Turning untrusted bytes into an XML tree without being hurt by them.

Policy: no DTD of any kind (so no entities, internal or external), no network, no file access,
a size limit before parsing and a nesting-depth limit; only UTF-8, UTF-16 and ISO-8859-1 (plus
US-ASCII, a strict subset of UTF-8), and the bytes must agree with what the document declares.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lxml import etree

from cap.errors import CapInputError, CapParseError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_DEPTH = 32
# libxml2 itself stops at 256 levels unless XML_PARSE_HUGE is set, which we never set.
HARD_MAX_DEPTH = 255


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Resource limits applied to every document; the defaults suit real alerts and feeds."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise CapInputError("the size limit must be at least 1 byte")
        if not 1 <= self.max_depth <= HARD_MAX_DEPTH:
            raise CapInputError(f"the depth limit must be between 1 and {HARD_MAX_DEPTH}")


_DECL_RE = re.compile(
    rb"""^<\?xml\s+version\s*=\s*(["'])[^"']*\1"""
    rb"""(?:\s+encoding\s*=\s*(["'])([^"']*)\2)?"""
)
_ALIASES = {
    "utf8": "utf-8",
    "utf16": "utf-16",
    "utf16le": "utf-16",
    "utf16be": "utf-16",
    "iso88591": "iso-8859-1",
    "latin1": "iso-8859-1",
    "l1": "iso-8859-1",
    "isoir100": "iso-8859-1",
    "cp819": "iso-8859-1",
    "ibm819": "iso-8859-1",
    "usascii": "us-ascii",
    "ascii": "us-ascii",
}
_ACCEPTED = "UTF-8, UTF-16 and ISO-8859-1"


def _canonical_encoding(name: str) -> str | None:
    return _ALIASES.get(re.sub(r"[^a-z0-9]", "", name.lower()))


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def check_encoding(data: bytes) -> str:
    """Return the encoding (``utf-8``, ``utf-16-le``, ``utf-16-be``, ``iso-8859-1`` or
    ``us-ascii``) after checking that the bytes agree with the declaration.

    Raises :class:`CapParseError` with reason ``xml.encoding`` otherwise.
    """
    bom: str | None = None
    if data.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        raise CapParseError(
            f"the document is UTF-32, which is not accepted (only {_ACCEPTED})",
            reason="xml.encoding",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        bom, body = "utf-8", data[3:]
    elif data.startswith(b"\xff\xfe"):
        bom, body = "utf-16-le", data[2:]
    elif data.startswith(b"\xfe\xff"):
        bom, body = "utf-16-be", data[2:]
    elif data.startswith(b"<\x00?\x00"):
        bom, body = "utf-16-le", data
    elif data.startswith(b"\x00<\x00?"):
        bom, body = "utf-16-be", data
    elif data.startswith(b"\x4c\x6f\xa7\x94"):
        raise CapParseError(
            f"the document is in EBCDIC, which is not accepted (only {_ACCEPTED})",
            reason="xml.encoding",
        )
    elif data.startswith(b"+ADw"):
        raise CapParseError(
            f"the document is UTF-7 encoded markup, which is refused (only {_ACCEPTED})",
            reason="xml.encoding",
        )
    else:
        body = data

    if bom in ("utf-16-le", "utf-16-be"):
        head = body[:400].decode(bom, errors="replace").encode("ascii", errors="replace")
    else:
        head = body[:400]
    m = _DECL_RE.match(head)
    declared_raw = m.group(3).decode("ascii", "replace") if m and m.group(3) else None
    declared = _canonical_encoding(declared_raw) if declared_raw is not None else None
    if declared_raw is not None and declared is None:
        raise CapParseError(
            f"the document declares encoding {declared_raw!r}, which is not accepted "
            f"(only {_ACCEPTED})",
            reason="xml.encoding",
            line=1,
        )

    if bom is not None and bom.startswith("utf-16"):
        if declared not in (None, "utf-16"):
            raise CapParseError(
                f"the bytes are UTF-16 (byte-order mark) but the document declares "
                f"{declared_raw!r}; fix the declaration or re-encode the file",
                reason="xml.encoding",
                line=1,
            )
        _strict_decode(body, bom, data)
        return bom
    if bom == "utf-8" and declared not in (None, "utf-8"):
        raise CapParseError(
            f"the document starts with a UTF-8 byte-order mark but declares {declared_raw!r}",
            reason="xml.encoding",
            line=1,
        )
    if declared == "utf-16":
        raise CapParseError(
            "the document declares UTF-16 but its bytes are not UTF-16 (no byte-order mark, "
            "single-byte markup)",
            reason="xml.encoding",
            line=1,
        )
    encoding = declared or "utf-8"
    if encoding == "iso-8859-1":
        return encoding  # every byte sequence is valid ISO-8859-1
    _strict_decode(body, encoding, data)
    return encoding


def _strict_decode(body: bytes, encoding: str, data: bytes) -> None:
    try:
        body.decode(encoding)
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(data) - len(body))
        line, column = _position(data, offset)
        bad = data[offset : offset + 1].hex().upper()
        name = {"us-ascii": "US-ASCII", "utf-8": "UTF-8"}.get(encoding, encoding.upper())
        raise CapParseError(
            f"byte 0x{bad} at line {line}, column {column} is not valid {name}, "
            f"the encoding the document declares; re-save the file as {name} "
            "or declare its real encoding",
            reason="xml.encoding",
            line=line,
            column=column,
        ) from None


_PROLOG_RE = re.compile(r"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)


def check_no_doctype(data: bytes, encoding: str) -> None:
    """Refuse any document type declaration: it is how entity bombs and XXE get in."""
    if encoding.startswith("utf-16"):
        start = 2 if data[:2] in (b"\xff\xfe", b"\xfe\xff") else 0
        head = data[start : start + 8192].decode(encoding, errors="ignore")
    else:
        head = data[:8192].decode("latin-1").lstrip("\ufeff").removeprefix("\xef\xbb\xbf")
    prolog_end = _PROLOG_RE.match(head)
    rest = head[prolog_end.end() if prolog_end else 0 :]
    if not rest.startswith("<!DOCTYPE"):
        return
    line = head[: len(head) - len(rest)].count("\n") + 1
    declaration = rest[: rest.find(">") + 1 if ">" in rest else 200]
    if "<!ENTITY" in rest[:8192]:
        why = "it declares entities, which could expand without bound or read local files"
    elif re.search(r"\b(SYSTEM|PUBLIC)\b", declaration):
        why = "it points to an external DTD, which a CAP parser must never fetch"
    else:
        why = "CAP documents have no DTD"
    raise CapParseError(
        f"document type declaration (<!DOCTYPE>) refused at line {line}: {why}",
        reason="xml.doctype",
        line=line,
        column=1,
    )


class _Parsers(threading.local):
    def __init__(self) -> None:
        self.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            collect_ids=False,
        )


_PARSERS = _Parsers()


def parse_xml(data: bytes, limits: ParseLimits | None = None) -> etree._ElementTree:
    """Parse untrusted bytes into a tree, or raise :class:`CapParseError` saying why not."""
    limits = limits or ParseLimits()
    if len(data) > limits.max_bytes:
        raise CapParseError(
            f"the document is {_size(len(data))}, over the {_size(limits.max_bytes)} limit "
            "(raise it with --max-bytes if this is expected)",
            reason="xml.too_large",
        )
    if not data.strip():
        raise CapParseError("the document is empty", reason="xml.empty")
    encoding = check_encoding(data)
    check_no_doctype(data, encoding)
    try:
        tree = etree.fromstring(data, _PARSERS.parser).getroottree()
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, limits) from None
    _check_depth(tree, limits)
    return tree


_DEPTH_PROBES: dict[int, etree.XPath] = {}


def _depth_probe(max_depth: int) -> etree.XPath:
    """An XPath selecting the elements one level deeper than allowed (compiled once)."""
    probe = _DEPTH_PROBES.get(max_depth)
    if probe is None:
        probe = etree.XPath("/" + "/".join(["*"] * (max_depth + 1)) + "[1]")
        _DEPTH_PROBES[max_depth] = probe
    return probe


def _check_depth(tree: etree._ElementTree, limits: ParseLimits) -> None:
    deep = _depth_probe(limits.max_depth)(tree)
    if isinstance(deep, list) and deep:
        first = deep[0]
        line = first.sourceline if isinstance(first, etree._Element) else None
        raise CapParseError(
            f"elements are nested more than {limits.max_depth} levels deep (line {line}); "
            "no CAP alert, feed or distribution needs that (--max-depth)",
            reason="xml.too_deep",
            line=line,
        )


def _syntax_error(exc: etree.XMLSyntaxError, limits: ParseLimits) -> CapParseError:
    line, column = exc.position if exc.position else (None, None)
    raw = (exc.msg or str(exc)).strip()
    lowered = raw.lower()
    if "excessive depth" in lowered or "maximum depth" in lowered:
        return CapParseError(
            f"elements are nested more than {limits.max_depth} levels deep (line {line}); "
            "no CAP alert, feed or distribution needs that (--max-depth)",
            reason="xml.too_deep",
            line=line,
        )
    if "huge" in lowered:
        return CapParseError(
            f"a text node at line {line} is larger than the parser accepts (10 MB)",
            reason="xml.too_large",
            line=line,
        )
    if "premature end" in lowered or ("extra content" not in lowered and "eof" in lowered):
        why = "the document ends before all its elements are closed (truncated file?)"
    elif "entity" in lowered:
        why = f"entity references are not allowed in CAP documents ({raw})"
    else:
        why = raw
    return CapParseError(
        f"not well-formed XML at line {line}, column {column}: {why}",
        reason="xml.syntax",
        line=line,
        column=column,
    )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"
