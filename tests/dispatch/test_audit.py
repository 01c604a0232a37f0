"""The audit log: append-only in the database, hash-chained so that tampering is detected.

Attackers with the database file are simulated by dropping the triggers first. What the chain
alone cannot detect (cutting off the tail, rewriting with recomputed hashes) is shown to be
caught against a head noted earlier.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dispatch import audit
from dispatch.audit import (
    AUDIT_SCHEMA,
    GENESIS_HASH,
    AuditEntry,
    AuditEvent,
    append,
    ensure_schema,
    entry_hash,
    format_head,
    head,
    parse_head,
    read_entries,
    verify,
)
from dispatch.errors import AuditError, DispatchError

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)

EVENTS = [
    AuditEvent(T0, "cli:alice@host", "submitted", 1, None, {"identifier": "KXYZ-1"}),
    AuditEvent(T0, "service", "routed", 1, "sms-responders", {"delivery": 1, "due_at": None}),
    AuditEvent(T0 + timedelta(seconds=1), "service", "attempt", 1, "sms-responders", {"n": 1}),
    AuditEvent(
        T0 + timedelta(seconds=2),
        "service",
        "retry_scheduled",
        1,
        "sms-responders",
        {"reason": "modem ne répond pas", "next": "2024-05-01T10:00:12+00:00"},
    ),
    AuditEvent(T0 + timedelta(seconds=3), "http:token-1", "withdraw_requested", 1, "archive"),
    AuditEvent(T0 + timedelta(seconds=4), "service", "withdrawn", 1, "archive", {"ok": True}),
]


def connect(path: str | Path = ":memory:") -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    ensure_schema(conn)
    conn.commit()
    return conn


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    c = connect()
    for event in EVENTS:
        append(c, event)
    c.commit()
    yield c
    c.close()


def as_attacker(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Someone with the file: the triggers are no obstacle."""
    for name in ("audit_no_update", "audit_no_delete", "audit_extends_chain"):
        conn.execute(f"DROP TRIGGER {name}")
    return conn


# --- writing ------------------------------------------------------------------------------


def test_a_sound_log_verifies(conn: sqlite3.Connection) -> None:
    result = verify(conn)
    assert result.ok
    assert result.entries == len(EVENTS)
    assert result.first_bad_seq is None
    assert format_head(head(conn)) in result.reason


def test_an_empty_log_verifies_and_its_head_is_genesis() -> None:
    c = connect()
    assert head(c) == (0, GENESIS_HASH)
    assert verify(c).ok
    assert verify(c, expected_head=(0, GENESIS_HASH)).ok


def test_entries_are_stored_in_canonical_form() -> None:
    c = connect()
    at = datetime(2024, 5, 1, 12, 30, 15, 250, tzinfo=timezone(timedelta(hours=2)))
    entry = append(c, AuditEvent(at, "service", "sent", 3, "mqtt", {"b": [1, 2], "a": "é"}))
    assert entry.at == "2024-05-01T10:30:15.000250+00:00"
    assert entry.detail == '{"a":"é","b":[1,2]}'
    assert entry.seq == 1
    assert entry.prev_hash == GENESIS_HASH
    assert list(read_entries(c)) == [entry]
    assert datetime.fromisoformat(entry.at) == at


def test_each_entry_links_to_the_one_before(conn: sqlite3.Connection) -> None:
    entries = list(read_entries(conn))
    assert [e.seq for e in entries] == list(range(1, len(EVENTS) + 1))
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    assert head(conn) == (entries[-1].seq, entries[-1].hash)


def test_the_hash_encoding_is_stable() -> None:
    # Pinned: changing the encoding would make every existing log fail verification.
    digest = entry_hash(
        GENESIS_HASH,
        1,
        "2024-05-01T10:00:00.000000+00:00",
        "cli:alice@host",
        "submitted",
        7,
        None,
        '{"identifier":"KXYZ-1"}',
    )
    assert digest == "7a94e3c9c54f0cb6cad2c28f517f967158ac070826291b9ee2edf41c545f59ac"


def test_the_hash_encoding_is_unambiguous() -> None:
    base = (GENESIS_HASH, 1, "t", "ab", "c", 1, "x", "{}")
    shifted = (GENESIS_HASH, 1, "t", "a", "bc", 1, "x", "{}")
    empty_channel = (GENESIS_HASH, 1, "t", "ab", "c", 1, "", "{}")
    no_channel = (GENESIS_HASH, 1, "t", "ab", "c", 1, None, "{}")
    digests = {entry_hash(*args) for args in (base, shifted, empty_channel, no_channel)}
    assert len(digests) == 4


