"""What the book wants a coach's calendar to hold, for a set of UIDs, rendered (the
specs come from events.load)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from calbridge.config.schema import Coach, Settings
from calbridge.events import load
from calbridge.events.spec import HOLD_PREFIX, closure_spec, closure_uid
from calbridge.ical.build import fingerprint, render_all_day, render_with_fingerprint
from calbridge.ical.model import EventSpec
from calbridge.store import repo_events
from calbridge.store.db import Db
from calbridge.sync.planner import Wanted


def _rendered(uid: str, spec: EventSpec | None, now: datetime) -> Wanted:
    if spec is None:
        return Wanted(uid, None, None)
    data, fp = render_with_fingerprint(spec, now)
    return Wanted(uid, data, fp)


def wanted_sessions(
    db: Db, settings: Settings, coach: Coach, uids: Iterable[str], now: datetime
) -> dict[str, Wanted]:
    specs = load.session_specs(db, settings, coach, uids)
    return {uid: _rendered(uid, spec, now) for uid, spec in specs.items()}


def wanted_holds(
    db: Db, settings: Settings, coach: Coach, uids: Iterable[str], now: datetime
) -> dict[str, Wanted]:
    specs = load.hold_specs(db, settings, coach, uids, now)
    return {uid: _rendered(uid, spec, now) for uid, spec in specs.items()}


def wanted_book_owned(
    db: Db, settings: Settings, coach: Coach, uid: str, now: datetime
) -> Wanted | None:
    """A closure or hold the book owns (the book's version stands against calendar edits);
    None when ``uid`` is neither."""
    if uid.startswith(HOLD_PREFIX):
        return wanted_holds(db, settings, coach, [uid], now).get(uid)
    if uid.startswith(closure_uid(0)[:-1]) and uid.rsplit("-", 1)[-1].isdigit():
        ids = [int(uid.rsplit("-", 1)[-1])]
        return wanted_closures(db, settings, coach, ids, now).get(uid, Wanted(uid, None, None))
    return None


def wanted_closures(
    db: Db, settings: Settings, coach: Coach, ids: Iterable[int], now: datetime
) -> dict[str, Wanted]:
    out: dict[str, Wanted] = {}
    asked = list(ids)
    for closure in repo_events.closures(db, asked):
        if closure.covers(coach.id):
            data = render_all_day(closure_spec(closure, settings.sync.colors), now)
            out[closure_uid(closure.id or 0)] = Wanted(
                closure_uid(closure.id or 0), data, fingerprint(data)
            )
    for gone in asked:  # removed (`closure remove`): its all-day event leaves the calendar
        out.setdefault(closure_uid(gone), Wanted(closure_uid(gone), None, None))
    return out
