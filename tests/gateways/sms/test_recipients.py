from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cap.model import Area, Geocode
from cap.textcodecs import parse_circle, parse_polygon
from gateways.base import GatewayConfigError
from gateways.sms.recipients import load_directory, read_csv_directory

CSV = """number,language,geocodes,lon,lat,name
+254700000001,en,SAME=006109,,,county officer
+254 700-000-002,fr,,36.82,-1.29,in Nairobi
+254700000003,ar,*,,,national duty desk
+254700000004,bn,FIPS6=06001;SAME=006001,,,elsewhere
0700000005,en,SAME=006109,,,no country code
+254700000006,en,SAME006109,,,bad geocode
+254700000007,en,,200,1,bad lon
+254700000008,en,,,,no place
+254700000001,en,SAME=006109,,,listed twice
"""

NAIROBI = "-1.20,36.70 -1.20,36.95 -1.40,36.95 -1.40,36.70 -1.20,36.70"


def area(*, geocodes: tuple[Geocode, ...] = (), polygon: str = "", circle: str = "") -> Area:
    return Area(
        "test area",
        polygons=(parse_polygon(polygon),) if polygon else (),
        circles=(parse_circle(circle),) if circle else (),
        geocodes=geocodes,
    )


def test_good_rows_are_kept_and_bad_rows_reported_with_line_and_field() -> None:
    directory = read_csv_directory(CSV.splitlines(), source="responders.csv")
    assert [r.number for r in directory.recipients] == [
        "+254700000001",
        "+254700000002",  # spaces and dashes removed
        "+254700000003",
        "+254700000004",
    ]
    problems = [(p.line, p.field) for p in directory.problems]
    assert problems == [(6, "number"), (7, "geocodes"), (8, "lon"), (9, "geocodes"), (10, "number")]
    assert str(directory.problems[0]).startswith(
        "responders.csv line 6, field number: '0700000005'"
    )


def test_recipients_by_geocode_point_circle_and_everywhere() -> None:
    directory = read_csv_directory(CSV.splitlines(), source="r.csv")
    by_code = directory.in_areas([area(geocodes=(Geocode("same", "006109"),))])
    assert [r.number for r in by_code] == ["+254700000001", "+254700000003"]  # name case-blind
    by_polygon = directory.in_areas([area(polygon=NAIROBI)])
    assert [r.number for r in by_polygon] == ["+254700000002", "+254700000003"]
    by_circle = directory.in_areas([area(circle="-1.30,36.80 5")])
    assert [r.number for r in by_circle] == ["+254700000002", "+254700000003"]
    far_circle = directory.in_areas([area(circle="-1.30,37.80 5")])
    assert [r.number for r in far_circle] == ["+254700000003"]
    both = directory.in_areas([area(geocodes=(Geocode("FIPS6", "06001"),)), area(polygon=NAIROBI)])
    assert [r.number for r in both] == ["+254700000002", "+254700000003", "+254700000004"]


def test_sqlite_directory(tmp_path: Path) -> None:
    path = tmp_path / "directory.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipients (number TEXT, language TEXT, geocodes TEXT, lon, lat)")
    conn.executemany(
        "INSERT INTO recipients VALUES (?,?,?,?,?)",
        [("+447700900001", "en", "*", None, None), ("nope", "en", "*", None, None)],
    )
    conn.commit()
    conn.close()
    directory = load_directory(path)
    assert [r.number for r in directory.recipients] == ["+447700900001"]
    assert str(directory.problems[0]).startswith(f"{path} row 2, field number")


def test_unreadable_directories_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match="cannot be read"):
        load_directory(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("phone,lang\n+447700900001,en\n")
    with pytest.raises(GatewayConfigError, match="no 'number' column"):
        load_directory(bad)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("number,name\n+447700900001,Fran\xe7ois\n".encode("latin-1"))
    with pytest.raises(GatewayConfigError, match="not UTF-8"):
        load_directory(latin)


def test_the_readme_sms_channel_example_is_a_working_configuration(tmp_path: Path) -> None:
    import tomllib

    from dispatch.config import parse_dispatch_config
    from gateways.sms.options import parse_sms_options

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    example = next(b for b in readme.split("```toml")[1:] if 'gateway = "sms"' in b)
    config = parse_dispatch_config(
        tomllib.loads(example.split("```", 1)[0]), base_dir=tmp_path, data_dir=tmp_path
    )
    (channel,) = config.channels
    options = parse_sms_options(channel.name, channel.options)
    assert [str(m) for m in options.modems] == ["/dev/ttyUSB0", "/dev/ttyUSB1"]
    assert options.recipients == tmp_path / "responders.csv"  # relative to the config file
    assert (options.max_segments, options.min_interval) == (3, 3.0)
