"""A first sync sends its new events several at a time (calendars/writes.py), against real
Radicale and Xandikos: bounded in flight, a lost race re-planned, an error stops the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from book_helpers import plan_one
from calbridge.book import Book, parties
from calbridge.calendars.base import Item, TransientError
from calbridge.calendars.caldav import CalDAVStore
from calbridge.sync.engine import CalendarSync
from servers.caldav_servers import CalDAVServer
from sync.conftest import fresh_calendar
from sync.e2e_helpers import items

DAYS = [
    f"2027-{m}-{d:02d}T10:00"
    for m, first in (("03", 1), ("04", 5), ("05", 3))
    for d in range(first, first + 4)
]


class Watched(CalDAVStore):
    """calbridge's store, counting creates in flight. For a name in ``race``, the coach's
    app stores the same event under that name just before calbridge's PUT arrives (a real
    PUT, so the server answers calbridge 412); for a name in ``fail``, the PUT never gets
    an answer (the store raises as its retries would)."""

    def __init__(self, url: str, auth: Any, race: set[str], fail: set[str]) -> None:
        super().__init__(url, auth)
        self.app = CalDAVStore(url, auth)
        self.race, self.fail = race, fail
        self.flying = self.most = 0
        self.sent: list[str] = []
        self._count = threading.Lock()

    def create(self, name: str, data: bytes) -> Item:
        with self._count:
            self.flying += 1
            self.most = max(self.most, self.flying)
            self.sent.append(name)
        try:
            if name in self.race:
                self.app.create(name, data)
            if name in self.fail:
                raise TransientError(f"PUT {name}: 503 Service Unavailable")
            return super().create(name, data)
        finally:
            with self._count:
                self.flying -= 1

    def close(self) -> None:
        self.app.close()
        super().close()


@pytest.fixture(params=["radicale", "xandikos"])
def setup(
    request: pytest.FixtureRequest, make_book: Callable[..., Book]
) -> tuple[Book, str, Any, list[str]]:
    from conftest import base_config

    server: CalDAVServer = request.getfixturevalue(request.param)
    url = fresh_calendar(server)
    coaches = base_config("")["coaches"]
    coaches[0]["calendar"] = {"url": url}
    book = make_book(coaches=coaches, sync={"parallel_writes": 4})
    parties.add_client(book, "Dee Roy", "dee@example.org", "intensive", "dee")
    uids = [plan_one(book, day, clients=("dee",)).uid for day in DAYS]
    return book, url, server.auth, uids


def names(uids: list[str]) -> list[str]:
    return [f"{uid}.ics" for uid in uids]


def test_creates_fly_together_and_a_lost_race_is_adopted(
    setup: tuple[Book, str, Any, list[str]],
) -> None:
    book, url, auth, uids = setup
    raced = set(names(uids[3:5]))
    with Watched(url, auth, race=raced, fail=set()) as store:
        report = CalendarSync(book, book.coach("maia"), store).run()
        assert report.error is None
        assert 1 < store.most <= 4
        assert report.count("create") == len(uids)
        assert sorted(store.sent) == sorted(names(uids))
        on_server = items(store)
        assert len(on_server) == len(uids)  # the raced ones once each, adopted
        before = store.requests
        assert CalendarSync(book, book.coach("maia"), store).run().actions == []
        assert store.requests - before == 1


def test_an_error_stops_further_creates_and_the_next_pass_finishes(
    setup: tuple[Book, str, Any, list[str]],
) -> None:
    book, url, auth, uids = setup
    broken = sorted(names(uids))[1]  # the planner acts in UID order: the second sent
    with Watched(url, auth, race=set(), fail={broken}) as store:
        report = CalendarSync(book, book.coach("maia"), store).run()
        assert report.error is not None and "503" in report.error
        # After the failing create, at most the three in flight with it went out.
        assert len(store.sent) - store.sent.index(broken) - 1 <= 3
        assert len(store.sent) < len(uids)
        landed = len(items(store))
        assert landed == len(store.sent) - 1
        store.fail = set()
        second = CalendarSync(book, book.coach("maia"), store).run()
        assert second.error is None
        assert second.count("create") == len(uids) - landed
        assert sorted(i.href.rsplit("/", 1)[1] for i in items(store).values()) == sorted(
            names(uids)
        )


def test_one_at_a_time_when_configured(setup: tuple[Book, str, Any, list[str]]) -> None:
    book, url, auth, uids = setup
    book.settings.sync.parallel_writes = 1
    with Watched(url, auth, race=set(), fail=set()) as store:
        assert CalendarSync(book, book.coach("maia"), store).run().count("create") == len(uids)
        assert store.most == 1
