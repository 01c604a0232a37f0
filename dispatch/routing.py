"""Which channels carry an alert, and why (pure: no IO, no clock).

A channel carries an alert when:

1. the alert's ``status``, ``scope`` and ``msgType`` are each listed by the channel (exact CAP
   spelling; an Exercise, System, Test or Draft alert never reaches a channel that does not
   list that status), and
2. the channel has no info-level criteria, or ANY info block of the alert meets ALL of them:
   language (a configured range ``en`` matches ``en`` and ``en-US``; an info without
   ``<language>`` is ``en-US``), category (any shared), event (same text, ignoring case and
   runs of spaces), event code (any shared ``valueName``/``value`` pair), the minimum severity,
   urgency and certainty (by the ranks of :mod:`cap.vocabulary`; ``Unknown`` or an unlisted
   value never meets a minimum), and the channel's area.

The area matches when any ``<area>`` of that info shares a geocode (same ``valueName`` and
``value``) with the channel, or any of its polygons or circles intersects (touching counts)
any of the channel's polygons or circles. Circles are approximated as ellipses in degrees
(110.574 km per degree of latitude, 111.320 km x cos(latitude) per degree of longitude), which
is close enough for coverage decisions away from the poles; shapes are not split at the
antimeridian. Geocodes are not turned into shapes: a channel that lists only geocodes matches
only alerts that carry one of them, and a channel with only shapes matches only alerts with
shapes. An info without any area never matches a channel that has an area.

Updates and cancels (the CAP ``references`` chain):

* A **Cancel** is judged without the severity, urgency and certainty minimums: a cancel says
  the threat is over (:func:`cap.authoring.cancel_alert` writes urgency ``Past``), so those
  values no longer describe what it withdraws. Language, category, event, event codes and area
  still apply, as a cancel carries the cancelled warning's info blocks.
* An **Update** is judged like an Alert: routing sees only the update's own content. An update
  that lowers a warning below a channel's minimum is delivered there by dispatch itself, which
  also routes every Update and Cancel to the channels that carried the alerts it references
  (from the outbox).
* A Cancel, Update, Ack or Error **without info blocks** passes the info-level criteria (it
  cannot be judged by them, and must not be lost on a channel that may have carried what it
  references); an Alert without info blocks passes only on a channel without info-level
  criteria. Status, scope and msgType are always checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import shapely
from shapely.geometry.base import BaseGeometry

from cap.geometry import area_shapes, disc_shape, ring_shape
from cap.model import Alert, Area, Info
from cap.vocabulary import CERTAINTY_RANK, MSG_TYPE, SCOPE, SEVERITY_RANK, STATUS, URGENCY_RANK
from dispatch.config import AreaFilter, ChannelConfig, RoutingRule

__all__ = ["RoutingDecision", "area_intersects", "route_alert", "route_all"]


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    channel: str
    routed: bool
    reason: str  # why (not) routed, for the audit log and `tocsin status`


def route_all(alert: Alert, channels: Sequence[ChannelConfig]) -> list[RoutingDecision]:
    """One decision per channel, in the channels' order."""
    return [route_alert(alert, channel) for channel in channels]


def route_alert(alert: Alert, channel: ChannelConfig) -> RoutingDecision:
    """Whether ``channel`` carries ``alert``, with the reason in words."""
    rule = channel.routing

    def decision(routed: bool, reason: str) -> RoutingDecision:
        return RoutingDecision(channel.name, routed, reason)

    status = alert.status or "(none)"
    if alert.status not in rule.statuses:
        return decision(
            False,
            f"status {status} is not configured for this channel "
            f"(statuses: {_listed(rule.statuses, STATUS['1.2'])})",
        )
    if alert.scope is None or alert.scope not in rule.scopes:
        return decision(
            False,
            f"scope {alert.scope or '(none)'} is not configured for this channel "
            f"(scopes: {_listed(rule.scopes, SCOPE)})",
        )
    if alert.msg_type not in rule.msg_types:
        return decision(
            False,
            f"msgType {alert.msg_type or '(none)'} is not configured for this channel "
            f"(msg_types: {_listed(rule.msg_types, MSG_TYPE)})",
        )
    basics = f"status {alert.status}, scope {alert.scope} and msgType {alert.msg_type} match"
    if not rule.has_info_criteria:
        return decision(True, f"{basics}; the channel has no other criteria")
    if not alert.infos:
        if alert.msg_type == "Alert":
            return decision(
                False,
                "the alert has no info block, so it cannot meet the channel's criteria "
                f"({_criteria(rule)})",
            )
        return decision(
            True,
            f"{basics}; a {alert.msg_type} without info blocks goes to every channel that "
            "carries its status, scope and msgType, as any of them may have carried what it "
            "references",
        )
    is_cancel = alert.msg_type == "Cancel"
    problems = []
    for n, info in enumerate(alert.infos, 1):
        problem = _info_problem(info, rule, thresholds=not is_cancel)
        label = f"info {n} ({info.event or 'no event'})"
        if problem is None:
            waived = ""
            if is_cancel and (rule.min_severity or rule.min_urgency or rule.min_certainty):
                waived = " (a Cancel is not held to the severity, urgency and certainty minimums)"
            return decision(True, f"{basics}; {label} meets the channel's criteria{waived}")
        problems.append(f"{label}: {problem}")
    return decision(False, "; ".join(problems))


