"""The calendar's side of a pass: what the coach changed, taken into the book or undone.

A mixin of ``engine.CalendarSync``: a vanished event is a cancellation (closures and holds
are the book's, so they are created again); an edited one goes through the importer's
rules, and the calendar is then settled to say what the book now says, keeping whatever
the coach or their app added that calbridge does not own (``ical.merge``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from calbridge.book import Book
from calbridge.calendars.base import CalendarStore
from calbridge.config.schema import Coach
from calbridge.core.model import Session, Status
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

#: Called as each edit of a run is taken in (a progress display steps on).
Step = Callable[[], object] | None


def refs_of(got: Gathered | None, action: Action) -> tuple[bytes | None, bytes | None]:
    """The versions both sides last agreed on and calbridge last sent, of ``action``'s UID."""
    return got.refs.get(action.uid, (None, None)) if got is not None else (None, None)


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

    def _take_in(
        self, actions: list[Action], got: Gathered | None, report: Report, step: Step = None
    ) -> tuple[list[_Settled], Exception | None]:
        """Take a run of the calendar's edits into the book and settle each with the book's
        version, all in one transaction (each edit in a savepoint): the writes they need
        are recorded there too, before any is sent (``_settle_out`` sends them after the
        commit). The rows, people and status rows of the run are read together. An error
        in one edit ends the run there: the edits before it are kept (committed, and
        their writes are the caller's to send) and the error is returned to be raised."""
        failed: Exception | None = None
        done: list[tuple[Action, Resource]] = []
        with self.book.transaction() as db:
            now, uids = self.book.clock(), [a.uid for a in actions]
            held = repo_events.session_rows_by_uid(db, self.coach.id, uids)
            rows = {uid: [repo.to_session(r) for r in found] for uid, found in held.items()}
            emails = importer.client_emails(db, [s for found in rows.values() for s in found])
            items = status.load_items(db, self.calendar_id, uids)  # held: ``remember`` finds them
            for action in actions:
                if step is not None:
                    step()
                copy = self._copy_of(action, got)
                try:
                    with db.begin_nested():
                        found, refs = rows.get(action.uid, []), refs_of(got, action)
                        self._take_one(db, action, copy, found, refs, emails, report)
                except Exception as exc:  # committed up to here, raised once sent
                    failed = exc
                    break
                done.append((action, copy))
            sessions = [a.uid for a, _ in done if rows.get(a.uid)]
            settings = self.book.settings
            book_now = desired.wanted_sessions(db, settings, self.coach, sessions, now)
            settled = []
            for action, copy in done:
                if rows.get(action.uid):
                    want = book_now[action.uid]
                else:  # a closure or hold edited in the calendar: the book's version stands
                    owned = desired.wanted_book_owned(db, settings, self.coach, action.uid, now)
                    want = owned or Wanted(action.uid, None, None)
                write = self._settle_in(db, action, self._with_foreign_of(want, copy))
                settled.append(_Settled(action, write, want.data is None))
            del items
        return settled, failed

    def _copy_of(self, action: Action, got: Gathered | None) -> Resource:
        """The calendar's copy of an edited event, read once (in the pass's reading)."""
        assert action.data is not None and action.href and action.etag
        copy = got.resources.get(action.uid) if got is not None else None
        if copy is None or copy.data != action.data:
            copy = read_resource(action.data, self.bounds)
        return copy

    def _take_one(
        self,
        db: Any,
        action: Action,
        copy: Resource,
        rows: list[Session],
        refs: tuple[bytes | None, bytes | None],
        emails: Mapping[str, str],
        report: Report,
    ) -> None:
        """One calendar edit through the importer's rules (none: a closure or a hold)."""
        if not rows:
            return
        found = importer.import_in(
            self.book, db, self.coach, rows, copy, refs, action.href or "", emails
        )
        report.refused += found.refused

    def _settle_out(self, settled: _Settled) -> None:
        """After the run's commit: the write its settling recorded, or the deletion."""
        action, write = settled.action, settled.write
        assert action.href and action.etag
        self.wrote = self.wrote or write is not None or settled.gone
        if write is not None:
            etag = self.store.update(action.href, write.data, action.etag)
            with self.book.transaction() as db:
                status.remember(
                    db, self.calendar_id, action.uid, action.href, etag, write.fp, base=write.data
                )
        elif settled.gone:
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


@dataclass(frozen=True)
class _Settled:
    """An edit taken in: the write that settles the calendar (None: it says what the book
    says), or ``gone``: the event must leave the calendar."""

    action: Action
    write: _Write | None
    gone: bool
