"""The read-only ICS feed store against a real HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from calbridge.calendars.base import ReadOnlyStore, StorageError, TransientError
from calbridge.calendars.davhttp import RetryPolicy
from calbridge.calendars.feed import IcsFeedStore, http_url
from calbridge.ical.parse import parse_instances
from servers.feed_server import FeedServer, serve_feed

FEED = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270301T100000Z\r\n"
    b"DTEND:20270301T110000Z\r\nSUMMARY:A\r\nEND:VEVENT\r\n"
    b"BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270302T100000Z\r\n"
    b"DTEND:20270302T110000Z\r\nSUMMARY:B\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
FAST = RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.02)


@pytest.fixture
def url() -> Iterator[str]:
    yield from serve_feed(FEED)


def test_feed_lists_one_resource_per_uid_and_304_when_unchanged(url: str) -> None:
    with IcsFeedStore(url) as store:
        first = store.changes(None)
        assert first.full and set(first.changed) == {"a", "b"}
        items = store.get_many(["a", "b", "gone"])
        window = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
        starts = [parse_instances(i.data, window, ZoneInfo("UTC"))[0].start.day for i in items]
        assert starts == [1, 2]
        again = store.changes(first.token)
        assert again.changed == {} and not again.full
        assert FeedServer.hits[-1] == first.token.removeprefix("feed:")  # type: ignore[union-attr]
        FeedServer.body = FEED.replace(b"SUMMARY:B", b"SUMMARY:B moved")
        changed = store.changes(first.token)
        assert changed.full and changed.changed["a"] == first.changed["a"]
        assert changed.changed["b"] != first.changed["b"]
        assert store.requests == 3


def test_feed_is_read_only_and_failures_are_errors_not_empty(url: str) -> None:
    with IcsFeedStore(url, retry=FAST) as store:
        with pytest.raises(ReadOnlyStore):
            store.create("x.ics", FEED)
        FeedServer.status = 503
        with pytest.raises(TransientError):
            store.changes(None)
        FeedServer.status, FeedServer.body = 200, b"<html>login page</html>"
        with pytest.raises(StorageError, match="not an iCalendar feed"):
            store.changes(None)


def test_webcal_means_https() -> None:
    assert http_url("webcal://example.org/cal.ics") == "https://example.org/cal.ics"
