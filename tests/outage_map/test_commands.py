"""``tocsin outage ingest|query|areas|layer|serve``, driven through the commands' own parser
(``outage_map.commands.main`` is ``tocsin`` with only these commands)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from outage_map.commands import main
from tests.outage_map.scenario import build_store

REPO = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code, out, _err = run(capsys, *args, "--format", "json")
    document = json.loads(out)  # one JSON document, nothing else
    assert isinstance(document, dict)
    return code, document


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No configuration file, the data folder in tmp."""
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TOCSIN_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture()
def pr_store(env: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Puerto Rico: municipios, the telecom series, the DIRS table."""
    data = shared_data / "outage"
    store = env / "pr.db"
    assert run(
        capsys,
        "outage", "ingest", "boundaries", str(data / "us_census_pr_municipios.geojson"),
        "--store", str(store),
    )[0] == 0  # fmt: skip
    assert run(
        capsys,
        "outage", "ingest", "status-series", str(data / "statuspr_maria_2017_2018.csv"),
        "--resource", "Telecomunications", "--store", str(store),
        "--received-at", "2018-09-01T00:00Z",
    )[0] == 0  # fmt: skip
    assert (
        run(
            capsys,
            "outage",
            "ingest",
            "dirs",
            str(data / "fcc_dirs_headlines.csv"),
            "--store",
            str(store),
        )[0]
        == 1
    )  # fmt: skip  (one refused row: exit 1, the others kept)
    return store


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for action in ((), ("ingest",), ("query",), ("areas",), ("layer",), ("serve",)):
        with pytest.raises(SystemExit) as stop:
            main(["outage", *action, "--help"])
        assert stop.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out
        assert "tocsin outage" in out
    assert main(["outage"]) == 2  # no action: the help, on stderr, usage error
    assert "ACTION" in capsys.readouterr().err


def test_ingest_reports_counts_and_every_problem(
    env: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = shared_data / "outage"
    store = str(env / "s.db")
    code, doc = run_json(
        capsys, "outage", "ingest", "boundaries",
        str(data / "us_census_pr_municipios.geojson"), "--store", store,
    )  # fmt: skip
    assert code == 0
    assert doc["ok"] is True
    files = doc["files"]
    assert isinstance(files, list)
    assert (files[0]["stored"], files[0]["what"], files[0]["errors"]) == (78, "areas", 0)
    code, doc = run_json(
        capsys, "outage", "ingest", "status-series",
        str(data / "statuspr_maria_2017_2018.csv"), "--store", store,
    )  # fmt: skip
    assert code == 0
    entry = doc["files"][0]  # type: ignore[index]
    assert (entry["rows"], entry["stored"], entry["ids"]) == (813, 142, [1, 142])
    assert entry["skipped"]["Water"] == 407
    code, doc = run_json(
        capsys, "outage", "ingest", "dirs", str(data / "fcc_dirs_headlines.csv"), "--store", store
    )
    assert code == 1  # a refused row
    assert doc["ok"] is False
    entry = doc["files"][0]  # type: ignore[index]
    assert (entry["rows"], entry["stored"], entry["errors"]) == (18, 17, 1)
    refused = [p for p in entry["problems"] if p["severity"] == "error"]
    assert [(p["line"], p["field"]) for p in refused] == [(19, "pct_out")]
    assert doc["totals"] == {"reports": 159, "sites": 0, "areas": 78}
    # Text: one line per file, one per problem with file, line and field.
    code, out, _err = run(
        capsys, "outage", "ingest", "dirs", str(data / "fcc_dirs_headlines.csv"), "--store", store
    )
    assert code == 1
    assert "18 rows; 17 reports stored (ids 160-176); 1 refused" in out
    assert "refused: " in out and "fcc_dirs_headlines.csv line 19, field pct_out" in out


def test_ingest_missing_file_is_a_usage_error_and_stores_nothing(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "outage", "ingest", "dirs", str(env / "nope.csv"))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "nope.csv does not exist; nothing was ingested" in err
    assert not (env / "data" / "outage.db").exists()


def test_unreadable_file_is_bad_input_and_the_others_are_kept(
    env: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = env / "broken.csv"
    broken.write_text("when,what\n2024-01-01,up\n", encoding="utf-8")
    good = shared_data / "outage" / "fcc_dirs_headlines.csv"
    code, doc = run_json(capsys, "outage", "ingest", "dirs", str(broken), str(good))
    assert code == 1
    files = doc["files"]
    assert isinstance(files, list)
    first, second = files
    assert "error" in first and "broken.csv" in first["error"]
    assert second["stored"] == 17
    # The embedded default store: outage.db in the data folder.
    assert (env / "data" / "outage.db").is_file()


def test_query_answers_from_the_island_figure(
    pr_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = run_json(
        capsys, "outage", "query", "--lon", "-66.1057", "--lat", "18.4655",
        "--at", "2017-10-20", "--store", str(pr_store),
    )  # fmt: skip
    assert code == 0
    assert doc["status"] == "degraded"
    assert doc["probability"] == pytest.approx(0.62)
    assert doc["basis"] == "area"
    assert doc["area"] == {"code": "72127", "name": "San Juan"}
    assert doc["figures_from"] == {"code": "72", "name": "Puerto Rico"}
    assert doc["at"] == "2017-10-20T23:59:59Z"
    reports = doc["reports"]
    assert isinstance(reports, list) and len(reports) == 1
    assert reports[0]["source"] == "JRTC (Telecomunications)"
    assert reports[0]["observed_at"] == "2017-10-20T16:00:00Z"
    code, out, _ = run(
        capsys, "outage", "query", "--lon", "-66.1057", "--lat", "18.4655",
        "--at", "2017-10-20T16:00Z", "--store", str(pr_store),
    )  # fmt: skip
    assert code == 0
    assert out.startswith("DEGRADED at lon -66.1057, lat 18.4655, as of 2017-10-20T16:00:00Z")
    assert "figures of Puerto Rico (72)" in out
    # Out at sea, no area holds the point: unknown, still exit 0.
    code, doc = run_json(
        capsys, "outage", "query", "--lon", "-60", "--lat", "15", "--at", "2017-10-20",
        "--store", str(pr_store),
    )  # fmt: skip
    assert (code, doc["status"], doc["basis"]) == (0, "unknown", "none")


def test_areas_worst_first(pr_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(
        capsys, "outage", "areas", "--at", "2017-09-22", "--min-out", "0.5",
        "--store", str(pr_store),
    )  # fmt: skip
    assert code == 0
    areas = doc["areas"]
    assert isinstance(areas, list)
    assert [a["code"] for a in areas] == ["72", "78"]  # Puerto Rico 95 %, USVI 77 %
    assert areas[0]["share_out"] == pytest.approx(0.95)
    assert areas[0]["dark_since"] == "2017-09-21T15:00:00Z"
    assert areas[0]["shown_on_areas"] == 78
    code, out, _ = run(capsys, "outage", "areas", "--at", "2017-09-22", "--store", str(pr_store))
    assert code == 0
    assert "2 area(s) with at least 50% of service out" in out
    assert "95% out  down     Puerto Rico (72)" in out


def test_layer_in_every_format(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyogrio
    import rasterio  # type: ignore[import-untyped]

    store = str(build_store(env / "scenario.db"))
    at = "2024-10-01T13:00Z"
    for name in ("out.tif", "out.geojson", "out.gpkg", "out.png"):
        code, doc = run_json(
            capsys, "outage", "layer", "--at", at, "-o", str(env / name), "--store", store
        )
        assert code == 0, name
        assert doc["path"] == str(env / name)
        assert (env / name).stat().st_size > 0
    with rasterio.open(env / "out.tif") as tif:
        assert tif.crs.to_epsg() == 4326
        row, col = tif.index(0.2, 0.2)  # site a1: down
        assert tif.read(1)[row, col] == pytest.approx(0.0)
    assert pyogrio.read_info(env / "out.geojson")["features"] == 4  # areas: A, B, C, region
    assert pyogrio.read_info(env / "out.gpkg", layer="sites")["features"] == 6
    assert (env / "out.png").read_bytes()[:4] == b"\x89PNG"
    code, doc = run_json(
        capsys, "outage", "layer", "--at", at, "-o", str(env / "sites.geojson"),
        "--layer", "sites", "--bbox", "0,0,0.5,0.5", "--store", store,
    )  # fmt: skip
    assert (code, doc["layers"]) == (0, {"sites": 1})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("layer", "-o", "x.shp"), "must end in"),
        (("layer", "-o", "x.png", "--bbox", "1,2,3"), "--bbox"),
        (("layer", "-o", "x.png", "--bbox", "3,0,1,1"), "west < east"),
        (("query", "--lon", "0", "--lat", "0", "--at", "yesterday"), "is not a time"),
        (("query", "--lon", "0", "--lat", "0", "--at", "2024-10-01T12:00"), "has no offset"),
        (("query", "--lon", "200", "--lat", "0"), "longitude"),
        (("areas", "--min-out", "1.5"), "between 0 and 1"),
    ],
)
def test_usage_errors_are_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    store = str(build_store(env / "scenario.db"))
    code, out, err = run(capsys, "outage", *args, "--store", store)
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_no_store_yet(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "outage", "areas")
    assert code == 2
    assert "no outage store at" in err and "tocsin outage ingest" in err
    assert not (env / "data" / "outage.db").exists()  # asking does not create it


def test_store_from_the_configuration(
    env: Path,
    shared_data: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = env / "conf" / "tocsin.toml"
    config.parent.mkdir()
    config.write_text('[outage]\nstore = "maps/outage.db"\n', encoding="utf-8")
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    data = shared_data / "outage" / "us_census_pr_municipios.geojson"
    code, doc = run_json(capsys, "outage", "ingest", "boundaries", str(data))
    assert code == 0
    assert doc["store"] == str(env / "conf" / "maps" / "outage.db")
    config.write_text('[outage]\nmax_age = "soon"\n', encoding="utf-8")
    code, _out, err = run(capsys, "outage", "areas")
    assert code == 2
    assert "max_age" in err and str(config) in err


def _python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "outage_map.commands", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )


def test_module_runs_like_tocsin_with_no_traceback(tmp_path: Path) -> None:
    done = _python("outage", "query", "--lon", "0", "--lat", "0", "--store", str(tmp_path / "x.db"))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("tocsin: no outage store at")
    assert "Traceback" not in done.stderr


@pytest.mark.integration
def test_serve_answers_then_stops_on_sigterm(tmp_path: Path) -> None:
    store = build_store(tmp_path / "scenario.db")
    environment = {**os.environ, "TOCSIN_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    environment.pop("TOCSIN_CONFIG", None)
    process = subprocess.Popen(
        [
            sys.executable, "-m", "outage_map.commands", "outage", "serve",
            "--listen", "127.0.0.1:0", "--store", str(store),
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.startswith("tocsin outage serve: http://127.0.0.1:"), first
        url = first.split()[3].rstrip("/")
        with urllib.request.urlopen(f"{url}/areas/dark?at=2024-10-01T13:00Z", timeout=30) as r:
            dark = json.loads(r.read())
        assert [a["code"] for a in dark["areas"]] == ["RG-A"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
