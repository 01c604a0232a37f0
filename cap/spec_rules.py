"""The CAP specification's own rules, beyond what the XML Schema can express.

CAP 1.2 section 4.2 makes a message conforming only if it is schema-valid AND meets the
mandatory requirements of section 3; this module checks the second half (and the same text in
CAP 1.0 and 1.1). MUST/SHALL breaches are errors, SHOULD breaches warnings, and things a
reader should notice are infos. Every rule is listed in docs/validation-rules.md.

Pure: no IO and no clock. Findings carry a path but no line/column; the validator resolves
those. A missing required element is the schema's to report, so the rules here look only at
what is present (an element that is present but empty is ours).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from cap.errors import CapFormatError
from cap.findings import Finding, Severity, error, info, warning
from cap.language_tags import is_bcp47_tag, is_rfc3066_tag
from cap.model import Alert, Area, Circle, Info, Point, Polygon, Resource, ValuePair
from cap.parsing import ParsedAlert, SourceMap
from cap.textcodecs import parse_decimal
from cap.timefmt import parse_cap_datetime, parse_lenient_datetime
from cap.vocabulary import (
    CATEGORY,
    CERTAINTY,
    MSG_TYPE,
    RESPONSE_TYPE,
    SCOPE,
    SEVERITY,
    STATUS,
    URGENCY,
    CapVersion,
)

SPEC_RULE_CODES: Final = frozenset(
    {
        "cap.addresses.empty",
        "cap.addresses.empty_entry",
        "cap.addresses.missing",
        "cap.addresses.syntax",
        "cap.addresses.unexpected",
        "cap.altitude.invalid",
        "cap.area.description_empty",
        "cap.category.invalid",
        "cap.ceiling.below_altitude",
        "cap.ceiling.invalid",
        "cap.ceiling.without_altitude",
        "cap.certainty.invalid",
        "cap.certainty.very_likely_deprecated",
        "cap.circle.coordinate_range",
        "cap.circle.negative_radius",
        "cap.circle.syntax",
        "cap.datetime.format",
        "cap.datetime.utc_plus_zero",
        "cap.datetime.whitespace",
        "cap.event.empty",
        "cap.event_code.empty",
        "cap.expires.not_after_effective",
        "cap.expires.not_after_sent",
        "cap.geocode.empty",
        "cap.headline.long",
        "cap.identifier.empty",
        "cap.identifier.invalid_characters",
        "cap.incidents.empty",
        "cap.incidents.empty_entry",
        "cap.incidents.syntax",
        "cap.info.duplicate",
        "cap.info.none",
        "cap.language.invalid",
        "cap.language.not_bcp47",
        "cap.msg_type.invalid",
        "cap.note.missing_for_error",
        "cap.onset.after_expires",
        "cap.parameter.empty",
        "cap.polygon.coordinate_range",
        "cap.polygon.degenerate",
        "cap.polygon.empty",
        "cap.polygon.not_closed",
        "cap.polygon.syntax",
        "cap.polygon.too_few_points",
        "cap.references.after_sent",
        "cap.references.duplicate",
        "cap.references.empty",
        "cap.references.missing",
        "cap.references.self",
        "cap.references.sent_format",
        "cap.references.syntax",
        "cap.resource.deref_uri_invalid",
        "cap.resource.description_empty",
        "cap.resource.digest_invalid",
        "cap.resource.digest_mismatch",
        "cap.resource.mime_type_invalid",
        "cap.resource.mime_type_unknown",
        "cap.resource.size_invalid",
        "cap.resource.size_mismatch",
        "cap.resource.uri_invalid",
        "cap.resource.uri_relative",
        "cap.response_type.assess_public",
        "cap.response_type.invalid",
        "cap.restriction.empty",
        "cap.restriction.missing",
        "cap.restriction.unexpected",
        "cap.scope.invalid",
        "cap.sender.empty",
        "cap.sender.invalid_characters",
        "cap.severity.invalid",
        "cap.status.invalid",
        "cap.text.entity_reference",
        "cap.text.html_markup",
        "cap.urgency.invalid",
        "cap.web.not_absolute",
    }
)
"""Every finding code this module emits; docs/validation-rules.md documents each one."""

# Message types that act on earlier messages and so must name them (3.2.1 msgType).
_NEEDS_REFERENCES: Final = ("Update", "Cancel", "Ack", "Error")
# Message types that carry something to act on, so an <info> is expected (3.2.1, 3.2.2).
_NEEDS_INFO: Final = ("Alert", "Update")
# Code values that exist only from a given CAP version, for a precise message.
_ADDED_IN: Final = {
    "Draft": "1.1",
    "CBRNE": "1.1",
    "Observed": "1.1",
    "Avoid": "1.2",
    "AllClear": "1.2",
}
# Top-level media types registered with IANA (RFC 2046, RFC 6838 and later registrations).
_MEDIA_TOP_LEVEL: Final = frozenset(
    {
        "application",
        "audio",
        "example",
        "font",
        "haptics",
        "image",
        "message",
        "model",
        "multipart",
        "text",
        "video",
    }
)
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MIME_RE: Final = re.compile(
    rf"(?P<type>{_TOKEN})/(?P<subtype>{_TOKEN})"
    rf"(?:\s*;\s*{_TOKEN}=(?:{_TOKEN}|\"[^\"]*\"))*"
)
_SCHEME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_SHA1_HEX_RE: Final = re.compile(r"[0-9A-Fa-f]{40}")
_ENTITY_RE: Final = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});")
_HTML_TAG_RE: Final = re.compile(
    r"</?(?:a|b|br|p|div|span|i|u|em|strong|ul|ol|li|table|tr|td|th|h[1-6]|font|img|hr|html|body)"
    r"\b[^<>]*>",
    re.IGNORECASE,
)
_FORBIDDEN_ID_CHARS: Final = (",", "<", "&")
_HEADLINE_TARGET: Final = 160
_LAT_LIMIT: Final = Decimal(90)
_LON_LIMIT: Final = Decimal(180)


@dataclass(frozen=True, slots=True)
class _Doc:
    """What every rule needs: the model, the version and the raw text by path."""

    alert: Alert
    version: CapVersion
    source: SourceMap

    def raw(self, path: str) -> str | None:
        return self.source.text(path)


def check_spec_rules(parsed: ParsedAlert) -> list[Finding]:
    """Every specification finding for one parsed alert (CAP 1.0, 1.1 or 1.2)."""
    doc = _Doc(parsed.alert, parsed.version, parsed.source_map)
    findings: list[Finding] = []
    findings.extend(_identity(doc))
    findings.extend(_alert_times(doc))
    findings.extend(_code_lists(doc))
    findings.extend(_scope(doc))
    findings.extend(_address_lists(doc))
    findings.extend(_references(doc))
    findings.extend(_message_shape(doc))
    for index, item in enumerate(doc.alert.infos, 1):
        findings.extend(_info(doc, item, f"/alert/info[{index}]"))
    findings.extend(_duplicate_infos(doc))
    return findings


# --- alert: identifier, sender, sent ------------------------------------------------------


def _identity(doc: _Doc) -> Iterator[Finding]:
    for name, what in (("identifier", "the message identifier"), ("sender", "the sender")):
        path = f"/alert/{name}"
        text = doc.raw(path)
        if text is None:
            continue  # missing: the schema reports it
        if not text.strip():
            yield error(
                f"cap.{name}.empty",
                f"<{name}> is empty; CAP requires {what} (3.2.1)",
                path,
            )
            continue
        problems = _identifier_problems(text)
        if problems:
            yield error(
                f"cap.{name}.invalid_characters",
                f"<{name}> {text!r} contains {problems}; CAP forbids spaces, commas, '<' and '&' "
                f"in {what} (3.2.1); remove or replace them",
                path,
            )


def _identifier_problems(text: str) -> str:
    """A readable list of what CAP forbids in identifier/sender, or "" if nothing."""
    found: list[str] = []
    if len(text.split()) != 1 or text != text.strip():
        found.append("white space")
    names = {",": "a comma", "<": "'<'", "&": "'&'"}
    found.extend(names[ch] for ch in _FORBIDDEN_ID_CHARS if ch in text)
    return ", ".join(found)


def _alert_times(doc: _Doc) -> Iterator[Finding]:
    text = doc.raw("/alert/sent")
    if text is not None:
        yield from _datetime_format(doc, "sent", text, "/alert/sent")


def _datetime_format(doc: _Doc, name: str, text: str, path: str) -> Iterator[Finding]:
    """3.3.2 / 3.2.x: YYYY-MM-DDThh:mm:ss with a numeric offset; no "Z", no fractions."""
    stripped = text.strip()
    problem = _datetime_problem(stripped)
    if problem is None:
        if stripped != text:
            yield warning(
                "cap.datetime.whitespace",
                f"<{name}> {text!r} has white space around the date-time; some receivers "
                "compare the text exactly, so write the date-time alone",
                path,
            )
        if doc.version == "1.2" and stripped.endswith("+00:00"):
            yield info(
                "cap.datetime.utc_plus_zero",
                f"<{name}> {stripped!r} writes UTC as '+00:00'; CAP 1.2 (3.2.1) writes UTC as "
                "'-00:00', which every receiver understands",
                path,
            )
        return
    if doc.version == "1.0" and parse_lenient_datetime(stripped) is not None:
        # CAP 1.0 only asks for an ISO 8601 date-time with a zone; 1.1 added the strict form.
        yield warning(
            "cap.datetime.format",
            f"<{name}>: {problem}; CAP 1.0 accepts it, but CAP 1.1 and later do not",
            path,
        )
        return
    yield error("cap.datetime.format", f"<{name}>: {problem} (CAP 3.3.2)", path)


def _datetime_problem(text: str) -> str | None:
    try:
        parse_cap_datetime(text)
    except CapFormatError as exc:
        return str(exc)
    return None


# --- code lists ----------------------------------------------------------------------------


def _code_lists(doc: _Doc) -> Iterator[Finding]:
    v = doc.version
    yield from _one_code(doc, "status", "/alert/status", STATUS[v], "cap.status.invalid")
    yield from _one_code(doc, "msgType", "/alert/msgType", MSG_TYPE, "cap.msg_type.invalid")
    yield from _one_code(doc, "scope", "/alert/scope", SCOPE, "cap.scope.invalid")
    for i, _item in enumerate(doc.alert.infos, 1):
        base = f"/alert/info[{i}]"
        for path in _positions(doc, f"{base}/category"):
            yield from _one_code(doc, "category", path, CATEGORY[v], "cap.category.invalid")
        for path in _positions(doc, f"{base}/responseType"):
            yield from _one_code(
                doc, "responseType", path, RESPONSE_TYPE[v], "cap.response_type.invalid"
            )
        for name, allowed, code in (
            ("urgency", URGENCY, "cap.urgency.invalid"),
            ("severity", SEVERITY, "cap.severity.invalid"),
            ("certainty", CERTAINTY[v], "cap.certainty.invalid"),
        ):
            yield from _one_code(doc, name, f"{base}/{name}", allowed, code)


def _positions(doc: _Doc, prefix: str) -> Iterator[str]:
    """Paths of a repeatable element: prefix[1], prefix[2], ... while present."""
    n = 1
    while doc.raw(f"{prefix}[{n}]") is not None:
        yield f"{prefix}[{n}]"
        n += 1


def _one_code(
    doc: _Doc, name: str, path: str, allowed: tuple[str, ...], code: str
) -> Iterator[Finding]:
    value = doc.raw(path)
    if value is None:
        return  # missing: the schema reports it
    version = doc.version
    if name == "certainty" and value == "Very Likely" and version == "1.1":
        yield warning(
            "cap.certainty.very_likely_deprecated",
            "<certainty> 'Very Likely' is deprecated since CAP 1.1 and removed in 1.2; "
            "use 'Likely' (3.2.2)",
            path,
        )
        return
    if value in allowed:
        return
    choices = ", ".join(allowed)
    if not allowed:
        message = f"CAP {version} has no <{name}> element; remove it or write CAP 1.1 or later"
    elif not value.strip():
        message = f"<{name}> is empty; CAP {version} requires one of: {choices}"
    elif value.strip() in allowed:
        message = (
            f"<{name}> {value!r} has white space around the value; write exactly one of: {choices}"
        )
    else:
        message = f"<{name}> {value!r} is not a CAP {version} value; use one of: {choices}"
        hint = _code_hint(value.strip(), allowed, version)
        if hint:
            message += f" ({hint})"
    yield error(code, message, path)


def _code_hint(value: str, allowed: tuple[str, ...], version: CapVersion) -> str:
    folded = {a.lower().replace(" ", ""): a for a in allowed}
    match = folded.get(value.lower().replace(" ", ""))
    if match is not None:
        return f"values are case-sensitive: write {match!r}"
    if value == "Very Likely":
        return "'Very Likely' was removed in CAP 1.2; use 'Likely'"
    since = _ADDED_IN.get(value)
    if since is not None and since > version:
        return f"{value!r} was added in CAP {since}"
    return ""


# --- scope, restriction, addresses, incidents ------------------------------------------------


def _scope(doc: _Doc) -> Iterator[Finding]:
    scope = doc.alert.scope
    restriction = doc.raw("/alert/restriction")
    addresses = doc.raw("/alert/addresses")
    if scope == "Restricted" and not (restriction or "").strip():
        yield error(
            "cap.restriction.missing",
            "<scope> is Restricted but there is no <restriction> text saying who may receive "
            "the alert; add <restriction> after <scope> (3.2.1)",
            "/alert/restriction",
        )
    elif restriction is not None and not restriction.strip():
        yield warning(
            "cap.restriction.empty",
            "<restriction> is empty; remove it (it is used only with <scope> Restricted, 3.2.1)",
            "/alert/restriction",
        )
    elif restriction is not None and scope in SCOPE and scope != "Restricted":
        yield warning(
            "cap.restriction.unexpected",
            f"<restriction> is given but <scope> is {scope}; CAP uses <restriction> only with "
            "scope Restricted (3.2.1): change the scope or remove the restriction",
            "/alert/restriction",
        )
    if scope == "Private" and not (addresses or "").strip():
        yield error(
            "cap.addresses.missing",
            "<scope> is Private but <addresses> lists no recipient; CAP requires <addresses> "
            "for private alerts (3.2.1)",
            "/alert/addresses",
        )
    elif addresses is not None and not addresses.strip():
        yield warning(
            "cap.addresses.empty",
            "<addresses> is empty; list the recipients or remove the element (3.2.1)",
            "/alert/addresses",
        )
    elif addresses is not None and scope in SCOPE and scope != "Private":
        yield info(
            "cap.addresses.unexpected",
            f"<addresses> is given with <scope> {scope}; CAP requires it only for Private "
            "alerts, so receivers may ignore it (3.2.1)",
            "/alert/addresses",
        )


def _address_lists(doc: _Doc) -> Iterator[Finding]:
    """3.2.1 addresses/incidents: space-delimited, entries with white space in double quotes."""
    for name in ("addresses", "incidents"):
        path = f"/alert/{name}"
        text = doc.raw(path)
        if text is None:
            continue
        if not text.strip():
            if name == "incidents":
                yield warning(
                    "cap.incidents.empty",
                    "<incidents> is empty; name the incidents or remove the element (3.2.1)",
                    path,
                )
            continue  # empty <addresses> is reported with the scope rules
        for severity, problem in _list_problems(text):
            code = f"cap.{name}.{'syntax' if severity is Severity.ERROR else 'empty_entry'}"
            yield Finding(code, severity, f"<{name}>: {problem} (3.2.1)", path)


def _list_problems(text: str) -> list[tuple[Severity, str]]:
    """Problems with a CAP list: unbalanced or stray double quotes, empty quoted entries."""
    problems: list[tuple[Severity, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] == '"':
            close = text.find('"', i + 1)
            if close < 0:
                problems.append(
                    (
                        Severity.ERROR,
                        f"the double quote at character {i + 1} is never closed; entries "
                        "containing spaces must be enclosed in a pair of double quotes",
                    )
                )
                break
            if not text[i + 1 : close].strip():
                problems.append((Severity.WARNING, f"empty quoted entry at character {i + 1}"))
            end = close + 1
            if end < n and not text[end].isspace():
                problems.append(
                    (
                        Severity.ERROR,
                        f"text follows the closing quote at character {end} without a space; "
                        "separate entries with white space",
                    )
                )
                while end < n and not text[end].isspace():
                    end += 1
            i = end
            continue
        end = i
        while end < n and not text[end].isspace():
            end += 1
        entry = text[i:end]
        if '"' in entry:
            problems.append(
                (
                    Severity.ERROR,
                    f"entry {entry!r} has a double quote inside it; quote a whole entry, "
                    'e.g. "Fire Station 3"',
                )
            )
        i = end
    return problems


# --- references ----------------------------------------------------------------------------


def _references(doc: _Doc) -> Iterator[Finding]:
    path = "/alert/references"
    alert = doc.alert
    text = doc.raw(path)
    tokens = text.split() if text is not None else []
    if alert.msg_type in _NEEDS_REFERENCES and not tokens:
        where = "<references> is empty" if text is not None else "there is no <references>"
        yield error(
            "cap.references.missing",
            f"msgType {alert.msg_type} acts on earlier alerts but {where}; list each one as "
            "sender,identifier,sent (3.2.1)",
            path,
        )
    elif text is not None and not tokens:
        yield warning(
            "cap.references.empty",
            "<references> is empty; remove it or name the earlier alerts as "
            "sender,identifier,sent (3.2.1)",
            path,
        )
    if doc.version == "1.0" or not tokens:
        return  # CAP 1.0 did not define the sender,identifier,sent triple
    seen: dict[tuple[str, str, object], int] = {}
    for n, token in enumerate(tokens, 1):
        parts = token.split(",")
        if len(parts) != 3 or not all(parts):
            hint = ""
            if text is not None and re.search(r",\s", text):
                hint = "; there must be no space after the commas"
            yield error(
                "cap.references.syntax",
                f"reference {n} {token!r} is not sender,identifier,sent{hint}; separate "
                "references with white space (3.2.1)",
                path,
            )
            continue
        sender, identifier, sent_text = parts
        bad = _identifier_problems(sender) or _identifier_problems(identifier)
        if bad:
            yield error(
                "cap.references.syntax",
                f"reference {n} {token!r}: sender and identifier cannot contain {bad} (3.2.1)",
                path,
            )
        problem = _datetime_problem(sent_text)
        sent = parse_lenient_datetime(sent_text)
        if problem is not None:
            yield error(
                "cap.references.sent_format",
                f"reference {n}: {problem} (3.2.1, 3.3.2)",
                path,
            )
        if sender == alert.sender and identifier == alert.identifier:
            yield error(
                "cap.references.self",
                f"reference {n} names this alert's own sender and identifier; a reference "
                "names an earlier alert, and each alert needs a new identifier (3.2.1)",
                path,
            )
        elif sent is not None and alert.sent is not None and sent > alert.sent:
            yield error(
                "cap.references.after_sent",
                f"reference {n} was sent at {sent_text}, after this alert ({_raw_sent(doc)}); "
                "a reference names an earlier alert (3.2.1): check both times and offsets",
                path,
            )
        key = (sender, identifier, sent if sent is not None else sent_text)
        if key in seen:
            yield warning(
                "cap.references.duplicate",
                f"reference {n} repeats reference {seen[key]} ({token}); list each earlier "
                "alert once",
                path,
            )
        else:
            seen[key] = n


def _raw_sent(doc: _Doc) -> str:
    return (doc.raw("/alert/sent") or "").strip()


# --- message shape -------------------------------------------------------------------------


def _message_shape(doc: _Doc) -> Iterator[Finding]:
    alert = doc.alert
    if alert.msg_type in _NEEDS_INFO and not alert.infos:
        yield warning(
            "cap.info.none",
            f"msgType {alert.msg_type} with no <info>: receivers get nothing to show or act "
            "on; add an <info> with event, urgency, severity and certainty (3.2.2)",
            "/alert/info[1]",
        )
    yield from _text_markup(doc, "note", "/alert/note")
    note = doc.raw("/alert/note")
    if alert.msg_type == "Error" and not (note or "").strip():
        yield warning(
            "cap.note.missing_for_error",
            "msgType Error without a <note>: CAP says the explanation of the rejection SHOULD "
            "appear in <note> (3.2.1)",
            "/alert/note",
        )


def _duplicate_infos(doc: _Doc) -> Iterator[Finding]:
    infos = doc.alert.infos
    for j in range(1, len(infos)):
        for i in range(j):
            if infos[i] == infos[j]:
                yield warning(
                    "cap.info.duplicate",
                    f"<info> {j + 1} repeats <info> {i + 1} exactly; several <info> blocks "
                    "should differ in language or content (3.2.2): remove the copy",
                    f"/alert/info[{j + 1}]",
                )
                break


# --- info ----------------------------------------------------------------------------------

_TEXT_FIELDS: Final = (
    "event",
    "audience",
    "senderName",
    "headline",
    "description",
    "instruction",
    "contact",
)
_REQUIRED_TEXT: Final = ("event",)


def _info(doc: _Doc, item: Info, base: str) -> Iterator[Finding]:
    yield from _language(doc, item, base)
    for name in _REQUIRED_TEXT:
        text = doc.raw(f"{base}/{name}")
        if text is not None and not text.strip():
            yield error(
                f"cap.{name}.empty",
                f"<{name}> is empty; CAP requires it to say what the event is (3.2.2)",
                f"{base}/{name}",
            )
    for name in _TEXT_FIELDS:
        yield from _text_markup(doc, name, f"{base}/{name}")
    yield from _info_times(doc, item, base)
    yield from _response_assess(doc, item, base)
    headline = item.headline
    if headline is not None and len(headline.strip()) > _HEADLINE_TARGET:
        yield info(
            "cap.headline.long",
            f"<headline> has {len(headline.strip())} characters; some displays show only the "
            f"headline, and CAP suggests about {_HEADLINE_TARGET} (3.2.2)",
            f"{base}/headline",
        )
    if item.web is not None:
        yield from _absolute_uri("web", item.web, f"{base}/web", "cap.web.not_absolute")
    yield from _pairs(doc, item.event_codes, f"{base}/eventCode", "eventCode", need_value=True)
    yield from _pairs(doc, item.parameters, f"{base}/parameter", "parameter", need_value=False)
    for r, resource in enumerate(item.resources, 1):
        yield from _resource(doc, resource, f"{base}/resource[{r}]")
    for a, area in enumerate(item.areas, 1):
        yield from _area(doc, area, f"{base}/area[{a}]")


def _language(doc: _Doc, item: Info, base: str) -> Iterator[Finding]:
    path = f"{base}/language"
    text = doc.raw(path)
    if text is None or not text.strip():
        return  # absent or null means en-US (3.2.2 language)
    tag = text.strip()
    if not is_rfc3066_tag(tag):
        yield error(
            "cap.language.invalid",
            f"<language> {text!r} is not a language tag; write e.g. 'en-US', 'fr-CA' or 'es' "
            "(RFC 3066, 3.2.2)",
            path,
        )
    elif doc.version == "1.2" and not is_bcp47_tag(tag):
        yield warning(
            "cap.language.not_bcp47",
            f"<language> {tag!r} fits RFC 3066 but is not a well-formed RFC 5646 (BCP 47) "
            "tag, which current receivers expect; write e.g. 'en-US' or 'fr-CA'",
            path,
        )


def _text_markup(doc: _Doc, name: str, path: str) -> Iterator[Finding]:
    """3.3.3: entity references are discouraged; CAP text is plain text, not HTML."""
    text = doc.raw(path)
    if text is None:
        return
    m = _ENTITY_RE.search(text)
    if m is not None:
        yield warning(
            "cap.text.entity_reference",
            f"<{name}> contains the character entity reference {m.group(0)!r} as text; CAP "
            "discourages entity references such as HTML's (3.3.3): write the character itself",
            path,
        )
    m = _HTML_TAG_RE.search(text)
    if m is not None:
        yield warning(
            "cap.text.html_markup",
            f"<{name}> contains the HTML tag {m.group(0)!r}; CAP text is shown as plain text, so "
            "receivers will display the tag itself: use line breaks and plain words instead",
            path,
        )


def _info_times(doc: _Doc, item: Info, base: str) -> Iterator[Finding]:
    for name in ("effective", "onset", "expires"):
        text = doc.raw(f"{base}/{name}")
        if text is not None:
            yield from _datetime_format(doc, name, text, f"{base}/{name}")
    sent = doc.alert.sent
    expires, effective, onset = item.expires, item.effective, item.onset
    if expires is None:
        return
    if sent is not None and expires <= sent:
        yield error(
            "cap.expires.not_after_sent",
            f"<expires> {_raw(doc, base, 'expires')} is not after <sent> {_raw_sent(doc)}: the "
            "information had expired when the alert was sent; correct the times or offsets",
            f"{base}/expires",
        )
    elif effective is not None and expires <= effective:
        yield error(
            "cap.expires.not_after_effective",
            f"<expires> {_raw(doc, base, 'expires')} is not after <effective> "
            f"{_raw(doc, base, 'effective')}: the information would never be in effect; "
            "correct the times or offsets",
            f"{base}/expires",
        )
    if onset is not None and onset > expires:
        yield warning(
            "cap.onset.after_expires",
            f"<onset> {_raw(doc, base, 'onset')} is after <expires> "
            f"{_raw(doc, base, 'expires')}: the information expires before the event begins; "
            "check the times",
            f"{base}/onset",
        )


def _raw(doc: _Doc, base: str, name: str) -> str:
    return (doc.raw(f"{base}/{name}") or "").strip()


def _response_assess(doc: _Doc, item: Info, base: str) -> Iterator[Finding]:
    if doc.version == "1.0" or doc.alert.scope != "Public":
        return
    for k, value in enumerate(item.response_type, 1):
        if value == "Assess":
            yield warning(
                "cap.response_type.assess_public",
                "<responseType> Assess in a Public alert: CAP says Assess SHOULD NOT be used "
                "in public warning applications (3.2.2); use Monitor or Prepare",
                f"{base}/responseType[{k}]",
            )


def _absolute_uri(name: str, value: str, path: str, code: str) -> Iterator[Finding]:
    uri = value.strip()
    if _SCHEME_RE.match(uri) is None:
        yield error(
            code,
            f"<{name}> {value!r} is not a full absolute URI; write it with its scheme, "
            "e.g. 'https://example.org/alerts/123' (3.2.2)",
            path,
        )
    elif any(ch.isspace() for ch in uri):
        yield error(
            code,
            f"<{name}> {value!r} contains white space, which a URI cannot; encode spaces as "
            "%20 (RFC 3986)",
            path,
        )


def _pairs(
    doc: _Doc, pairs: tuple[ValuePair, ...], prefix: str, name: str, *, need_value: bool
) -> Iterator[Finding]:
    """valueName/value pairs (CAP 1.0: one "valueName=value" text) that say nothing."""
    code = f"cap.{'event_code' if name == 'eventCode' else name}.empty"
    for k, pair in enumerate(pairs, 1):
        path = f"{prefix}[{k}]"
        if not pair.value_name.strip():
            if doc.version == "1.0":
                problem = "is not in the form valueName=value"
            else:
                problem = "has an empty <valueName>"
            yield warning(
                code,
                f"<{name}> {k} {problem}; receivers cannot tell which code system the value "
                "belongs to",
                path,
            )
        elif need_value and not pair.value.strip():
            yield warning(
                code,
                f"<{name}> {k} ({pair.value_name}) has an empty value; give the code or "
                "remove the element",
                path,
            )


# --- resource ------------------------------------------------------------------------------


def _resource(doc: _Doc, resource: Resource, base: str) -> Iterator[Finding]:
    desc = doc.raw(f"{base}/resourceDesc")
    if desc is not None and not desc.strip():
        yield error(
            "cap.resource.description_empty",
            "<resourceDesc> is empty; CAP requires a description such as 'map' or 'photo' (3.2.3)",
            f"{base}/resourceDesc",
        )
    mime = doc.raw(f"{base}/mimeType")
    if mime is not None:
        yield from _mime_type(mime, f"{base}/mimeType")
    size_text = doc.raw(f"{base}/size")
    size: int | None = None
    if size_text is not None:
        if re.fullmatch(r"\s*[0-9]+\s*", size_text):
            size = int(size_text)
        else:
            yield error(
                "cap.resource.size_invalid",
                f"<size> {size_text!r} is not a whole number of bytes; write e.g. 52000 (3.2.3)",
                f"{base}/size",
            )
    digest_text = doc.raw(f"{base}/digest")
    digest: str | None = None
    if digest_text is not None:
        if _SHA1_HEX_RE.fullmatch(digest_text.strip()):
            digest = digest_text.strip().lower()
        else:
            yield error(
                "cap.resource.digest_invalid",
                f"<digest> {digest_text!r} is not a SHA-1 digest; CAP uses SHA-1 (FIPS 180-2), "
                "written as 40 hexadecimal digits (3.2.3)",
                f"{base}/digest",
            )
    content = None
    if resource.deref_uri is not None:
        content = _decode_base64(resource.deref_uri)
        if content is None:
            yield error(
                "cap.resource.deref_uri_invalid",
                "<derefUri> is not base64 data; it must hold the resource itself, "
                "base64-encoded (3.2.3)",
                f"{base}/derefUri",
            )
    if content is not None:
        if size is not None and size != len(content):
            yield warning(
                "cap.resource.size_mismatch",
                f"<size> says {size} bytes but <derefUri> holds {len(content)}; correct <size> "
                "(3.2.3)",
                f"{base}/size",
            )
        if digest is not None and hashlib.sha1(content).hexdigest() != digest:
            yield error(
                "cap.resource.digest_mismatch",
                "<digest> does not match the SHA-1 of the <derefUri> content: the content is "
                "damaged or the digest is for another file (3.2.3)",
                f"{base}/digest",
            )
    if resource.uri is not None:
        yield from _resource_uri(resource, base)


def _resource_uri(resource: Resource, base: str) -> Iterator[Finding]:
    assert resource.uri is not None
    uri = resource.uri.strip()
    path = f"{base}/uri"
    if not uri:
        yield error("cap.resource.uri_invalid", "<uri> is empty; give the URI or remove it", path)
    elif any(ch.isspace() for ch in uri):
        yield error(
            "cap.resource.uri_invalid",
            f"<uri> {resource.uri!r} contains white space, which a URI cannot; encode spaces "
            "as %20 (RFC 3986)",
            path,
        )
    elif _SCHEME_RE.match(uri) is None and resource.deref_uri is None:
        yield error(
            "cap.resource.uri_relative",
            f"<uri> {resource.uri!r} is relative, but there is no <derefUri> for it to name; "
            "give a full absolute URI such as 'https://example.org/map.png' (3.2.3)",
            path,
        )


def _mime_type(text: str, path: str) -> Iterator[Finding]:
    value = text.strip()
    m = _MIME_RE.fullmatch(value)
    if m is None:
        yield error(
            "cap.resource.mime_type_invalid",
            f"<mimeType> {text!r} is not a MIME type; write type/subtype, e.g. 'image/png' "
            "(RFC 2046, 3.2.3)",
            path,
        )
        return
    top = m.group("type").lower()
    if top not in _MEDIA_TOP_LEVEL and not top.startswith("x-"):
        yield warning(
            "cap.resource.mime_type_unknown",
            f"<mimeType> {value!r} has the unregistered top-level type {top!r}; use one of "
            f"{', '.join(sorted(_MEDIA_TOP_LEVEL))}",
            path,
        )


def _decode_base64(text: str) -> bytes | None:
    """The bytes of base64 ``text`` (line breaks allowed), or None if it is not base64."""
    compact = "".join(text.split())
    if not compact:
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


# --- area ----------------------------------------------------------------------------------


def _area(doc: _Doc, area: Area, base: str) -> Iterator[Finding]:
    desc = doc.raw(f"{base}/areaDesc")
    if desc is not None and not desc.strip():
        yield error(
            "cap.area.description_empty",
            "<areaDesc> is empty; CAP requires a text description of the area (3.2.4)",
            f"{base}/areaDesc",
        )
    yield from _text_markup(doc, "areaDesc", f"{base}/areaDesc")
    for k, polygon in enumerate(area.polygons, 1):
        yield from _polygon(polygon, f"{base}/polygon[{k}]")
    for k, circle in enumerate(area.circles, 1):
        yield from _circle(circle, f"{base}/circle[{k}]")
    yield from _pairs(doc, area.geocodes, f"{base}/geocode", "geocode", need_value=True)
    yield from _altitude(doc, area, base)


def _polygon(polygon: Polygon, path: str) -> Iterator[Finding]:
    text = polygon.text
    points = polygon.points
    if not points:
        if not text.strip():
            # An empty element describes no polygon at all; NWS CAP 1.1 feeds emitted it as a
            # matter of course and receivers treat it as absent, so it is a warning, not the
            # error a malformed coordinate list is.
            yield warning(
                "cap.polygon.empty",
                "<polygon> is empty, so it describes no area and receivers ignore it; give at "
                "least 4 'lat,lon' points with the first and last the same (3.2.4), or remove "
                "the element",
                path,
            )
            return
        yield error(
            "cap.polygon.syntax",
            f"<polygon>: {_bad_point(text)}; write points as 'lat,lon' separated by spaces, "
            "e.g. '38.47,-120.14 38.34,-119.95 38.52,-119.74 38.47,-120.14' (3.2.4)",
            path,
        )
        return
    yield from _coordinates(points, path, "polygon")
    if len(points) < 4:
        yield error(
            "cap.polygon.too_few_points",
            f"polygon has {len(points)} points; CAP needs at least 4 with the first and last "
            "the same (3.2.4)",
            path,
        )
    elif points[0] != points[-1]:
        yield error(
            "cap.polygon.not_closed",
            f"polygon is not closed: it starts at {_point_text(points[0])} but ends at "
            f"{_point_text(points[-1])}; repeat the first point at the end (3.2.4)",
            path,
        )
    if len(points) >= 4 and len(set(points)) < 3:
        yield warning(
            "cap.polygon.degenerate",
            f"polygon has only {len(set(points))} distinct point(s), so it covers no area; "
            "check the coordinates",
            path,
        )


def _bad_point(text: str) -> str:
    for n, token in enumerate(text.split(), 1):
        parts = token.split(",")
        if len(parts) != 2 or parse_decimal(parts[0]) is None or parse_decimal(parts[1]) is None:
            return f"point {n} {token!r} is not 'lat,lon' (two decimal numbers, one comma)"
    return f"{text!r} is not a list of points"


def _point_text(point: Point) -> str:
    return f"{point.lat},{point.lon}"


def _coordinates(points: tuple[Point, ...], path: str, what: str) -> Iterator[Finding]:
    for n, point in enumerate(points, 1):
        bad_lat = abs(point.lat) > _LAT_LIMIT
        bad_lon = abs(point.lon) > _LON_LIMIT
        if not (bad_lat or bad_lon):
            continue
        swapped = abs(point.lon) <= _LAT_LIMIT and abs(point.lat) <= _LON_LIMIT
        hint = "; latitude comes first in CAP, are the two swapped?" if swapped else ""
        label = f"point {n} " if what == "polygon" else "centre "
        yield error(
            f"cap.{what}.coordinate_range",
            f"{what} {label}{_point_text(point)} is outside WGS 84 (latitude -90..90, "
            f"longitude -180..180){hint} (3.2.4)",
            path,
        )
        return  # one per shape is enough to act on


def _circle(circle: Circle, path: str) -> Iterator[Finding]:
    if circle.center is None or circle.radius_km is None:
        yield error(
            "cap.circle.syntax",
            f"<circle> {circle.text!r} is not 'lat,lon radius'; write e.g. '32.9525,-115.5527 "
            "0.5' (centre, one space, radius in km) (3.2.4)",
            path,
        )
        return
    yield from _coordinates((circle.center,), path, "circle")
    if circle.radius_km < 0:
        yield error(
            "cap.circle.negative_radius",
            f"<circle> radius {circle.radius_km} km is negative; the radius is a distance in "
            "kilometres (3.2.4)",
            path,
        )


def _altitude(doc: _Doc, area: Area, base: str) -> Iterator[Finding]:
    altitude_text = doc.raw(f"{base}/altitude")
    ceiling_text = doc.raw(f"{base}/ceiling")
    for name, text, value in (
        ("altitude", altitude_text, area.altitude),
        ("ceiling", ceiling_text, area.ceiling),
    ):
        if text is not None and value is None:
            yield error(
                f"cap.{name}.invalid",
                f"<{name}> {text!r} is not a number; give feet above mean sea level, "
                "e.g. 1500 (3.2.4)",
                f"{base}/{name}",
            )
    if ceiling_text is not None and altitude_text is None:
        yield error(
            "cap.ceiling.without_altitude",
            "<ceiling> is given without <altitude>; CAP allows a ceiling only together with "
            "an altitude (3.2.4): add <altitude> or remove <ceiling>",
            f"{base}/ceiling",
        )
    elif area.altitude is not None and area.ceiling is not None and area.ceiling < area.altitude:
        yield error(
            "cap.ceiling.below_altitude",
            f"<ceiling> {area.ceiling} is below <altitude> {area.altitude}; the ceiling is the "
            "upper limit of the altitude range (3.2.4)",
            f"{base}/ceiling",
        )
