"""Whole ICS feeds (an Outlook published calendar, any webcal URL) cut into one small
resource per UID, each with the feed's VTIMEZONEs, so one broken event never hides the
others. Text-level, so it works where icalendar cannot parse the feed as a whole. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from calbridge.ical.model import MalformedEvent

_FEED_HEADER = frozenset({"VERSION", "CALSCALE", "X-WR-TIMEZONE"})
_NEWLINE = re.compile(r"\r?\n")
_FOLD = re.compile(r"\r?\n[ \t]")
_TEXT_ESCAPE = re.compile(r"\\([\\,;:nN])")
_VALUE = re.compile(r'[^:"]*(?:"[^"]*"[^:"]*)*:(.*)', re.DOTALL)


def unescape(text: str) -> str:
    """RFC 5545 §3.3.11: backslash escapes in TEXT."""
    return _TEXT_ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


@dataclass
class Feed:
    """A feed cut into blocks of unfolded lines: header, VTIMEZONEs, VEVENTs by UID."""

    header: list[str] = field(default_factory=list)
    timezones: dict[str, list[str]] = field(default_factory=dict)  # TZID -> VTIMEZONE
    events: dict[str, list[str]] = field(default_factory=dict)  # UID -> its VEVENTs
    labels: dict[str, str] = field(default_factory=dict)  # UID -> how problems name it
    problems: list[str] = field(default_factory=list)

    def add_block(self, block: list[str], *, closed: bool) -> None:
        kind, props = _component_of(block[0]), _top_properties(block)
        if kind == "VTIMEZONE" and closed:
            self.timezones[props.get("TZID", "")] = block
            return
        key = props.get("UID") or f"#{len(self.labels) + 1}"
        label = self.labels.setdefault(key, _label(kind, props))
        if not closed:
            self.problems.append(f"{label}: {kind} not closed by END:{kind}")
        elif kind == "VEVENT":
            self.events.setdefault(key, []).extend(block)

    def resource(self, lines: list[str]) -> bytes:
        """One UID's VEVENTs as a resource of their own, with the VTIMEZONEs they name."""
        text = "\n".join(lines)
        zones = [
            line
            for tzid, block in self.timezones.items()
            if tzid and tzid in text
            for line in block
        ]
        return "\r\n".join(
            ["BEGIN:VCALENDAR", *self.header, *zones, *lines, "END:VCALENDAR", ""]
        ).encode()


def _label(kind: str, props: dict[str, str]) -> str:
    uid, summary = props.get("UID"), props.get("SUMMARY")
    label = "event" if kind == "VEVENT" else kind
    label += f" {uid!r}" if uid else " without UID"
    return f"{label} ({summary})" if summary else label


def _lines(data: bytes) -> list[str]:
    text = _FOLD.sub("", data.decode("utf-8-sig", "replace"))
    return [line for line in _NEWLINE.split(text) if line.strip()]


def split_feed(data: bytes) -> Feed:
    """Cut a feed into one mini-resource per UID (see ``Feed.resource``)."""
    lines = _lines(data)
    if not lines or _component_of(lines[0]) != "VCALENDAR":
        raise MalformedEvent("not iCalendar data: no BEGIN:VCALENDAR at the start")
    feed = Feed()
    stack: list[str] = []
    block: list[str] = []
    for line in lines:
        begin, end = _component_of(line, "BEGIN"), _component_of(line, "END")
        stack += [begin] if begin else []
        if len(stack) >= 2:
            block.append(line)
        elif len(stack) == 1 and not begin and _property_name(line) in _FEED_HEADER:
            feed.header.append(line)
        if end and stack:
            closed = _close(stack, end)
            if len(stack) <= 1 and block:
                feed.add_block(block, closed=closed)
                block = []
    if block:
        feed.add_block(block, closed=False)
    return feed


def _close(stack: list[str], end: str) -> bool:
    """Pop ``end`` off the stack; False if components begun inside it were left open."""
    if end not in stack:
        return True  # a stray END: left to the parser of the block
    at = len(stack) - 1 - stack[::-1].index(end)
    closed = at == len(stack) - 1
    del stack[at:]
    return closed


def _component_of(line: str, keyword: str = "BEGIN") -> str:
    name, _, value = line.partition(":")
    return value.strip().upper() if name.strip().upper() == keyword else ""


def _property_name(line: str) -> str:
    return re.split(r"[;:]", line, maxsplit=1)[0].strip().upper()


def _top_properties(block: list[str]) -> dict[str, str]:
    """UID, SUMMARY and TZID of a block's own component (not of a VALARM inside)."""
    found: dict[str, str] = {}
    depth = 0
    for line in block[1:]:
        depth += bool(_component_of(line, "BEGIN")) - bool(_component_of(line, "END"))
        name = _property_name(line)
        if depth == 0 and name in {"UID", "SUMMARY", "TZID"} and name not in found:
            found[name] = _property_value(line)
    return found


def _property_value(line: str) -> str:
    """The unescaped value of a content line: after the first colon outside quotes."""
    match = _VALUE.match(line)
    return unescape(match.group(1) if match else "")
