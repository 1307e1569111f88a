"""CalDAVStore: the contract against real Radicale and Xandikos, and against deviant fakes.

The fakes (``fakes.FakeCalDAV``) stand in for servers the test run cannot start: one without
the sync-collection report (listed by getctag, or by a digest of the etags when there is no
ctag either), and one that answers sync-collection in pages of 7 (RFC 6578 §3.6) and leaves
ETags out of PUT answers and sync reports.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest

from calbridge.calendars.base import (
    AlreadyExists,
    ReadOnlyStore,
    StorageError,
    resource_name,
)
from calbridge.calendars.caldav import CalDAVStore, UidConflict, discover
from calbridge.calendars.davauth import AuthenticationFailed
from servers.caldav_servers import CalDAVServer, propfind

from .contract import StoreContract, event
from .fakes import FakeCalDAV

pytestmark = pytest.mark.slow


class TestCalDAVStoreOnRealServers(StoreContract):
    incremental = True

    @pytest.fixture
    def store(self, caldav_server: CalDAVServer, calendar_url: str) -> Iterator[CalDAVStore]:
        with CalDAVStore(calendar_url, caldav_server.auth) as store:
            yield store


class TestCalDAVStoreWithoutSyncCollection(StoreContract):
    incremental = False

    @pytest.fixture(params=["getctag", "etag-digest"])
    def store(self, request: pytest.FixtureRequest) -> Iterator[CalDAVStore]:
        fake = FakeCalDAV(sync=False, ctag=request.param == "getctag")
        with fake, CalDAVStore(fake.url) as store:
            yield store


class TestCalDAVStoreOnAPagingServerWithoutEtags(StoreContract):
    incremental = True

    @pytest.fixture
    def store(self) -> Iterator[CalDAVStore]:
        fake = FakeCalDAV(sync_page=7, put_etag=False, sync_etags=False)
        with fake, CalDAVStore(fake.url) as store:
            yield store


# -- real servers: what the contract does not cover ------------------------------------------


def _is_calendar(server: CalDAVServer, url: str) -> bool:
    resp = propfind(server, url, ["{DAV:}resourcetype"])
    calendar = ".//{DAV:}resourcetype/{urn:ietf:params:xml:ns:caldav}calendar"
    return resp.status == 207 and resp.xml().find(calendar) is not None


def test_discover_from_the_server_root(caldav_server: CalDAVServer) -> None:
    found = discover(caldav_server.base_url, caldav_server.auth)
    assert found.startswith(caldav_server.calendar_home_url)
    assert _is_calendar(caldav_server, found)
    assert discover(caldav_server.base_url, caldav_server.auth) == found  # a stable choice


def test_discover_from_the_principal(caldav_server: CalDAVServer) -> None:
    found = discover(caldav_server.principal_url, caldav_server.auth)
    assert found.startswith(caldav_server.calendar_home_url)
    assert _is_calendar(caldav_server, found)


def test_discover_keeps_a_calendar_url(caldav_server: CalDAVServer, calendar_url: str) -> None:
    assert discover(calendar_url, caldav_server.auth) == calendar_url
    assert discover(calendar_url.rstrip("/"), caldav_server.auth) == calendar_url


def test_discover_follows_the_well_known_redirect() -> None:
    with FakeCalDAV() as fake:
        assert discover(fake.base_url) == fake.url


def test_same_uid_under_another_name_is_a_uid_conflict(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    # Radicale: 409 + CALDAV:no-uid-conflict; Xandikos: 412 + the same precondition.
    uid = uuid.uuid4().hex
    with CalDAVStore(calendar_url, caldav_server.auth) as store:
        first = store.create(resource_name(uid), event(uid))
        with pytest.raises(UidConflict) as caught:
            store.create(f"other-{uid}.ics", event(uid))
    assert isinstance(caught.value, AlreadyExists)
    assert caught.value.existing_href in (None, first.href)


def test_read_only_store_refuses_writes(caldav_server: CalDAVServer, calendar_url: str) -> None:
    with CalDAVStore(calendar_url, caldav_server.auth, read_only=True) as store:
        with pytest.raises(ReadOnlyStore):
            store.create("x.ics", event("x"))
        with pytest.raises(ReadOnlyStore):
            store.delete(urljoin(calendar_url, "x.ics"), '"x"')
        assert store.changes(None).full


def test_a_missing_calendar_is_an_error_not_an_empty_listing(
    caldav_server: CalDAVServer,
) -> None:
    url = caldav_server.new_calendar_url()
    with CalDAVStore(url, caldav_server.auth) as store:
        with pytest.raises(StorageError):
            store.changes(None)
        with pytest.raises(StorageError):
            store.get_many([url + "a.ics"])


@pytest.mark.parametrize("caldav_server", ["radicale"], indirect=True)
def test_wrong_password_is_authentication_failed(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    wrong = dataclasses.replace(caldav_server, password="not-the-password")
    assert wrong.auth is not None
    with CalDAVStore(calendar_url, wrong.auth) as store, pytest.raises(AuthenticationFailed):
        store.changes(None)


@pytest.mark.parametrize("caldav_server", ["radicale"], indirect=True)
def test_radicale_refuses_names_starting_with_a_dot(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    # Radicale 3.9 answers 400 to a PUT of ".x.ics" (Xandikos stores it), so resource_name
    # escapes a leading dot and a UID starting with "." is still stored.
    with CalDAVStore(calendar_url, caldav_server.auth) as store:
        with pytest.raises(StorageError, match="400") as caught:
            store.create(".x.ics", event(".x"))
        assert not isinstance(caught.value, AlreadyExists)
        item = store.create(resource_name(".x"), event(".x"))
        assert [i.data for i in store.get_many([item.href])] == [event(".x")] or item.etag


def test_multiget_data_has_crlf_line_endings(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    with CalDAVStore(calendar_url, caldav_server.auth) as store:
        item = store.create("crlf.ics", event("crlf"))
        [got] = store.get_many([item.href])
    assert got.data.count(b"\r\n") == got.data.count(b"\n") > 5
