"""pytest fixtures around :mod:`caldav_servers`.

``caldav_server`` is session-scoped and parametrized over every server in ``SERVER_NAMES``
(ids ``radicale`` / ``xandikos``): each server process starts once per test session, pytest groups
the tests by server, and the process is stopped at the end of the session (or when pytest is
interrupted). ``calendar_url`` gives every test its own fresh, empty calendar collection on that
server and deletes it afterwards.

Restrict a test to one server with indirect parametrization::

    @pytest.mark.parametrize("caldav_server", ["xandikos"], indirect=True)
    def test_something(caldav_server: CalDAVServer, calendar_url: str) -> None: ...
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest

from .caldav_servers import SERVER_NAMES, SERVERS, CalDAVServer, delete_resource, mkcalendar

__all__ = ["caldav_server", "calendar_url"]


@pytest.fixture(scope="session", params=SERVER_NAMES)
def caldav_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CalDAVServer]:
    """A running CalDAV server (one process per server name and session)."""
    name: str = request.param
    with SERVERS[name](tmp_path_factory.mktemp(f"caldav-{name}")) as server:
        yield server


@pytest.fixture
def calendar_url(caldav_server: CalDAVServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL (ending in ``/``) of a new, empty calendar collection, deleted after the test."""
    url = caldav_server.new_calendar_url(f"t-{uuid.uuid4().hex[:16]}")
    try:
        resp = mkcalendar(caldav_server, url, displayname=request.node.name[:200])
    except OSError as exc:
        pytest.fail(
            f"{caldav_server.name} does not answer ({exc!r}); server log:\n"
            f"{caldav_server.log_text()}"
        )
    if resp.status != 201:
        pytest.fail(
            f"MKCALENDAR {url} on {caldav_server.name}: {resp.status} {resp.reason} "
            f"{resp.body[:500]!r}"
        )
    yield url
    # Best effort: the collection lives in the session's tmp dir anyway, and a failing
    # cleanup must not hide the test's own outcome.
    with contextlib.suppress(OSError):
        delete_resource(caldav_server, url)
