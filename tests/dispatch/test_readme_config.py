"""The commented configuration example in README.md is a configuration that works."""

from __future__ import annotations

import tomllib
from pathlib import Path

from cap.config import load_config
from dispatch.config import parse_dispatch_config
from dispatch.routing import route_all
from gateways.registry import create_gateway
from tests.dispatch.test_service import make_alert

REPO = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split("```toml", 1)[1].split("```", 1)[0]


def test_readme_example_loads_and_routes(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.toml"
    path.write_text(readme_example(), encoding="utf-8")
    settings = load_config(str(path))
    assert settings.authority.sender == "alerts@met.example.gov"
    config = parse_dispatch_config(
        tomllib.loads(path.read_text()), base_dir=tmp_path, data_dir=tmp_path, source=path
    )
    assert config.store.sqlite_path == tmp_path / "tocsin.db"
    assert [c.name for c in config.channels] == ["archive", "console", "coast-radio"]
    for channel in config.channels:
        create_gateway(channel.gateway, channel.name, channel.options).close()
    from datetime import UTC, datetime

    decisions = {
        d.channel: d.routed for d in route_all(make_alert(datetime.now(UTC)), config.channels)
    }
    # A Severe flood in England: archived and logged, not for the Timor-Leste coast radio.
    assert decisions == {"archive": True, "console": True, "coast-radio": False}
