"""The ``cbs`` channel end to end against a real osmo-bsc: an alert becomes a WRITE-REPLACE to
the cells covering its area, an Update replaces it with the chain's next serial, a withdrawal
KILLs it; and a cell the BSC does not have is a recorded failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cap.authoring import alert_from_description, update_alert
from cap.model import Alert
from gateways.base import (
    AlertEnvelope,
    CannotCarryError,
    GatewayConfigError,
    MessagePurpose,
    PermanentGatewayError,
    ReceiptStatus,
)
from gateways.cell_broadcast.gateway import CellBroadcastGateway, repetition_units
from gateways.cell_broadcast.serial import SerialNumber
from tests.gateways.cell_broadcast.test_osmo_bsc import OsmoBsc, bsc

__all__ = ["bsc"]  # the fixture

NOW = datetime.now(UTC).replace(microsecond=0)
# BTS 0 of the test osmo-bsc (LAC 23, CI 1001, with a CBCH) stands in the flooded valley; a
# second cell of the table, far away, must not be chosen.
CELLS = """mcc,mnc,lac,ci,lon,lat,range
901,70,23,1001,-121.53,38.33,2000
901,70,23,1002,-122.42,37.77,2000
"""
VALLEY = "38.46,-121.52 38.40,-121.45 38.22,-121.48 38.22,-121.62 38.40,-121.60 38.46,-121.52"


def flood(**info: object) -> Alert:
    return alert_from_description(
        {
            "sender": "alerts@met.example.gov",
            "info": [
                {
                    "language": "en",
                    "category": "Met",
                    "event": "Flood",
                    "urgency": "Immediate",
                    "severity": "Extreme",
                    "certainty": "Observed",
                    "headline": "Flood warning: leave the valley floor now",
                    "instruction": "Move to higher ground now.",
                    "expires": NOW + timedelta(hours=6),
                    "areas": [{"area_desc": "Valley", "polygons": [VALLEY]}],
                    **info,
                }
            ],
        },
        now=NOW,
    )


def envelope(alert: Alert, alert_id: int = 1) -> AlertEnvelope:
    return AlertEnvelope(alert_id, alert.identity, b"", alert)


@pytest.fixture
def cells_file(tmp_path: Path) -> Path:
    path = tmp_path / "cells.csv"
    path.write_text(CELLS)
    return path


def gateway_to(bsc: OsmoBsc, tmp_path: Path, cells_file: Path) -> Iterator[CellBroadcastGateway]:
    gateway = CellBroadcastGateway(
        "cbs",
        {
            "cbsp": f"tcp:{bsc.ip}:{bsc.port}",
            "cells_file": str(cells_file),
            "serials_file": str(tmp_path / "serials.db"),
            "repetition_period": 30,
        },
    )
    try:
        yield gateway
    finally:
        gateway.close()


@pytest.mark.integration
def test_alert_update_and_withdrawal_reach_osmo_bsc(
    bsc: OsmoBsc, tmp_path: Path, cells_file: Path
) -> None:
    for gateway in gateway_to(bsc, tmp_path, cells_file):
        warning = flood()
        (message,) = gateway.prepare(envelope(warning), MessagePurpose.ALERT)
        payload = json.loads(message.payload)
        assert payload["message_id"] == 4371  # EU-Alert level 2: Extreme, Immediate, Observed
        assert payload["cells"] == [["901", "70", 23, 1001]]  # the valley's cell only
        receipt = gateway.deliver(message)
        assert receipt.status is ReceiptStatus.CONFIRMED and "on 1 cell(s)" in (
            receipt.reference or ""
        )
        first = SerialNumber.decode(payload["serial"])

        update = update_alert(
            warning, {"info_changes": {"headline": "Flood: water rising"}}, now=NOW
        )
        (updated,) = gateway.prepare(envelope(update, 2), MessagePurpose.ALERT)
        again = json.loads(updated.payload)
        assert again["old_serial"] == payload["serial"]
        second = SerialNumber.decode(again["serial"])
        assert second.message_code == first.message_code
        assert second.update_number == (first.update_number + 1) % 16
        assert gateway.deliver(updated).status is ReceiptStatus.CONFIRMED

        (kill,) = gateway.prepare(envelope(update, 2), MessagePurpose.WITHDRAW)
        killed = gateway.deliver(kill)
        assert killed.reference == f"killed 4371/{second}"
        # nothing left on air for the chain: a second withdrawal has nothing to kill
        (nothing,) = gateway.prepare(envelope(update, 2), MessagePurpose.WITHDRAW)
        assert gateway.deliver(nothing).reference == "nothing on air to kill"


@pytest.mark.integration
def test_a_cell_the_bsc_does_not_have_is_a_failed_delivery(bsc: OsmoBsc, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("mcc,mnc,lac,ci,lon,lat,range\n901,70,99,4242,-121.53,38.33,2000\n")
    for gateway in gateway_to(bsc, tmp_path, wrong):
        (message,) = gateway.prepare(envelope(flood()), MessagePurpose.ALERT)
        with pytest.raises(PermanentGatewayError, match="every cell refused it"):
            gateway.deliver(message)


def test_what_cannot_be_broadcast_is_refused(tmp_path: Path, cells_file: Path) -> None:
    def channel(profile: str) -> CellBroadcastGateway:
        return CellBroadcastGateway(
            "cbs",
            {"cbsp": "tcp:127.0.0.1:1", "cells_file": str(cells_file), "profile": profile,
             "serials_file": str(tmp_path / f"{profile}.db")},
        )  # fmt: skip

    far = flood(areas=[{"area_desc": "Elsewhere", "polygons": [
        "10.0,10.0 10.1,10.0 10.1,10.1 10.0,10.0"]}])  # fmt: skip
    with pytest.raises(CannotCarryError, match="no cell of the cell table covers"):
        channel("eu-alert").prepare(envelope(far), MessagePurpose.ALERT)
    minor = flood(severity="Minor", urgency="Future", certainty="Possible")
    with pytest.raises(CannotCarryError, match="severity Minor is not Extreme"):
        channel("us-wea").prepare(envelope(minor), MessagePurpose.ALERT)


def test_options_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match="serials_file"):
        CellBroadcastGateway("cbs", {"cbsp": "tcp:127.0.0.1:48049"})
    with pytest.raises(GatewayConfigError, match="say where messages go"):
        CellBroadcastGateway("cbs", {"serials_file": str(tmp_path / "s.db")})


def test_repetition_period_in_cbsp_units() -> None:
    assert repetition_units(60) == 32  # 60 s / 1.883 s
    assert repetition_units(0.5) == 1
    assert repetition_units(10_000) == 4095


def test_the_readme_cell_broadcast_example_is_a_working_configuration(tmp_path: Path) -> None:
    import tomllib

    from dispatch.config import parse_dispatch_config
    from gateways.registry import create_gateway

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    table = next(b for b in readme.split("```csv")[1:]).split("```", 1)[0]
    (tmp_path / "cells.csv").write_text(table.lstrip())
    example = next(b for b in readme.split("```toml")[1:] if 'gateway = "cbs"' in b)
    config = parse_dispatch_config(
        tomllib.loads(example.split("```", 1)[0]), base_dir=tmp_path, data_dir=tmp_path
    )
    (channel,) = config.channels
    gateway = create_gateway(channel.gateway, channel.name, channel.options)
    try:
        (message,) = gateway.prepare(envelope(flood()), MessagePurpose.ALERT)
        assert json.loads(message.payload)["cells"] == [["901", "70", 23, 1001]]
    finally:
        gateway.close()


def test_the_preview_uses_the_configured_channel(
    tmp_path: Path, cells_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cap.cli import main

    config = tmp_path / "tocsin.toml"
    config.write_text(
        '[channels.cb]\ngateway = "cbs"\nprofile = "us-wea"\n'
        f'cells_file = "{cells_file.name}"\ncbsp = "tcp:127.0.0.1:1"\nserials_file = "s.db"\n'
    )
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    alert_file = tmp_path / "flood.xml"
    from cap.serialize import serialize_alert

    alert_file.write_bytes(serialize_alert(flood()))
    from gateways.cell_broadcast.preview import preview_configured_cbs

    text, data = preview_configured_cbs(flood())
    assert "profile us-wea" in text
    assert "1 of 2 cells reach the area" in text
    assert data["messages"]
    config.write_text('[channels.cb]\ngateway = "cbs"\nprofile = "no-such-profile"\n')
    assert main(["preview", str(alert_file), "--channel", "cbs"]) == 2
