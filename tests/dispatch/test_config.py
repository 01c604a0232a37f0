"""The dispatch sections of the configuration file: what operators write and what they get."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.config import (
    AreaFilter,
    ChannelConfig,
    DispatchConfig,
    IntakeConfig,
    RoutingRule,
    StoreConfig,
    default_dispatch_config,
    parse_dispatch_config,
    parse_duration,
)
from dispatch.errors import ConfigurationError, DispatchError

BASE = Path("/etc/tocsin")
DATA = Path("/var/lib/tocsin")


def parse(text: str) -> DispatchConfig:
    return parse_dispatch_config(tomllib.loads(text), base_dir=BASE, data_dir=DATA)


def error(text: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse(text)
    return str(info.value)


# --- defaults ----------------------------------------------------------------------------------


def test_embedded_defaults() -> None:
    config = default_dispatch_config(DATA)
    assert config.store.url == "sqlite:////var/lib/tocsin/tocsin.db"
    assert config.store.sqlite_path == Path("/var/lib/tocsin/tocsin.db")
    assert [c.name for c in config.channels] == ["archive", "console"]
    archive, console = config.channels
    assert archive.gateway == "file"
    assert archive.options == {"directory": "/var/lib/tocsin/archive"}
    assert archive.routing.statuses == {"Actual", "Exercise", "System", "Test"}
    assert "Draft" not in archive.routing.statuses
    assert archive.routing.scopes == {"Public", "Restricted", "Private"}
    assert console.gateway == "log"
    assert console.routing.statuses == {"Actual", "Exercise"}
    assert config.intake == IntakeConfig("127.0.0.1:8470", ())


def test_an_empty_file_gives_the_defaults() -> None:
    assert parse("") == default_dispatch_config(DATA)


def test_other_sections_are_not_dispatch_business() -> None:
    config = parse('[authority]\nsender = "a@b.example"\n[outage]\nanything = 1\n')
    assert config == default_dispatch_config(DATA)


def test_default_channels_feed_the_real_gateways(tmp_path: Path) -> None:
    from gateways.registry import create_gateway

    for channel in default_dispatch_config(tmp_path).channels:
        gateway = create_gateway(channel.gateway, channel.name, channel.options)
        assert gateway.channel == channel.name
        gateway.close()


def test_configs_are_frozen_and_plain_data() -> None:
    config = parse('[channels.a]\ngateway = "log"\nlevel = "WARNING"\n')
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.channels[0].name = "b"  # type: ignore[misc]
    # asdict works (the lead may print a configuration as JSON).
    assert dataclasses.asdict(config)["channels"][0]["options"] == {"level": "WARNING"}


# --- [store] -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "path"),
    [
        ('url = "sqlite:///srv/t.db"', "/srv/t.db"),
        ('url = "sqlite:////srv/t.db"', "/srv/t.db"),
        ('path = "t.db"', "/etc/tocsin/t.db"),
        ('path = "db/t.db"', "/etc/tocsin/db/t.db"),
        ('path = "/srv/t.db"', "/srv/t.db"),
    ],
)
def test_store_location(toml: str, path: str) -> None:
    store = parse(f"[store]\n{toml}\n").store
    assert store.sqlite_path == Path(path)
    assert store.url == f"sqlite:///{path}"


def test_store_path_expands_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/duty")
    assert parse('[store]\npath = "~/t.db"\n').store.sqlite_path == Path("/home/duty/t.db")


def test_postgresql_is_not_supported_yet_and_the_password_is_not_shown() -> None:
    message = error('[store]\nurl = "postgresql://tocsin:hunter2@db/tocsin"\n')
    assert "[store] url" in message
    assert "not supported yet" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('url = "sqlite://"', "in-memory"),
        ('url = "sqlite:///:memory:"', "in-memory"),
        ('url = "sqlite:///t.db?mode=ro"', "query options"),
        ('url = "mysql://db/t"', "not a database URL Tocsin supports"),
        ('url = "sqlite:///srv/t.db"\npath = "t.db"', "both url and path"),
        ('file = "t.db"', "unknown key(s) file; known: url, path"),
        ("url = 3", "[store] url must be a non-empty string"),
    ],
)
def test_bad_store(toml: str, expected: str) -> None:
    message = error(f"[store]\n{toml}\n")
    assert message.startswith("[store]")
    assert expected in message


def test_store_config_refuses_a_non_sqlite_url() -> None:
    with pytest.raises(ConfigurationError, match="not a SQLite URL"):
        _ = StoreConfig("postgresql://db/t").sqlite_path


# --- [channels] --------------------------------------------------------------------------------

FULL_CHANNEL = """
[channels.sms-responders]
gateway = "sms"
modems = ["/dev/ttyUSB0", "/dev/ttyUSB1"]
recipients = "responders.csv"
numbers_file = "numbers.csv"
key_path = "/etc/keys/k.pem"
statuses = ["actual", "Exercise"]
scopes = ["Public", "Restricted"]
msg_types = ["Alert", "Cancel"]
categories = ["Met", "geo"]
events = ["Flood  Warning", "Tornado Warning"]
event_codes = { SAME = ["FFW", "TOR"], WMO = "X" }
min_severity = "severe"
min_urgency = "Expected"
min_certainty = "likely"
languages = ["en", "sw-KE"]
repeat_every = "15m"
max_attempts = 3
backoff_initial = 2
backoff_max = "PT10M"
concurrency = 2
rate_per_second = 0.5

