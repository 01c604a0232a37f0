"""The [outage] section: defaults, every key, errors that name the key, and the weight rule."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from outage_map.config import (
    DEFAULT_SOURCES,
    MergePolicy,
    SourcePolicy,
    default_outage_config,
    outage_config_from,
    parse_outage_config,
)
from outage_map.errors import OutageConfigError
from outage_map.model import SourceKind, Technology

BASE = Path("/etc/tocsin")
DATA = Path("/var/lib/tocsin")


def parse(text: str) -> object:
    return parse_outage_config(tomllib.loads(text), base_dir=BASE, data_dir=DATA)


def test_defaults_without_a_section() -> None:
    config = parse_outage_config({}, base_dir=BASE, data_dir=DATA)
    assert config == default_outage_config(DATA)
    assert config.store_path == DATA / "outage.db"
    assert config.policy.sources[SourceKind.OPERATOR] == DEFAULT_SOURCES[SourceKind.OPERATOR]
    assert outage_config_from({}, None, DATA) == config


def test_every_key() -> None:
    config = parse_outage_config(
        tomllib.loads(
            """
            [outage]
            store = "maps/outage.db"
            max_age = "3d"
            area_site_weight = 0.25
            down_below = 0.4
            up_from = 0.8
            max_range = 20000
            [outage.sources.crowd]
            trust = 0.2
            half_life = "90m"
            [outage.sources.probe]
            half_life = "PT30M"
            [outage.coverage]
            lte = 1500
            default = 2500
            """
        ),
        base_dir=BASE,
        data_dir=DATA,
    )
    policy = config.policy
    assert config.store_path == BASE / "maps" / "outage.db"
    assert policy.max_age_s == 3 * 86400
    assert (policy.area_site_weight, policy.down_below, policy.up_from) == (0.25, 0.4, 0.8)
    assert policy.max_range_m == 20000
    assert policy.sources[SourceKind.CROWD] == SourcePolicy(0.2, 5400.0)
    probe = policy.sources[SourceKind.PROBE]
    assert probe.half_life_s == 1800.0 and probe.trust == DEFAULT_SOURCES[SourceKind.PROBE].trust
    assert policy.coverage_m[Technology.LTE] == 1500 and policy.default_range_m == 2500
    assert policy.coverage_m[Technology.GSM] == 5000  # untouched default


def test_an_absolute_store_path_is_kept() -> None:
    config = parse_outage_config(
        {"outage": {"store": "/srv/outage.db"}}, base_dir=BASE, data_dir=DATA
    )
    assert config.store_path == Path("/srv/outage.db")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[outage]\ncolour = 'red'", "colour"),
        ("[outage]\nmax_age = 'soon'", "max_age"),
        ("[outage]\nmax_age = -5", "max_age"),
        ("[outage.sources.pigeon]\ntrust = 0.5", "pigeon"),
        ("[outage.sources.crowd]\ntrust = 1.5", "[outage.sources.crowd] trust"),
        ("[outage.sources.crowd]\ntrust = 'high'", "[outage.sources.crowd] trust"),
        ("[outage.sources.crowd]\nhalf_life = '1s'", "[outage.sources.crowd] half_life"),
        ("[outage.sources.crowd]\nspeed = 1", "speed"),
        ("[outage]\ndown_below = 0.9\nup_from = 0.5", "down_below"),
        ("[outage]\narea_site_weight = 0", "area_site_weight"),
        ("[outage.coverage]\nlte = 50000", "[outage.coverage] lte"),
        ("[outage.coverage]\nwifi = 100", "wifi"),
        ("[outage]\nstore = ''", "store"),
        ("[outage]\nsources = 3", "[outage.sources]"),
    ],
)
def test_errors_name_the_key(text: str, names: str) -> None:
    with pytest.raises(OutageConfigError, match=names.replace("[", r"\[").replace("]", r"\]")):
        parse(text)


def test_errors_from_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.toml"
    with pytest.raises(OutageConfigError, match=str(path)):
        outage_config_from({"outage": {"max_age": "x"}}, path, DATA)


def test_policy_json_is_stable() -> None:
    assert MergePolicy().to_json() == MergePolicy().to_json()
    assert '"max_age_s":604800.0' in MergePolicy().to_json()


@given(
    st.sampled_from(list(SourceKind)),
    st.lists(st.floats(0, 8 * 86400, allow_nan=False), min_size=2, max_size=20),
)
def test_weights_decay_monotonically(kind: SourceKind, ages: list[float]) -> None:
    policy = MergePolicy()
    ordered = np.sort(np.array(ages))
    weights = policy.weight(kind, ordered)
    assert np.all(np.diff(weights) <= 0)
    assert np.all(weights[ordered >= policy.max_age_s] == 0)
    assert np.all(weights[ordered < policy.max_age_s] > 0)
    assert np.all(weights <= policy.sources[kind].trust)


def test_weight_at_zero_and_one_half_life() -> None:
    policy = MergePolicy()
    rule = policy.sources[SourceKind.OPERATOR]
    assert float(policy.weight(SourceKind.OPERATOR, 0.0)) == rule.trust
    assert math.isclose(float(policy.weight(SourceKind.OPERATOR, rule.half_life_s)), rule.trust / 2)
    assert float(policy.weight(SourceKind.OPERATOR, -1.0)) == 0.0  # not observed yet
