"""Cell broadcast serial numbers (3GPP TS 23.041 9.4.1.2.1): the value itself, and the
allocator that keeps them right across updates, restarts and many alerts at once.

A phone shows a message once per (message identifier, serial number) and ignores repeats, so
the serial must change exactly when the content does: the message code names one CAP alert
chain (an alert and its updates), the update number counts its Updates. The 16 bits, most
significant first: geographical scope (2), message code (10), update number (4).

:class:`SerialNumber` is pure. :class:`SerialAllocator` is the IO edge: a small SQLite file
(WAL, synchronous=FULL, ``BEGIN IMMEDIATE`` so that two processes never hand out the same
code) recording which message codes are in use per message identifier and which alert got
which serial, so that preparing the same alert again returns the same serial and a restart
never reuses a code that is still on the air.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, replace
from datetime import UTC
from enum import IntEnum
from pathlib import Path
from types import TracebackType
from typing import Final

from cap.model import Alert

MESSAGE_CODES: Final = 1024  # 10 bits
UPDATE_NUMBERS: Final = 16  # 4 bits


class SerialNumberError(ValueError):
    """A serial number field out of its range, or an allocation that cannot be made."""


class SerialExhaustedError(SerialNumberError):
    """Every message code of a message identifier belongs to an active alert chain."""


class GeoScope(IntEnum):
    """Where a phone treats the message as the same one (and does not show it again)."""

    CELL_WIDE_IMMEDIATE = 0  # cell wide, displayed immediately
    PLMN_WIDE = 1
    LOCATION_AREA_WIDE = 2  # location area (GSM), service area (UMTS), tracking area (LTE)
    CELL_WIDE = 3  # cell wide, normal display


@dataclass(frozen=True, slots=True)
class SerialNumber:
    """GS (2 bits) | message code (10 bits) | update number (4 bits)."""

    geo_scope: GeoScope
    message_code: int
    update_number: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.geo_scope, GeoScope):
            if self.geo_scope not in (0, 1, 2, 3):
                raise SerialNumberError(
                    f"geographical scope {self.geo_scope!r} is not 0..3 (TS 23.041 9.4.1.2.1)"
                )
            object.__setattr__(self, "geo_scope", GeoScope(self.geo_scope))
        if not 0 <= self.message_code < MESSAGE_CODES:
            raise SerialNumberError(
                f"message code {self.message_code} is not 0..1023 (10 bits, TS 23.041 9.4.1.2.1)"
            )
        if not 0 <= self.update_number < UPDATE_NUMBERS:
            raise SerialNumberError(
                f"update number {self.update_number} is not 0..15 (4 bits, TS 23.041 9.4.1.2.1)"
            )

    def encode(self) -> int:
        """The 16-bit value carried in octets 1-2 of every page (big-endian)."""
        return (int(self.geo_scope) << 14) | (self.message_code << 4) | self.update_number

    def to_bytes(self) -> bytes:
        return self.encode().to_bytes(2, "big")

    @classmethod
    def decode(cls, value: int) -> SerialNumber:
        if not 0 <= value <= 0xFFFF:
            raise SerialNumberError(f"serial number {value} is not a 16-bit value")
        return cls(GeoScope(value >> 14), (value >> 4) & 0x3FF, value & 0x0F)

    def next_update(self) -> SerialNumber:
        """The serial of the next Update: update number + 1, 15 wrapping to 0 (the spec's
        modulo-16 count; a phone compares for change, not for order)."""
        return replace(self, update_number=(self.update_number + 1) % UPDATE_NUMBERS)

    def __str__(self) -> str:
        return (
            f"0x{self.encode():04X} (GS {int(self.geo_scope)} {self.geo_scope.name.lower()}, "
            f"message code {self.message_code}, update {self.update_number})"
        )


@dataclass(frozen=True, slots=True)
class SerialAllocation:
    """What :meth:`SerialAllocator.allocate` hands out. ``previous`` is the serial the chain
    had on this identifier before this alert (None for a new message): what a
    WRITE-REPLACE replaces."""

    message_id: int
    slot: str
    serial: SerialNumber
    previous: SerialNumber | None


@dataclass(frozen=True, slots=True)
class ActiveMessage:
    """A message on the air for an alert chain: what a KILL must name."""

    message_id: int
    slot: str
    serial: SerialNumber


def chain_key(alert: Alert) -> str:
    """The identity of the alert chain ``alert`` belongs to: its first well-formed
    ``references`` entry (CAP lists the chain oldest first), else the alert itself. Times
    compare as instants, so ``-00:00`` and ``+00:00`` name the same alert."""
    for reference in alert.references:
        if reference.well_formed:
            sent = (
                reference.sent.astimezone(UTC).isoformat()
                if reference.sent is not None
                else reference.sent_text
            )
            return f"{reference.sender}\x1f{reference.identifier}\x1f{sent}"
    identity = alert.identity
    return (
        f"{identity.sender}\x1f{identity.identifier}\x1f{identity.sent.astimezone(UTC).isoformat()}"
    )


def alert_key(alert: Alert) -> str:
    identity = alert.identity
    return (
        f"{identity.sender}\x1f{identity.identifier}\x1f{identity.sent.astimezone(UTC).isoformat()}"
    )


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS cbs_active (
    message_id INTEGER NOT NULL,
    message_code INTEGER NOT NULL,
    chain TEXT NOT NULL,
    slot TEXT NOT NULL,
    geo_scope INTEGER NOT NULL,
    update_number INTEGER NOT NULL,
    PRIMARY KEY (message_id, message_code),
    UNIQUE (chain, slot, message_id)
);
CREATE TABLE IF NOT EXISTS cbs_use (
    chain TEXT NOT NULL,
    slot TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    alert TEXT NOT NULL,
    geo_scope INTEGER NOT NULL,
    message_code INTEGER NOT NULL,
    update_number INTEGER NOT NULL,
    previous INTEGER,
    PRIMARY KEY (chain, slot, message_id, alert)
);
CREATE TABLE IF NOT EXISTS cbs_cursor (
    message_id INTEGER PRIMARY KEY,
    next_code INTEGER NOT NULL
);
"""


