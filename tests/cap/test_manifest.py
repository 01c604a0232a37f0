"""Every document in the shared corpus gets the verdict its MANIFEST.tsv expects.

Deliberate disagreements, argued in docs/validation-rules.md:

- ``pelmorex.atom`` declares UTF-8 but holds ISO-8859-1 bytes (0xE9 for 'é'), a fatal error under
  XML 1.0 section 4.3.3, so we refuse it where the manifest says valid.
- ``sweden.cap`` puts ``<senderName>`` after ``<headline>`` and adds ``<Type>`` and ``<Polygon>``
  to ``<area>``: the CAP 1.2 schema (normative, CAP 1.2 section 3.4) fixes the order of the
  ``<info>`` sequence and admits no such elements, so it is invalid where the manifest says valid.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cap.validation import validate_document

DISAGREEMENTS = {
    "alerts/kelvinn__capparselib/pelmorex.atom": "xml.encoding",
    "alerts/kelvinn__capparselib/sweden.cap": "xsd.unexpected_element",
}


def manifest_rows(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / "cap" / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _rows() -> list[dict[str, str]]:
    root = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    return manifest_rows(root) if (root / "cap" / "MANIFEST.tsv").is_file() else []


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["file"].rsplit("/", 1)[-1])
def test_verdict_agrees_with_manifest(shared_data: Path, row: dict[str, str]) -> None:
    path = shared_data / "cap" / row["file"]
    reports = validate_document(path.read_bytes(), source=row["file"])
    verdicts = [
        (r.source, r.valid, [f.code for f in r.findings if f.severity == "error"]) for r in reports
    ]
    if row["file"] in DISAGREEMENTS:
        errors = {code for _source, _valid, codes in verdicts for code in codes}
        assert DISAGREEMENTS[row["file"]] in errors, verdicts
        return
    expected = row["expected"]
    if expected == "valid":
        assert all(r.valid for r in reports), verdicts
        assert any(r.kind == "alert" or r.kind in ("atom", "rss", "edxl-de") for r in reports)
    elif expected == "invalid":
        assert not all(r.valid for r in reports), f"{row['expected_problem']}: {verdicts}"
    elif expected == "not-cap":
        assert len(reports) == 1 and not reports[0].valid
        assert reports[0].kind == "document"
    else:
        pytest.fail(f"unknown expectation {expected!r} in the manifest")


def test_manifest_is_not_empty(shared_data: Path) -> None:
    assert len(manifest_rows(shared_data)) >= 50
