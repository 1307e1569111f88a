"""A read-only ICS feed (an Outlook published calendar, any webcal:// URL) as a store.

The feed is fetched whole with If-None-Match, so an unchanged feed costs one 304. A changed
one is cut into one resource per UID (href = the UID), each with the feed's VTIMEZONEs, and
listed in full: a UID missing from the new feed is gone. A feed bigger than
``[sync.bounds] feed_kb`` is not cut up at all: it is an error, like an outage.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from types import TracebackType

from calbridge.calendars.base import Item, Listing, ReadOnlyStore, StorageError
from calbridge.calendars.davauth import Auth, as_auth
from calbridge.calendars.davhttp import DavSession, RetryPolicy
from calbridge.ical.bounds import DEFAULT, Bounds, check_feed
from calbridge.ical.feed import split_feed
from calbridge.ical.model import MalformedEvent

log = logging.getLogger(__name__)
TOKEN = "feed:"


def http_url(url: str) -> str:
    """webcal:// is http(s) by another name; calendar apps mean https."""
    return "https" + url[len("webcal") :] if url.startswith("webcal") else url


class IcsFeedStore:
    read_only = True

    def __init__(
        self,
        url: str,
        auth: Auth | tuple[str, str] | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        bounds: Bounds = DEFAULT,
    ) -> None:
        self.url = http_url(url)
        self.bounds = bounds
        self._http = DavSession(as_auth(auth), timeout=timeout, retry=retry)
        self._items: dict[str, Item] = {}

    @property
    def requests(self) -> int:
        return self._http.requests

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IcsFeedStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def changes(self, token: str | None) -> Listing:
        etag = token[len(TOKEN) :] if token and token.startswith(TOKEN) else None
        reply = self._http.send("GET", self.url, headers={"If-None-Match": etag} if etag else {})
        if reply.status == 304 and token:
            return Listing(token)
        if reply.status != 200:
            raise StorageError(f"GET {self.url}: {reply.status} {reply.reason}".rstrip())
        try:
            check_feed(reply.body, self.bounds)  # by its length, before cutting it up
            feed = split_feed(reply.body)
        except MalformedEvent as exc:
            raise StorageError(f"{self.url} is not an iCalendar feed: {exc}") from exc
        for problem in feed.problems:
            log.warning("feed %s: skipping %s", self.url, problem)
        self._items = {}
        for key, lines in feed.events.items():
            data = feed.resource(lines)
            self._items[key] = Item(key, hashlib.sha256(data).hexdigest()[:32], data)
        served = reply.header("etag")
        return Listing(
            TOKEN + served if served else None,
            {href: item.etag for href, item in self._items.items()},
            full=True,
        )

    def get_many(self, hrefs: Sequence[str]) -> list[Item]:
        return [self._items[h] for h in dict.fromkeys(hrefs) if h in self._items]

    def create(self, name: str, data: bytes) -> Item:
        raise ReadOnlyStore(f"{self.url} is a read-only feed")

    def update(self, href: str, data: bytes, etag: str) -> str:
        raise ReadOnlyStore(f"{self.url} is a read-only feed")

    def delete(self, href: str, etag: str) -> None:
        raise ReadOnlyStore(f"{self.url} is a read-only feed")
