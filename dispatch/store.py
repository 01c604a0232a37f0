"""The outbox: SQLite in WAL mode with ``synchronous=FULL``, the embedded default.

Accepting an alert is one transaction: the original bytes, the identity, one delivery row per
routed channel and the audit entries commit together or not at all. Deliveries carry their own
due time, state and attempt count, and each message a gateway has delivered is recorded, so a
restart resumes exactly where the work stopped (at least once; at most the message that was in
flight at the crash is sent twice).

Each thread gets its own connection; other processes (``tocsin send``) write to the same file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from cap.model import AlertIdentity
from cap.timefmt import format_cap_datetime
from dispatch import audit
from dispatch.audit import AuditEvent
from dispatch.delivery import DeliveryState
from dispatch.errors import StoreError

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    identifier TEXT NOT NULL,
    sent_utc TEXT NOT NULL,
    sent TEXT NOT NULL,
    msg_type TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at REAL,
    data BLOB NOT NULL,
    accepted_at TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    superseded_by INTEGER REFERENCES alerts(id),
    cancelled_by INTEGER REFERENCES alerts(id),
    expired INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sender, identifier, sent_utc)
);
-- The service plans alerts in id order; ids are assigned in commit order (one writer at a
-- time), so everything up to this mark has been planned.
CREATE TABLE IF NOT EXISTS service_state (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (alert_id, channel, purpose, round)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, due_at);
CREATE TABLE IF NOT EXISTS delivered_messages (
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    message_key TEXT NOT NULL,
    receipt_status TEXT NOT NULL,
    reference TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (delivery_id, message_key)
);
-- Late delivery reports (SMS status reports) find their message by the transport's reference.
CREATE INDEX IF NOT EXISTS delivered_messages_reference ON delivered_messages(reference);
"""


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: int
    identity: AlertIdentity
    sent_text: str
    msg_type: str
    status: str
    expires_at: float | None
    data: bytes
    accepted_at: str
    submitted_by: str
    superseded_by: int | None
    cancelled_by: int | None
    expired: bool


@dataclass(frozen=True, slots=True)
class ReportedMessage:
    """A message a late delivery report was about, and what that did to its delivery."""

    delivery_id: int
    alert_id: int
    key: str
    delivery_confirmed: bool  # the report was the last one missing: the delivery is confirmed


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    alert_id: int
    channel: str
    purpose: str
    round: int
    state: DeliveryState
    attempts: int
    due_at: float
    last_error: str | None
    updated_at: str


_ALERT_COLUMNS = (
    "id, sender, identifier, sent_utc, sent, msg_type, status, expires_at, data, accepted_at, "
    "submitted_by, superseded_by, cancelled_by, expired"
)
_DELIVERY_COLUMNS = (
    "id, alert_id, channel, purpose, round, state, attempts, due_at, last_error, updated_at"
)


def _alert(row: sqlite3.Row) -> StoredAlert:
    sent = datetime.fromisoformat(row["sent_utc"])
    return StoredAlert(
        row["id"],
        AlertIdentity(row["sender"], row["identifier"], sent),
        row["sent"],
        row["msg_type"],
        row["status"],
        row["expires_at"],
        bytes(row["data"]),
        row["accepted_at"],
        row["submitted_by"],
        row["superseded_by"],
        row["cancelled_by"],
        bool(row["expired"]),
    )


def _delivery(row: sqlite3.Row) -> DeliveryRow:
    return DeliveryRow(
        row["id"],
        row["alert_id"],
        row["channel"],
        row["purpose"],
        row["round"],
        DeliveryState(row["state"]),
        row["attempts"],
        row["due_at"],
        row["last_error"],
        row["updated_at"],
    )


def _find_alert(conn: sqlite3.Connection, identity: AlertIdentity) -> StoredAlert | None:
    row = conn.execute(
        f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE sender = ? AND identifier = ? AND sent_utc = ?",
        (identity.sender, identity.identifier, utc_text(identity.sent)),
    ).fetchone()
    return _alert(row) if row else None


