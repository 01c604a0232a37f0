"""Language tag syntax: RFC 3066 (cited by CAP 1.0-1.2) and its successor RFC 5646 (BCP 47).

CAP names RFC 3066, whose grammar is loose (any 1-8 letters, then 1-8 letters or digits per
subtag); XML Schema's ``xs:language`` is the same grammar. RFC 5646 is what receivers and
operating systems implement today, so a tag that only RFC 3066 accepts may still not be
understood. Both checks are syntax only: no registry lookup, so no IO.
"""

from __future__ import annotations

import re
from typing import Final

_RFC3066_RE: Final = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")

# RFC 5646 section 2.1, "langtag" and "privateuse" (well-formed, case-insensitive).
_ALNUM = "[a-z0-9]"
_LANGUAGE = r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"
_SCRIPT = r"(?:-[a-z]{4})?"
_REGION = r"(?:-(?:[a-z]{2}|[0-9]{3}))?"
_VARIANT = rf"(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*"
_EXTENSION = rf"(?:-[0-9a-wy-z](?:-{_ALNUM}{{2,8}})+)*"
_PRIVATE = rf"(?:-x(?:-{_ALNUM}{{1,8}})+)?"
_RFC5646_RE: Final = re.compile(
    rf"(?:{_LANGUAGE}{_SCRIPT}{_REGION}{_VARIANT}{_EXTENSION}{_PRIVATE}"
    rf"|x(?:-{_ALNUM}{{1,8}})+)",
    re.IGNORECASE,
)
# Tags RFC 5646 keeps for compatibility although they do not fit the grammar above.
_GRANDFATHERED: Final = frozenset(
    {
        "en-gb-oed",
        "i-ami",
        "i-bnn",
        "i-default",
        "i-enochian",
        "i-hak",
        "i-klingon",
        "i-lux",
        "i-mingo",
        "i-navajo",
        "i-pwn",
        "i-tao",
        "i-tay",
        "i-tsu",
        "sgn-be-fr",
        "sgn-be-nl",
        "sgn-ch-de",
    }
)


def is_rfc3066_tag(tag: str) -> bool:
    """``tag`` fits RFC 3066: letters, then hyphen-separated subtags of 1-8 letters/digits."""
    return _RFC3066_RE.fullmatch(tag) is not None


def is_bcp47_tag(tag: str) -> bool:
    """``tag`` is a well-formed RFC 5646 (BCP 47) language tag."""
    return _RFC5646_RE.fullmatch(tag) is not None or tag.lower() in _GRANDFATHERED
