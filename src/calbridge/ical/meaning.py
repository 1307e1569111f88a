"""A fingerprint of what a calendar resource means, blind to how it was serialized.

The same canonical lines come from parsed components (``fingerprint``, for what a server
holds) and from calbridge's own blocks as built (``fingerprint_of_block``, for what it is
about to write: no parsing back). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

from icalendar import Component, vCategory, vDDDLists, vText

from calbridge.ical.bounds import Bounds, PastCap, check_resource
from calbridge.ical.lines import Block
from calbridge.ical.model import MalformedEvent
from calbridge.ical.parse import read_components

# Ignored by the fingerprint: set or rewritten by servers and clients on every save.
# CALSCALE can only be GREGORIAN (its default); Radicale drops it when it rewrites events.
VOLATILE_PROPERTIES = frozenset({"DTSTAMP", "PRODID", "LAST-MODIFIED", "CREATED", "CALSCALE"})
VOLATILE_PARAMETERS = frozenset({"SCHEDULE-STATUS", "VALUE"})
KEPT_X_PREFIX = "X-CALBRIDGE-"
_ADDRESSES = frozenset({"ATTENDEE", "ORGANIZER"})


def fingerprint(data: bytes, bounds: Bounds | None = None) -> str:
    """A SHA-256 of what ``data`` means, blind to how a server re-serialized it.

    Ignored: property and parameter order, line folding, CRLF or LF, the order of
    components, VTIMEZONE blocks (servers rewrite them; TZIDs still count), the
    properties in ``VOLATILE_PROPERTIES``, SCHEDULE-STATUS and VALUE parameters, and
    every X- property or parameter except X-CALBRIDGE-*. Bytes that are not iCalendar
    are hashed as text, lines unfolded; bytes past the size caps of ``bounds`` are
    hashed as they are, never parsed.
    """
    if bounds is not None:
        try:
            check_resource(data, bounds)
        except PastCap:
            return _digest(["past-cap", hashlib.sha256(data).hexdigest()])
    try:
        components = read_components(data)
    except MalformedEvent:
        text = re.sub(r"\r?\n[ \t]", "", data.decode("utf-8", "replace"))
        return _digest(["raw", *text.splitlines()])
    return fingerprint_of(components)


def fingerprint_of(components: list[Component]) -> str:
    """``fingerprint`` of components already read (``ical.resource``), before any change."""
    return _digest(sorted(_canonical(component) for component in _meaningful(components)))


def fingerprint_of_block(block: Block) -> str:
    """``fingerprint(lines.write(block))``, from the block itself."""
    return _digest([_canonical_block(block)])


def _canonical_block(block: Block) -> str:
    lines = sorted(
        entry
        for prop in block.props
        if not _volatile(prop.name)
        for entry in canonical_lines(prop.name, prop.params, prop.items or (prop.value,))
    )
    parts = sorted(_canonical_block(sub) for sub in block.subs if sub.name != "VTIMEZONE")
    return "\n".join([f"BEGIN:{block.name}", *lines, *parts, f"END:{block.name}"])


def canonical_lines(
    name: str, params: Iterable[tuple[str, object]], texts: Iterable[str]
) -> Iterator[str]:
    """One line per value: EXDATE:a,b and two EXDATE lines mean the same."""
    kept = sorted(
        (key.upper(), str(value))
        for key, value in params
        if key.upper() not in VOLATILE_PARAMETERS and not key.upper().startswith("X-")
    )
    head = name + "".join(f";{key}={value!r}" for key, value in kept)
    for text in texts:
        yield f"{head}:{text.lower() if name in _ADDRESSES else text}"


def _meaningful(components: list[Component]) -> list[Component]:
    return [component for component in components if component.name != "VTIMEZONE"]


def _canonical(component: Component) -> str:
    lines = sorted(_component_lines(component))
    parts = sorted(_canonical(sub) for sub in _meaningful(component.subcomponents))
    return "\n".join([f"BEGIN:{component.name}", *lines, *parts, f"END:{component.name}"])


def _component_lines(component: Component) -> Iterator[str]:
    for name, value in component.property_items(recursive=False, sorted=False):
        if name in {"BEGIN", "END"} or _volatile(name):
            continue
        params = getattr(value, "params", {})
        yield from canonical_lines(name, params.items(), _values(value))


def _volatile(name: str) -> bool:
    if name.startswith("X-"):
        return not name.startswith(KEPT_X_PREFIX)
    return name in VOLATILE_PROPERTIES


def _values(value: object) -> Iterator[str]:
    if isinstance(value, vDDDLists):
        items: list[object] = list(value.dts)
    elif isinstance(value, vCategory):
        items = [vText(category) for category in value.cats]
    else:
        items = [value]
    for item in items:
        yield _ical_text(item)


def _ical_text(value: object) -> str:
    to_ical = getattr(value, "to_ical", None)
    raw = to_ical() if callable(to_ical) else value
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _digest(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