def _channels_of(conn: sqlite3.Connection, alert_id: int) -> list[str]:
    """The channels an alert was routed to (any state)."""
    rows = conn.execute(
        "SELECT DISTINCT channel FROM deliveries WHERE alert_id = ? AND purpose = 'alert'",
        (alert_id,),
    ).fetchall()
    return [r["channel"] for r in rows]


class Transaction:
    """Writes that commit together. Obtained from :meth:`Outbox.transaction`."""

    def __init__(self, conn: sqlite3.Connection, audit_head: tuple[int, str] | None) -> None:
        self.conn = conn
        self._stamp: tuple[datetime, str] | None = None
        self.audit_head = audit_head
        """The audit head as this transaction believes it (``None``: unknown, read it)."""

    def _at(self, now: datetime) -> str:
        """``now`` as stored text; one transaction usually writes the same instant often."""
        stamp = self._stamp
        if stamp is None or stamp[0] is not now:
            stamp = self._stamp = (now, audit.format_time(now))
        return stamp[1]

    def find_alert(self, identity: AlertIdentity) -> StoredAlert | None:
        return _find_alert(self.conn, identity)

    def insert_alert(
        self,
        identity: AlertIdentity,
        *,
        msg_type: str,
        status: str,
        expires_at: float | None,
        data: bytes,
        now: datetime,
        submitted_by: str,
        sent_text: str | None = None,
    ) -> int | None:
        """The new alert's id, or ``None`` if this identity is already in the outbox."""
        # The conflict target is the identity alone: any other constraint still fails loudly.
        cur = self.conn.execute(
            "INSERT INTO alerts (sender, identifier, sent_utc, sent, msg_type, status, "
            "expires_at, data, accepted_at, submitted_by) VALUES (?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (sender, identifier, sent_utc) DO NOTHING",
            (
                identity.sender,
                identity.identifier,
                utc_text(identity.sent),
                sent_text if sent_text is not None else format_cap_datetime(identity.sent),
                msg_type,
                status,
                expires_at,
                data,
                self._at(now),
                submitted_by,
            ),
        )
        return cur.lastrowid if cur.rowcount == 1 else None

    def insert_delivery(
        self,
        alert_id: int,
        channel: str,
        *,
        purpose: str,
        due_at: float,
        now: datetime,
        round_: int = 0,
    ) -> int | None:
        """A new pending delivery; ``None`` if that (alert, channel, purpose, round) exists."""
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO deliveries (alert_id, channel, purpose, round, state, due_at, "
            "updated_at) VALUES (?,?,?,?,?,?,?)",
            (
                alert_id,
                channel,
                purpose,
                round_,
                DeliveryState.PENDING.value,
                due_at,
                self._at(now),
            ),
        )
        return cur.lastrowid if cur.rowcount else None

    def mark_superseded(self, alert_id: int, by: int, *, cancel: bool, now: datetime) -> int:
        """Record that ``by`` updates or cancels ``alert_id``; stop its pending deliveries.
        Returns how many pending deliveries were stopped."""
        column = "cancelled_by" if cancel else "superseded_by"
        self.conn.execute(f"UPDATE alerts SET {column} = ? WHERE id = ?", (by, alert_id))
        cur = self.conn.execute(
            "UPDATE deliveries SET state = ?, updated_at = ?, last_error = ? "
            "WHERE alert_id = ? AND state = ? AND purpose = 'alert'",
            (
                DeliveryState.SUPERSEDED.value,
                self._at(now),
                f"{'cancelled' if cancel else 'updated'} by alert {by}",
                alert_id,
                DeliveryState.PENDING.value,
            ),
        )
        return cur.rowcount

    def channels_of(self, alert_id: int) -> list[str]:
        return _channels_of(self.conn, alert_id)

    def channels_reached(self, alert_id: int) -> list[str]:
        """The channels where some delivery of the alert went out (sent or confirmed)."""
        rows = self.conn.execute(
            "SELECT DISTINCT channel FROM deliveries WHERE alert_id = ? AND purpose = 'alert' "
            "AND state IN (?, ?)",
            (alert_id, DeliveryState.SENT.value, DeliveryState.CONFIRMED.value),
        ).fetchall()
        return [r["channel"] for r in rows]

    def set_planned(self, alert_id: int) -> None:
        self.conn.execute(
            "INSERT INTO service_state (key, value) VALUES ('planned_through', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)",
            (alert_id,),
        )

    def set_expired(
        self, alert_id: int, now: datetime, state: DeliveryState = DeliveryState.SUPERSEDED
    ) -> int:
        """Mark the alert stopped; its pending deliveries end in ``state`` (superseded when it
        expired, withdrawn when an operator withdrew it). Returns how many were stopped."""
        self.conn.execute("UPDATE alerts SET expired = 1 WHERE id = ?", (alert_id,))
        reason = "expired" if state is DeliveryState.SUPERSEDED else "withdrawn"
        cur = self.conn.execute(
            "UPDATE deliveries SET state = ?, updated_at = ?, last_error = ? "
            "WHERE alert_id = ? AND state = ? AND purpose = 'alert'",
            (state.value, self._at(now), reason, alert_id, DeliveryState.PENDING.value),
        )
        return cur.rowcount

    def next_round(self, alert_id: int, channel: str) -> int:
        row = self.conn.execute(
            "SELECT COALESCE(MAX(round), -1) + 1 AS n FROM deliveries "
            "WHERE alert_id = ? AND channel = ? AND purpose = 'alert'",
            (alert_id, channel),
        ).fetchone()
        return int(row["n"])

    def update_delivery(
        self,
        delivery_id: int,
        state: DeliveryState,
        *,
        now: datetime,
        due_at: float | None = None,
        error: str | None = None,
    ) -> None:
        if due_at is None:
            self.conn.execute(
                "UPDATE deliveries SET state = ?, last_error = ?, updated_at = ? WHERE id = ?",
                (state.value, error, self._at(now), delivery_id),
            )
        else:
            self.conn.execute(
                "UPDATE deliveries SET state = ?, last_error = ?, updated_at = ?, due_at = ? "
                "WHERE id = ?",
                (state.value, error, self._at(now), due_at, delivery_id),
            )

    def release(self, delivery_id: int, now: datetime, reason: str) -> None:
        """Give an unfinished attempt back (the service is stopping): pending again, due now,
        and the attempt does not count against the channel's limit."""
        self.conn.execute(
            "UPDATE deliveries SET state = ?, attempts = MAX(attempts - 1, 0), due_at = ?, "
            "last_error = ?, updated_at = ? WHERE id = ?",
            (DeliveryState.PENDING.value, now.timestamp(), reason, self._at(now), delivery_id),
        )

    def record_message(
        self, delivery_id: int, key: str, status: str, reference: str | None, now: datetime
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO delivered_messages VALUES (?,?,?,?,?)",
            (delivery_id, key, status, reference, self._at(now)),
        )

    def apply_late_receipt(
        self, channel: str, reference: str, *, delivered: bool, now: datetime
    ) -> ReportedMessage | None:
        """Record a delivery report for the newest message of ``channel`` sent with
        ``reference``; ``None`` if there is none awaiting one. A delivery that went out
        (``sent``) becomes ``confirmed`` when every one of its messages is."""
        row = self.conn.execute(
            "SELECT m.delivery_id, m.message_key, d.alert_id, d.state FROM delivered_messages m "
            "JOIN deliveries d ON d.id = m.delivery_id WHERE m.reference = ? AND d.channel = ? "
            "AND m.receipt_status = 'sent' ORDER BY m.rowid DESC LIMIT 1",
            (reference, channel),
        ).fetchone()
        if row is None:
            return None
        delivery_id, key = int(row["delivery_id"]), str(row["message_key"])
        self.conn.execute(
            "UPDATE delivered_messages SET receipt_status = ? "
            "WHERE delivery_id = ? AND message_key = ?",
            ("confirmed" if delivered else "undelivered", delivery_id, key),
        )
        confirmed = (
            delivered
            and row["state"] == DeliveryState.SENT.value
            and self.all_messages_confirmed(delivery_id)
        )
        if confirmed:
            self.update_delivery(delivery_id, DeliveryState.CONFIRMED, now=now)
        return ReportedMessage(delivery_id, int(row["alert_id"]), key, confirmed)

    def all_messages_confirmed(self, delivery_id: int) -> bool:
        """Whether the delivery has messages and the far end confirmed every one."""
        row = self.conn.execute(
            "SELECT COUNT(*) AS n, COALESCE(SUM(receipt_status = 'confirmed'), 0) AS ok "
            "FROM delivered_messages WHERE delivery_id = ?",
            (delivery_id,),
        ).fetchone()
        return bool(row["n"]) and row["n"] == row["ok"]

    def audit(self, event: AuditEvent) -> None:
        entry = audit.append(self.conn, event, last=self.audit_head, at=self._at(event.at))
        self.audit_head = (entry.seq, entry.hash)


