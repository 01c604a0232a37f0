"""New alert identifiers: unique per sender without any registry to ask.

CAP 1.2 (section 3.2.1, ``identifier``) requires a number or string that uniquely identifies the
message for its sender and that holds no spaces, commas or restricted characters (``<`` and
``&``). An identifier here is ``<sender prefix>-<UTC timestamp>-<128 random bits>``: the prefix
tells a reader whose alert it is, the timestamp sorts identifiers of one sender by time, and the
random part makes two alerts written in the same second (by two consoles, say) collide with
probability 2**-128. The clock and the random source are arguments so that tests can pin them.
"""

from __future__ import annotations

import base64
import random
import re
import secrets
from datetime import UTC, datetime
from typing import Final

from cap.errors import CapAuthoringError

FORBIDDEN_CHARACTERS: Final = frozenset(" ,<&")
"""What CAP 1.2 forbids in ``identifier`` and ``sender``; any white space is refused as well."""

RANDOM_BITS: Final = 128
_PREFIX_LIMIT: Final = 48
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")


def new_identifier(sender: str, now: datetime, rand: random.Random | None = None) -> str:
    """A fresh identifier for an alert from ``sender`` written at ``now`` (an aware time).

    ``rand`` supplies the random bits in tests; without it they come from :mod:`secrets`.
    """
    if now.utcoffset() is None:
        raise CapAuthoringError(
            f"the time {now.isoformat()} has no time zone; give an aware datetime "
            "(e.g. datetime.now(timezone.utc))"
        )
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if rand is None:
        raw = secrets.token_bytes(RANDOM_BITS // 8)
    else:
        raw = rand.getrandbits(RANDOM_BITS).to_bytes(RANDOM_BITS // 8, "big")
    token = base64.b32encode(raw).decode("ascii").rstrip("=").lower()
    return f"{sender_prefix(sender)}-{stamp}-{token}"


def sender_prefix(sender: str) -> str:
    """The sender reduced to letters, digits, ``.``, ``_`` and ``-`` (``@`` becomes ``.``).

    Keeping to these characters keeps identifiers safe in file names, URLs and SMS as well.
    """
    cleaned = _UNSAFE_RE.sub("-", sender.replace("@", ".")).strip("-.")
    return cleaned[:_PREFIX_LIMIT].rstrip("-.") or "cap"


def identifier_problem(text: str, what: str = "identifier") -> str | None:
    """Why ``text`` cannot be a CAP identifier (or sender), or ``None`` when it can."""
    if not text:
        return f"the {what} is empty"
    bad = sorted({c for c in text if c in FORBIDDEN_CHARACTERS or c.isspace()})
    if bad:
        shown = ", ".join("a space" if c == " " else repr(c) for c in bad)
        return (
            f"the {what} {text!r} contains {shown}; CAP forbids spaces, commas, '<' and '&' "
            f"in the {what}"
        )
    return None