[channels.sms-responders.area]
polygons = ["1,36 1,37 -1,37 -1,36"]
circles = ["-1.29,36.82 25"]
geocodes = ["ADM1=KE-30"]
"""


def test_a_full_channel() -> None:
    (channel,) = parse(FULL_CHANNEL).channels
    assert channel == ChannelConfig(
        name="sms-responders",
        gateway="sms",
        options={
            "modems": ["/dev/ttyUSB0", "/dev/ttyUSB1"],
            "recipients": "/etc/tocsin/responders.csv",  # the SMS directory: a path
            "numbers_file": "/etc/tocsin/numbers.csv",
            "key_path": "/etc/keys/k.pem",
        },
        routing=RoutingRule(
            statuses=frozenset({"Actual", "Exercise"}),
            scopes=frozenset({"Public", "Restricted"}),
            msg_types=frozenset({"Alert", "Cancel"}),
            categories=frozenset({"Met", "Geo"}),
            events=("Flood Warning", "Tornado Warning"),
            event_codes=(("SAME", "FFW"), ("SAME", "TOR"), ("WMO", "X")),
            min_severity="Severe",
            min_urgency="Expected",
            min_certainty="Likely",
            languages=("en", "sw-KE"),
            area=AreaFilter(
                polygons=(((1.0, 36.0), (1.0, 37.0), (-1.0, 37.0), (-1.0, 36.0), (1.0, 36.0)),),
                circles=((-1.29, 36.82, 25.0),),
                geocodes=(("ADM1", "KE-30"),),
            ),
        ),
        repeat_every=timedelta(minutes=15),
        max_attempts=3,
        backoff_initial=timedelta(seconds=2),
        backoff_max=timedelta(minutes=10),
        concurrency=2,
        rate_per_second=0.5,
    )


def test_channel_defaults() -> None:
    (channel,) = parse('[channels.c]\ngateway = "log"\n').channels
    assert channel == ChannelConfig("c", "log", {}, RoutingRule())
    assert channel.routing.statuses == {"Actual"}
    assert channel.routing.scopes == {"Public"}
    assert channel.routing.msg_types == {"Alert", "Update", "Cancel"}
    assert channel.repeat_every is None
    assert (channel.max_attempts, channel.concurrency, channel.rate_per_second) == (8, 1, None)
    assert (channel.backoff_initial, channel.backoff_max) == (
        timedelta(seconds=1),
        timedelta(minutes=5),
    )


def test_channels_replace_the_defaults_and_keep_file_order() -> None:
    config = parse('[channels.zulu]\ngateway = "log"\n[channels.alpha]\ngateway = "log"\n')
    assert [c.name for c in config.channels] == ["zulu", "alpha"]
    assert config.store == default_dispatch_config(DATA).store


def test_directory_option_is_resolved_against_the_config_folder() -> None:
    config = parse('[channels.a]\ngateway = "file"\ndirectory = "archive"\n')
    assert config.channels[0].options == {"directory": "/etc/tocsin/archive"}


def test_event_codes_and_geocodes_as_lists() -> None:
    config = parse(
        '[channels.a]\ngateway = "log"\nevent_codes = ["SAME=TOR", " SAME = SVR "]\n'
        '[channels.a.area]\ngeocodes = { SAME = ["006109", "006111"] }\n'
    )
    routing = config.channels[0].routing
    assert routing.event_codes == (("SAME", "TOR"), ("SAME", "SVR"))
    assert routing.area.geocodes == (("SAME", "006109"), ("SAME", "006111"))


def test_an_open_polygon_is_closed() -> None:
    config = parse('[channels.a]\ngateway = "log"\narea = { polygons = ["0,0 0,1 1,1"] }\n')
    assert config.channels[0].routing.area.polygons == (((0, 0), (0, 1), (1, 1), (0, 0)),)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            'min_severity = "Bad"',
            "[channels.sms] min_severity 'Bad' is not one of Extreme, Severe, Moderate, Minor",
        ),
        (
            'min_severity = "Unknown"',
            "[channels.sms] min_severity 'Unknown' is not one of Extreme, Severe, Moderate, Minor",
        ),
        (
            'min_urgency = "Now"',
            "[channels.sms] min_urgency 'Now' is not one of Immediate, Expected, Future, Past",
        ),
        ('min_certainty = "Sure"', "[channels.sms] min_certainty 'Sure' is not one of Observed"),
        (
            'statuses = ["Actual", "Exrecise"]',
            "[channels.sms] statuses[2] 'Exrecise' is not one of Actual, Exercise, System, "
            "Test, Draft",
        ),
        ("statuses = []", "[channels.sms] statuses is empty, so the channel would carry nothing"),
        ('scopes = ["World"]', "[channels.sms] scopes[1] 'World' is not one of Public"),
        ('msg_types = ["Alarm"]', "[channels.sms] msg_types[1] 'Alarm' is not one of Alert"),
        ('categories = ["Weather"]', "[channels.sms] categories[1] 'Weather' is not one of Geo"),
        ("statuses = 1", "[channels.sms] statuses must be a list"),
        ('languages = ["en_US"]', "[channels.sms] languages[1] 'en_US' is not a language range"),
        ('events = [""]', "[channels.sms] events[1] must be a non-empty string"),
        (
            'event_codes = ["SAME"]',
            "[channels.sms] event_codes[1] 'SAME' is not NAME=VALUE; write e.g. 'SAME=TOR', "
            "or use a table: { SAME = 'TOR' }",
        ),
        ('event_codes = ["SAME="]', "both the name and the value are needed"),
        ("max_attempts = 0", "[channels.sms] max_attempts must be at least 1, not 0"),
        ("max_attempts = 2.5", "[channels.sms] max_attempts must be a whole number"),
        ("max_attempts = true", "[channels.sms] max_attempts must be a whole number"),
        ("concurrency = -1", "[channels.sms] concurrency must be at least 1"),
        ("rate_per_second = 0", "[channels.sms] rate_per_second must be a positive number"),
        ('rate_per_second = "fast"', "[channels.sms] rate_per_second must be a number"),
        ('repeat_every = "soon"', "[channels.sms] repeat_every 'soon' is not a duration"),
        ('repeat_every = "0m"', "[channels.sms] repeat_every must be a positive duration"),
        ("repeat_every = -5", "[channels.sms] repeat_every must be a positive duration"),
        (
            'backoff_initial = "10m"\nbackoff_max = "1m"',
            "[channels.sms] backoff_max (60s) is shorter than backoff_initial (600s)",
        ),
        ("directory = 3", "[channels.sms] directory is a path and must be a string"),
        ("area = {}", "[channels.sms] area is empty"),
        ('area = { polygon = ["0,0 0,1 1,1"] }', "[channels.sms] area has unknown key(s) polygon"),
        (
            'area = { polygons = ["0,0 0,1"] }',
            "[channels.sms] area polygons[1] has 2 distinct point(s)",
        ),
        (
            'area = { polygons = ["0,0 0,1 100,1"] }',
            "[channels.sms] area polygons[1] point 3: latitude 100 is outside -90..90",
        ),
        (
            'area = { polygons = ["0;0 0,1 1,1"] }',
            "[channels.sms] area polygons[1] point 1 '0;0' is not a point",
        ),
        ('area = { circles = ["0,0"] }', "[channels.sms] area circles[1] '0,0' is not a circle"),
        ('area = { circles = ["0,0 0"] }', "radius must be more than 0 km"),
        ('area = { circles = ["0,200 5"] }', "longitude 200 is outside -180..180"),
        ('area = { circles = ["0,0 x"] }', "[channels.sms] area circles[1] radius 'x' is not"),
    ],
)
def test_bad_channel_keys(toml: str, expected: str) -> None:
    message = error(f'[channels.sms]\ngateway = "sms"\n{toml}\n')
    assert expected in message


def test_a_channel_needs_a_gateway() -> None:
    assert error('[channels.sms]\nstatuses = ["Actual"]\n').startswith(
        "[channels.sms] has no gateway; add gateway = "
    )


@pytest.mark.parametrize("name", ["bad name", "../etc", "-x", "é", "a" * 65, ""])
def test_channel_names_must_be_safe(name: str) -> None:
    message = error(f'[channels."{name}"]\ngateway = "log"\n')
    assert f"the channel name {name!r} must be 1 to 64 letters" in message


def test_a_channel_must_be_a_table() -> None:
    assert "[channels] sms must be a table" in error('[channels]\nsms = "log"\n')


def test_an_empty_channels_table_is_refused() -> None:
    assert "[channels] lists no channel" in error("[channels]\n")


def test_the_source_prefixes_messages() -> None:
    raw = tomllib.loads('[channels.sms]\ngateway = "sms"\nmin_severity = "Bad"\n')
    with pytest.raises(DispatchError) as info:
        parse_dispatch_config(raw, base_dir=BASE, data_dir=DATA, source=BASE / "tocsin.toml")
    assert str(info.value).startswith("/etc/tocsin/tocsin.toml: [channels.sms] min_severity")


# --- [intake] ----------------------------------------------------------------------------------

TOKEN = "a" * 16


def test_intake() -> None:
    intake = parse(f'[intake]\nlisten = "0.0.0.0:9000"\ntokens = ["{TOKEN}"]\n').intake
    assert intake == IntakeConfig("0.0.0.0:9000", (TOKEN,))
    assert (intake.host, intake.port) == ("0.0.0.0", 9000)
    assert IntakeConfig("[::1]:8470").host == "::1"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('listen = "8470"', "[intake] listen '8470' is not host:port"),
        ('listen = "localhost:70000"', "port 70000 is outside 0..65535"),
        ('tokens = ["short"]', "[intake] tokens[1] must be at least 16 characters"),
        (f'tokens = "{TOKEN} x"', "[intake] tokens[1] must be at least 16 characters"),
        ("token = 1", "[intake] has unknown key(s) token; known: listen, tokens"),
    ],
)
def test_bad_intake(toml: str, expected: str) -> None:
    assert expected in error(f"[intake]\n{toml}\n")


# --- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("15min", 900),
        ("1h30m", 5400),
        ("2d", 172800),
        ("1w", 604800),
        ("0.5h", 1800),
        ("PT30M", 1800),
        ("pt1h", 3600),
        ("P1DT2H", 93600),
        ("P1W", 604800),
        (45, 45),
        (1.5, 1.5),
    ],
)
def test_durations(value: str | float, seconds: float) -> None:
    assert parse_duration(value, "x") == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["", "P", "PT", "P1DT", "15", "m15", "1h 30m", "1y", True, []])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ConfigurationError):
        parse_duration(value, "x")


@given(st.integers(min_value=0, max_value=99), st.integers(0, 23), st.integers(0, 59))
def test_compact_and_iso_durations_agree(days: int, hours: int, minutes: int) -> None:
    if days == hours == minutes == 0:
        return
    compact = f"{days}d{hours}h{minutes}m"
    iso = f"P{days}DT{hours}H{minutes}M"
    expected = timedelta(days=days, hours=hours, minutes=minutes)
    assert parse_duration(compact, "x") == parse_duration(iso, "x") == expected


def test_defaults_with_a_relative_data_dir_stay_relative_to_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = default_dispatch_config(Path("out/data"))
    assert config.store.sqlite_path == tmp_path / "out" / "data" / "tocsin.db"
    archive = next(c for c in config.channels if c.name == "archive")
    assert archive.options["directory"] == str(tmp_path / "out" / "data" / "archive")
