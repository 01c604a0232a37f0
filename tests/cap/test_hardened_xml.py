"""Hostile inputs are refused quickly, cheaply and with one clear line; good ones still parse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cap.errors import CapParseError
from cap.hardened_xml import ParseLimits, check_encoding, parse_xml

ATTACKS = {
    "billion_laughs.xml": "xml.doctype",
    "quadratic_blowup.xml": "xml.doctype",
    "xxe_local_file.xml": "xml.doctype",
    "xxe_parameter_entity.xml": "xml.doctype",
    "external_dtd.xml": "xml.doctype",
    "deep_nesting.xml": "xml.too_deep",
    "encoding_utf7.xml": "xml.encoding",
    "encoding_unknown.xml": "xml.encoding",
    "encoding_declared_utf8_bytes_latin1.xml": "xml.encoding",
    "encoding_utf16_bom_declared_latin1.xml": "xml.encoding",
    "encoding_ebcdic.xml": "xml.encoding",
    "truncated.xml": "xml.syntax",
}
# Well-formed XML that the validator (not the XML layer) must refuse.
INVALID_CAP = {
    "cap_duplicate_identifier.xml": "xsd.",
    "cap_missing_required.xml": "xsd.",
    "cap_wrong_root_and_namespace.xml": "cap.not_cap",
}


@pytest.fixture(scope="module")
def attacks(shared_data: Path) -> Path:
    return shared_data / "xml-attacks"


@pytest.fixture(scope="module")
def huge_file(attacks: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("huge") / "huge_text_node.xml"
    subprocess.run(
        [sys.executable, str(attacks / "make_huge.py"), str(out), "20"],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize(("name", "reason"), sorted(ATTACKS.items()))
def test_attack_refused_by_xml_layer(attacks: Path, name: str, reason: str) -> None:
    with pytest.raises(CapParseError) as info:
        parse_xml((attacks / name).read_bytes())
    assert info.value.reason == reason
    assert "\n" not in str(info.value)


def test_huge_text_node_refused_by_size_limit(huge_file: Path) -> None:
    with pytest.raises(CapParseError) as info:
        parse_xml(huge_file.read_bytes())
    assert info.value.reason == "xml.too_large"
    assert "limit" in str(info.value)


def test_huge_text_node_refused_even_with_a_raised_size_limit(huge_file: Path) -> None:
    # With the size limit lifted, libxml2's own text-node cap still refuses it cleanly.
    with pytest.raises(CapParseError) as info:
        parse_xml(huge_file.read_bytes(), ParseLimits(max_bytes=64 * 1024 * 1024))
    assert info.value.reason == "xml.too_large"


def test_entities_never_expanded_nor_files_read(attacks: Path) -> None:
    with pytest.raises(CapParseError) as info:
        parse_xml((attacks / "xxe_local_file.xml").read_bytes())
    assert "root:" not in str(info.value)
    assert "entities" in str(info.value)


def test_depth_limit_is_configurable() -> None:
    doc = b"<a>" * 10 + b"</a>" * 10
    parse_xml(doc, ParseLimits(max_depth=10))
    with pytest.raises(CapParseError) as info:
        parse_xml(doc, ParseLimits(max_depth=9))
    assert info.value.reason == "xml.too_deep"


def test_size_limit_is_configurable() -> None:
    doc = b"<a>" + b"x" * 100 + b"</a>"
    parse_xml(doc, ParseLimits(max_bytes=200))
    with pytest.raises(CapParseError):
        parse_xml(doc, ParseLimits(max_bytes=50))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'<?xml version="1.0" encoding="UTF-8"?><a/>', "utf-8"),
        (b"<a/>", "utf-8"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe1</a>', "iso-8859-1"),
        (b'<?xml version="1.0" encoding="latin1"?><a>\xe1</a>', "iso-8859-1"),
        ("\ufeff<?xml version='1.0' encoding='UTF-16'?><a/>".encode("utf-16-le"), "utf-16-le"),
        (b"\xef\xbb\xbf<a/>", "utf-8"),
        (b'<?xml version="1.0" encoding="US-ASCII"?><a/>', "us-ascii"),
    ],
)
def test_accepted_encodings(data: bytes, expected: str) -> None:
    assert check_encoding(data) == expected
    parse_xml(data)


def test_latin1_alert_from_the_corpus_parses(shared_data: Path) -> None:
    path = shared_data / "cap/alerts/google__cap-library/earthquake-iso8859-1.cap"
    tree = parse_xml(path.read_bytes())
    assert "á" in "".join(tree.getroot().itertext())


def test_ascii_declared_with_high_bytes_is_refused() -> None:
    with pytest.raises(CapParseError) as info:
        parse_xml(b'<?xml version="1.0" encoding="us-ascii"?>\n<a>caf\xc3\xa9</a>')
    assert "line 2" in str(info.value)


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted([*ATTACKS, *INVALID_CAP, "huge_text_node.xml"]))
def test_cli_refuses_every_attack_with_exit_1_one_line_fast_and_small(
    attacks: Path, huge_file: Path, name: str
) -> None:
    path = huge_file if name == "huge_text_node.xml" else attacks / name
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    *output, measure = proc.stdout.rstrip("\n").split("\n")
    code, cpu, rss_kb = measure.split()
    assert int(code) == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in output if line.strip()]
    assert lines, "no verdict printed"
    if name in ATTACKS or name == "huge_text_node.xml":
        assert len(lines) == 1 and ": refused: " in lines[0], lines
    else:
        assert "INVALID" in lines[0] or ": refused: " in lines[0]
    assert float(cpu) < 1.0, f"{name} took {cpu} s of CPU"
    assert int(rss_kb) < 200 * 1024, f"{name} used {int(rss_kb) // 1024} MB"


# Runs the CLI in a child and reports exit code, CPU seconds and peak RSS (KB) of that child.
_MEASURE = """
import os, subprocess, sys
proc = subprocess.Popen([sys.executable, "-m", "cap", *sys.argv[1:]])
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""