def test_append_runs_inside_the_callers_transaction(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    c = connect(path)
    append(c, EVENTS[0])
    assert c.in_transaction  # nothing committed behind the caller's back
    c.rollback()
    assert head(c) == (0, GENESIS_HASH)
    append(c, EVENTS[0])
    c.commit()
    other = sqlite3.connect(path)
    assert head(other)[0] == 1
    assert verify(other).ok


def test_bad_events_are_refused_and_nothing_is_written() -> None:
    c = connect()
    with pytest.raises(AuditError, match="no time zone"):
        append(c, AuditEvent(datetime(2024, 5, 1), "service", "sent"))
    with pytest.raises(AuditError, match="JSON") as info:
        append(c, AuditEvent(T0, "service", "sent", detail={"when": T0}))
    assert isinstance(info.value, DispatchError)
    with pytest.raises(AuditError, match="JSON"):
        append(c, AuditEvent(T0, "service", "sent", detail={"x": float("nan")}))
    with pytest.raises(AuditError, match="actor"):
        append(c, AuditEvent(T0, "", "sent"))
    assert head(c) == (0, GENESIS_HASH)


def test_read_entries_filters_by_alert_and_position() -> None:
    c = connect()
    for alert_id in (1, 2, 1, 3, 1):
        append(c, AuditEvent(T0, "service", "routed", alert_id))
    assert [e.seq for e in read_entries(c, alert_id=1)] == [1, 3, 5]
    assert [e.seq for e in read_entries(c, after_seq=3)] == [4, 5]
    assert [e.seq for e in read_entries(c, alert_id=1, after_seq=3)] == [5]


def test_schema_script_and_statements_agree() -> None:
    c = sqlite3.connect(":memory:")
    c.executescript(AUDIT_SCHEMA)
    ensure_schema(c)  # idempotent on top of the script
    append(c, EVENTS[0])
    with pytest.raises(sqlite3.IntegrityError):
        c.execute("DELETE FROM audit")


# --- the database refuses changes ------------------------------------------------------------


def test_update_and_delete_are_refused_by_the_database(conn: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit")
    assert verify(conn).ok


def test_an_insert_that_does_not_extend_the_chain_is_refused(conn: sqlite3.Connection) -> None:
    last_seq, last_hash = head(conn)
    row = "INSERT INTO audit VALUES (?, 't', 'a', 'b', NULL, NULL, '{}', ?, 'h')"
    with pytest.raises(sqlite3.IntegrityError, match="chain"):
        conn.execute(row, (last_seq + 1, GENESIS_HASH))  # forks from the start
    with pytest.raises(sqlite3.IntegrityError, match="chain"):
        conn.execute(row, (last_seq + 5, last_hash))  # leaves a gap
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(row, (last_seq, last_hash))  # reuses a number
    with pytest.raises(sqlite3.IntegrityError, match="chain"):
        conn.execute(row.replace("?, 't'", "NULL, 't'"), (last_hash,))  # lets SQLite number it
    assert verify(conn).ok


def test_a_writer_with_a_stale_view_cannot_fork_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    a, b = connect(path), connect(path)
    append(a, EVENTS[0])
    a.commit()
    b.execute("BEGIN IMMEDIATE")
    append(b, EVENTS[1])
    b.commit()
    append(a, EVENTS[2])  # reads the head afresh: extends b's entry
    a.commit()
    assert verify(a).ok
    assert head(a)[0] == 3


def test_a_stale_belief_about_the_head_costs_a_retry_not_a_fork(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    a, b = connect(path), connect(path)
    first = append(a, EVENTS[0])
    a.commit()
    append(b, EVENTS[1])  # another writer moves the head
    b.commit()
    third = append(a, EVENTS[2], last=(first.seq, first.hash))
    a.commit()
    assert (third.seq, third.prev_hash) == (3, head_after(b, 2))
    assert verify(a).ok


def test_two_outboxes_on_one_file_keep_one_chain(tmp_path: Path) -> None:
    from dispatch.store import Outbox

    path = tmp_path / "outbox.db"
    one, two = Outbox(path), Outbox(path)
    for n, event in enumerate(EVENTS * 3):
        with (one if n % 3 else two).transaction() as tx:
            tx.audit(event)
    conn = one.connection()
    assert verify(conn).ok
    assert head(conn)[0] == len(EVENTS) * 3


def head_after(conn: sqlite3.Connection, seq: int) -> str:
    row = conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()
    return str(row[0])


# --- tampering detected by the chain alone ---------------------------------------------------


@pytest.mark.parametrize(
    "column", ["at", "actor", "action", "alert_id", "channel", "detail", "prev_hash", "hash"]
)
def test_editing_any_field_is_detected(conn: sqlite3.Connection, column: str) -> None:
    as_attacker(conn)
    value = 99 if column == "alert_id" else "tampered"
    conn.execute(f"UPDATE audit SET {column} = ? WHERE seq = 3", (value,))
    result = verify(conn)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert result.entries == 2
    assert result.reason.startswith("entry 3:")


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(conn: sqlite3.Connection) -> None:
    as_attacker(conn)
    e = next(x for x in read_entries(conn) if x.seq == 3)
    forged = entry_hash(e.prev_hash, 3, e.at, "mallory", e.action, e.alert_id, e.channel, e.detail)
    conn.execute("UPDATE audit SET actor = 'mallory', hash = ? WHERE seq = 3", (forged,))
    result = verify(conn)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "does not match the hash of entry 3" in result.reason


def test_a_deleted_entry_is_detected(conn: sqlite3.Connection) -> None:
    as_attacker(conn).execute("DELETE FROM audit WHERE seq = 3")
    result = verify(conn)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.reason == "entry 4 follows 2 (deleted?)"


def test_deleting_the_first_entries_is_detected(conn: sqlite3.Connection) -> None:
    as_attacker(conn).execute("DELETE FROM audit WHERE seq <= 2")
    result = verify(conn)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "starts at entry 3" in result.reason


def test_a_deleted_entry_with_renumbering_is_detected(conn: sqlite3.Connection) -> None:
    as_attacker(conn).execute("DELETE FROM audit WHERE seq = 3")
    conn.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 3")
    result = verify(conn)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_reordered_entries_are_detected(conn: sqlite3.Connection) -> None:
    as_attacker(conn)
    conn.execute("UPDATE audit SET seq = -2 WHERE seq = 2")
    conn.execute("UPDATE audit SET seq = 2 WHERE seq = 4")
    conn.execute("UPDATE audit SET seq = 4 WHERE seq = -2")
    result = verify(conn)
    assert (result.ok, result.first_bad_seq) == (False, 2)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("alert_id", "1.5", "alert_id holds real, not integer or null"),
        ("actor", "CAST('service' AS BLOB)", "actor holds blob, not text"),
    ],
)
def test_a_wrong_storage_type_is_detected(
    conn: sqlite3.Connection, column: str, value: str, problem: str
) -> None:
    as_attacker(conn).execute(f"UPDATE audit SET {column} = {value} WHERE seq = 2")
    result = verify(conn)
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert problem in result.reason


def test_a_row_factory_on_the_connection_does_not_matter(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    assert verify(conn).ok
    append(conn, EVENTS[0])
    assert isinstance(next(read_entries(conn)), AuditEntry)
    assert verify(conn).ok


# --- what only a recorded head detects -------------------------------------------------------


def test_tail_truncation_needs_the_recorded_head(conn: sqlite3.Connection) -> None:
    noted = head(conn)
    as_attacker(conn).execute("DELETE FROM audit WHERE seq > 4")
    assert verify(conn).ok  # the chain alone cannot tell: a shorter log is a valid log
    result = verify(conn, expected_head=noted)
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert "ends at entry 4" in result.reason
    assert "truncated" in result.reason


def test_a_rewrite_with_recomputed_hashes_needs_the_recorded_head(
    conn: sqlite3.Connection,
) -> None:
    noted = head(conn)
    as_attacker(conn)
    entries = list(read_entries(conn))
    conn.execute("DELETE FROM audit WHERE seq >= 3")
    prev = entries[1].hash
    for e in entries[2:]:
        actor = "mallory" if e.seq == 3 else e.actor
        digest = entry_hash(prev, e.seq, e.at, actor, e.action, e.alert_id, e.channel, e.detail)
        conn.execute(
            "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e.seq, e.at, actor, e.action, e.alert_id, e.channel, e.detail, prev, digest),
        )
        prev = digest
    assert verify(conn).ok
    result = verify(conn, expected_head=noted)
    assert (result.ok, result.first_bad_seq) == (False, noted[0])
    assert "rewritten" in result.reason


def test_a_log_that_grew_since_the_head_was_noted_still_verifies(
    conn: sqlite3.Connection,
) -> None:
    noted = head(conn)
    append(conn, EVENTS[0])
    result = verify(conn, expected_head=noted)
    assert result.ok
    assert "reaches the recorded head" in result.reason


def test_heads_round_trip_through_text(conn: sqlite3.Connection) -> None:
    noted = head(conn)
    assert parse_head(format_head(noted)) == noted
    assert parse_head(f"  {noted[0]}:{noted[1].upper()}\n") == noted
    for bad in ("", "17", "17:abc", f"x:{'0' * 64}", f"-1:{'0' * 64}"):
        with pytest.raises(AuditError, match="SEQ:HASH"):
            parse_head(bad)
    with pytest.raises(AuditError, match="genesis"):
        verify(conn, expected_head=(0, "1" * 64))


# --- any single-byte change is detected ------------------------------------------------------

TEXT_COLUMNS = ["at", "actor", "action", "channel", "detail", "prev_hash", "hash"]


def _chain() -> sqlite3.Connection:
    c = connect()
    for event in EVENTS:
        append(c, event)
    return as_attacker(c)


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=len(EVENTS)),
    column=st.sampled_from(TEXT_COLUMNS),
    position=st.integers(min_value=0, max_value=10_000),
    delta=st.integers(min_value=1, max_value=255),
)
def test_any_single_byte_change_in_a_text_field_is_detected(
    seq: int, column: str, position: int, delta: int
) -> None:
    c = _chain()
    (raw,) = c.execute(f"SELECT CAST({column} AS BLOB) FROM audit WHERE seq = ?", (seq,)).fetchone()
    assume(raw is not None)  # a NULL channel has no bytes: see the next tests
    data = bytearray(raw)
    i = position % len(data)
    data[i] = (data[i] + delta) % 256
    c.execute(f"UPDATE audit SET {column} = CAST(? AS TEXT) WHERE seq = ?", (bytes(data), seq))
    result = verify(c)
    assert not result.ok
    assert result.first_bad_seq == seq
    assert result.entries == seq - 1