class SerialAllocator:
    """Serial numbers per (alert chain, slot, message identifier), persisted in SQLite.

    * A new chain gets the next free message code of the identifier, round-robin from where
      the last allocation stopped, so a code freed by a cancel is not reused until every other
      one has been: a phone that still remembers the old message will not take the new one for
      a repeat.
    * Every further alert of the chain (an Update) gets the update number + 1 (15 -> 0).
    * The same alert asked for again (a restart, a retry) gets the serial it got before.
    * :meth:`release` ends the chain (Cancel, expiry): its codes become free.

    ``slot`` tells apart the messages one alert sends on one identifier (one per info
    block/language: ``en/0``, ``fr/0``).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SerialAllocator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def allocate(
        self,
        alert: Alert,
        message_id: int,
        *,
        slot: str = "",
        geo_scope: GeoScope = GeoScope.PLMN_WIDE,
    ) -> SerialAllocation:
        """The serial ``alert`` carries on ``message_id`` (see the class docstring)."""
        if not 0 <= message_id <= 0xFFFF:
            raise SerialNumberError(f"message identifier {message_id} is not a 16-bit value")
        chain, this = chain_key(alert), alert_key(alert)
        gs = GeoScope(geo_scope)
        with self._lock, _Transaction(self._db) as db:
            done = db.execute(
                "SELECT geo_scope, message_code, update_number, previous FROM cbs_use "
                "WHERE chain=? AND slot=? AND message_id=? AND alert=?",
                (chain, slot, message_id, this),
            ).fetchone()
            if done is not None:
                previous = None if done[3] is None else SerialNumber.decode(done[3])
                serial = SerialNumber(GeoScope(done[0]), done[1], done[2])
                return SerialAllocation(message_id, slot, serial, previous)
            row = db.execute(
                "SELECT geo_scope, message_code, update_number FROM cbs_active "
                "WHERE chain=? AND slot=? AND message_id=?",
                (chain, slot, message_id),
            ).fetchone()
            if row is not None:
                before = SerialNumber(GeoScope(row[0]), row[1], row[2])
                serial = SerialNumber(gs, before.message_code, before.next_update().update_number)
                db.execute(
                    "UPDATE cbs_active SET geo_scope=?, update_number=? "
                    "WHERE message_id=? AND message_code=?",
                    (int(gs), serial.update_number, message_id, serial.message_code),
                )
                allocation = SerialAllocation(message_id, slot, serial, before)
            else:
                code = self._free_code(db, message_id)
                serial = SerialNumber(gs, code, 0)
                db.execute(
                    "INSERT INTO cbs_active VALUES (?, ?, ?, ?, ?, ?)",
                    (message_id, code, chain, slot, int(gs), 0),
                )
                allocation = SerialAllocation(message_id, slot, serial, None)
            db.execute(
                "INSERT INTO cbs_use VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    chain,
                    slot,
                    message_id,
                    this,
                    int(gs),
                    serial.message_code,
                    serial.update_number,
                    None if allocation.previous is None else allocation.previous.encode(),
                ),
            )
            return allocation

    @staticmethod
    def _free_code(db: sqlite3.Connection, message_id: int) -> int:
        row = db.execute(
            "SELECT next_code FROM cbs_cursor WHERE message_id=?", (message_id,)
        ).fetchone()
        start = 0 if row is None else int(row[0])
        used = {
            int(code)
            for (code,) in db.execute(
                "SELECT message_code FROM cbs_active WHERE message_id=?", (message_id,)
            )
        }
        for step in range(MESSAGE_CODES):
            code = (start + step) % MESSAGE_CODES
            if code not in used:
                db.execute(
                    "INSERT INTO cbs_cursor VALUES (?, ?) "
                    "ON CONFLICT (message_id) DO UPDATE SET next_code=excluded.next_code",
                    (message_id, (code + 1) % MESSAGE_CODES),
                )
                return code
        raise SerialExhaustedError(
            f"all {MESSAGE_CODES} message codes of message identifier {message_id} belong to "
            "active alert chains (TS 23.041 gives the message code 10 bits); cancel or let "
            "some of them expire, or release chains that are no longer on the air"
        )

    def active(self, alert: Alert) -> tuple[ActiveMessage, ...]:
        """The messages on the air for ``alert``'s chain (what a Cancel must kill)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT message_id, slot, geo_scope, message_code, update_number "
                "FROM cbs_active WHERE chain=? ORDER BY message_id, slot",
                (chain_key(alert),),
            ).fetchall()
        return tuple(_active(row) for row in rows)

    def release(self, alert: Alert) -> tuple[ActiveMessage, ...]:
        """End ``alert``'s chain: its message codes become free. Returns what was active."""
        chain = chain_key(alert)
        with self._lock, _Transaction(self._db) as db:
            rows = db.execute(
                "SELECT message_id, slot, geo_scope, message_code, update_number "
                "FROM cbs_active WHERE chain=? ORDER BY message_id, slot",
                (chain,),
            ).fetchall()
            db.execute("DELETE FROM cbs_active WHERE chain=?", (chain,))
        return tuple(_active(row) for row in rows)

    def release_message(self, message_id: int, serial: SerialNumber) -> bool:
        """Free one message (it was killed or expired on its own). False if not active."""
        with self._lock, _Transaction(self._db) as db:
            cursor = db.execute(
                "DELETE FROM cbs_active WHERE message_id=? AND message_code=?",
                (message_id, serial.message_code),
            )
            return cursor.rowcount > 0


def _active(row: tuple[int, str, int, int, int]) -> ActiveMessage:
    message_id, slot, gs, code, update = row
    return ActiveMessage(message_id, slot, SerialNumber(GeoScope(gs), code, update))


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): the write lock is taken
    before reading, so two allocators on one file cannot both pick the same free code."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
