"""Validation throughput on the real corpus, against two baselines measured in the same run.

    .venv/bin/python benchmarks/validate.py [--seconds 3] [--profile ipaws]

Prints alerts/s for (1) tocsin's full validation (safe parse, model, XSD, specification rules,
one profile), (2) plain lxml parse + XSD validation alone (the practical ceiling), and
(3) xmlschema validation alone, then the ratios. Target: (1) >= 0.5 x (2).

Then, per alert, what each stage of (1) costs, and the least any Python validator built on
lxml must pay: the safe parse, the XSD, and one walk that only reads every element's tag and
text. That floor, against the budget the target allows, says how far the target is reachable.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import xmlschema
from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cap.hardened_xml import parse_xml  # noqa: E402
from cap.parsing import build_alert, cap_version_of  # noqa: E402
from cap.profiles import Profile, get_profile  # noqa: E402
from cap.schema import SCHEMA_FILES, check_schema  # noqa: E402
from cap.spec_rules import check_spec_rules  # noqa: E402
from cap.validation import validate_alert, validate_document  # noqa: E402
from cap.vocabulary import CapVersion  # noqa: E402


def corpus(root: Path) -> list[tuple[str, bytes, CapVersion]]:
    """Every standalone CAP alert in the shared corpus that parses safely."""
    docs: list[tuple[str, bytes, CapVersion]] = []
    for path in sorted((root / "cap" / "alerts").rglob("*")):
        if path.suffix not in {".cap", ".xml", ".txt"}:
            continue
        data = path.read_bytes()
        try:
            version = cap_version_of(parse_xml(data).getroot())
        except Exception:
            continue
        if version is not None:
            docs.append((path.name, data, version))
    return docs


def rate(label: str, work: Callable[[], int], seconds: float) -> float:
    work()  # warm-up: schema compilation, imports, caches
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += work()
    elapsed = time.perf_counter() - start
    per_second = done / elapsed
    print(f"  {label:<44} {per_second:10.0f} alerts/s   ({done} in {elapsed:.2f} s)")
    return per_second


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    ap.add_argument("--profile", default="ipaws", help="the one profile in full validation")
    ap.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data")
    args = ap.parse_args()

    docs = corpus(args.data)
    profile = get_profile(args.profile)
    print(f"corpus: {len(docs)} standalone alerts, {sum(len(d) for _, d, _ in docs)} bytes")

    lxml_parser = etree.XMLParser(resolve_entities=False, no_network=True)
    schemas: dict[CapVersion, etree.XMLSchema] = {}
    xs_schemas: dict[CapVersion, xmlschema.XMLSchema] = {}
    for version, name in SCHEMA_FILES.items():
        ref = resources.files("cap").joinpath("schemas", name)
        with resources.as_file(ref) as xsd_path:
            schemas[version] = etree.XMLSchema(etree.parse(str(xsd_path)))
            xs_schemas[version] = xmlschema.XMLSchema(str(xsd_path))

    def full() -> int:
        for name, data, _ in docs:
            validate_document(data, source=name, profiles=[profile])
        return len(docs)

    def lxml_xsd() -> int:
        for _, data, version in docs:
            schemas[version].validate(etree.fromstring(data, lxml_parser))
        return len(docs)

    def xmlschema_alone() -> int:
        for _, data, version in docs:
            xs_schemas[version].is_valid(
                data.decode("latin-1") if b"ISO-8859-1" in data[:60] else data.decode("utf-8")
            )
        return len(docs)

    print("throughput (same machine, same run):")
    tocsin = rate(f"tocsin full validation (XSD+rules+{profile.name})", full, args.seconds)
    ceiling = rate("lxml parse + XSD only", lxml_xsd, args.seconds)
    other = rate("xmlschema validation only", xmlschema_alone, args.seconds)
    print("ratios:")
    print(f"  tocsin / lxml+XSD      = {tocsin / ceiling:.2f}  (target >= 0.50)")
    print(f"  tocsin / xmlschema     = {tocsin / other:.2f}")
    print(f"  xmlschema / lxml+XSD   = {other / ceiling:.2f}")
    stages(docs, profile, ceiling, args.seconds)
    return 0


def stages(
    docs: list[tuple[str, bytes, CapVersion]], profile: Profile, ceiling: float, seconds: float
) -> None:
    """Microseconds per alert for each stage of full validation, on trees parsed once."""
    trees = [parse_xml(data) for _, data, _ in docs]
    parsed = [
        build_alert(tree.getroot(), version, data, tree.docinfo.encoding)
        for tree, (_, data, version) in zip(trees, docs, strict=True)
    ]

    def cost(work: Callable[[], object]) -> float:
        work()
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 4:
            work()
            runs += 1
        return (time.perf_counter() - start) / runs / len(docs) * 1e6

    def walk() -> None:
        for tree in trees:
            for element in tree.getroot().iter():
                element.tag, element.text  # noqa: B018 (reading them is the work)

    parse = cost(lambda: [parse_xml(data) for _, data, _ in docs])
    xsd = cost(lambda: [check_schema(p.element, p.version) for p in parsed])
    bare = cost(walk)
    build = cost(
        lambda: [
            build_alert(t.getroot(), v, d, t.docinfo.encoding)
            for t, (_, d, v) in zip(trees, docs, strict=True)
        ]
    )
    rules = cost(lambda: [check_spec_rules(p) for p in parsed])
    prof = cost(lambda: [profile.check(p) for p in parsed])
    whole = cost(lambda: [validate_alert(p, [profile]) for p in parsed])
    budget = 1e6 / (0.5 * ceiling)
    floor = parse + xsd + bare
    print("per alert (microseconds):")
    print(f"  safe parse (size, encoding, DTD refusal, depth)   {parse:7.1f}")
    print(f"  XSD, violations mapped to sentences               {xsd:7.1f}")
    print(f"  model and source map (build_alert)                {build:7.1f}")
    print(f"  specification rules                               {rules:7.1f}")
    print(f"  profile {profile.name:<42}{prof:7.1f}")
    print(f"  locating and sorting findings                     {whole - xsd - rules - prof:7.1f}")
    print(f"  a bare walk reading every tag and text            {bare:7.1f}")
    print(f"budget at 0.5x the ceiling: {budget:.1f}; floor (parse + XSD + bare walk): {floor:.1f}")
    print(f"  leaving {budget - floor:.1f} for the model, the rules, the profile and locating")


if __name__ == "__main__":
    raise SystemExit(main())
