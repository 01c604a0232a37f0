"""Crash test: ``tocsin serve`` killed with SIGKILL at random moments loses no accepted alert.

Alerts are accepted into the outbox (each acceptance is a committed transaction) while the
service delivers them through a gateway that records every message it is given (fsynced).
The service is killed at seeded random moments and restarted; at the end every accepted alert
must have reached every routed channel at least once. Duplicates (messages in flight at the
moment of a kill) are counted and reported.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cap.authoring import alert_from_description
from cap.serialize import serialize_alert
from dispatch.accept import accept_alert
from dispatch.config import parse_dispatch_config
from dispatch.delivery import DeliveryState
from dispatch.store import Outbox

REPO = Path(__file__).resolve().parents[2]
TRIALS = 50
SEED = 20261123


def _config_text(tmp_path: Path) -> str:
    gateway = "tests.dispatch.recording_gateway:RecordingGateway"
    return f"""
[store]
path = "{tmp_path / "outbox.db"}"

[channels.alpha]
gateway = "{gateway}"
path = "{tmp_path / "alpha.log"}"
messages = 3

[channels.beta]
gateway = "{gateway}"
path = "{tmp_path / "beta.log"}"
concurrency = 2
"""


def _alert(n: int, now: datetime) -> bytes:
    return serialize_alert(
        alert_from_description(
            {
                "sender": "crash@test.example.org",
                "info": [
                    {
                        "category": "Safety",
                        "event": "Drill",
                        "urgency": "Immediate",
                        "severity": "Minor",
                        "certainty": "Observed",
                        "expires": now + timedelta(hours=2),
                        "headline": f"crash test {n}",
                        "areas": [{"area_desc": "Lab"}],
                    }
                ],
            },
            now=now,
            identifier=f"crash-{n}",
        )
    )


def _serve(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cap", "--config", str(config), "serve"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


@pytest.mark.integration
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    config_path = tmp_path / "tocsin.toml"
    config_path.write_text(_config_text(tmp_path), encoding="utf-8")
    import tomllib

    config = parse_dispatch_config(
        tomllib.loads(config_path.read_text()), base_dir=tmp_path, data_dir=tmp_path
    )
    outbox = Outbox(config.store.sqlite_path)
    rng = random.Random(SEED)
    accepted: dict[int, str] = {}
    n = 0
    kills = 0
    for _trial in range(TRIALS):
        proc = _serve(config_path)
        deadline = time.monotonic() + rng.uniform(0.05, 0.8)
        while time.monotonic() < deadline:
            n += 1
            acceptance = accept_alert(
                outbox, config.channels, _alert(n, datetime.now(UTC)), actor="crash-test",
                now=datetime.now(UTC), can_withdraw=lambda c: True,
            )  # fmt: skip
            accepted[acceptance.alert_id] = f"crash-{n}"
            time.sleep(rng.uniform(0.0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
    # A last, uninterrupted run delivers whatever is left.
    proc = _serve(config_path)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = outbox.counts()
            if not states.get("pending") and not states.get("in_flight"):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"deliveries did not settle: {outbox.counts()}")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""

    alpha = Counter((tmp_path / "alpha.log").read_text().splitlines())
    beta = Counter((tmp_path / "beta.log").read_text().splitlines())
    missing = []
    for alert_id, identifier in accepted.items():
        for part in range(3):
            if alpha[f"{alert_id} {identifier} alert {part}"] < 1:
                missing.append(("alpha", alert_id, part))
        if beta[f"{alert_id} {identifier} alert 0"] < 1:
            missing.append(("beta", alert_id, 0))
        states = {d.state for d in outbox.deliveries(alert_id)}
        assert states == {DeliveryState.CONFIRMED}, (alert_id, states)
    duplicates = sum(c - 1 for c in alpha.values()) + sum(c - 1 for c in beta.values())
    messages = sum(alpha.values()) + sum(beta.values())
    print(
        f"\ncrash test: {kills} SIGKILLs, {len(accepted)} alerts accepted, {messages} messages "
        f"recorded, {duplicates} duplicates ({duplicates / max(1, messages):.2%}), "
        f"{len(missing)} missing"
    )
    assert kills == TRIALS
    assert not missing, missing[:10]
