"""Atom 1.0 (RFC 4287) and RSS 2.0 feeds of CAP alerts: what a feed must hold, where alerts sit.

A feed either embeds each alert ("fat" feed: the ``<alert>`` inside ``atom:content`` or inside an
RSS ``<item>``) or is an index whose entries link to the alert documents ("thin" feed, as the US
National Weather Service publishes, often with ``cap:*`` summary fields beside the link).

Choices, and why:

- An Atom ``<alert>`` placed directly in an entry (not in ``atom:content``) is Atom extension
  markup. It is taken as the entry's alert only when the entry does not also link to a CAP
  document; when it does, the link is the alert and the inline element is an index summary.
- RSS has no element for XML content, so an ``<alert>`` inside an ``<item>`` is its alert.
- A feed with no entries is an index with nothing current in it: not an error.
- ``atom:author`` is a MUST in RFC 4287 (section 4.1.1) but says nothing about the alert, whose
  ``<sender>`` is authoritative; its absence is a warning.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from cap.containers import (
    CAP_MEDIA_TYPES,
    ContainerScan,
    Element,
    FoundAlert,
    FoundLink,
    cap_children,
    children,
    finding,
    is_cap_alert,
    line_note,
    text_of,
)
from cap.findings import Finding, Severity
from cap.parsing import local_name, namespace_of

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM03_NS = "http://purl.org/atom/ns#"

# RFC 4287 sections 4.1.1, 4.1.2 and 4.2.11: the Atom elements each container may hold.
_FEED_ONCE = frozenset(
    {"generator", "icon", "id", "logo", "rights", "subtitle", "title", "updated"}
)
_ENTRY_ONCE = frozenset(
    {"content", "id", "published", "rights", "source", "summary", "title", "updated"}
)
_MANY = frozenset({"author", "category", "contributor", "link"})
_FEED_ALLOWED = _FEED_ONCE | _MANY | {"entry"}
_ENTRY_ALLOWED = _ENTRY_ONCE | _MANY
_REQUIRED = ("id", "title", "updated")
_ATOM_REPEATABLE = frozenset({"entry", "link", "author", "contributor", "category"})
_RSS_REPEATABLE = frozenset({"item", "category", "enclosure"})

# RFC 3339 date-time with RFC 4287 section 3.3's upper-case "T" and "Z".
_ATOM_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$"
)
# Link relations that may point at the alert itself; "self", "edit", "next"... never do.
_ALERT_RELATIONS = frozenset({"alternate", "related", "enclosure", "via"})


def scan_feed(root: Element) -> ContainerScan | None:
    """Scan an Atom feed or entry document, or an RSS channel; ``None`` for anything else."""
    ns, name = namespace_of(root), local_name(root)
    if ns == ATOM_NS and name in ("feed", "entry"):
        return _AtomScan().run(root)
    if ns == ATOM03_NS and name == "feed":
        message = (
            "this is an Atom 0.3 feed (namespace http://purl.org/atom/ns#), which was replaced "
            "by Atom 1.0 (RFC 4287) in 2005; publish the feed in namespace "
            f"{ATOM_NS}"
        )
        return ContainerScan(
            "atom",
            (finding(Severity.ERROR, "atom.version.unsupported", message, "/feed", root),),
            (),
            (),
        )
    if ns == "" and name == "rss":
        return _RssScan().run(root)
    return None


class _AtomScan:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.alerts: list[FoundAlert] = []
        self.links: list[FoundLink] = []

    def run(self, root: Element) -> ContainerScan:
        if local_name(root) == "entry":
            self._entry(root, "/entry", "entry", "the entry")
            if not self._entry_has_author(root):
                self._add(
                    Severity.WARNING,
                    "atom.author.missing",
                    f"the entry{line_note(root)} has no <author>; RFC 4287 requires one (the "
                    "alert's <sender> still says who issued it). Add <author><name>...</name>"
                    "</author>",
                    "/entry/author[1]",
                    root,
                )
        else:
            self._feed(root)
        return ContainerScan("atom", tuple(self.findings), tuple(self.alerts), tuple(self.links))

    def _add(self, severity: Severity, code: str, message: str, path: str, el: Element) -> None:
        self.findings.append(finding(severity, code, message, path, el))

    def _feed(self, feed: Element) -> None:
        kids = children(feed, "/feed", _ATOM_REPEATABLE)
        self._structure(feed, "/feed", "feed", "the feed", kids, _FEED_ALLOWED, _FEED_ONCE)
        for path, child in kids:
            if is_cap_alert(child):
                self._add(
                    Severity.ERROR,
                    "atom.feed.stray_alert",
                    f"a CAP alert sits directly inside <feed>{line_note(child)}, outside any "
                    "<entry>; feed readers treat it as unknown markup and never deliver it. "
                    'Put it in an <entry>, inside <content type="application/cap+xml">',
                    path,
                    child,
                )
        feed_has_author = any(_is_atom(child, "author") for _path, child in kids)
        entries = [(p, c) for p, c in kids if _is_atom(c, "entry")]
        seen: dict[tuple[str, str], int] = {}
        for index, (path, entry) in enumerate(entries, 1):
            label = f"entry[{index}]"
            self._entry(entry, path, label, f"entry {index}")
            key = (text_of(_first(entry, "id")), text_of(_first(entry, "updated")))
            if key[0] and key in seen:
                self._add(
                    Severity.WARNING,
                    "atom.entry.id.repeated",
                    f"entry {index} has the same <id> {key[0]!r} and <updated> time as entry "
                    f"{seen[key]}; readers will show only one of them. Give each entry its own "
                    "id, or a later <updated> for a new version",
                    path,
                    entry,
                )
            seen.setdefault(key, index)
        orphans = [i for i, (_p, e) in enumerate(entries, 1) if not self._entry_has_author(e)]
        if not feed_has_author and orphans:
            shown = ", ".join(str(i) for i in orphans[:5]) + (", ..." if len(orphans) > 5 else "")
            nor = "does entry" if len(orphans) == 1 else "do entries"
            self._add(
                Severity.WARNING,
                "atom.author.missing",
                f"the feed{line_note(feed)} has no <author>, nor {nor} {shown}; RFC 4287 "
                "requires one for every entry (the alert's <sender> still says who issued it). "
                "Add <author><name>...</name></author> to the feed",
                "/feed/author[1]",
                feed,
            )

    def _structure(
        self,
        element: Element,
        path: str,
        code_part: str,
        what: str,
        kids: list[tuple[str, Element]],
        allowed: frozenset[str],
        once: frozenset[str],
    ) -> None:
        """Unknown and repeated Atom elements, required id/title/updated, their values."""
        prefix = "atom" if code_part == "feed" else f"atom.{code_part}"
        counts: dict[str, int] = {}
        for child_path, child in kids:
            if namespace_of(child) != ATOM_NS:
                continue  # foreign markup (cap:*, georss:*, ds:Signature...) is allowed
            name = local_name(child)
            if name not in allowed:
                self._add(
                    Severity.ERROR,
                    "atom.element.unknown",
                    f"<{name}>{line_note(child)} is not an Atom element that {what} may "
                    f"contain (allowed: {', '.join(sorted(allowed))}); remove it, or put "
                    "extension data in a namespace of your own",
                    child_path,
                    child,
                )
                continue
            counts[name] = counts.get(name, 0) + 1
            if name in once and counts[name] == 2:
                self._add(
                    Severity.ERROR,
                    "atom.element.repeated",
                    f"{what} has more than one <{name}>{line_note(child)}; RFC 4287 allows "
                    "exactly one, so keep a single one",
                    child_path,
                    child,
                )
            if name in ("author", "contributor"):
                self._person(child, child_path, name)
            if name in ("updated", "published"):
                self._date(child, child_path, what)
        for name in _REQUIRED:
            if counts.get(name, 0) == 0:
                self._add(
                    Severity.ERROR,
                    f"{prefix}.{name}.missing",
                    f"{what}{line_note(element)} has no <{name}>; RFC 4287 requires "
                    f"<id>, <title> and <updated> in every {code_part}. {_HOW_TO[name]}",
                    f"{path}/{name}",
                    element,
                )
        ident = _first(element, "id")
        if ident is not None and not text_of(ident):
            self._add(
                Severity.ERROR,
                f"{prefix}.id.empty",
                f"the <id> of {what}{line_note(ident)} is empty; it must be a permanent, "
                "unique IRI. " + _HOW_TO["id"],
                f"{path}/id",
                ident,
            )

    def _person(self, person: Element, path: str, name: str) -> None:
        if _first(person, "name") is None:
            self._add(
                Severity.ERROR,
                "atom.person.name.missing",
                f"<{name}>{line_note(person)} has no <name>; RFC 4287 requires one in every "
                f"person, e.g. <{name}><name>Met Office duty forecaster</name></{name}>",
                f"{path}/name",
                person,
            )

    def _date(self, element: Element, path: str, what: str) -> None:
        text = text_of(element)
        problem = _atom_date_problem(text)
        if problem:
            self._add(
                Severity.ERROR,
                "atom.date.invalid",
                f"<{local_name(element)}> of {what}{line_note(element)} is {text!r}: {problem}",
                path,
                element,
            )

    def _entry(self, entry: Element, path: str, label: str, what: str) -> None:
        kids = children(entry, path, _ATOM_REPEATABLE)
        self._structure(entry, path, "entry", what, kids, _ENTRY_ALLOWED, _ENTRY_ONCE)
        content_pair = next(((p, c) for p, c in kids if _is_atom(c, "content")), None)
        links = [(p, c) for p, c in kids if _is_atom(c, "link")]
        inline: list[FoundAlert] = []
        inline_problems: list[Finding] = []
        content_problems: list[Finding] = []
        embedded: list[FoundAlert] = []
        src_link: FoundLink | None = None
        if content_pair is not None:
            content_path, content = content_pair
            embedded, content_problems = cap_children(content, content_path, label, "atom")
            self.findings.extend(content_problems)
            src = (content.get("src") or "").strip()
            if src and _maybe_cap_type(content.get("type")):
                src_link = FoundLink(_absolute(content, src), label)
            if embedded:
                self._content_type(content, content_path, what)
        cap_links = _cap_links(links, label)
        if src_link is not None:
            cap_links.insert(0, src_link)
        if not embedded:
            inline, inline_problems = cap_children(entry, path, label, "atom")
            if not cap_links:  # with a link, inline markup is only a summary
                self.findings.extend(inline_problems)
        if embedded:
            self.alerts.extend(embedded)
        elif cap_links:
            self.links.extend(cap_links)
            if inline:
                self._add(
                    Severity.INFO,
                    "atom.entry.summary_alert",
                    f"the <alert>{line_note(inline[0].element)} placed directly in {what} is "
                    f"taken as an index summary: the entry links to the full alert at "
                    f"{cap_links[0].url}. To publish the alert itself, put it inside "
                    '<content type="application/cap+xml">',
                    path,
                    inline[0].element,
                )
        elif inline:
            self.alerts.extend(inline)
        elif not inline_problems and not content_problems:  # those already say what is wrong
            self._add(
                Severity.ERROR,
                "atom.entry.cap_missing",
                f"{what}{line_note(entry)} neither embeds a CAP alert nor links to one"
                f"{_why_no_cap(content_pair, links)}; put the alert inside "
                '<content type="application/cap+xml">, or add <link rel="alternate" '
                'type="application/cap+xml" href="..."/> pointing at the alert document',
                path,
                entry,
            )

    def _entry_has_author(self, entry: Element) -> bool:
        if _first(entry, "author") is not None:
            return True
        source = _first(entry, "source")
        return source is not None and _first(source, "author") is not None

    def _content_type(self, content: Element, path: str, what: str) -> None:
        declared = (content.get("type") or "text").strip()
        if declared.lower() in ("text", "html", "xhtml") or not _is_xml_type(declared):
            self._add(
                Severity.WARNING,
                "atom.content.type",
                f"the <content> of {what}{line_note(content)} holds a CAP alert but is typed "
                f"{declared!r}"
                + (" (the default)" if content.get("type") is None else "")
                + ", which tells readers to treat it as text or HTML and may drop the XML; "
                'declare type="application/cap+xml"',
                path,
                content,
            )


class _RssScan:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.alerts: list[FoundAlert] = []
        self.links: list[FoundLink] = []

    def _add(self, severity: Severity, code: str, message: str, path: str, el: Element) -> None:
        self.findings.append(finding(severity, code, message, path, el))

    def run(self, root: Element) -> ContainerScan:
        version = (root.get("version") or "").strip()
        if version != "2.0":
            shown = f"version={version!r}" if version else "no version attribute"
            self._add(
                Severity.WARNING,
                "rss.version",
                f'<rss> has {shown}; this checker reads RSS 2.0, so write <rss version="2.0">',
                "/rss",
                root,
            )
        channels = [(p, c) for p, c in children(root, "/rss", frozenset()) if _is_rss(c, "channel")]
        if not channels:
            self._add(
                Severity.ERROR,
                "rss.channel.missing",
                "<rss> has no <channel>; RSS 2.0 puts the feed's title, link, description and "
                "every <item> inside exactly one <channel>",
                "/rss/channel",
                root,
            )
        for path, extra in channels[1:]:
            self._add(
                Severity.ERROR,
                "rss.channel.repeated",
                f"<rss> has more than one <channel>{line_note(extra)}; RSS 2.0 allows exactly "
                "one, so merge their items into the first (the others are ignored here)",
                path,
                extra,
            )
        if channels:
            self._channel(*channels[0])
        return ContainerScan("rss", tuple(self.findings), tuple(self.alerts), tuple(self.links))

    def _channel(self, path: str, channel: Element) -> None:
        kids = children(channel, path, _RSS_REPEATABLE)
        for name in ("title", "link", "description"):
            if not any(_is_rss(c, name) for _p, c in kids):
                self._add(
                    Severity.ERROR,
                    f"rss.channel.{name}.missing",
                    f"the <channel>{line_note(channel)} has no <{name}>; RSS 2.0 requires "
                    "<title>, <link> and <description> in every channel",
                    f"{path}/{name}",
                    channel,
                )
        self._pub_date(channel, path, "the <channel>", "rss.channel.pub_date.missing")
        items = [(p, c) for p, c in kids if _is_rss(c, "item")]
        for index, (item_path, item) in enumerate(items, 1):
            self._item(item, item_path, index)

    def _pub_date(self, element: Element, path: str, what: str, missing_code: str) -> None:
        pub = next((c for c in element if _is_rss(c, "pubDate")), None)
        if pub is None:
            self._add(
                Severity.WARNING,
                missing_code,
                f"{what}{line_note(element)} has no <pubDate>; without it readers cannot "
                "tell new alerts from old ones. Add one, e.g. "
                "<pubDate>Fri, 04 Feb 2011 20:32:08 GMT</pubDate>",
                f"{path}/pubDate",
                element,
            )
            return
        text = text_of(pub)
        if not _is_rfc822_date(text):
            self._add(
                Severity.WARNING,
                "rss.pub_date.invalid",
                f"<pubDate> of {what}{line_note(pub)} is {text!r}, which is not an RFC 822 "
                "date; write it like 'Fri, 04 Feb 2011 20:32:08 GMT'",
                f"{path}/pubDate",
                pub,
            )

    def _item(self, item: Element, path: str, index: int) -> None:
        what = f"item {index}"
        label = f"item[{index}]"
        kids = children(item, path, _RSS_REPEATABLE)
        title = next((c for _p, c in kids if _is_rss(c, "title")), None)
        description = next((c for _p, c in kids if _is_rss(c, "description")), None)
        if not text_of(title) and not text_of(description):
            self._add(
                Severity.ERROR,
                "rss.item.title_or_description.missing",
                f"{what}{line_note(item)} has neither a <title> nor a <description>; RSS 2.0 "
                "requires at least one. Use the alert's headline as <title>",
                path,
                item,
            )
        if not text_of(next((c for _p, c in kids if _is_rss(c, "guid")), None)):
            self._add(
                Severity.WARNING,
                "rss.item.guid.missing",
                f"{what}{line_note(item)} has no <guid>; readers use it to recognise an item "
                "they have already seen. Use the alert's identifier",
                f"{path}/guid",
                item,
            )
        self._pub_date(item, path, what, "rss.item.pub_date.missing")
        alerts, problems = cap_children(item, path, label, "rss")
        self.findings.extend(problems)
        if alerts:
            self.alerts.extend(alerts)
            return
        link = self._item_link(kids, label)
        if link is not None:
            self.links.append(link)
        elif not problems:
            self._add(
                Severity.ERROR,
                "rss.item.cap_missing",
                f"{what}{line_note(item)} neither embeds a CAP alert nor links to one; add "
                "<link>URL of the CAP document</link> (or an <enclosure> of type "
                "application/cap+xml)",
                path,
                item,
            )

    def _item_link(self, kids: list[tuple[str, Element]], label: str) -> FoundLink | None:
        for _path, child in kids:
            if _is_rss(child, "enclosure"):
                url = (child.get("url") or "").strip()
                if url and (child.get("type") or "").strip().lower() in CAP_MEDIA_TYPES:
                    return FoundLink(_absolute(child, url), label)
        for _path, child in kids:
            if _is_rss(child, "link") and text_of(child):
                return FoundLink(_absolute(child, text_of(child)), label)
        return None


_HOW_TO = {
    "id": "Use a permanent, unique IRI, e.g. a urn:uuid: or a tag: IRI made from the alert's "
    "sender and identifier",
    "title": "Use the alert's headline",
    "updated": "Give the time it last changed, e.g. 2024-05-01T14:30:00-05:00",
}


def _is_atom(element: Element, name: str) -> bool:
    return namespace_of(element) == ATOM_NS and local_name(element) == name


def _is_rss(element: Element, name: str) -> bool:
    return namespace_of(element) == "" and local_name(element) == name


def _first(element: Element, name: str) -> Element | None:
    return next((c for c in element if isinstance(c.tag, str) and _is_atom(c, name)), None)


def _is_xml_type(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base.endswith(("/xml", "+xml")) and "html" not in base


def _maybe_cap_type(media_type: str | None) -> bool:
    """A link of this type may be the alert: declared CAP, any XML type, or no type at all."""
    if media_type is None or not media_type.strip():
        return True
    return _is_xml_type(media_type)


def _cap_links(links: list[tuple[str, Element]], label: str) -> list[FoundLink]:
    """The entry's link(s) to its CAP document.

    Links typed ``application/cap+xml`` win. Otherwise the first alternate (or related)
    link with an XML type or no type is taken, as thin indexes such as the NWS one write
    ``<link href="...wwacapget.php?x=..."/>`` with neither rel nor type.
    """
    usable: list[tuple[Element, str, str]] = []
    for _path, link in links:
        href = (link.get("href") or "").strip()
        rel = (link.get("rel") or "alternate").strip().lower()
        if href and rel in _ALERT_RELATIONS:
            usable.append((link, href, rel))
    declared = [
        FoundLink(_absolute(link, href), label)
        for link, href, _rel in usable
        if (link.get("type") or "").split(";", 1)[0].strip().lower() in CAP_MEDIA_TYPES
    ]
    if declared:
        return declared
    guesses = [
        (link, href, rel)
        for link, href, rel in usable
        if rel != "enclosure" and _maybe_cap_type(link.get("type"))
    ]
    guesses.sort(key=lambda t: t[2] != "alternate")
    if guesses:
        link, href, _rel = guesses[0]
        return [FoundLink(_absolute(link, href), label)]
    return []


def _why_no_cap(content_pair: tuple[str, Element] | None, links: list[tuple[str, Element]]) -> str:
    reasons: list[str] = []
    if content_pair is not None:
        content = content_pair[1]
        if content.get("src"):
            reasons.append(f"its <content src> is typed {content.get('type')!r}, not CAP")
        else:
            reasons.append("its <content> holds no <alert> element")
    typed = sorted(
        {
            (link.get("type") or "no type") + f" rel={link.get('rel') or 'alternate'}"
            for _p, link in links
        }
    )
    if typed:
        reasons.append(f"its links are not CAP ({'; '.join(typed)})")
    elif content_pair is None:
        reasons.append("it has no <content> and no <link>")
    return " (" + ", and ".join(reasons) + ")" if reasons else ""


def _absolute(element: Element, url: str) -> str:
    """Resolve ``url`` against xml:base or the document's own address, when there is one."""
    base = element.base
    if base and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", base):
        return urljoin(base, url)
    return url


def _atom_date_problem(text: str) -> str:
    m = _ATOM_DATE_RE.match(text)
    if m is None:
        if re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?$", text):
            return "it has no time zone; add one, e.g. 2024-05-01T14:30:00Z or ...-05:00"
        return (
            "RFC 4287 dates must be RFC 3339 date-times with an upper-case T and a time zone, "
            "e.g. 2024-05-01T14:30:00-05:00"
        )
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    try:
        datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return "that date does not exist"
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return "the time zone offset is out of range"
    return ""


def _is_rfc822_date(text: str) -> bool:
    try:
        parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return False
    return True
