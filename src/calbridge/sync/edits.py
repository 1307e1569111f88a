"""The calendar's side of a pass: what the coach changed, taken into the book or undone.

A mixin of ``engine.CalendarSync``: a vanished event is a cancellation (closures and holds
are the book's, so they are created again); an edited one goes through the importer's
rules, and the calendar is then settled to say what the book now says, keeping whatever
the coach or their app added that calbridge does not own (``ical.merge``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from calbridge.book import Book
from calbridge.calendars.base import CalendarStore
from calbridge.config.schema import Coach
from calbridge.core.model import Status
from calbridge.ical.bounds import Bounds
from calbridge.ical.build import fingerprint
from calbridge.ical.merge import keep_foreign, keep_foreign_of
from calbridge.ical.resource import Resource, read_resource
from calbridge.store import repo, repo_events
from calbridge.sync import desired, importer, status
from calbridge.sync.decide import Cancel
from calbridge.sync.outcome_tags import OWN
from calbridge.sync.planner import Action, Kind, Remote, Wanted
from calbridge.sync.report import Gathered, Report


class CalendarEdits:
    book: Book
    coach: Coach
    store: CalendarStore
    calendar_id: str
    wrote: bool

    if TYPE_CHECKING:  # from CalendarSync

        def _do(self, action: Action, got: Gathered | None, report: Report) -> None: ...
        def _forget(self, uid: str) -> None: ...
        def _intend_one(self, action: Action) -> None: ...

        @property
        def bounds(self) -> Bounds: ...

    def labels(self) -> tuple[str, ...]:
        """Categories that are never the coach's own: calbridge's and the outcome tags."""
        return (*OWN, "Hold", *self.book.settings.outcomes.tags)

    def with_foreign(self, want: Wanted, copy: bytes | None) -> Wanted:
        """``want`` keeping what the calendar's ``copy`` adds that calbridge does not own."""
        if want.data is None:
            return want
        bounds = self.book.settings.sync.bounds.limits()
        merged = keep_foreign(want.data, copy, self.labels(), bounds)
        return want if merged is None else Wanted(want.uid, merged, fingerprint(merged))

    def _cancel(self, uid: str) -> None:
        """Deleted in the calendar: a cancellation (closures are the book's: re-created)."""
        with self.book.transaction() as db:
            rows = repo_events.sessions_by_uid(db, self.coach.id, [uid]).get(uid, [])
            closure = self._owned_wanted(db, uid) if not rows else None
            open_rows = [r for r in rows if r.status in (Status.REQUESTED, Status.SCHEDULED)]
            importer.apply(self.book, db, [Cancel(r) for r in open_rows if r.id is not None])
            status.forget(db, self.calendar_id, uid)
        if closure is not None and closure.data is not None:
            self._do(
                Action(Kind.CREATE, uid, data=closure.data, fingerprint=closure.fingerprint),
                None,
                Report(""),
            )

    def _owned_wanted(self, db: Any, uid: str) -> Wanted | None:
        """A closure or a hold: the book's, so it is re-created if the coach deletes it."""
        return desired.wanted_book_owned(db, self.book.settings, self.coach, uid, self.book.clock())

    def _import(
        self,
        action: Action,
        report: Report,
        refs: tuple[bytes | None, bytes | None],
        copy: Resource | None = None,
    ) -> None:
        """Take the calendar's edit into the book and settle the calendar with the book's
        version, in one transaction (the write it needs, if any, is recorded there too,
        before it is sent)."""
        assert action.data is not None and action.href and action.etag
        if copy is None or copy.data != action.data:
            copy = read_resource(action.data, self.bounds)
        with self.book.transaction() as db:
            uid, now = action.uid, self.book.clock()
            held = repo_events.session_rows_by_uid(db, self.coach.id, [uid]).get(uid, [])
            rows = [repo.to_session(r) for r in held]  # ``held`` spares the book's re-reads
            if rows:
                outcome = importer.import_in(
                    self.book, db, self.coach, rows, copy, refs, action.href
                )
                report.refused += outcome.refused
                book_now = desired.wanted_sessions(db, self.book.settings, self.coach, [uid], now)[
                    uid
                ]
            else:  # a closure or hold edited in the calendar: the book's version stands
                owned = desired.wanted_book_owned(db, self.book.settings, self.coach, uid, now)
                book_now = owned or Wanted(uid, None, None)
            write = self._settle_in(db, action, self._with_foreign_of(book_now, copy))
        self.wrote = self.wrote or write is not None or book_now.data is None
        if write is not None:
            etag = self.store.update(action.href, write.data, action.etag)
            with self.book.transaction() as db:
                status.remember(
                    db, self.calendar_id, uid, action.href, etag, write.fp, base=write.data
                )
        elif book_now.data is None:
            self.store.delete(action.href, action.etag)
            self._forget(action.uid)

    def _with_foreign_of(self, want: Wanted, copy: Resource) -> Wanted:
        """``with_foreign`` with the calendar's copy already read."""
        if want.data is None:
            return want
        merged = keep_foreign_of(want.data, copy.calendar, self.labels())
        return want if merged is None else Wanted(want.uid, merged, fingerprint(merged))

    def _settle_in(self, db: Any, action: Action, book_now: Wanted) -> _Write | None:
        """After an import, in its transaction: what the calendar must be sent to say what
        the book now says (its intent recorded), or None when it already says it (then
        its status is recorded here) or the event must go."""
        assert action.data is not None and action.href and action.etag
        if book_now.data is None:
            return None
        if book_now.fingerprint == action.fingerprint:
            fp = action.fingerprint or ""
            status.remember(
                db, self.calendar_id, action.uid, action.href, action.etag, fp, base=action.data
            )
            return None
        fp, data = book_now.fingerprint or "", book_now.data
        # The calendar's version is now accounted for (applied or reverted): it is the
        # agreed one this write departs from.
        seen = Remote(action.uid, action.href, action.etag, action.fingerprint or "", action.data)
        self._intend_one(replace(action, data=data, fingerprint=fp, agreed=seen))
        return _Write(data, fp)


@dataclass(frozen=True)
class _Write:
    data: bytes
    fp: str
