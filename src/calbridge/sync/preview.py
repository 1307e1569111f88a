"""What ``sync --dry-run`` would do, told per session: the planner's actions in the book's
terms (which session, when, for whom, on which calendar). Reads the book, writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from calbridge.book import Book
from calbridge.config.schema import Coach
from calbridge.core.model import ACTIVE, Session
from calbridge.ical.resource import read_resource
from calbridge.store import repo_events
from calbridge.sync import decide
from calbridge.sync.planner import Action, Kind
from calbridge.sync.report import Gathered

#: Cancellations the mass-deletion guard holds until the admin decides.
HELD = "held back by the guard"
_SHOWN = frozenset({Kind.CREATE, Kind.UPDATE, Kind.DELETE, Kind.IMPORT, Kind.CANCEL})


def planned(
    book: Book, coach: Coach, actions: Sequence[Action], held: Sequence[Action], got: Gathered
) -> list[dict[str, Any]]:
    """One entry per session (or closure, hold) an action of the pass would touch, in
    the order of the sessions' times (closures and holds last)."""
    shown = [a for a in actions if a.kind in _SHOWN]
    with book.transaction() as db:
        rows = repo_events.sessions_by_uid(db, coach.id, {a.uid for a in [*shown, *held]})
    found: list[tuple[str, Session | None, str]] = []
    for action in shown:
        labels = _labels(book, coach, action, rows.get(action.uid, []), got)
        found += [(action.uid, row, label) for row, label in labels]
    for action in held:
        live: list[Session | None] = [*_live(rows.get(action.uid, []))]
        found += [(action.uid, row, HELD) for row in live or [None]]
    found.sort(key=lambda f: (f[1] is None, f[1].start if f[1] else 0, f[1].id if f[1] else 0))
    return [_entry(coach, uid, row, label) for uid, row, label in found]


def _labels(
    book: Book, coach: Coach, action: Action, rows: list[Session], got: Gathered
) -> list[tuple[Session | None, str]]:
    if not rows:  # a closure or a hold: the book's own, put back when the calendar differs
        book_owned = {Kind.CREATE: "create", Kind.UPDATE: "update", Kind.DELETE: "delete"}
        return [(None, book_owned.get(action.kind, "revert"))]
    if action.kind is Kind.IMPORT and action.data is not None:
        refs = got.refs.get(action.uid, (None, None))
        bounds = book.settings.sync.bounds.limits()
        copy = read_resource(action.data, bounds)
        return list(decide.foresee(rows, copy, refs, coach.zone(), bounds))
    if action.kind is Kind.CANCEL:
        return [(row, "import cancel") for row in _live(rows)]
    chosen = rows if action.kind is Kind.DELETE else _live(rows) or rows
    return [(row, action.kind.value) for row in chosen]


def _live(rows: list[Session]) -> list[Session]:
    return [r for r in rows if r.status in ACTIVE]


def _entry(coach: Coach, uid: str, row: Session | None, label: str) -> dict[str, Any]:
    return {
        "action": label,
        "session": row.id if row else None,
        "uid": uid,
        "start": row.start.astimezone(coach.zone()).isoformat() if row else None,
        "clients": row.clients if row else [],
        "calendar": coach.id,
    }
