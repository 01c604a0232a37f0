"""The audit log: every state change of the outbox, append-only and hash-chained.

Each entry stores the SHA-256 of its own content and of the entry before it (``prev_hash``;
the first entry follows :data:`GENESIS_HASH`). :func:`verify` walks the chain and names the
first entry that does not fit.

What it detects, and what it cannot:

- **Ordinary SQL cannot change or delete entries**: triggers make ``UPDATE`` and ``DELETE`` on
  ``audit`` fail, and an ``INSERT`` that does not extend the chain (wrong ``seq`` or
  ``prev_hash``) fails too. Someone with the database file can drop the triggers, so:
- **Editing any field of any entry, deleting an entry in the middle or at the start, and
  reordering entries** are detected by :func:`verify` alone.
- **Cutting entries off the end, or rewriting the log from some entry on with freshly
  computed hashes**, leaves a chain that is consistent in itself; the hash is not keyed, so
  anyone can recompute it. Both are detected only against a head noted earlier outside the
  database: record :func:`head` (e.g. ``17:3f2a…`` from ``tocsin audit verify``) in the
  operations log, a ticket or a second machine, and pass it as ``verify(conn,
  expected_head=...)``.

Writing is :func:`append` inside the caller's transaction (the same one that changes the
outbox, so the log and the outbox never disagree). Concurrent writers must serialise (SQLite:
``BEGIN IMMEDIATE``); if two raced anyway, the loser's insert fails instead of forking the
chain.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dispatch.errors import AuditError

GENESIS_HASH: str = "0" * 64

_HASH_DOMAIN = "tocsin-audit-v1"

_TABLE = (
    "CREATE TABLE IF NOT EXISTS audit ("
    "seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, "
    "alert_id INTEGER, channel TEXT, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, "
    "hash TEXT NOT NULL)"
)

AUDIT_STATEMENTS: tuple[str, ...] = (
    _TABLE,
    # No index by alert: every audit write is on the path of an accepted alert or a delivery,
    # and an extra index costs a page write each time; reading one alert's history scans.
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'the audit log is append-only: its entries cannot be changed'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'the audit log is append-only: its entries cannot be deleted'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_extends_chain BEFORE INSERT ON audit "
    "WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit) "
    "OR NEW.prev_hash IS NOT COALESCE("
    f"(SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}') BEGIN "
    "SELECT RAISE(ABORT, 'the audit log is a chain: a new entry must have seq = last seq + 1 "
    "and prev_hash = the last hash (another writer appended first? retry the transaction)'); "
    "END",
)
"""The schema as separate statements, for ``conn.execute`` one by one (trigger bodies contain
semicolons, so the script cannot be split on them)."""

AUDIT_SCHEMA: str = ";\n".join(AUDIT_STATEMENTS) + ";\n"
"""The whole schema as one script (for ``executescript``, which commits first)."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """Something to record. ``at`` must be timezone-aware; ``detail`` must be JSON-serialisable."""

    at: datetime
    actor: str  # "cli:alice@host", "http:token-1", "service"
    action: str  # "submitted", "routed", "attempt", "sent", "failed", "withdrawn", ...
    alert_id: int | None = None
    channel: str | None = None
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A stored entry, exactly as in the database."""

    seq: int
    at: str
    actor: str
    action: str
    alert_id: int | None
    channel: str | None
    detail: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The result of :func:`verify`. ``entries`` counts the entries found sound (all of them
    when ``ok``); ``first_bad_seq`` is the first entry that does not fit; ``reason`` says why,
    or summarises a sound log."""

    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str


# Built once: json.dumps with options builds a new encoder on every call.
_DETAIL_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_HASH_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def format_time(at: datetime) -> str:
    """``at`` as stored: ISO 8601 in UTC with microseconds, e.g.
    ``2024-05-01T10:00:00.000000+00:00``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise AuditError(
            f"audit time {at.isoformat()} has no time zone; pass an aware datetime "
            "(e.g. datetime.now(UTC))"
        )
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def format_detail(detail: Mapping[str, object]) -> str:
    """``detail`` as stored: compact JSON with sorted keys, UTF-8 text kept as is."""
    try:
        return _DETAIL_JSON.encode(detail)
    except (TypeError, ValueError) as exc:
        raise AuditError(
            f"audit detail cannot be stored as JSON ({exc}); "
            "pass only strings, numbers, booleans, None, lists and string-keyed mappings"
        ) from exc


