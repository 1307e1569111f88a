"""What the published read-only feeds hold: a coach's sessions, holds and closures, or
a client's own sessions (public notes only, never private ones)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from calbridge.book.context import Book
from calbridge.events import load
from calbridge.events.spec import closure_spec
from calbridge.ical.model import AllDay, EventSpec
from calbridge.ical.publish import render_feed
from calbridge.store import repo, repo_offers, repo_sessions

_FAR = timedelta(days=3660)


def coach_feed(book: Book, coach_id: str, source: str) -> bytes:
    coach = book.coach(coach_id)
    now = book.clock()
    since = now - timedelta(days=book.settings.feeds.past_days)
    with book.transaction() as db:
        uids = repo_sessions.uids_since(db, coach.id, since)
        specs = load.session_specs(db, book.settings, coach, uids)
        holds = repo_offers.unreleased_hold_uids(db, coach.id)
        specs.update(load.hold_specs(db, book.settings, coach, holds, now))
        days: list[AllDay] = [
            closure_spec(c, book.settings.sync.colors)
            for c in repo.closures(db, coach.id, since.date(), (now + _FAR).date())
        ]
    events = [s for _, s in sorted(specs.items()) if s is not None]
    name = f"{coach.name}: sessions"
    return _render(book, events, days, name, source)


def client_feed(book: Book, client_id: str, source: str) -> bytes:
    now = book.clock()
    since = now - timedelta(days=book.settings.feeds.past_days)
    with book.transaction() as db:
        client = repo.client(db, client_id)
        by_coach: dict[str, set[str]] = defaultdict(set)
        for coach_id, uid in repo_sessions.client_uids_since(db, client.id, since):
            by_coach[coach_id].add(uid)
        events: list[EventSpec] = []
        for coach_id, uids in sorted(by_coach.items()):
            specs = load.session_specs(db, book.settings, book.coach(coach_id), uids)
            events += [s for _, s in sorted(specs.items()) if s is not None]
    return _render(book, events, [], f"{client.name}: sessions", source)


def _render(
    book: Book, events: list[EventSpec], days: list[AllDay], name: str, source: str
) -> bytes:
    refresh = timedelta(minutes=book.settings.feeds.refresh_minutes)
    return render_feed(events, days, name, refresh, source, book.clock())