class _GroupedWrite(Generic[T]):
    """One thread's share of a group commit: the work, then its result or its error."""

    __slots__ = ("done", "error", "result", "wake", "work")

    def __init__(self, work: Callable[[Transaction], T]) -> None:
        self.work = work
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None
        self.wake = threading.Event()  # set when done, or when it is this thread's turn to commit


class _WriteGroup:
    """What the writers of one outbox file in this process share: the lock they take turns on,
    and the grouped writes waiting for the next group commit."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.guard = threading.Lock()  # guards the two below
        self.waiting: list[_GroupedWrite[Any]] = []
        self.leading = False  # a thread is committing a group; new writes wait for the next
        self.audit_head: tuple[int, str] | None = None  # as last committed here (under lock)


_WRITE_GROUPS: dict[str, _WriteGroup] = {}
_WRITE_GROUPS_GUARD = threading.Lock()


def _write_group(path: Path) -> _WriteGroup:
    """One per outbox file in this process, shared by every :class:`Outbox` on it."""
    key = str(path.resolve())
    with _WRITE_GROUPS_GUARD:
        return _WRITE_GROUPS.setdefault(key, _WriteGroup())


class Outbox:
    """The SQLite outbox file, one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._group = _write_group(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connection()
            conn.executescript(SCHEMA)
            audit.ensure_schema(conn)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the outbox {path}: {exc}") from None

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (for read-only tools such as the audit check)."""
        return self._connection()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            # SQLite's default 4 KiB pages: an alert's bytes fit in its row, and an acceptance
            # writes about 8 WAL frames (1 KiB pages: 13, with overflow pages for the alert and
            # twice the write calls; measured slower).
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA cache_size=-32768")  # 32 MiB: indexes stay in memory
            self._local.conn = conn
        return conn

    def transaction(self) -> TransactionScope:
        """``with outbox.transaction() as tx``: BEGIN IMMEDIATE ... COMMIT; rolled back if the
        block raises.

        Writers in this process take turns on a lock first: they then hand the outbox over
        the moment one commits, where SQLite's own wait for a busy database sleeps in steps of
        up to 100 ms. (Other processes, such as ``tocsin send``, still wait SQLite's way.)"""
        return TransactionScope(self)

    def write_grouped(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in a write transaction and return its result once that has committed.

        Threads that call this while another thread's transaction is committing share the
        next transaction (a group commit): under a burst of submissions one fsync makes many
        acceptances durable. Each ``work`` runs in its own savepoint, so one that raises is
        undone alone and its exception is raised to its own caller; the others commit."""
        item: _GroupedWrite[T] = _GroupedWrite(work)
        group = self._group
        with group.guard:
            group.waiting.append(item)
            turn = not group.leading
            group.leading = True
        if not turn:
            item.wake.wait()
        if not item.done:  # this thread's turn: it commits everything waiting, its own too
            with group.guard:
                batch, group.waiting = group.waiting, []
            try:
                with group.lock:
                    self._commit_group(batch)
            finally:
                with group.guard:
                    for done in batch:
                        done.done = True
                        done.wake.set()
                    if group.waiting:  # arrived during this commit: the first commits next
                        group.waiting[0].wake.set()
                    else:
                        group.leading = False
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]  # done without error: work's result

    def _commit_group(self, batch: list[_GroupedWrite[Any]]) -> None:
        try:
            with self.transaction() as tx:
                if len(batch) == 1:  # alone: the transaction is its savepoint
                    batch[0].result = batch[0].work(tx)
                    return
                for item in batch:
                    head = tx.audit_head
                    tx.conn.execute("SAVEPOINT grouped_write")
                    try:
                        item.result = item.work(tx)
                    except Exception as exc:
                        tx.conn.execute("ROLLBACK TO grouped_write")
                        tx.audit_head = head
                        item.error = exc
                    tx.conn.execute("RELEASE grouped_write")
        except BaseException as exc:
            # Nothing of this group committed: every member learns why.
            for item in batch:
                item.result, item.error = None, exc

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- reads --------------------------------------------------------------------------

    def alert(self, alert_id: int) -> StoredAlert | None:
        row = (
            self._connection()
            .execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,))
            .fetchone()
        )
        return _alert(row) if row else None

    def find_alerts(self, ref: str) -> list[StoredAlert]:
        """Alerts by outbox id or CAP identifier."""
        conn = self._connection()
        if ref.isdigit():
            rows = conn.execute(
                f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = ? OR identifier = ?",
                (int(ref), ref),
            ).fetchall()
        else:
            rows = conn.execute(
                f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE identifier = ?", (ref,)
            ).fetchall()
        return [_alert(r) for r in rows]

    def recent_alerts(self, limit: int = 20) -> list[StoredAlert]:
        rows = (
            self._connection()
            .execute(f"SELECT {_ALERT_COLUMNS} FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
            .fetchall()
        )
        return [_alert(r) for r in rows]

    def deliveries(self, alert_id: int) -> list[DeliveryRow]:
        rows = (
            self._connection()
            .execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            )
            .fetchall()
        )
        return [_delivery(r) for r in rows]

    def delivery(self, delivery_id: int) -> DeliveryRow | None:
        row = (
            self._connection()
            .execute(f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE id = ?", (delivery_id,))
            .fetchone()
        )
        return _delivery(row) if row else None

    def delivered_keys(self, delivery_id: int) -> set[str]:
        rows = (
            self._connection()
            .execute(
                "SELECT message_key FROM delivered_messages WHERE delivery_id = ?", (delivery_id,)
            )
            .fetchall()
        )
        return {r["message_key"] for r in rows}

    def find_alert(self, identity: AlertIdentity) -> StoredAlert | None:
        return _find_alert(self._connection(), identity)

    def channels_of(self, alert_id: int) -> list[str]:
        return _channels_of(self._connection(), alert_id)

    def unplanned_alerts(self, limit: int = 100) -> list[StoredAlert]:
        rows = (
            self._connection()
            .execute(
                f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id > COALESCE("
                "(SELECT value FROM service_state WHERE key = 'planned_through'), 0) "
                "ORDER BY id LIMIT ?",
                (limit,),
            )
            .fetchall()
        )
        return [_alert(r) for r in rows]

    def next_due(self) -> float | None:
        row = (
            self._connection()
            .execute(
                "SELECT MIN(due_at) AS t FROM deliveries WHERE state = ?",
                (DeliveryState.PENDING.value,),
            )
            .fetchone()
        )
        return float(row["t"]) if row and row["t"] is not None else None

    def in_flight_counts(self) -> dict[str, int]:
        rows = (
            self._connection()
            .execute(
                "SELECT channel, COUNT(*) AS n FROM deliveries WHERE state = ? GROUP BY channel",
                (DeliveryState.IN_FLIGHT.value,),
            )
            .fetchall()
        )
        return {r["channel"]: int(r["n"]) for r in rows}

    def claim_due(
        self,
        now: datetime,
        *,
        exclude_channels: Sequence[str] = (),
        capacity: Mapping[str, int] | None = None,
        limit: int = 32,
    ) -> list[DeliveryRow]:
        """Move due pending deliveries to in flight (one transaction) and return them, at most
        ``capacity[channel]`` per channel when given.

        Called many times a second by the service, so it looks before it locks: a read (which
        never waits in WAL mode) says whether anything is due, and the write lock is taken only
        then, without waiting if another writer holds it (the caller asks again soon). This
        keeps idle polls from delaying ``tocsin send`` and the intake, and a busy outbox from
        delaying a claim by SQLite's coarse busy-wait steps."""
        epoch = now.timestamp()
        conn = self._connection()
        due = conn.execute(
            "SELECT 1 FROM deliveries WHERE state = ? AND due_at <= ? LIMIT 1",
            (DeliveryState.PENDING.value, epoch),
        ).fetchone()
        if due is None:
            return []
        with self.transaction() as tx:
            return self._claim(tx, now, exclude_channels, capacity, limit)

    def _claim(
        self,
        tx: Transaction,
        now: datetime,
        exclude_channels: Sequence[str],
        capacity: Mapping[str, int] | None,
        limit: int,
    ) -> list[DeliveryRow]:
        epoch, at = now.timestamp(), utc_text(now)
        rows = tx.conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE state = ? AND due_at <= ? "
            "ORDER BY due_at, id LIMIT ?",
            (DeliveryState.PENDING.value, epoch, limit * 4),
        ).fetchall()
        claimed: list[DeliveryRow] = []
        room = dict(capacity) if capacity is not None else None
        for row in rows:
            d = _delivery(row)
            if d.channel in exclude_channels:
                continue
            if room is not None and d.channel in room:
                if room[d.channel] <= 0:
                    continue
                room[d.channel] -= 1
            tx.conn.execute(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, updated_at = ? "
                "WHERE id = ?",
                (DeliveryState.IN_FLIGHT.value, at, d.id),
            )
            tx.audit(
                AuditEvent(
                    now,
                    "service",
                    "attempt",
                    d.alert_id,
                    d.channel,
                    {"delivery": d.id, "attempt": d.attempts + 1, "purpose": d.purpose},
                )
            )
            claimed.append(
                DeliveryRow(
                    d.id,
                    d.alert_id,
                    d.channel,
                    d.purpose,
                    d.round,
                    DeliveryState.IN_FLIGHT,
                    d.attempts + 1,
                    d.due_at,
                    d.last_error,
                    at,
                )
            )
            if len(claimed) >= limit:
                break
        return claimed

    def recover_in_flight(self, now: datetime) -> int:
        """After a crash: deliveries left in flight go back to pending, due now."""
        with self.transaction() as tx:
            rows = tx.conn.execute(
                "SELECT id, alert_id, channel FROM deliveries WHERE state = ?",
                (DeliveryState.IN_FLIGHT.value,),
            ).fetchall()
            for row in rows:
                tx.update_delivery(
                    row["id"],
                    DeliveryState.PENDING,
                    now=now,
                    due_at=now.timestamp(),
                    error="interrupted (service stopped while delivering)",
                )
                tx.audit(
                    AuditEvent(
                        now,
                        "service",
                        "recovered",
                        row["alert_id"],
                        row["channel"],
                        {"delivery": row["id"]},
                    )
                )
        return len(rows)

    def counts(self) -> dict[str, int]:
        rows = (
            self._connection()
            .execute("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
            .fetchall()
        )
        return {r["state"]: int(r["n"]) for r in rows}


class TransactionScope:
    """One write transaction on an :class:`Outbox` (a class rather than a generator-based
    context manager: it is on the path of every acceptance and every delivery update)."""

    __slots__ = ("_conn", "_outbox", "_tx")

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self._conn: sqlite3.Connection | None = None
        self._tx: Transaction | None = None

    def __enter__(self) -> Transaction:
        outbox = self._outbox
        outbox._group.lock.acquire()
        try:
            conn = outbox._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"the outbox {outbox.path} is not writable: {exc}") from None
        except BaseException:
            outbox._group.lock.release()
            raise
        # The head this process last committed saves a read per transaction; another process
        # may have moved it since, which the audit trigger catches (see audit.append).
        group = outbox._group
        self._conn = conn
        self._tx = Transaction(conn, group.audit_head)
        group.audit_head = None
        return self._tx

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        outbox, conn, tx = self._outbox, self._conn, self._tx
        assert conn is not None and tx is not None
        try:
            if exc_type is not None:
                conn.execute("ROLLBACK")
                return
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as error:
                raise StoreError(f"the outbox {outbox.path} could not commit: {error}") from None
            outbox._group.audit_head = tx.audit_head
        finally:
            outbox._group.lock.release()


def detail_json(detail: dict[str, object]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), default=str)
