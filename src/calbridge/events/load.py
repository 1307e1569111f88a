"""The loader: the specs a coach's UIDs should be, read through store/repo_events and
mapped by events.spec. The calendar copy (sync/desired.py), the feeds and the mail
(``events.coach.spec_of``, from mail/notify.py) use it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from calbridge.config.schema import Coach, Settings
from calbridge.core.recurrence import Recurrence
from calbridge.events.coach import spec_of
from calbridge.events.spec import Hold, hold_spec
from calbridge.ical.model import EventSpec, Person
from calbridge.store import repo_events, repo_offers
from calbridge.store.db import Db


def session_specs(
    db: Db, settings: Settings, coach: Coach, uids: Iterable[str]
) -> dict[str, EventSpec | None]:
    """The resource each UID should be (None: none, all cancelled or declined); a UID of
    a disabled series is left out (the calendar's copy is left alone)."""
    grouped = repo_events.sessions_by_uid(db, coach.id, uids)
    every = [s for rows in grouped.values() for s in rows]
    people, series = repo_events.people_of(db, every), repo_events.series_of(db, every)
    out: dict[str, EventSpec | None] = {}
    for uid, rows in grouped.items():
        found = series.get(rows[0].series_id or 0)
        if found is not None and not found.enabled:
            continue  # `series disable`: the calendar keeps what it has, nothing new goes
        rrule = Recurrence.parse(found.rrule) if found is not None else None
        out[uid] = spec_of(settings, coach, rows, people, rrule)
    return out


def hold_specs(
    db: Db, settings: Settings, coach: Coach, uids: Iterable[str], now: datetime
) -> dict[str, EventSpec | None]:
    """Holds among ``uids``: a TENTATIVE event while held; None once released or expired."""
    rows = repo_offers.holds_by_uid(db, coach.id, uids)
    ids = {h.offer.client_id for h in rows}
    names = repo_events.client_names(db, ids)
    organizer = Person(coach.name, coach.email)
    color = settings.sync.colors.get("hold")
    out: dict[str, EventSpec | None] = {}
    for h in rows:
        if h.released_at is not None or h.until <= now:
            out[h.uid] = None
            continue
        hold = Hold(h.uid, h.offer_id, h.start, h.end, h.tzid, names.get(h.offer.client_id, ""))
        out[h.uid] = hold_spec(hold, organizer, color)
    return out
