"""Real CalDAV servers for the end-to-end sync tests: one process per server and session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from servers.caldav_servers import SERVERS, CalDAVServer, mkcalendar


def _serve(name: str, factory: pytest.TempPathFactory) -> Iterator[CalDAVServer]:
    with SERVERS[name](factory.mktemp(f"sync-{name}")) as server:
        yield server


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDAVServer]:
    yield from _serve("radicale", tmp_path_factory)


@pytest.fixture(scope="session")
def xandikos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDAVServer]:
    yield from _serve("xandikos", tmp_path_factory)


def fresh_calendar(server: CalDAVServer) -> str:
    url = server.new_calendar_url(f"s-{uuid.uuid4().hex[:16]}")
    response = mkcalendar(server, url)
    assert response.status == 201, (response.status, response.body[:300])
    return url
