"""Hostile events cost a pass bounded work (issue 11), on a vdir folder, Radicale and
Xandikos: as a coach's edit of a session (put back, the coach told, nothing cancelled),
as the coach's own event in the sessions calendar, and in busy feeds and calendars
(skipped with one warning; the ordinary events around them stay busy)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from book_helpers import at, plan, plan_one
from calbridge.book import Book, parties, views
from calbridge.core.series import SeriesSpec
from calbridge.sync.run import refresh_busy
from conftest import base_config
from hostile_events import (
    CAPS,
    KINDS,
    feed_of,
    hostile_event,
    make_hostile,
    measured,
    plain_event,
)
from servers.feed_server import serve_feed
from sync.e2e_helpers import Target, book_on, busy_target, event_of, open_target, sync
from sync.test_busy import busy_book, refused
from sync.test_trust_e2e import mails, statuses

#: Generous for a shared 2-core machine; today's reading takes minutes and gigabytes.
SECONDS, PEAK_MB = 20.0, 150.0


@pytest.fixture(params=["vdir", "radicale", "xandikos"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with open_target(request, tmp_path) as found:
        yield found


@pytest.fixture
def book(make_book: Callable[..., Book], target: Target) -> Book:
    b = book_on(make_book, target, mail={"admin": "office@practice.example"})
    for i in range(6):
        parties.add_client(b, f"Client {i}", f"c{i}@example.org", "intensive", f"c{i}")
    return b


def warnings_naming(caplog: pytest.LogCaptureFixture, *words: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and all(w in r.getMessage() for w in words)
    ]


def spoil(target: Target, uid: str, kind: str, start: Any) -> str:
    """The coach's app makes ``uid``'s event hostile; its href."""
    item = event_of(target.app, uid)
    target.app.update(item.href, make_hostile(item.data, kind, start), item.etag)
    return item.href


@pytest.mark.parametrize("kind", KINDS)
def test_a_session_series_made_hostile_is_put_back_and_nothing_cancelled(
    book: Book, target: Target, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    series = plan(book, "2027-03-01T10:00", clients=("c1",), series=SeriesSpec("weekly", (0,), 3))
    single = plan_one(book, "2027-03-03T10:00", clients=("c2",))
    sync(book)
    href = spoil(target, series[0].uid, kind, series[0].start)
    caplog.set_level(logging.WARNING)
    with measured() as cost:
        report = sync(book)
    assert cost.seconds < SECONDS and cost.peak_mb < PEAK_MB, cost
    (warning,) = warnings_naming(caplog, series[0].uid)
    assert href.rsplit("/", 1)[-1] in warning and CAPS[kind] in warning, warning
    assert report.refused and series[0].uid in report.refused[0]
    assert statuses(book, [*series, single]) == {"requested"}
    assert mails(book, "cancel") == [] and mails(book, "reverted")
    put_back = event_of(target.app, series[0].uid).data
    assert b"guest4999" not in put_back and b"FREQ=SECONDLY" not in put_back
    assert b"FREQ=MINUTELY" not in put_back and len(put_back) < 20_000
    assert sync(book).actions == []


@pytest.mark.parametrize("kind", ["attendees", "description"])
def test_a_single_session_made_hostile_is_put_back(
    book: Book, target: Target, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    s = plan_one(book, "2027-03-02T10:00", clients=("c1",))
    sync(book)
    spoil(target, s.uid, kind, s.start)
    caplog.set_level(logging.WARNING)
    with measured() as cost:
        sync(book)
    assert cost.seconds < SECONDS and cost.peak_mb < PEAK_MB, cost
    assert len(warnings_naming(caplog, s.uid, CAPS[kind])) == 1
    assert views.show(book, s.id or 0)["status"] == "requested"
    assert len(event_of(target.app, s.uid).data) < 20_000 and not mails(book, "cancel")


def test_hostile_events_of_the_coachs_own_are_skipped_not_busy(
    book: Book, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    s = plan_one(book, "2027-03-02T10:00", clients=("c1",))
    sync(book)
    day = at("2027-03-08T09:00")
    for i, kind in enumerate(KINDS):
        target.app.create(
            f"own-{kind}.ics", hostile_event(kind, f"own-{kind}", day + timedelta(days=i))
        )
    caplog.set_level(logging.WARNING)
    with measured() as cost:
        report = sync(book)
    assert cost.seconds < SECONDS and cost.peak_mb < PEAK_MB, cost
    for kind in KINDS:
        assert len(warnings_naming(caplog, f"own-{kind}", CAPS[kind])) == 1, kind
    assert views.show(book, s.id or 0)["status"] == "requested" and not report.refused
    assert not mails(book, "cancel")
    from calbridge.core.timeutil import parse_month

    with measured() as offered:  # slots read the stored blocks: none from these events
        slots = views.slots(book, "maia", "c2", parse_month("2027-03"), timedelta(hours=1))
    assert offered.seconds < SECONDS and offered.peak_mb < PEAK_MB, offered
    assert "2027-03-08T09:00:00+00:00" in {slot["start"] for slot in slots["slots"]}
    assert plan_one(book, "2027-03-08T09:00", clients=("c2",)).id  # skipped: not busy
    caplog.clear()
    with measured() as again:
        sync(book)
    assert again.seconds < SECONDS and not warnings_naming(caplog, "own-")  # not read again


FIRST = at("2026-12-07T09:00")  # a Monday; hostile-<kind> on day i, plain-i at 12:00


def check_busy_pass(book: Book, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with measured() as cost:
        (report,) = refresh_busy(book, book.coach("maia"))
    assert cost.seconds < SECONDS and cost.peak_mb < PEAK_MB, cost
    assert report.error is None and report.blocks == 3
    for kind in KINDS:
        (warning,) = warnings_naming(caplog, f"hostile-{kind}")
        assert "maia:busy:0" in warning and CAPS[kind] in warning, warning
    assert refused(book, "2026-12-07T12:00") and refused(book, "2026-12-09T12:30")
    assert not refused(book, "2026-12-10T14:00") and not refused(book, "2026-12-11T09:00")


def test_a_hostile_ics_feed_keeps_its_ordinary_busy_time(
    make_book: Callable[..., Book], caplog: pytest.LogCaptureFixture
) -> None:
    for url in serve_feed(feed_of(KINDS, FIRST)):
        check_busy_pass(busy_book(make_book, [{"url": url}]), caplog)


@pytest.mark.parametrize("kind", ["folder", "radicale", "xandikos"])
def test_hostile_busy_calendars_keep_their_ordinary_busy_time(
    make_book: Callable[..., Book],
    kind: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with busy_target(kind, tmp_path, request) as (busy, store):
        for i, name in enumerate(KINDS):
            data = hostile_event(name, f"hostile-{name}", FIRST + timedelta(days=i))
            store.create(f"{name}.ics", data)
        for i in range(3):
            start = FIRST + timedelta(days=i, hours=3)
            store.create(f"plain-{i}.ics", plain_event(f"plain-{i}", start))
        check_busy_pass(busy_book(make_book, [busy]), caplog)


def test_an_ambiguous_busy_event_blocks_every_time_it_claims(
    make_book: Callable[..., Book], caplog: pytest.LogCaptureFixture
) -> None:
    from hostile_events import calendar_of, event_lines

    twice = [
        event_lines("twice", FIRST, 60, []),
        event_lines("twice", FIRST + timedelta(days=1), 60, []),
    ]
    caplog.set_level(logging.WARNING)
    for url in serve_feed(calendar_of(twice)):
        book = busy_book(make_book, [{"url": url}])
        (report,) = refresh_busy(book, book.coach("maia"))
        assert report.blocks == 2
        assert refused(book, "2026-12-07T09:00") and refused(book, "2026-12-08T09:00")
        (warning,) = warnings_naming(caplog, "twice", "ambiguous")
        assert "two masters" in warning


def test_a_feed_past_its_cap_is_an_outage_and_the_caps_are_the_configured_ones(
    make_book: Callable[..., Book], caplog: pytest.LogCaptureFixture
) -> None:
    from servers.feed_server import FeedServer

    coaches = base_config("")["coaches"]
    caplog.set_level(logging.WARNING)
    for url in serve_feed(feed_of((), FIRST, plain=3)):
        coaches[0]["busy"] = [{"url": url}]
        bounds = {"feed_kb": 64, "window_days": 30}
        book = make_book(coaches=coaches, sync={"bounds": bounds, "busy_days": 400})
        parties.add_client(book, "Dee Roy", "dee@example.org", "intensive", "dee")
        (report,) = refresh_busy(book, book.coach("maia"))
        assert report.blocks == 3 and refused(book, "2026-12-07T12:00")
        FeedServer.body = feed_of(("description",), FIRST, plain=3)
        (report,) = refresh_busy(book, book.coach("maia"))
        assert report.error is not None and "feed_kb" in report.error
        assert warnings_naming(caplog, "maia:busy:0", "feed_kb")
        assert refused(book, "2026-12-07T12:00")  # what was read before stays busy
        FeedServer.body = feed_of((), FIRST + timedelta(days=30), plain=3)
        (report,) = refresh_busy(book, book.coach("maia"))
        assert report.error is None and report.blocks == 0  # past window_days: not read
