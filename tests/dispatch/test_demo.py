"""``tocsin demo`` (what ``scripts/demo`` runs) works end to end and says what happened."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool


@pytest.mark.integration
def test_the_demo_runs_end_to_end(tmp_path: Path) -> None:
    for tool in ("multimon-ng", "sox", "direwolf", "atest", "espeak-ng"):
        require_tool(tool, "direwolf" if tool == "atest" else None)
    proc = subprocess.run(
        # a relative --dir, as scripts/demo uses (out/demo): every tool must get absolute paths
        [sys.executable, "-m", "cap", "demo", "--dir", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "all deliveries settled: True" in out
    assert "audit log: intact" in out
    assert "archive: 3 CAP files" in out
    # 61 numbers in the area (60 residents and the duty desk), each sent the warning, the
    # update and the cancel; the 5 people outside the delta get nothing
    sms = re.search(r"sms: (\d+) messages in (\d+) segments to (\d+) numbers", out)
    assert sms is not None, out
    messages, segments, numbers = map(int, sms.groups())
    assert (messages, numbers) == (3 * 61, 61)
    assert segments >= messages
    assert "+1415555" not in (tmp_path / "demo" / "sms-pdus.jsonl").read_text()
    # the radio channels: what real decoders hear in the audio written for the transmitters
    heard = re.findall(r"multimon-ng hears \S+: (\S+)", out)
    assert len(heard) == 3 and all(h.startswith("ZCZC-CIV-FLW-006067+") for h in heard), out
    frames = re.findall(r"direwolf's atest hears \S+: (\d+) frames", out)
    # the warning and the update as 5 bulletin lines each, then 5 cancellation lines for each
    assert "sent over KISS to direwolf" in out
    assert sum(int(n) for n in frames) == 20, out
