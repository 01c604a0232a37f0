"""Atom and RSS feeds of CAP: the container rules, and what each real feed in the corpus holds."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cap.containers import ContainerScan, scan_container
from cap.errors import CapParseError
from cap.findings import Severity
from cap.hardened_xml import parse_xml
from cap.parsing import build_alert

ATOM = "http://www.w3.org/2005/Atom"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"
CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
ALERT = f'<alert xmlns="{CAP12}"><identifier>A-1</identifier></alert>'
FEED_HEAD = (
    "<id>urn:uuid:feed</id><title>Alerts</title><updated>2024-05-01T12:00:00Z</updated>"
    "<author><name>Duty officer</name></author>"
)
ENTRY_HEAD = "<id>urn:uuid:e1</id><title>Flood</title><updated>2024-05-01T12:00:00-05:00</updated>"
CONTENT = f'<content type="application/cap+xml">{ALERT}</content>'


def scan(xml: str) -> ContainerScan:
    result = scan_container(parse_xml(xml.encode()).getroot())
    assert result is not None
    return result


def feed(entries: str = "", head: str = FEED_HEAD) -> str:
    return f'<feed xmlns="{ATOM}">{head}{entries}</feed>'


def entry(body: str = CONTENT, head: str = ENTRY_HEAD) -> str:
    return f"<entry>{head}{body}</entry>"


def codes(result: ContainerScan, severity: Severity | None = None) -> set[str]:
    return {f.code for f in result.findings if severity is None or f.severity is severity}


def errors(result: ContainerScan) -> set[str]:
    return codes(result, Severity.ERROR)


# --- Atom: the feed and entry structure (RFC 4287) ---------------------------------------------


def test_complete_fat_feed_has_no_findings_and_yields_the_alert() -> None:
    result = scan(feed(entry()))
    assert result.kind == "atom"
    assert result.findings == ()
    assert [(a.label, a.version) for a in result.alerts] == [("entry[1]", "1.2")]
    assert result.links == ()


def test_feed_with_no_entries_is_an_empty_index_not_an_error() -> None:
    result = scan(feed())
    assert result.findings == () and result.alerts == () and result.links == ()


@pytest.mark.parametrize("name", ["id", "title", "updated"])
def test_feed_needs_id_title_updated(name: str) -> None:
    head = FEED_HEAD.replace(f"<{name}>", "<x:gone xmlns:x='urn:x'>").replace(
        f"</{name}>", "</x:gone>"
    )
    result = scan(feed(entry(), head=head))
    problem = next(f for f in result.findings if f.code == f"atom.{name}.missing")
    assert problem.severity is Severity.ERROR
    assert problem.path == f"/feed/{name}"
    assert problem.line == 1
    assert f"<{name}>" in problem.message


@pytest.mark.parametrize("name", ["id", "title", "updated"])
def test_entry_needs_id_title_updated(name: str) -> None:
    head = ENTRY_HEAD.replace(f"<{name}>", "<x:gone xmlns:x='urn:x'>").replace(
        f"</{name}>", "</x:gone>"
    )
    result = scan(feed(entry(head=head)))
    assert errors(result) == {f"atom.entry.{name}.missing"}
    assert next(iter(result.findings)).path == f"/feed/entry[1]/{name}"
    assert len(result.alerts) == 1  # the alert is still checked on its own


def test_empty_id_is_an_error() -> None:
    result = scan(feed(entry(head=ENTRY_HEAD.replace("urn:uuid:e1", " "))))
    assert errors(result) == {"atom.entry.id.empty"}


def test_unknown_atom_element_is_an_error_but_foreign_markup_is_not() -> None:
    bad = scan(feed(entry(CONTENT + "<foo/>")))
    (problem,) = bad.findings
    assert problem.code == "atom.element.unknown"
    assert problem.path == "/feed/entry[1]/foo"
    foreign = (
        '<georss:point xmlns:georss="http://www.georss.org/georss">45 -75</georss:point>'
        f'<cap:status xmlns:cap="{CAP11}">Actual</cap:status><plain xmlns="">no namespace</plain>'
    )
    assert scan(feed(entry(CONTENT + foreign), head=FEED_HEAD + foreign)).findings == ()


def test_repeated_single_element_is_an_error() -> None:
    result = scan(feed(entry(CONTENT + "<title>Again</title>")))
    assert errors(result) == {"atom.element.repeated"}


@pytest.mark.parametrize(
    "stamp",
    ["2024-05-01T12:00:00", "2024-05-01t12:00:00Z", "2024-02-30T12:00:00Z", "1 May 2024"],
)
def test_updated_must_be_an_rfc3339_date_time(stamp: str) -> None:
    head = ENTRY_HEAD.replace("2024-05-01T12:00:00-05:00", stamp)
    assert errors(scan(feed(entry(head=head)))) == {"atom.date.invalid"}


@pytest.mark.parametrize("stamp", ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.25-00:00"])
def test_rfc3339_date_times_pass(stamp: str) -> None:
    head = ENTRY_HEAD.replace("2024-05-01T12:00:00-05:00", stamp)
    assert scan(feed(entry(head=head))).findings == ()


def test_author_missing_everywhere_is_one_warning_on_the_feed() -> None:
    head = FEED_HEAD.replace("<author><name>Duty officer</name></author>", "")
    result = scan(feed(entry() + entry()))
    assert "atom.author.missing" not in codes(result)
    result = scan(feed(entry() + entry(), head=head))
    warnings = [f for f in result.findings if f.code == "atom.author.missing"]
    assert len(warnings) == 1
    assert warnings[0].severity is Severity.WARNING
    assert "entries 1, 2" in warnings[0].message
    authored = entry(CONTENT + "<author><name>Desk</name></author>")
    assert scan(feed(authored, head=head)).findings == ()


def test_person_needs_a_name() -> None:
    result = scan(feed(entry(CONTENT + "<author><email>a@example.org</email></author>")))
    assert errors(result) == {"atom.person.name.missing"}


def test_repeated_entry_id_and_time_is_a_warning() -> None:
    result = scan(feed(entry() + entry()))
    assert codes(result) == {"atom.entry.id.repeated"}
    later = ENTRY_HEAD.replace("12:00:00-05:00", "13:00:00-05:00")
    assert scan(feed(entry() + entry(head=later))).findings == ()


def test_atom_entry_document_is_scanned_as_one_entry() -> None:
    result = scan(
        f'<entry xmlns="{ATOM}">{ENTRY_HEAD}<author><name>Desk</name></author>{CONTENT}</entry>'
    )
    assert result.findings == ()
    assert [a.label for a in result.alerts] == ["entry"]


def test_atom_03_is_refused_with_a_reason() -> None:
    result = scan('<feed xmlns="http://purl.org/atom/ns#"><title>old</title></feed>')
    assert errors(result) == {"atom.version.unsupported"}


# --- Atom: where the alert is ------------------------------------------------------------------


def test_cap_alert_directly_under_feed_is_an_error_and_not_yielded() -> None:
    result = scan(feed(ALERT))
    (problem,) = result.findings
    assert problem.code == "atom.feed.stray_alert"
    assert problem.path == "/feed/alert"
    assert result.alerts == ()


@pytest.mark.parametrize(
    "body",
    [
        "",
        "<content></content>",
        '<link rel="alternate" type="text/html" href="http://example.org/page.html"/>',
        '<link rel="self" href="http://example.org/entry.atom"/>',
    ],
    ids=["nothing", "empty-content", "html-link", "self-link"],
)
def test_entry_without_embedded_or_linked_cap_is_an_error(body: str) -> None:
    result = scan(feed(entry(body)))
    assert errors(result) == {"atom.entry.cap_missing"}
    assert result.findings[0].path == "/feed/entry[1]"


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ('<link href="http://x.org/a.php?x=1"/>', "http://x.org/a.php?x=1"),
        (
            '<link rel="alternate" type="text/html" href="http://x.org/a.html"/>'
            '<link rel="related" type="application/cap+xml" href="http://x.org/a.cap"/>',
            "http://x.org/a.cap",
        ),
        (
            '<link rel="alternate" type="application/atom+xml" href="http://x.org/a?format=xml"/>',
            "http://x.org/a?format=xml",
        ),
    ],
    ids=["untyped", "cap-typed-beats-html", "xml-typed"],
)
def test_thin_entry_reports_its_cap_link(links: str, expected: str) -> None:
    result = scan(feed(entry(links)))
    assert result.findings == ()
    assert [(link.label, link.url) for link in result.links] == [("entry[1]", expected)]
    assert result.alerts == ()


def test_out_of_line_content_is_a_link() -> None:
    body = '<content type="application/cap+xml" src="http://x.org/alert.cap"/>'
    assert [link.url for link in scan(feed(entry(body))).links] == ["http://x.org/alert.cap"]


def test_relative_link_is_resolved_against_xml_base() -> None:
    body = '<link xml:base="http://x.org/feeds/" href="alerts/1.cap"/>'
    assert [link.url for link in scan(feed(entry(body))).links] == [
        "http://x.org/feeds/alerts/1.cap"
    ]


def test_embedded_alert_wins_over_the_link_to_the_same_alert() -> None:
    result = scan(feed(entry('<link href="http://x.org/a.cap"/>' + CONTENT)))
    assert len(result.alerts) == 1 and result.links == ()


def test_inline_alert_alone_is_the_entry_alert() -> None:
    result = scan(feed(entry(ALERT)))
    assert result.findings == ()
    assert [a.label for a in result.alerts] == ["entry[1]"]


def test_inline_alert_beside_a_link_is_an_index_summary() -> None:
    result = scan(feed(entry('<link href="http://x.org/a.php"/>' + ALERT)))
    assert result.alerts == ()
    assert [link.url for link in result.links] == ["http://x.org/a.php"]
    assert codes(result) == {"atom.entry.summary_alert"}
    assert result.findings[0].severity is Severity.INFO


def test_content_type_text_warns_that_readers_may_drop_the_xml() -> None:
    for content in (f"<content>{ALERT}</content>", f'<content type="html">{ALERT}</content>'):
        result = scan(feed(entry(content)))
        assert codes(result) == {"atom.content.type"}
        assert len(result.alerts) == 1
    assert scan(feed(entry(f'<content type="text/xml">{ALERT}</content>'))).findings == ()


def test_several_alerts_in_one_entry_get_distinct_labels() -> None:
    result = scan(feed(entry(f'<content type="text/xml">{ALERT}{ALERT}</content>')))
    assert [a.label for a in result.alerts] == ["entry[1]/alert[1]", "entry[1]/alert[2]"]


def test_alert_in_an_unknown_cap_namespace_is_reported() -> None:
    odd = '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.3"/>'
    result = scan(feed(entry(f'<content type="text/xml">{odd}</content>')))
    assert errors(result) == {"atom.alert.unknown_version"}
    assert result.alerts == ()


# --- RSS 2.0 ----------------------------------------------------------------------------------

CHANNEL_HEAD = (
    "<title>Alerts</title><link>http://x.org/</link><description>CAP index</description>"
    "<pubDate>Fri, 04 Feb 2011 20:32:08 GMT</pubDate>"
)
ITEM = (
    "<item><title>Flood</title><link>http://x.org/a.cap</link><guid>A-1</guid>"
    "<pubDate>Fri, 04 Feb 2011 20:20:00 GMT</pubDate></item>"
)


def rss(items: str = ITEM, head: str = CHANNEL_HEAD, version: str = ' version="2.0"') -> str:
    return f"<rss{version}><channel>{head}{items}</channel></rss>"


def test_complete_rss_index_reports_item_links() -> None:
    result = scan(rss(ITEM + ITEM.replace("a.cap", "b.cap")))
    assert result.kind == "rss"
    assert result.findings == ()
    assert [(link.label, link.url) for link in result.links] == [
        ("item[1]", "http://x.org/a.cap"),
        ("item[2]", "http://x.org/b.cap"),
    ]


@pytest.mark.parametrize("name", ["title", "link", "description"])
def test_channel_needs_title_link_description(name: str) -> None:
    start = CHANNEL_HEAD.index(f"<{name}>")
    end = CHANNEL_HEAD.index(f"</{name}>") + len(name) + 3
    result = scan(rss(head=CHANNEL_HEAD[:start] + CHANNEL_HEAD[end:]))
    assert errors(result) == {f"rss.channel.{name}.missing"}
    assert result.findings[0].path == f"/rss/channel/{name}"


def test_rss_without_channel_is_an_error() -> None:
    assert errors(scan('<rss version="2.0"/>')) == {"rss.channel.missing"}


def test_second_channel_is_an_error() -> None:
    xml = f'<rss version="2.0"><channel>{CHANNEL_HEAD}</channel><channel/></rss>'
    assert errors(scan(xml)) == {"rss.channel.repeated"}


def test_item_needs_title_or_description() -> None:
    bare = ITEM.replace("<title>Flood</title>", "")
    assert errors(scan(rss(bare))) == {"rss.item.title_or_description.missing"}
    described = ITEM.replace("<title>Flood</title>", "<description>Flood</description>")
    assert scan(rss(described)).findings == ()


def test_item_must_embed_or_link_cap() -> None:
    result = scan(rss(ITEM.replace("<link>http://x.org/a.cap</link>", "")))
    assert errors(result) == {"rss.item.cap_missing"}
    assert result.findings[0].path == "/rss/channel/item[1]"


def test_item_cap_enclosure_is_preferred_to_the_web_page_link() -> None:
    enclosure = '<enclosure url="http://x.org/a.xml" type="application/cap+xml" length="1"/>'
    item = ITEM.replace("a.cap", "page.html").replace("</item>", enclosure + "</item>")
    assert [link.url for link in scan(rss(item)).links] == ["http://x.org/a.xml"]


def test_item_with_embedded_alert_yields_it() -> None:
    result = scan(rss(ITEM.replace("</item>", ALERT + "</item>")))
    assert [a.label for a in result.alerts] == ["item[1]"]
    assert result.links == ()


def test_missing_guid_and_pub_dates_are_warnings() -> None:
    head = CHANNEL_HEAD.replace("<pubDate>Fri, 04 Feb 2011 20:32:08 GMT</pubDate>", "")
    item = "<item><title>Flood</title><link>http://x.org/a.cap</link></item>"
    result = scan(rss(item, head=head))
    assert codes(result, Severity.WARNING) == {
        "rss.channel.pub_date.missing",
        "rss.item.guid.missing",
        "rss.item.pub_date.missing",
    }
    assert errors(result) == set()


def test_pub_date_must_be_rfc822() -> None:
    result = scan(rss(ITEM.replace("Fri, 04 Feb 2011 20:20:00 GMT", "2011-02-04T20:20:00Z")))
    assert codes(result) == {"rss.pub_date.invalid"}


def test_rss_version_other_than_2_is_a_warning() -> None:
    assert codes(scan(rss(version=""))) == {"rss.version"}


# --- dispatch ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "xml",
    [ALERT, "<html><body/></html>", f'<alert xmlns="{ATOM}"/>'],
    ids=["cap-alert", "html", "atom-alert"],
)
def test_documents_that_are_no_feed_are_not_scanned(xml: str) -> None:
    assert scan_container(parse_xml(xml.encode()).getroot()) is None


# --- the real feeds in the shared corpus ------------------------------------------------------

# file -> (alerts, links, container error codes); read off each file by hand.
CORPUS = {
    "alerts/google__cap-library/amber.atom": (1, 0, set()),
    "alerts/google__cap-library/amber.rss": (0, 1, set()),
    "alerts/google__cap-library/canada_signed.atom": (1, 0, set()),
    "alerts/google__cap-library/earthquake.atom": (1, 0, set()),
    "alerts/google__cap-library/earthquake_index.atom": (0, 1, set()),
    "alerts/google__cap-library/empty_weather_index.atom": (0, 0, set()),
    "alerts/google__cap-library/invalid.rss": (
        0,
        0,
        {
            "rss.channel.title.missing",
            "rss.channel.description.missing",
            "rss.item.title_or_description.missing",
            "rss.item.cap_missing",
        },
    ),
    "alerts/google__cap-library/invalid_element.atom": (
        0,
        0,
        {"atom.element.unknown", "atom.entry.cap_missing"},
    ),
    "alerts/google__cap-library/no_entries.atom": (0, 0, {"atom.feed.stray_alert"}),
    "alerts/google__cap-library/no_id.atom": (
        0,
        0,
        {"atom.id.missing", "atom.entry.id.missing", "atom.entry.cap_missing"},
    ),
    "alerts/google__cap-library/no_link.atom": (0, 0, {"atom.entry.cap_missing"}),
    "alerts/google__cap-library/no_title.atom": (
        0,
        0,
        {"atom.entry.title.missing", "atom.entry.cap_missing"},
    ),
    "alerts/google__cap-library/ny_index.rss": (0, 2, set()),
    "alerts/google__cap-library/weather.atom": (1, 0, set()),
    "alerts/google__cap-library/weather_index.atom": (0, 2, set()),
    "alerts/google__cap-library/weather_invalid.atom": (1, 0, set()),
    "alerts/kelvinn__capparselib/oregon_nws.atom": (0, 1, set()),
    "alerts/kelvinn__capparselib/sweden.atom": (0, 4, set()),
    "alerts/kelvinn__capparselib/us_nws_weather.atom": (0, 2, set()),
    "alerts/kelvinn__capparselib/usgs_alerthub.atom": (0, 1, set()),
}


def _manifest(shared_data: Path) -> dict[str, dict[str, str]]:
    with (shared_data / "cap" / "MANIFEST.tsv").open(encoding="utf-8", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def _scan_file(shared_data: Path, name: str) -> ContainerScan:
    root = parse_xml((shared_data / "cap" / name).read_bytes()).getroot()
    result = scan_container(root)
    assert result is not None, f"{name} was not recognised as a feed"
    return result


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_feed(shared_data: Path, name: str) -> None:
    alerts, links, error_codes = CORPUS[name]
    result = _scan_file(shared_data, name)
    assert result.kind == ("rss" if name.endswith(".rss") else "atom")
    assert (len(result.alerts), len(result.links)) == (alerts, links)
    assert errors(result) == error_codes
    for found in result.findings:
        assert found.line is not None and found.path.startswith(("/feed", "/rss"))
    row = _manifest(shared_data)[name]
    if row["expected"] == "valid":
        assert not error_codes  # a valid file may only fail through its embedded alerts


def test_every_feed_in_the_corpus_is_covered(shared_data: Path) -> None:
    """A feed added to the corpus must be added above, or it is silently untested."""
    found = set()
    for path in (shared_data / "cap" / "alerts").rglob("*"):
        if not path.is_file():
            continue
        try:
            root = parse_xml(path.read_bytes()).getroot()
        except CapParseError:
            continue  # refused before any feed logic runs (e.g. xee.atom, pelmorex.atom)
        result = scan_container(root)
        if result is not None and result.kind in ("atom", "rss"):
            found.add(str(path.relative_to(shared_data / "cap")))
    assert found == set(CORPUS)


def test_embedded_alerts_are_real_cap_with_their_own_lines(shared_data: Path) -> None:
    weather = _scan_file(shared_data, "alerts/google__cap-library/weather.atom")
    parsed = build_alert(weather.alerts[0].element, weather.alerts[0].version, b"")
    assert parsed.alert.sender == "w-nws.webmaster@noaa.gov"
    assert len(parsed.alert.infos) == 1
    broken = _scan_file(shared_data, "alerts/google__cap-library/weather_invalid.atom")
    parsed = build_alert(broken.alerts[0].element, broken.alerts[0].version, b"")
    assert parsed.alert.identifier == "INVALID, "
    signed = _scan_file(shared_data, "alerts/google__cap-library/canada_signed.atom")
    assert signed.alerts[0].version == "1.2"  # the feed declares cap 1.1, the alert is 1.2
    assert signed.alerts[0].element.sourceline == 14


def test_thin_index_links_point_at_the_alerts(shared_data: Path) -> None:
    ny = _scan_file(shared_data, "alerts/google__cap-library/ny_index.rss")
    assert [link.url.rsplit("=", 1)[1] for link in ny.links] == [
        "NYAlert-ALLHAZALERT-3167113",
        "NYAlert-ALLHAZALERT-3162202",
    ]
    usgs = _scan_file(shared_data, "alerts/kelvinn__capparselib/usgs_alerthub.atom")
    assert usgs.links[0].url.endswith("usb000qfgs.cap")  # the cap+xml link, not the html one
    oregon = _scan_file(shared_data, "alerts/kelvinn__capparselib/oregon_nws.atom")
    assert codes(oregon) == {"atom.entry.summary_alert"}
