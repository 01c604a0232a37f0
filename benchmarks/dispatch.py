"""Outbox throughput and accept-to-first-delivery latency, against raw SQLite in the same run.

    .venv/bin/python benchmarks/dispatch.py [--seconds 12] [--latency-alerts 200]

Prints:
1. raw SQLite: one durable transaction (WAL, synchronous=FULL) inserting the same bytes and the
   same number of rows as an accepted alert, per second: the ceiling for one writer that
   commits each alert on its own;
2. accepted alerts/s into the outbox (``record_acceptance``: routing and the outbox transaction
   with its audit entry) from one submitter at a time, and from 8 at once (the HTTP intake
   under a burst; their acceptances share commits), and through the whole send path
   (``accept_alert``: validation first);
3. p50/p99 from the commit of ``accept_alert`` to the first gateway ``deliver`` call, with the
   dispatch service running in-process and polling the outbox, alerts sent one at a time.
The throughputs are measured in interleaved rounds; the ratio is the median of the rounds'
ratios (each round's measurements are seconds apart), printed with their range.
Targets (issue 4): into the outbox >= 0.5 x raw; p99 accept-to-first-delivery < 50 ms. The
outbox's throughput is what it accepts when submissions queue up (8 submitters): raw SQLite
cannot go faster than one durable commit per transaction however many writers it has, while
the outbox makes the queued acceptances durable together. One submitter at a time is bounded
by one commit per alert plus the outbox's own work (routing, indexes, the audit chain: about
150 us of CPU per alert more than the raw insert), and is printed beside it.
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
from cap.parsing import ParsedAlert, parse_alert  # noqa: E402
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

SUBMITTERS = 8


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
    ap.add_argument("--seconds", type=float, default=12.0, help="total per measurement")
    ap.add_argument("--rounds", type=int, default=15)
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

    # Unique alerts are made between measurements, as many as the next one can use.
    alerts: list[bytes] = []
    parsed: list[ParsedAlert] = []
    made = iter(range(1, 10**9))

    def top_up(name: str, seconds: float, fastest: float) -> None:
        want = int(fastest * seconds * 1.5) + 500
        if name == "send":
            alerts.extend(make_alert(next(made)) for _ in range(want - len(alerts)))
        elif name in ("outbox", "burst"):
            parsed.extend(parse_alert(make_alert(next(made))) for _ in range(want - len(parsed)))

    raw_conn = raw_connection(work / "raw.db")
    counter = iter(range(10**9))

    def send_path() -> None:
        accept_alert(
            outbox, config.channels, alerts.pop(), actor="bench", now=datetime.now(UTC),
            can_withdraw=lambda c: False,
        )  # fmt: skip

    def outbox_path() -> None:
        p = parsed.pop()
        record_acceptance(
            outbox, config.channels, p.alert, p.data, actor="bench", now=datetime.now(UTC),
            can_withdraw=lambda c: False,
        )  # fmt: skip

    top_up("send", 0.0, 0.0)
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

    def burst_rate(seconds: float) -> float:
        """Alerts/s into the outbox with SUBMITTERS threads submitting at once, as the HTTP
        intake does under a burst: their acceptances share commits (group commit)."""
        done = [0] * SUBMITTERS
        start = threading.Barrier(SUBMITTERS + 1)

        def submitter(k: int) -> None:
            start.wait()
            while time.perf_counter() < deadline:
                outbox_path()
                done[k] += 1

        threads = [threading.Thread(target=submitter, args=(k,)) for k in range(SUBMITTERS)]
        for t in threads:
            t.start()
        deadline = time.perf_counter() + seconds
        began = time.perf_counter()
        start.wait()
        for t in threads:
            t.join()
        return sum(done) / (time.perf_counter() - began)

    # Interleaved rounds, so that the disk's mood affects all three alike. Each round's ratio
    # compares measurements taken seconds apart; the median of those ratios is reported, with
    # their spread. The order within a round alternates, so neither side always runs first.
    results: dict[str, list[float]] = {"raw": [], "outbox": [], "send": [], "burst": []}
    steps = {"raw": raw_txn, "outbox": outbox_path, "send": send_path}
    per = args.seconds / args.rounds
    for n in range(args.rounds):
        order = ["raw", "outbox", "burst", "send"]
        for name in order if n % 2 == 0 else reversed(order):
            top_up(name, per, max(results[name], default=5000.0))
            if name == "burst":
                results[name].append(burst_rate(per))
            else:
                results[name].append(rate_of(steps[name], per))
    raw = statistics.median(results["raw"])
    store_ratios = sorted(o / r for o, r in zip(results["outbox"], results["raw"], strict=True))
    burst_ratios = sorted(b / r for b, r in zip(results["burst"], results["raw"], strict=True))
    send_ratios = sorted(s / r for s, r in zip(results["send"], results["raw"], strict=True))
    print(f"{args.rounds} interleaved rounds; rates are medians, ratios the median of rounds':")
    print(f"  raw SQLite durable insert txn ({rows + 2} rows)   {raw:8.0f} txn/s")
    print(
        f"  into the outbox, one submitter at a time   {statistics.median(results['outbox']):8.0f}"
        f" alerts/s   ratio {statistics.median(store_ratios):.2f} (one commit per alert; rounds "
        f"{store_ratios[0]:.2f}-{store_ratios[-1]:.2f})"
    )
    print(
        f"  into the outbox, {SUBMITTERS} submitters at once    "
        f"{statistics.median(results['burst']):8.0f} alerts/s   ratio "
        f"{statistics.median(burst_ratios):.2f} (target >= 0.50; group commit; "
        f"rounds {burst_ratios[0]:.2f}-{burst_ratios[-1]:.2f})"
    )
    print(
        f"  send path (validate + route + transaction) {statistics.median(results['send']):8.0f}"
        f" alerts/s   ratio {statistics.median(send_ratios):.2f}"
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