def area_intersects(area: Area, coverage: AreaFilter) -> bool:
    """True when ``area`` shares a geocode with ``coverage`` or its shapes intersect it."""
    if coverage.geocodes:
        wanted = set(coverage.geocodes)
        if any((g.value_name.strip(), g.value.strip()) in wanted for g in area.geocodes):
            return True
    target = _coverage_shape(coverage)
    if target is None:
        return False
    return any(bool(target.intersects(shape)) for shape in area_shapes(area))


# --- info-level criteria -----------------------------------------------------------------------


def _info_problem(info: Info, rule: RoutingRule, *, thresholds: bool) -> str | None:
    """Why this info block does not meet the rule, or None when it does."""
    if rule.languages:
        language = info.effective_language
        if not any(_language_matches(r, language) for r in rule.languages):
            return f"language {language} is not among languages {', '.join(rule.languages)}"
    if rule.categories and not rule.categories.intersection(info.category):
        return (
            f"category {', '.join(info.category) or '(none)'} is not configured "
            f"(categories: {', '.join(sorted(rule.categories))})"
        )
    if rule.events:
        event = _folded(info.event)
        if not any(_folded(e) == event for e in rule.events):
            return (
                f"event {info.event!r} is not configured "
                f"(events: {', '.join(repr(e) for e in rule.events)})"
            )
    if rule.event_codes:
        wanted = set(rule.event_codes)
        if not any((c.value_name.strip(), c.value.strip()) in wanted for c in info.event_codes):
            have = ", ".join(f"{c.value_name}={c.value}" for c in info.event_codes) or "none"
            return (
                f"no event code matches (the info has {have}; event_codes: "
                f"{', '.join(f'{n}={v}' for n, v in rule.event_codes)})"
            )
    if thresholds:
        for what, value, minimum, ranks in (
            ("severity", info.severity, rule.min_severity, SEVERITY_RANK),
            ("urgency", info.urgency, rule.min_urgency, URGENCY_RANK),
            ("certainty", info.certainty, rule.min_certainty, CERTAINTY_RANK),
        ):
            if minimum is None:
                continue
            rank = ranks.get(value)
            if rank is None:
                return f"{what} {value or '(none)'} never meets min_{what} {minimum}"
            if rank < ranks[minimum]:
                return f"{what} {value} is below min_{what} {minimum}"
    if not rule.area.is_empty:
        if not info.areas:
            return "the info has no area, and the channel covers only its configured area"
        if not any(area_intersects(area, rule.area) for area in info.areas):
            names = ", ".join(repr(a.area_desc) for a in info.areas)
            return f"no area ({names}) intersects the channel's area"
    return None


def _language_matches(language_range: str, tag: str) -> bool:
    """RFC 4647 basic filtering: the range equals the tag or is a prefix ending at a '-'."""
    wanted = language_range.lower()
    have = tag.strip().lower()
    return have == wanted or have.startswith(wanted + "-")


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def _listed(values: frozenset[str], order: Sequence[str]) -> str:
    ordered = [v for v in order if v in values]
    return ", ".join(ordered + sorted(values - set(ordered)))


def _criteria(rule: RoutingRule) -> str:
    named = [
        ("categories", bool(rule.categories)),
        ("events", bool(rule.events)),
        ("event_codes", bool(rule.event_codes)),
        ("min_severity", rule.min_severity is not None),
        ("min_urgency", rule.min_urgency is not None),
        ("min_certainty", rule.min_certainty is not None),
        ("languages", bool(rule.languages)),
        ("area", not rule.area.is_empty),
    ]
    return ", ".join(name for name, present in named if present)


# --- geometry ----------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _coverage_shape(coverage: AreaFilter) -> BaseGeometry | None:
    """The union of a channel's polygons and circles (cached: channels are few and fixed)."""
    shapes = [ring_shape([(lon, lat) for lat, lon in ring]) for ring in coverage.polygons]
    shapes += [disc_shape(lat, lon, radius) for lat, lon, radius in coverage.circles]
    shapes = [s for s in shapes if s is not None]
    if not shapes:
        return None
    union = shapely.unary_union(shapes)
    shapely.prepare(union)
    return union
