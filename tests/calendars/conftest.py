"""The real CalDAV servers (Radicale, Xandikos) for the CalDAV store's contract run, and the
fake CalDAV calendar that wants bearer tokens, for the OAuth tests."""

from collections.abc import Iterator

import pytest

from servers.fixtures import caldav_server, calendar_url

from .fakes import FakeCalDAV

__all__ = ["bearer_dav", "caldav_server", "calendar_url"]


@pytest.fixture(name="dav")
def bearer_dav() -> Iterator[FakeCalDAV]:
    """A fake CalDAV calendar accepting only the access tokens added to its ``bearer``."""
    with FakeCalDAV(bearer=set()) as server:
        yield server
