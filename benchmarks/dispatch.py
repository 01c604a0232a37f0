"""Outbox throughput and accept-to-first-delivery latency, against raw SQLite in the same run.

    .venv/bin/python benchmarks/dispatch.py [--seconds 3] [--latency-alerts 200]

Prints:
1. raw SQLite: one durable transaction (WAL, synchronous=FULL) inserting the same bytes and the
   same number of rows as an accepted alert, per second: the ceiling for a durable outbox;
2. accepted alerts/s into the outbox (``record_acceptance``: routing and the outbox transaction
   with its audit entry), and through the whole send path (``accept_alert``: validation first);
3. p50/p99 from the commit of ``accept_alert`` to the first gateway ``deliver`` call, with the
   dispatch service running in-process and polling the outbox, alerts sent one at a time.
The three throughputs are measured in interleaved rounds and their medians compared.
Targets (issue 4): into the outbox >= 0.5 x raw; p99 accept-to-first-delivery < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cap.authoring import alert_from_description  # noqa: E402
from cap.parsing import parse_alert  # noqa: E402
from cap.serialize import serialize_alert  # noqa: E402
from dispatch.accept import accept_alert, record_acceptance  # noqa: E402
from dispatch.config import parse_dispatch_config  # noqa: E402
from dispatch.service import DispatchService  # noqa: E402
from dispatch.store import Outbox  # noqa: E402
from gateways.base import (  # noqa: E402
    AlertEnvelope,
    ChannelMessage,
    MessagePurpose,
    Receipt,
    ReceiptStatus,
)


def make_alert(n: int) -> bytes:
    now = datetime.now(UTC)
    return serialize_alert(
        alert_from_description(
            {
                "sender": "bench@met.example.gov",
                "info": [
                    {
                        "category": "Met",
                        "event": "Flood",
                        "urgency": "Expected",
                        "severity": "Severe",
                        "certainty": "Likely",
                        "expires": now + timedelta(hours=6),
                        "headline": f"Flood warning {n}",
                        "description": "Rivers are rising. " * 20,
                        "instruction": "Move to higher ground. " * 10,
                        "areas": [
                            {
                                "area_desc": "Vale",
                                "polygons": ["53.96,-1.08 53.93,-1.02 53.80,-1.05 53.96,-1.08"],
                                "geocodes": [["SAME", "006109"]],
                            }
                        ],
                    }
                ],
            },
            now=now,
            identifier=f"bench-{n}-{time.monotonic_ns()}",
        )
    )


def raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, k TEXT UNIQUE, data BLOB)")
    conn.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, a INTEGER, c TEXT, s TEXT)")
    conn.execute("CREATE TABLE l (id INTEGER PRIMARY KEY, a INTEGER, entry TEXT)")
    return conn


def raw_insert(conn: sqlite3.Connection, n: int, payload: bytes, rows: int, log: str) -> None:
    """One durable transaction of the same size as an acceptance: the alert's bytes, one row
    per delivery and one log row as long as the audit entry."""
    conn.execute("BEGIN IMMEDIATE")
    cur = conn.execute("INSERT INTO a (k, data) VALUES (?, ?)", (f"k{n}", payload))
    for r in range(rows):
        conn.execute("INSERT INTO d (a, c, s) VALUES (?, ?, 'pending')", (cur.lastrowid, r))
    conn.execute("INSERT INTO l (a, entry) VALUES (?, ?)", (cur.lastrowid, log))
    conn.execute("COMMIT")


def rate_of(step: Callable[[], None], seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - start)


class FirstCallGateway:
    """Records when deliver() is first called for each alert."""

    kind = "bench"
    can_withdraw = False

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        self.channel = channel
        self.first: dict[str, float] = {}
        self.lock = threading.Lock()

    def prepare(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[ChannelMessage]:
        return [
            ChannelMessage(
                self.channel, "cap", purpose, envelope.identity.identifier.encode(), "text/plain"
            )
        ]

    def deliver(self, message: ChannelMessage) -> Receipt:
        with self.lock:
            self.first.setdefault(message.payload.decode(), time.perf_counter())
        return Receipt(ReceiptStatus.SENT)

    def close(self) -> None:
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=9.0, help="total per measurement")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--latency-alerts", type=int, default=200)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tocsin-bench-", dir=REPO / "benchmarks"))
    try:
        return run(work, args)
    finally:
        for p in sorted(work.glob("*"), reverse=True):
            p.unlink()
        work.rmdir()


def run(work: Path, args: argparse.Namespace) -> int:
    raw_config = {
        "store": {"path": str(work / "outbox.db")},
        "channels": {
            "one": {"gateway": "log"},
            "two": {"gateway": "log", "min_severity": "Severe"},
        },
    }
    config = parse_dispatch_config(raw_config, base_dir=work, data_dir=work)
    outbox = Outbox(config.store.sqlite_path)
    sample = make_alert(0)
    rows = len(config.channels)
    print(f"alert size {len(sample)} bytes, {rows} channels; {os.cpu_count()} CPUs")

    alerts = iter([make_alert(n) for n in range(1, 30_000)])
    parsed = iter([parse_alert(make_alert(100_000 + n)) for n in range(30_000)])
    raw_conn = raw_connection(work / "raw.db")
    counter = iter(range(10**9))

    def send_path() -> None:
        accept_alert(
            outbox, config.channels, next(alerts), actor="bench", now=datetime.now(UTC),
            can_withdraw=lambda c: False,
        )  # fmt: skip

    def outbox_path() -> None:
        p = next(parsed)
        record_acceptance(
            outbox, config.channels, p.alert, p.data, actor="bench", now=datetime.now(UTC),
            can_withdraw=lambda c: False,
        )  # fmt: skip

    send_path()
    audit_row = (
        outbox.connection()
        .execute(
            "SELECT at || actor || action || detail || prev_hash || hash AS t FROM audit "
            "WHERE action = 'submitted' ORDER BY seq DESC LIMIT 1"
        )
        .fetchone()
    )
    log_text = "x" * (len(audit_row["t"]) if audit_row else 400)

    def raw_txn() -> None:
        raw_insert(raw_conn, next(counter), sample, rows, log_text)

    # Interleaved rounds, so that the disk's mood affects all three alike; medians reported.
    results: dict[str, list[float]] = {"raw": [], "outbox": [], "send": []}
    per = args.seconds / args.rounds
    for _ in range(args.rounds):
        results["raw"].append(rate_of(raw_txn, per))
        results["outbox"].append(rate_of(outbox_path, per))
        results["send"].append(rate_of(send_path, per))
    raw = statistics.median(results["raw"])
    store_only = statistics.median(results["outbox"])
    full = statistics.median(results["send"])
    print(f"medians of {args.rounds} interleaved rounds:")
    print(f"  raw SQLite durable insert txn ({rows + 2} rows)   {raw:8.0f} txn/s")
    print(
        f"  into the outbox (route + transaction)      {store_only:8.0f} alerts/s   "
        f"ratio {store_only / raw:.2f} (target >= 0.50)"
    )
    print(
        f"  send path (validate + route + transaction) {full:8.0f} alerts/s   "
        f"ratio {full / raw:.2f}"
    )

    # Latency: a running service, alerts accepted one at a time.
    gateway = FirstCallGateway("one", {})
    lat_config = parse_dispatch_config(
        {"store": {"path": str(work / "latency.db")}, "channels": {"one": {"gateway": "log"}}},
        base_dir=work,
        data_dir=work,
    )
    lat_outbox = Outbox(lat_config.store.sqlite_path)
    service = DispatchService(lat_config, Outbox(lat_config.store.sqlite_path), {"one": gateway})
    service.start()
    committed: dict[str, float] = {}
    try:
        for k in range(args.latency_alerts):
            data = make_alert(100_000 + k)
            acceptance = accept_alert(
                lat_outbox, lat_config.channels, data, actor="bench", now=datetime.now(UTC),
                can_withdraw=lambda c: False,
            )  # fmt: skip
            committed[acceptance.identity.identifier] = time.perf_counter()
            time.sleep(0.01)
        deadline = time.perf_counter() + 30
        while len(gateway.first) < len(committed) and time.perf_counter() < deadline:
            time.sleep(0.01)
    finally:
        service.stop()
    latencies = sorted(
        (gateway.first[i] - t) * 1000 for i, t in committed.items() if i in gateway.first
    )
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"accept -> first deliver() over {len(latencies)} alerts: p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms (target p99 < 50 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