def entry_hash(
    prev_hash: str,
    seq: int,
    at: str,
    actor: str,
    action: str,
    alert_id: int | None,
    channel: str | None,
    detail: str,
) -> str:
    """SHA-256 (hex) of an entry: of the JSON array ``["tocsin-audit-v1", prev_hash, seq, at,
    actor, action, alert_id, channel, detail]`` (compact, UTF-8). JSON quoting makes the
    encoding unambiguous (no field boundary can move; ``None`` differs from ``""``)."""
    canonical = _HASH_JSON.encode(
        [_HASH_DOMAIN, prev_hash, seq, at, actor, action, alert_id, channel, detail]
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the audit table, its index and its triggers if missing. Does not commit."""
    for statement in AUDIT_STATEMENTS:
        conn.execute(statement)


def _cursor(conn: sqlite3.Connection) -> sqlite3.Cursor:
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples whatever the caller's row factory
    return cur


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    """The last entry's ``(seq, hash)``; ``(0, GENESIS_HASH)`` for an empty log. Note it
    somewhere outside the database to detect later truncation or rewriting."""
    row = _cursor(conn).execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return (0, GENESIS_HASH)
    return (int(row[0]), _text(row[1]))


def format_head(value: tuple[int, str]) -> str:
    """A head as one token, ``SEQ:HASH``, for people to copy."""
    return f"{value[0]}:{value[1]}"


_HEAD_RE = re.compile(r"(\d+):([0-9a-fA-F]{64})")


def parse_head(text: str) -> tuple[int, str]:
    """Read a head written by :func:`format_head`."""
    match = _HEAD_RE.fullmatch(text.strip())
    if match is None:
        raise AuditError(
            f"{text!r} is not an audit head; expected SEQ:HASH, e.g. "
            f"17:{'3f' * 32}, as printed by 'tocsin audit verify'"
        )
    return (int(match.group(1)), match.group(2).lower())


def append(
    conn: sqlite3.Connection,
    event: AuditEvent,
    *,
    last: tuple[int, str] | None = None,
    at: str | None = None,
) -> AuditEntry:
    """Append ``event`` after the current last entry, inside the caller's transaction (nothing
    is committed here). Returns the stored entry.

    ``last`` is the caller's belief of the head (e.g. the entry it appended last), which saves
    reading it. The ``audit_extends_chain`` trigger refuses an insert that does not extend the
    real head, so a stale belief costs one retry, never a broken chain. ``at`` is
    ``format_time(event.at)`` if the caller has it already."""
    if not event.actor or not event.action:
        raise AuditError(
            f"audit event needs an actor and an action (got actor={event.actor!r}, "
            f"action={event.action!r})"
        )
    if at is None:
        at = format_time(event.at)
    detail = format_detail(event.detail)
    while True:
        last_seq, last_hash = head(conn) if last is None else last
        seq = last_seq + 1
        digest = entry_hash(
            last_hash, seq, at, event.actor, event.action, event.alert_id, event.channel, detail
        )
        try:
            conn.execute(
                "INSERT INTO audit (seq, at, actor, action, alert_id, channel, detail, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    at,
                    event.actor,
                    event.action,
                    event.alert_id,
                    event.channel,
                    detail,
                    last_hash,
                    digest,
                ),
            )
        except sqlite3.IntegrityError as exc:
            if last is not None:
                last = None  # the belief was stale: read the real head and try once more
                continue
            raise AuditError(
                f"could not append audit entry {seq} ({event.action}): {exc}; "
                "write audit entries inside a write transaction (BEGIN IMMEDIATE)"
            ) from exc
        break
    return AuditEntry(
        seq,
        at,
        event.actor,
        event.action,
        event.alert_id,
        event.channel,
        detail,
        last_hash,
        digest,
    )


def read_entries(
    conn: sqlite3.Connection, *, alert_id: int | None = None, after_seq: int = 0
) -> Iterator[AuditEntry]:
    """Stored entries in order, optionally only those about one alert, after ``after_seq``."""
    sql = (
        "SELECT seq, at, actor, action, alert_id, channel, detail, prev_hash, hash FROM audit "
        "WHERE seq > ?"
    )
    params: tuple[int, ...] = (after_seq,)
    if alert_id is not None:
        sql += " AND alert_id = ?"
        params = (after_seq, alert_id)
    for row in _cursor(conn).execute(sql + " ORDER BY seq", params):
        yield AuditEntry(*row)


# Columns after seq, with the storage classes each may hold.
_COLUMNS: tuple[tuple[str, frozenset[str]], ...] = (
    ("at", frozenset({"text"})),
    ("actor", frozenset({"text"})),
    ("action", frozenset({"text"})),
    ("alert_id", frozenset({"integer", "null"})),
    ("channel", frozenset({"text", "null"})),
    ("detail", frozenset({"text"})),
    ("prev_hash", frozenset({"text"})),
    ("hash", frozenset({"text"})),
)

# Raw bytes and storage class of every column, so that nothing an attacker stores (invalid
# UTF-8, a number where text belongs) can make reading fail or be silently converted.
_VERIFY_SQL = (
    "SELECT seq, "
    + ", ".join(f"typeof({name}), CAST({name} AS BLOB)" for name, _ in _COLUMNS)
    + " FROM audit ORDER BY seq"
)


def _decode_row(row: tuple[object, ...]) -> tuple[int, list[str | int | None], str | None]:
    """``(seq, values, problem)``: the stored values, or what is wrong with their types."""
    seq = row[0]
    if not isinstance(seq, int):  # seq is the rowid: always an integer
        raise AuditError(f"audit seq {seq!r} is not an integer")
    values: list[str | int | None] = []
    for i, (name, kinds) in enumerate(_COLUMNS):
        kind, raw = _text(row[1 + 2 * i]), row[2 + 2 * i]
        if kind not in kinds:
            expected = " or ".join(sorted(kinds))
            return seq, [], f"entry {seq}: {name} holds {kind}, not {expected} (edited?)"
        if kind == "null":
            values.append(None)
            continue
        assert isinstance(raw, bytes)
        if kind == "integer":
            values.append(int(raw.decode("ascii")))
            continue
        try:
            values.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return seq, [], f"entry {seq}: {name} is not valid UTF-8 text (edited?)"
    return seq, values, None


def verify(
    conn: sqlite3.Connection, *, expected_head: tuple[int, str] | None = None
) -> AuditVerification:
    """Walk the whole log in order (constant memory) and check every link of the chain.

    With ``expected_head`` (a :func:`head` noted earlier), also check that the log still
    reaches that entry with that hash: this detects truncation and rewriting, which the chain
    alone cannot.
    """
    if expected_head is not None:
        head_seq, head_hash = expected_head
        if head_seq < 0 or not re.fullmatch(r"[0-9a-f]{64}", head_hash):
            raise AuditError(
                f"recorded audit head {format_head(expected_head)} is malformed; expected a "
                "sequence number >= 0 and 64 lowercase hex digits"
            )
        if head_seq == 0 and head_hash != GENESIS_HASH:
            raise AuditError(
                f"recorded audit head {format_head(expected_head)}: entry 0 can only be the "
                "genesis hash (64 zeros)"
            )

    def bad(count: int, seq: int, reason: str) -> AuditVerification:
        return AuditVerification(False, count, seq, reason)

    count = 0
    prev_seq, prev_hash = 0, GENESIS_HASH
    for row in _cursor(conn).execute(_VERIFY_SQL):
        seq, values, problem = _decode_row(row)
        if seq != prev_seq + 1:
            if prev_seq == 0:
                return bad(count, seq, f"the log starts at entry {seq}, not 1 (deleted?)")
            return bad(count, seq, f"entry {seq} follows {prev_seq} (deleted?)")
        if problem is not None:
            return bad(count, seq, problem)
        at, actor, action, alert_id, channel, detail, stored_prev, stored_hash = values
        assert isinstance(at, str) and isinstance(actor, str) and isinstance(action, str)
        assert isinstance(detail, str) and isinstance(stored_prev, str)
        assert alert_id is None or isinstance(alert_id, int)
        assert channel is None or isinstance(channel, str)
        computed = entry_hash(stored_prev, seq, at, actor, action, alert_id, channel, detail)
        if computed != stored_hash:
            return bad(count, seq, f"entry {seq}: hash does not match its content (edited?)")
        if stored_prev != prev_hash:
            if prev_seq == 0:
                why = f"entry {seq}: prev_hash is not the genesis hash (edited?)"
            else:
                why = (
                    f"entry {seq}: prev_hash does not match the hash of entry {prev_seq} "
                    f"(entry {prev_seq} rewritten, or entries reordered?)"
                )
            return bad(count, seq, why)
        if expected_head is not None and seq == expected_head[0] and computed != expected_head[1]:
            return bad(
                count,
                seq,
                f"entry {seq}: hash differs from the head recorded earlier "
                f"({format_head(expected_head)}): the log was rewritten up to here",
            )
        count += 1
        prev_seq, prev_hash = seq, computed

    if expected_head is not None and prev_seq < expected_head[0]:
        return bad(
            count,
            prev_seq + 1,
            f"the log ends at entry {prev_seq} but entry {expected_head[0]} was recorded "
            "earlier (truncated?)",
        )
    checked = " and reaches the recorded head" if expected_head is not None else ""
    return AuditVerification(
        True, count, None, f"{count} entries, chain intact{checked}; head {prev_seq}:{prev_hash}"
    )
