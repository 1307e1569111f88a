"""WebDAV XML building and parsing, on bytes only (no HTTP)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from calbridge.calendars import davxml as dx
from calbridge.calendars.base import resource_name


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/cal/x%40y.ics", "/cal/x%40y.ics"),  # Radicale spelling
        ("/cal/x@y.ics", "/cal/x%40y.ics"),  # Xandikos spelling
        ("http://host:8080/cal/a%20b.ics", "/cal/a%20b.ics"),
        ("/cal/caf%C3%A9.ics", "/cal/caf%C3%A9.ics"),
        ("/cal/café.ics", "/cal/caf%C3%A9.ics"),
        ("/cal/a%2Fb.ics", "/cal/a%2Fb.ics"),  # an escaped slash stays one segment
        ("/cal/%7Euser.ics", "/cal/~user.ics"),  # unreserved: decoded
        ("/cal/semi%3bcolon.ics", "/cal/semi%3Bcolon.ics"),  # reserved: kept escaped
        ("/cal/latin%E9.ics", "/cal/latin%E9.ics"),  # not UTF-8: kept byte for byte
        ("a.ics", "/cal/a.ics"),
    ],
)
def test_canonical_path(href: str, expected: str) -> None:
    assert dx.canonical_path(href, "http://host:8080/cal/") == expected


def test_member_url_treats_the_name_as_a_literal_resource_name() -> None:
    name = resource_name("a/b c")
    assert name == "a%2Fb%20c.ics"
    url = dx.member_url("http://host/cal/", name)
    assert url == "http://host/cal/a%252Fb%2520c.ics"
    assert dx.canonical_path(url) == "/cal/a%252Fb%2520c.ics"


def test_sync_collection_body_without_token_or_limit() -> None:
    root = ET.fromstring(dx.sync_collection_body(None))
    assert root.tag == "{DAV:}sync-collection"
    assert root.findtext("{DAV:}sync-token") in (None, "")
    assert root.findtext("{DAV:}sync-level") == "1"
    assert root.find("{DAV:}limit") is None  # Xandikos loses members when given DAV:limit
    assert root.find("{DAV:}prop/{DAV:}getetag") is not None
    with_token = ET.fromstring(dx.sync_collection_body("http://x/sync/1"))
    assert with_token.findtext("{DAV:}sync-token") == "http://x/sync/1"


def test_multiget_body_lists_the_hrefs() -> None:
    root = ET.fromstring(dx.multiget_body(["/cal/a.ics", "/cal/b&c.ics"]))
    assert root.tag == f"{{{dx.CALDAV}}}calendar-multiget"
    assert [h.text for h in root.iter("{DAV:}href")] == ["/cal/a.ics", "/cal/b&c.ics"]
    assert root.find(f"{{DAV:}}prop/{{{dx.CALDAV}}}calendar-data") is not None


MULTISTATUS = b"""<?xml version="1.0"?>
<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
  <D:response><D:href>/cal/</D:href>
    <D:propstat><D:prop><CS:getctag>c7</CS:getctag></D:prop>
      <D:status>HTTP/1.1 200 OK</D:status></D:propstat>
    <D:propstat><D:prop><D:sync-token/></D:prop>
      <D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>
  <D:response><D:href>/cal/gone.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status>
  </D:response>
  <D:sync-token>http://x/sync/8</D:sync-token>
</D:multistatus>"""


def test_parse_multistatus() -> None:
    page = dx.parse_multistatus(MULTISTATUS)
    assert page.sync_token == "http://x/sync/8"
    own, gone = page.responses
    assert (own.href, own.status, own.text(dx.GETCTAG)) == ("/cal/", None, "c7")
    assert dx.SYNC_TOKEN not in own.props  # only properties reported with 200 count
    assert (gone.href, gone.status) == ("/cal/gone.ics", 404)


@pytest.mark.parametrize("body", [b"", b"<html>Bad gateway</html", b"<D:error xmlns:D='DAV:'/>"])
def test_parse_multistatus_refuses_other_bodies(body: bytes) -> None:
    with pytest.raises(dx.DavXmlError):
        dx.parse_multistatus(body)


def test_error_conditions_and_conflict_href() -> None:
    body = (
        b'<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        b"<C:no-uid-conflict><D:href>/cal/first.ics</D:href></C:no-uid-conflict></D:error>"
    )
    assert dx.error_conditions(body) == {dx.NO_UID_CONFLICT}
    assert dx.conflict_href(body) == "/cal/first.ics"
    assert dx.error_conditions(b"<D:error xmlns:D='DAV:'><D:valid-sync-token/></D:error>") == {
        dx.VALID_SYNC_TOKEN
    }
    assert dx.error_conditions(b"not xml") == frozenset()
    assert dx.conflict_href(b"") is None


def test_normalize_etag() -> None:
    assert dx.normalize_etag('"abc"') == '"abc"'
    assert dx.normalize_etag(" abc ") == '"abc"'
    assert dx.normalize_etag('W/"abc"') == 'W/"abc"'


def test_status_code() -> None:
    assert dx.status_code("HTTP/1.1 507 Insufficient Storage") == 507
    assert dx.status_code(None) is None
    assert dx.status_code("garbage") is None
