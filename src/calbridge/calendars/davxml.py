"""WebDAV/CalDAV XML, built and parsed without I/O (RFC 4918, RFC 4791, RFC 6578).

Parsing uses :mod:`xml.etree.ElementTree` (expat >= 2.4 limits entity expansion, and external
entities are never fetched). Hrefs are compared in one canonical form, :func:`canonical_path`,
because servers spell the same path differently (Radicale sends ``%40`` for ``@``, Xandikos
does not).
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes, urljoin, urlsplit

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CALSERVER = "http://calendarserver.org/ns/"

GETETAG = f"{{{DAV}}}getetag"
RESOURCETYPE = f"{{{DAV}}}resourcetype"
SYNC_TOKEN = f"{{{DAV}}}sync-token"
CURRENT_USER_PRINCIPAL = f"{{{DAV}}}current-user-principal"
COLLECTION = f"{{{DAV}}}collection"
VALID_SYNC_TOKEN = f"{{{DAV}}}valid-sync-token"
SUPPORTED_REPORT = f"{{{DAV}}}supported-report"
GETCTAG = f"{{{CALSERVER}}}getctag"
CALENDAR = f"{{{CALDAV}}}calendar"
CALENDAR_DATA = f"{{{CALDAV}}}calendar-data"
CALENDAR_HOME_SET = f"{{{CALDAV}}}calendar-home-set"
COMPONENT_SET = f"{{{CALDAV}}}supported-calendar-component-set"
NO_UID_CONFLICT = f"{{{CALDAV}}}no-uid-conflict"

# RFC 3986 §6.2.2.2: only unreserved characters may be decoded without changing a URI, so
# they are the only ones left unescaped (``@`` travels as ``%40``, as python-caldav sends it).
_UNRESERVED = "-._~"

ET.register_namespace("D", DAV)
ET.register_namespace("C", CALDAV)
ET.register_namespace("CS", CALSERVER)


class DavXmlError(ValueError):
    """A body that should have been WebDAV XML was not."""


# -- hrefs ------------------------------------------------------------------------------------


def canonical_path(href: str, base: str = "") -> str:
    """The path of ``href`` (resolved against ``base``) with each segment escaped one way."""
    path = urlsplit(urljoin(base, href.strip())).path or "/"
    segments = (quote(unquote_to_bytes(segment), safe=_UNRESERVED) for segment in path.split("/"))
    return "/".join(segments)


def member_url(collection_url: str, name: str) -> str:
    """The URL of the member named ``name`` (a literal resource name) in a collection."""
    return urljoin(collection_url, quote(name, safe=_UNRESERVED))


def normalize_etag(value: str) -> str:
    """An entity-tag quoted as RFC 9110 §8.8.3 spells it (some servers send getetag bare)."""
    value = value.strip()
    return value if value.startswith(('"', 'W/"')) else f'"{value}"'


# -- request bodies ---------------------------------------------------------------------------


def _document(root: ET.Element) -> bytes:
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _prop(parent: ET.Element, names: Iterable[str]) -> None:
    prop = ET.SubElement(parent, f"{{{DAV}}}prop")
    for name in names:
        ET.SubElement(prop, name)


def propfind_body(props: Iterable[str]) -> bytes:
    root = ET.Element(f"{{{DAV}}}propfind")
    _prop(root, props)
    return _document(root)


@functools.lru_cache(maxsize=4096)
def sync_collection_body(token: str | None) -> bytes:
    """RFC 6578 §3.2, sync-level 1, asking for getetag. Never with DAV:limit (see QUIRKS).
    Kept per token: an idle calendar asks with the same token pass after pass."""
    root = ET.Element(f"{{{DAV}}}sync-collection")
    ET.SubElement(root, SYNC_TOKEN).text = token or None
    ET.SubElement(root, f"{{{DAV}}}sync-level").text = "1"
    _prop(root, [GETETAG])
    return _document(root)


def multiget_body(hrefs: Iterable[str]) -> bytes:
    """RFC 4791 §7.9 calendar-multiget for getetag and calendar-data."""
    root = ET.Element(f"{{{CALDAV}}}calendar-multiget")
    _prop(root, [GETETAG, CALENDAR_DATA])
    for href in hrefs:
        ET.SubElement(root, f"{{{DAV}}}href").text = href
    return _document(root)


# -- responses --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DavResponse:
    """One DAV:response of a multistatus: its href, its own status, its found properties."""

    href: str
    status: int | None = None
    props: Mapping[str, ET.Element] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        element = self.props.get(name)
        if element is None:
            return None
        return (element.text or "").strip() or None

    @property
    def etag(self) -> str | None:
        """DAV:getetag, quoted."""
        value = self.text(GETETAG)
        return None if value is None else normalize_etag(value)

    def has(self, prop: str, child: str) -> bool:
        """Whether property ``prop`` contains an element ``child`` (e.g. a resourcetype)."""
        element = self.props.get(prop)
        return element is not None and element.find(child) is not None

    def href_prop(self, name: str) -> str | None:
        """The DAV:href inside property ``name`` (current-user-principal, home sets)."""
        element = self.props.get(name)
        found = None if element is None else element.findtext(f"{{{DAV}}}href")
        return found.strip() if found else None


@dataclass(frozen=True)
class Multistatus:
    responses: list[DavResponse]
    sync_token: str | None = None


def status_code(line: str | None) -> int | None:
    """200 from ``"HTTP/1.1 200 OK"``; None if absent or unreadable."""
    parts = (line or "").split()
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return None


def _parse(body: bytes) -> ET.Element:
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise DavXmlError(f"not XML: {exc}: {body[:200]!r}") from exc


def _found_props(response: ET.Element) -> dict[str, ET.Element]:
    props: dict[str, ET.Element] = {}
    for propstat in response.iterfind(f"{{{DAV}}}propstat"):
        if status_code(propstat.findtext(f"{{{DAV}}}status")) not in (None, 200):
            continue
        for prop in propstat.iterfind(f"{{{DAV}}}prop"):
            props.update((child.tag, child) for child in prop)
    return props


def _response(element: ET.Element) -> DavResponse:
    return DavResponse(
        href=(element.findtext(f"{{{DAV}}}href") or "").strip(),
        status=status_code(element.findtext(f"{{{DAV}}}status")),
        props=_found_props(element),
    )


def parse_multistatus(body: bytes) -> Multistatus:
    root = _parse(body)
    if root.tag != f"{{{DAV}}}multistatus":
        raise DavXmlError(f"expected DAV:multistatus, got {root.tag}")
    responses = [_response(element) for element in root.iterfind(f"{{{DAV}}}response")]
    token = root.findtext(SYNC_TOKEN)
    return Multistatus(responses, token.strip() if token else None)


def error_conditions(body: bytes) -> frozenset[str]:
    """Clark names of the precondition elements of a DAV:error body (empty if none)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return frozenset()
    if root.tag != f"{{{DAV}}}error":
        return frozenset()
    return frozenset(child.tag for child in root)


def conflict_href(body: bytes) -> str | None:
    """The existing resource named in a CALDAV:no-uid-conflict precondition, if given."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    found = root.findtext(f"{NO_UID_CONFLICT}/{{{DAV}}}href")
    return found.strip() if found else None