@settings(max_examples=100, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=len(EVENTS)),
    column=st.sampled_from(["seq", "alert_id"]),
    bit=st.integers(min_value=0, max_value=62),
)
def test_any_change_to_a_number_is_detected(seq: int, column: str, bit: int) -> None:
    c = _chain()
    (value,) = c.execute(f"SELECT {column} FROM audit WHERE seq = ?", (seq,)).fetchone()
    changed = value ^ (1 << bit)
    if column == "seq" and 1 <= changed <= len(EVENTS):
        return  # would collide with another entry's key; covered by the reordering test
    c.execute(f"UPDATE audit SET {column} = ? WHERE seq = ?", (changed, seq))
    assert not verify(c).ok


@pytest.mark.parametrize(("seq", "value"), [(1, "sms"), (2, None)])
def test_adding_or_removing_a_channel_is_detected(seq: int, value: str | None) -> None:
    c = _chain()
    c.execute("UPDATE audit SET channel = ? WHERE seq = ?", (value, seq))
    result = verify(c)
    assert (result.ok, result.first_bad_seq) == (False, seq)


def test_verify_reads_the_log_as_a_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    # O(1) memory: rows are consumed one at a time from the cursor, never fetched all at once.
    c = connect()
    for i in range(2000):
        append(c, AuditEvent(T0, "service", "attempt", i, "sms", {"n": i}))
    calls: list[str] = []
    real = audit._cursor

    class Spy:
        def __init__(self, cur: sqlite3.Cursor) -> None:
            self.cur = cur

        def execute(self, sql: str, *args: object) -> Spy:
            self.cur.execute(sql, *args)
            return self

        def __iter__(self) -> Spy:
            return self

        def __next__(self) -> object:
            calls.append("next")
            return next(self.cur)

        def fetchall(self) -> object:  # pragma: no cover - must not be called
            raise AssertionError("verify must not fetch the whole log")

    monkeypatch.setattr(audit, "_cursor", lambda conn: Spy(real(conn)))
    assert verify(c).ok
    assert len(calls) == 2001
