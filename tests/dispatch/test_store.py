"""The outbox's group commit: concurrent writers share one transaction, each in a savepoint."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cap.serialize import serialize_alert
from dispatch import audit
from dispatch.accept import Acceptance, accept_alert
from dispatch.audit import AuditEvent
from dispatch.config import parse_dispatch_config
from dispatch.store import Outbox, Transaction
from tests.dispatch.test_service import make_alert

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def note(tx: Transaction, text: str) -> Transaction:
    """A write that leaves a trace: one audit entry naming ``text``. Returns the transaction
    (kept referenced, so two results are the same object only if they shared it)."""
    tx.audit(AuditEvent(NOW, "test", "note", None, None, {"text": text}))
    return tx


def notes(outbox: Outbox) -> list[str]:
    return [str(e.detail) for e in audit.read_entries(outbox.connection()) if e.action == "note"]


def test_writes_that_arrive_during_a_commit_share_the_next_one(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    leader_inside = threading.Event()
    release_leader = threading.Event()
    results: dict[str, object] = {}

    def slow(tx: Transaction) -> Transaction:
        leader_inside.set()
        assert release_leader.wait(10)
        return note(tx, "first")

    def failing(tx: Transaction) -> Transaction:
        note(tx, "undone")
        raise ValueError("this write fails")

    def run(name: str, work: object) -> None:
        try:
            results[name] = outbox.write_grouped(work)  # type: ignore[arg-type]
        except ValueError as exc:
            results[name] = exc

    first = threading.Thread(target=run, args=("first", slow))
    first.start()
    assert leader_inside.wait(10)
    followers = [
        threading.Thread(target=run, args=("b", lambda tx: note(tx, "b"))),
        threading.Thread(target=run, args=("bad", failing)),
        threading.Thread(target=run, args=("c", lambda tx: note(tx, "c"))),
    ]
    for t in followers:
        t.start()
    # Let them queue behind the committing writer, then let it finish.
    deadline = time.monotonic() + 10
    while len(outbox._group.waiting) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(outbox._group.waiting) == 3
    release_leader.set()
    for t in [first, *followers]:
        t.join(10)

    assert isinstance(results["bad"], ValueError)
    # b and c committed in one transaction (the same Transaction object), after the first.
    assert results["b"] is results["c"]
    assert results["b"] is not results["first"]
    stored = notes(outbox)
    assert sorted(stored) == sorted(['{"text":"first"}', '{"text":"b"}', '{"text":"c"}'])
    assert stored[0] == '{"text":"first"}'
    # The failed write's audit entry was undone without breaking the chain.
    assert audit.verify(outbox.connection()).ok


def test_a_lone_write_that_fails_leaves_nothing(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")

    def failing(tx: Transaction) -> Transaction:
        note(tx, "undone")
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        outbox.write_grouped(failing)
    assert notes(outbox) == []
    outbox.write_grouped(lambda tx: note(tx, "after"))
    assert notes(outbox) == ['{"text":"after"}']
    assert audit.verify(outbox.connection()).ok


def test_a_burst_of_concurrent_submissions_is_stored_once_each(tmp_path: Path) -> None:
    config = parse_dispatch_config(
        {
            "store": {"path": str(tmp_path / "outbox.db")},
            "channels": {"one": {"gateway": "log"}, "two": {"gateway": "log"}},
        },
        base_dir=tmp_path,
        data_dir=tmp_path,
    )
    outbox = Outbox(config.store.sqlite_path)
    # 40 distinct alerts, each submitted twice at once by different threads.
    alerts = [make_alert(NOW) for _ in range(40)]
    documents = [serialize_alert(a) for a in alerts] * 2
    answers: list[Acceptance] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def submit(share: list[bytes]) -> None:
        start.wait()
        for data in share:
            a = accept_alert(
                outbox, config.channels, data, actor="t", now=NOW, can_withdraw=lambda c: False
            )
            with lock:
                answers.append(a)

    threads = [threading.Thread(target=submit, args=(documents[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert len(answers) == 80
    fresh = [a for a in answers if not a.duplicate]
    assert sorted(a.identity.identifier for a in fresh) == sorted(a.identifier for a in alerts)
    assert sum(a.duplicate for a in answers) == 40
    conn = outbox.connection()
    assert conn.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 40
    assert conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 80
    # Every duplicate answer names the alert that was stored.
    by_identifier = {a.identity.identifier: a.alert_id for a in fresh}
    assert all(by_identifier[a.identity.identifier] == a.alert_id for a in answers)
    assert audit.verify(conn).ok
